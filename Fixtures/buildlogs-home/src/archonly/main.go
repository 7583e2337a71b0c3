package main

import "example.com/archonly/fast"

func main() { println(fast.Double(21)) }
