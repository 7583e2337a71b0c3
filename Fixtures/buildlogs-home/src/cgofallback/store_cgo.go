//go:build cgo

package main

// static int engine_ready(void) { return 1; }
import "C"

func openStore() (string, error) {
	if C.engine_ready() == 1 {
		return "store ready", nil
	}
	return "", nil
}
