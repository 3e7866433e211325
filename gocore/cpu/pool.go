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
// over must cost little: the caller publishes the loop (a new job) and
// helpers that finished the previous one a moment ago are still spinning
// on it and start at once; only a helper that has waited longer than
// spinFor is parked on its wake channel (and woken through it).
//
// The caller waits only for the chunks of the loop to finish, never for
// every helper to show up: on a loaded machine (other processes on the
// cores, a CI runner) a helper the OS has descheduled simply takes no
// chunk, and the caller and the running helpers do its share. A late
// helper finds the job it was woken for exhausted (each job is a fresh
// value, so it never sees a half-written one) and goes back to waiting.
// Only a chunk a helper has claimed and not finished is waited for.
type pool struct {
	workers int
	helpers []helper
	cur     atomic.Pointer[job] // the latest job
	done    chan struct{}       // the last chunk's finisher wakes a parked caller
	quit    atomic.Bool
	wg      sync.WaitGroup
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
// chunks, polls before it parks.
const spinFor = 100 * time.Microsecond

// job is one parallel loop: chunks of step items of [0, n) handed out
// through next. n, step and fn do not change once the job is published.
type job struct {
	n, step int
	fn      func(lo, hi int)
	next    atomic.Int64
	left    atomic.Int64 // chunks not finished yet
	waiting atomic.Bool  // the caller is parked on pool.done
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

// help is a helper's loop: wait for the next job, run chunks of it.
func (p *pool) help(h *helper) {
	defer p.wg.Done()
	var seen *job
	for {
		j := p.await(h, seen)
		if p.quit.Load() {
			return
		}
		seen = j
		if j != nil {
			j.run(p)
		}
	}
}

// await returns the current job once it differs from seen, spinning for
// spinFor and then parking h until the caller wakes it.
func (p *pool) await(h *helper, seen *job) *job {
	var start time.Time
	for i := 0; ; i++ {
		if j := p.cur.Load(); j != seen || p.quit.Load() {
			return j
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
		if j := p.cur.Load(); (j != seen || p.quit.Load()) && h.state.CompareAndSwap(parked, spinning) {
			return j
		}
		// parked: the caller that moves the state back sends a wake-up
		<-h.wake
		return p.cur.Load()
	}
}

// run takes chunks of j until none is left; the finisher of the last
// chunk wakes the caller if it is parked.
func (j *job) run(p *pool) {
	for {
		lo := int(j.next.Add(int64(j.step))) - j.step
		if lo >= j.n {
			return
		}
		j.fn(lo, min(lo+j.step, j.n))
		if j.left.Add(-1) == 0 && j.waiting.CompareAndSwap(true, false) {
			p.done <- struct{}{}
		}
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
	j := &job{n: n, step: step, fn: fn}
	j.left.Store(int64((n + step - 1) / step))
	p.post(j)
	j.run(p)
	p.wait(j)
}

// post publishes j (nil with the quit flag: stop) to the helpers.
func (p *pool) post(j *job) {
	p.cur.Store(j)
	for i := range p.helpers {
		h := &p.helpers[i]
		if h.state.CompareAndSwap(parked, spinning) {
			h.wake <- struct{}{}
		}
	}
}

// wait returns once every chunk of j has finished.
func (p *pool) wait(j *job) {
	var start time.Time
	for i := 0; ; i++ {
		if j.left.Load() == 0 {
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
	j.waiting.Store(true)
	if j.left.Load() == 0 && j.waiting.CompareAndSwap(true, false) {
		return
	}
	// the finisher of the last chunk clears waiting and sends
	<-p.done
}

func (p *pool) close() {
	if p.closed {
		return
	}
	p.closed = true
	p.quit.Store(true)
	p.post(nil)
	p.wg.Wait()
}
