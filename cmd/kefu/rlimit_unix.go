//go:build unix

package main

import "syscall"

// defaultMaxConnections is the open-file limit (which Go raises to the hard
// limit at start) less a reserve for the database, the listeners, and HTTP
// requests outside sockets: 10 %, at least 256.
func defaultMaxConnections() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return fallbackMaxConnections
	}
	return connectionsUnder(rl.Cur)
}
