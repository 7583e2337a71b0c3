module example.com/cgo-fallback

go 1.21
