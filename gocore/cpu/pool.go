package cpu

import (
	"sync"
	"sync/atomic"
)

// pool runs parallel loops on a fixed set of worker goroutines so that a
// decode step starts no goroutines. It is used by one goroutine at a time.
type pool struct {
	workers int
	jobs    chan *job
	wg      sync.WaitGroup
	cur     job
	closed  bool
}

// job is one parallel loop: chunks [0, n) handed out through next.
type job struct {
	n    int
	next atomic.Int64
	fn   func(lo, hi int)
	step int
	done sync.WaitGroup
}

func newPool(workers int) *pool {
	if workers < 1 {
		workers = 1
	}
	p := &pool{workers: workers, jobs: make(chan *job, workers)}
	for i := 1; i < workers; i++ {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for j := range p.jobs {
				j.run()
				j.done.Done()
			}
		}()
	}
	return p
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
	helpers := (n+step-1)/step - 1
	if helpers > w-1 {
		helpers = w - 1
	}
	j := &p.cur
	j.n, j.fn, j.step = n, fn, step
	j.next.Store(0)
	j.done.Add(helpers)
	for i := 0; i < helpers; i++ {
		p.jobs <- j
	}
	j.run()
	j.done.Wait()
	j.fn = nil
}

func (p *pool) close() {
	if p.closed {
		return
	}
	p.closed = true
	close(p.jobs)
	p.wg.Wait()
}
