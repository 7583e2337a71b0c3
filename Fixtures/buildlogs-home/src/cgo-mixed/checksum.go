package main

/*
#include <stdint.h>
static uint32_t fold(uint32_t a, uint32_t b) { return (a << 5) ^ b; }
*/
import "C"

func checksum(data []byte) uint32 {
	var sum C.uint32_t
	for _, b := range data {
		sum = C.fold(sum, C.uint32_t(b))
	}
	return uint32(sum)
}
