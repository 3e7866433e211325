package hub

import (
	"fmt"
	"io"
	"time"
)

// progressInterval is the shortest time between two progress redraws.
const progressInterval = 200 * time.Millisecond

// progressBar draws one file's download progress on a terminal line:
// name, bytes done / total, rate and ETA. It redraws in place with '\r'.
type progressBar struct {
	w       io.Writer
	name    string
	total   int64 // -1 when unknown
	base    int64 // bytes already present when this run started (resumed)
	start   time.Time
	last    time.Time
	now     func() time.Time
	started bool
}

// newProgressBar starts a bar for name; base bytes were already on disk.
func newProgressBar(w io.Writer, name string, total, base int64, now func() time.Time) *progressBar {
	t := now()
	return &progressBar{w: w, name: name, total: total, base: base, start: t, now: now}
}

// update redraws the bar if enough time has passed since the last redraw.
func (p *progressBar) update(done int64) {
	t := p.now()
	if p.started && t.Sub(p.last) < progressInterval {
		return
	}
	p.started = true
	p.last = t
	fmt.Fprint(p.w, "\r"+p.line(done, t)+"\x1b[K")
}

// finish draws the final state and ends the line.
func (p *progressBar) finish(done int64) {
	fmt.Fprint(p.w, "\r"+p.line(done, p.now())+"\x1b[K\n")
}

// line renders the bar's text at time t.
func (p *progressBar) line(done int64, t time.Time) string {
	elapsed := t.Sub(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done-p.base) / elapsed
	}
	size := formatBytes(done)
	if p.total >= 0 {
		size += " / " + formatBytes(p.total)
	}
	eta := "--:--"
	if p.total >= 0 && done >= p.total {
		eta = "done"
	} else if p.total >= 0 && rate > 0 {
		eta = formatDuration(time.Duration(float64(p.total-done) / rate * float64(time.Second)))
	}
	return fmt.Sprintf("%s  %s  %s/s  ETA %s", p.name, size, formatBytes(int64(rate)), eta)
}

// formatBytes renders n with a binary unit, e.g. "1.5 MiB".
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB"}
	i := -1
	for v >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// formatDuration renders d as m:ss, or h:mm:ss from one hour.
func formatDuration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
