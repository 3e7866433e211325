// Package tty tells whether a writer is a terminal, with golang.org/x/term,
// for every front end, and gives the console the progress bars
// (github.com/vbauerster/mpb: the benchmark's live line, the hub's
// download bars) draw on.
package tty

import (
	"io"

	"golang.org/x/term"
)

// IsTerminal reports whether w is an *os.File (or anything with a file
// descriptor) open on a terminal. A pipe, a regular file and /dev/null
// are not terminals.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}
