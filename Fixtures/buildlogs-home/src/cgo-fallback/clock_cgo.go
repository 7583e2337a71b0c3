//go:build cgo

package main

/*
#include <time.h>
static long ticks(void) { return (long)clock(); }
*/
import "C"

func ticks() int64 { return int64(C.ticks()) }

const backend = "libc clock()"
