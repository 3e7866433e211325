//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly

package hub

import "io"

// isTerminal reports false: terminal detection is not supported here, so
// downloads are quiet.
func isTerminal(io.Writer) bool { return false }
