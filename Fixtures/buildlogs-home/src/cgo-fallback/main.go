package main

import "fmt"

func main() { fmt.Println(backend, ticks() >= 0) }
