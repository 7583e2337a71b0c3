package main

import "fmt"

func main() {
	status, err := openStore()
	if err != nil {
		fmt.Println("open:", err)
		return
	}
	fmt.Println(status)
}
