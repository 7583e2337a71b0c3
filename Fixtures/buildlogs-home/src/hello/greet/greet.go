package greet

import "fmt"

// Hello prints a greeting.
func Hello() { fmt.Println("hello") }
