package main

import (
	"fmt"

	"example.com/arch-only/simd"
)

func main() { fmt.Println(simd.Width) }
