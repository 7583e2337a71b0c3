//go:build !cgo

package main

import "time"

func ticks() int64 { return time.Now().UnixNano() }

const backend = "pure Go"
