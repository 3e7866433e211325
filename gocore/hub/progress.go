package hub

import (
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// progressInterval is the time between two redraws of a download bar.
const progressInterval = 250 * time.Millisecond

// downloadBar shows one file's download on a terminal with
// github.com/vbauerster/mpb: name, a bar, bytes done / total, the rate
// and the ETA (moving averages of the bytes received in this run, so a
// resumed download's bytes already on disk count as done, not as speed).
type downloadBar struct {
	p    *mpb.Progress
	bar  *mpb.Bar
	last time.Time // when the last update came
}

// newDownloadBar starts a bar for file name of total bytes (-1: unknown)
// on console; base bytes were already on disk at start.
func newDownloadBar(console mpb.ConsoleWriter, name string, total, base int64, start time.Time) *downloadBar {
	p := mpb.New(mpb.WithConsoleWriter(console), mpb.WithRefreshRate(progressInterval))
	speed := decor.EwmaSpeed(decor.SizeB1024(0), "% .1f", 30)
	var bar *mpb.Bar
	if total >= 0 {
		bar = p.New(total, mpb.BarStyle(), mpb.BarWidth(30), mpb.PrependDecorators(decor.Name(name)),
			mpb.AppendDecorators(decor.Counters(decor.SizeB1024(0), "% .1f / % .1f"), decor.Name("  "), speed,
				decor.Name("  ETA "), decor.OnComplete(decor.EwmaETA(decor.ET_STYLE_MMSS, 30), "done")))
	} else { // no bar, no ETA: the bytes so far and the rate
		bar = p.New(0, mpb.NopStyle(), mpb.PrependDecorators(decor.Name(name)),
			mpb.AppendDecorators(decor.Current(decor.SizeB1024(0), "% .1f"), decor.Name("  "), speed))
	}
	bar.SetCurrent(base)
	return &downloadBar{p: p, bar: bar, last: start}
}

// update sets the bytes done at time now.
func (b *downloadBar) update(done int64, now time.Time) {
	b.bar.EwmaSetCurrent(done, now.Sub(b.last))
	b.last = now
}

// finish draws the final state (complete, or as it stopped) and ends the bar.
func (b *downloadBar) finish(complete bool) {
	if complete {
		b.bar.SetTotal(-1, true)
	} else {
		b.bar.Abort(false)
	}
	b.p.Wait()
}
