module example.com/cgo-mixed

go 1.21
