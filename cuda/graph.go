package cuda

import (
	"errors"
	"fmt"

	"github.com/genbench/genbench/cuda/cu"
	"github.com/genbench/genbench/gocore/backend"
)

// step is a captured CUDA graph.
type step struct {
	b     *Backend
	graph cu.Graph
	exec  cu.GraphExec
}

// Capture records the kernels fn enqueues into a CUDA graph (fn must not
// read results back or write from the host) and returns it for replay.
// Buffers, weights and caches it uses must outlive the Step.
func (b *Backend) Capture(fn func() error) (backend.Step, error) {
	if fn == nil {
		return nil, errors.New("cuda: Capture of a nil function")
	}
	err := b.do(func() error {
		if b.capture {
			return errors.New("cuda: Capture inside a capture")
		}
		// Pending work (uploads, memsets) must not become part of the graph.
		if err := b.sync(); err != nil {
			return err
		}
		if err := b.drv.StreamBeginCapture(b.stream, cu.CaptureModeThreadLocal); err != nil {
			return err
		}
		b.capture = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	ferr := fn()
	s := &step{b: b}
	err = b.do(func() error {
		b.capture = false
		g, err := b.drv.StreamEndCapture(b.stream)
		if err != nil {
			return err
		}
		s.graph = g
		if ferr != nil {
			return nil
		}
		if s.exec, err = b.instantiate(g); err != nil {
			_ = b.drv.GraphDestroy(g)
			s.graph = 0
			return err
		}
		return nil
	})
	if ferr != nil {
		s.Free()
		return nil, fmt.Errorf("cuda: capture: %w", ferr)
	}
	if err != nil {
		s.Free()
		return nil, fmt.Errorf("cuda: capture: %w", err)
	}
	return s, nil
}

// maxPooledExecs bounds the instantiated graphs kept for reuse.
const maxPooledExecs = 2

// instantiate makes g executable (worker thread). A graph freed earlier
// (the decode step of the last generation, same topology, other buffers)
// is updated in place when the driver allows it: much cheaper than a new
// instantiation, which costs a millisecond or more before the first
// replay of every generation.
func (b *Backend) instantiate(g cu.Graph) (cu.GraphExec, error) {
	if n := len(b.execPool); n > 0 {
		ex := b.execPool[n-1]
		b.execPool = b.execPool[:n-1]
		if err := b.drv.GraphExecUpdate(ex, g); err == nil {
			b.graphUpdates++
			return ex, nil
		}
		_ = b.drv.GraphExecDestroy(ex)
	}
	ex, err := b.drv.GraphInstantiate(g)
	if err == nil {
		b.graphInstantiations++
	}
	return ex, err
}

// GraphStats says how many captured graphs were instantiated and how many
// reused an earlier one through an update.
func (b *Backend) GraphStats() (instantiated, updated int) {
	_ = b.w.do(func() error {
		instantiated, updated = b.graphInstantiations, b.graphUpdates
		return nil
	})
	return instantiated, updated
}

// Replay enqueues the recorded kernels again.
func (s *step) Replay() error {
	if s.exec == 0 {
		return errors.New("cuda: replay of a freed graph")
	}
	return s.b.do(func() error {
		if s.b.capture {
			return errors.New("cuda: replay inside a capture")
		}
		return s.b.drv.GraphLaunch(s.exec, s.b.stream)
	})
}

// Free releases the graph. Idempotent.
func (s *step) Free() {
	if s == nil || (s.exec == 0 && s.graph == 0) {
		return
	}
	_ = s.b.do(func() error {
		var errs []error
		if s.exec != 0 {
			errs = append(errs, s.b.drv.StreamSynchronize(s.b.stream))
			if len(s.b.execPool) < maxPooledExecs {
				s.b.execPool = append(s.b.execPool, s.exec) // for the next capture
			} else {
				errs = append(errs, s.b.drv.GraphExecDestroy(s.exec))
			}
		}
		if s.graph != 0 {
			errs = append(errs, s.b.drv.GraphDestroy(s.graph))
		}
		s.exec, s.graph = 0, 0
		return errors.Join(errs...)
	})
}
