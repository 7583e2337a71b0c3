module example.com/arch-only

go 1.21
