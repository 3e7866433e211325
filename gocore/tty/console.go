package tty

import (
	"io"

	"github.com/vbauerster/cupwriter"
	"golang.org/x/term"
)

// fallbackColumns is the width used when a terminal does not report one
// (a pseudo-terminal without a window size, e.g. under script(1)).
const fallbackColumns = 80

// Console is the console writer the progress bars (github.com/vbauerster/mpb)
// draw on: it always redraws in place (cursor up, erase), and its width is
// the terminal's, or a fixed number of columns. Front ends use it only for
// a writer that IsTerminal; tests use it on a buffer with fixed columns.
type Console struct {
	*cupwriter.Writer
	out     io.Writer
	columns int
}

// NewConsole returns a Console on w; columns > 0 fixes the width, 0 asks
// the terminal (80 when it cannot tell).
func NewConsole(w io.Writer, columns int) *Console {
	return &Console{Writer: cupwriter.New(w, true), out: w, columns: columns}
}

// IsTerminal is true: a Console redraws in place.
func (c *Console) IsTerminal() bool { return true }

// GetTermSize returns the width and height to draw in.
func (c *Console) GetTermSize() (width, height int, err error) {
	if c.columns > 0 {
		return c.columns, 24, nil
	}
	if f, ok := c.out.(interface{ Fd() uintptr }); ok {
		if w, h, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w, max(h, 1), nil
		}
	}
	return fallbackColumns, 24, nil
}
