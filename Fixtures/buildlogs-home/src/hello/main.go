package main

import "example.com/hello/greet"

func main() { greet.Hello() }
