package cpu

import (
	"sync"
	"sync/atomic"
	"time"
)

// pool runs parallel loops on a fixed set of worker goroutines so that a
// decode step starts no goroutines. It is used by one goroutine at a time.
//
// A decode step runs about a hundred short parallel loops, so handing one
// over must cost little: the caller publishes the loop by bumping gen, and
// helpers that finished the previous one a moment ago are still spinning
// on gen and start at once; only a helper that has waited longer than
// spinFor is parked on its wake channel (and woken through it). The caller
// likewise spins a while for the helpers to finish before it parks.
type pool struct {
	workers int
	helpers []helper
	gen     atomic.Uint64 // loops posted so far
	pending atomic.Int32  // helpers still running the current loop
	waiting atomic.Bool   // the caller is parked on done
	done    chan struct{}
	quit    atomic.Bool
	wg      sync.WaitGroup
	cur     job
	closed  bool
}

// helper states
const (
	spinning int32 = iota
	parked
)

type helper struct {
	state atomic.Int32
	wake  chan struct{}
}

// spinFor is how long an idle helper, or the caller waiting for the
// helpers, polls before it parks.
const spinFor = 100 * time.Microsecond

// job is one parallel loop: chunks [0, n) handed out through next.
type job struct {
	n    int
	next atomic.Int64
	fn   func(lo, hi int)
	step int
}

func newPool(workers int) *pool {
	if workers < 1 {
		workers = 1
	}
	p := &pool{workers: workers, helpers: make([]helper, workers-1), done: make(chan struct{}, 1)}
	for i := range p.helpers {
		h := &p.helpers[i]
		h.wake = make(chan struct{}, 1)
		p.wg.Add(1)
		go p.help(h)
	}
	return p
}

// help is a helper's loop: wait for the next loop, run its share, report.
func (p *pool) help(h *helper) {
	defer p.wg.Done()
	var seen uint64
	for {
		g := p.await(h, seen)
		if p.quit.Load() {
			return
		}
		seen = g
		p.cur.run()
		if p.pending.Add(-1) == 0 && p.waiting.CompareAndSwap(true, false) {
			p.done <- struct{}{}
		}
	}
}

// await returns gen once it differs from seen, spinning for spinFor and
// then parking h until the caller wakes it.
func (p *pool) await(h *helper, seen uint64) uint64 {
	var start time.Time
	for i := 0; ; i++ {
		if g := p.gen.Load(); g != seen {
			return g
		}
		if i&255 != 255 {
			continue
		}
		if start.IsZero() {
			start = time.Now()
			continue
		}
		if time.Since(start) < spinFor {
			continue
		}
		h.state.Store(parked)
		if g := p.gen.Load(); g != seen && h.state.CompareAndSwap(parked, spinning) {
			return g
		}
		// parked: the caller that moves the state back sends a wake-up
		<-h.wake
		return p.gen.Load()
	}
}

func (j *job) run() {
	for {
		lo := int(j.next.Add(int64(j.step))) - j.step
		if lo >= j.n {
			return
		}
		hi := lo + j.step
		if hi > j.n {
			hi = j.n
		}
		j.fn(lo, hi)
	}
}

// parallel calls fn over [0, n) in chunks of at least grain items spread
// over the workers, and returns when all are done.
func (p *pool) parallel(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	w := p.workers
	if p.closed || w == 1 || n <= grain {
		fn(0, n)
		return
	}
	// About 16 chunks per worker balance the load (also when other
	// processes share the cores); grain keeps chunks from getting tiny.
	step := (n + 16*w - 1) / (16 * w)
	if step < grain {
		step = grain
	}
	j := &p.cur
	j.n, j.fn, j.step = n, fn, step
	j.next.Store(0)
	p.pending.Store(int32(len(p.helpers)))
	p.post()
	j.run()
	p.wait()
	j.fn = nil
}

// post publishes the current job (or the quit flag) to the helpers.
func (p *pool) post() {
	p.gen.Add(1)
	for i := range p.helpers {
		h := &p.helpers[i]
		if h.state.CompareAndSwap(parked, spinning) {
			h.wake <- struct{}{}
		}
	}
}

// wait returns once every helper has finished the current job.
func (p *pool) wait() {
	var start time.Time
	for i := 0; ; i++ {
		if p.pending.Load() == 0 {
			return
		}
		if i&255 != 255 {
			continue
		}
		if start.IsZero() {
			start = time.Now()
			continue
		}
		if time.Since(start) >= spinFor {
			break
		}
	}
	p.waiting.Store(true)
	if p.pending.Load() == 0 && p.waiting.CompareAndSwap(true, false) {
		return
	}
	// the last helper to finish clears waiting and sends
	<-p.done
}

func (p *pool) close() {
	if p.closed {
		return
	}
	p.closed = true
	p.quit.Store(true)
	p.post()
	p.wg.Wait()
}
