package fast

// Double is only written for amd64: the package has no file for other GOARCH values.
func Double(x int) int { return x * 2 }
