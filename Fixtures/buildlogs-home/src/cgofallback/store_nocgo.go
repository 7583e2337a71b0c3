//go:build !cgo

package main

import "errors"

func openStore() (string, error) {
	return "", errors.New("store: built with CGO_ENABLED=0; the native engine needs cgo")
}
