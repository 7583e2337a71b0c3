module example.com/cgo-only

go 1.21
