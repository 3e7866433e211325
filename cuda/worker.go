package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// errClosed is returned by every call on a closed backend.
var errClosed = errors.New("cuda: backend is closed")

// worker owns one OS thread: every CUDA call of a backend runs on it, with
// the device's primary context current. Other goroutines (and C callers on
// any thread, through the c-shared library) hand it closures and wait for
// their results.
type worker struct {
	mu     sync.Mutex // guards closed and sends on reqs
	closed bool
	reqs   chan func()
	exited chan struct{}
}

// startWorker starts the thread and runs init on it; the worker only
// exists when init succeeds. The thread stays locked for the worker's
// life and is discarded by the runtime when the worker ends.
func startWorker(init func() error) (*worker, error) {
	w := &worker{reqs: make(chan func()), exited: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		defer close(w.exited)
		if err := safeCall(init); err != nil {
			errc <- err
			return
		}
		errc <- nil
		for f := range w.reqs {
			f()
		}
	}()
	if err := <-errc; err != nil {
		return nil, err
	}
	return w, nil
}

// safeCall runs f and turns a panic into an error, so a bug in one op
// cannot take the process (or a C host) down.
func safeCall(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cuda: internal error: %v", r)
		}
	}()
	return f()
}

// do runs f on the worker thread and returns its error.
func (w *worker) do(f func() error) error {
	res := make(chan error, 1)
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return errClosed
	}
	w.reqs <- func() { res <- safeCall(f) }
	w.mu.Unlock()
	return <-res
}

// stop runs last on the thread, then ends the worker. Idempotent.
func (w *worker) stop(last func() error) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	res := make(chan error, 1)
	w.reqs <- func() { res <- safeCall(last) }
	w.closed = true
	close(w.reqs)
	w.mu.Unlock()
	err := <-res
	<-w.exited
	return err
}
