package main

import "fmt"

func main() { fmt.Println(checksum([]byte("trapline"))) }
