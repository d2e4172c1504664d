package main

// fallbackMaxConnections caps sockets when the open-file limit is unknown.
const fallbackMaxConnections = 10000

// connectionsUnder is how many sockets fit under an open-file limit of
// nofile, keeping 10 % (at least 256) for everything else; at least 1.
func connectionsUnder(nofile uint64) int {
	const maxCap = 1 << 24 // an unlimited nofile is not a plan for sockets
	nofile = min(nofile, maxCap)
	reserve := max(nofile/10, 256)
	if nofile <= reserve {
		return 1
	}
	return int(nofile - reserve)
}
