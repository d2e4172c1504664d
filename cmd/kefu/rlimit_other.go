//go:build !unix

package main

// defaultMaxConnections is fallbackMaxConnections where there is no
// open-file limit to read.
func defaultMaxConnections() int { return fallbackMaxConnections }
