package main

/*
#cgo CFLAGS: -I${SRCDIR}/../capi
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/genbench/genbench/gocore/engine"
)

// Status codes of genbench.h (enum genbench_status).
const (
	statusOK              = 0
	statusInvalidArgument = 1
	statusInvalidHandle   = 2
	statusBadJSON         = 3
	statusLoad            = 4
	statusBufferTooSmall  = 5
	statusBusy            = 6
	statusCancelled       = 7
	statusNoTokenizer     = 8
	statusFailed          = 9
	statusInternal        = 10
)

// statusNames are genbench_status_string's texts, indexed by status.
var statusNames = []string{
	statusOK:              "ok",
	statusInvalidArgument: "invalid argument",
	statusInvalidHandle:   "invalid handle",
	statusBadJSON:         "bad JSON",
	statusLoad:            "model load failed",
	statusBufferTooSmall:  "buffer too small",
	statusBusy:            "engine busy",
	statusCancelled:       "cancelled",
	statusNoTokenizer:     "model has no tokenizer",
	statusFailed:          "failed",
	statusInternal:        "internal error",
}

// statusError is an error with the status code it is reported as.
type statusError struct {
	code int
	err  error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// withStatus wraps err (nil stays nil) so it is reported as code.
func withStatus(code int, err error) error {
	if err == nil {
		return nil
	}
	return &statusError{code: code, err: err}
}

// errorf builds an error reported as code.
func errorf(code int, format string, args ...any) error {
	return &statusError{code: code, err: fmt.Errorf(format, args...)}
}

// statusOf maps an error to its status code.
func statusOf(err error) int {
	var se *statusError
	switch {
	case err == nil:
		return statusOK
	case errors.As(err, &se):
		return se.code
	case errors.Is(err, engine.ErrBusy):
		return statusBusy
	case errors.Is(err, engine.ErrClosed):
		return statusInvalidHandle
	case errors.Is(err, context.Canceled):
		return statusCancelled
	}
	return statusFailed
}

// lastError is a message guarded by a mutex.
type lastError struct {
	mu  sync.Mutex
	msg string
}

func (l *lastError) set(msg string) {
	l.mu.Lock()
	l.msg = msg
	l.mu.Unlock()
}

func (l *lastError) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.msg
}

// openOptions are the arguments a handle was opened with.
type openOptions struct {
	Model         string `json:"model"`
	Device        string `json:"device"`
	DType         string `json:"dtype"`
	RandomWeights bool   `json:"random_weights"`
	WeightSeed    uint64 `json:"weight_seed"`
	Threads       int    `json:"threads"`
}

// handle is one open engine.
type handle struct {
	id   uintptr
	eng  *engine.Engine
	opts openOptions
	err  lastError
	// busy is set while a call uses the handle.
	busy atomic.Bool
}

// handles is the table behind genbench_engine pointers. Identifiers are
// never reused, so a closed handle is recognised as such.
var handles = struct {
	sync.Mutex
	open   map[uintptr]*handle
	closed map[uintptr]bool
	next   uintptr
}{open: map[uintptr]*handle{}, closed: map[uintptr]bool{}, next: 1}

// register adds an engine to the table and returns its handle.
func register(eng *engine.Engine, opts openOptions) *handle {
	handles.Lock()
	defer handles.Unlock()
	h := &handle{id: handles.next, eng: eng, opts: opts}
	handles.next++
	handles.open[h.id] = h
	return h
}

// lookup finds the handle behind p, or says why there is none.
func lookup(p *C.genbench_engine) (*handle, error) {
	if p == nil {
		return nil, errorf(statusInvalidHandle, "engine handle is NULL: expected a handle returned by genbench_open")
	}
	id := uintptr(C.gb_handle_id(p))
	handles.Lock()
	defer handles.Unlock()
	if h, ok := handles.open[id]; ok {
		return h, nil
	}
	if handles.closed[id] {
		return nil, errorf(statusInvalidHandle, "engine handle %d was closed: expected an open handle returned by genbench_open", id)
	}
	return nil, errorf(statusInvalidHandle, "unknown engine handle %#x: expected a handle returned by genbench_open", id)
}

// acquire looks up p and marks the handle busy for one call. When the
// handle exists but is busy, it is returned with the error (the error is
// recorded on it).
func acquire(p *C.genbench_engine) (*handle, error) {
	h, err := lookup(p)
	if err != nil {
		return nil, err
	}
	if !h.busy.CompareAndSwap(false, true) {
		return h, errorf(statusBusy, "engine handle %d is serving another call: a handle serves one call at a time", h.id)
	}
	return h, nil
}

// release ends a call on h.
func (h *handle) release() { h.busy.Store(false) }

// unregister removes h from the table; its identifier stays closed.
func unregister(h *handle) {
	handles.Lock()
	defer handles.Unlock()
	delete(handles.open, h.id)
	handles.closed[h.id] = true
}

// report records err (on h, or globally when h is nil) and returns its
// status code.
func report(h *handle, err error) C.int {
	if err == nil {
		return statusOK
	}
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	if h != nil {
		h.err.set(msg)
	} else {
		setThreadError(msg)
	}
	return C.int(statusOf(err))
}

// setThreadError records msg as the calling thread's last error (the
// exported function runs on the C thread that called it).
func setThreadError(msg string) {
	cs := C.CString(msg)
	defer C.free(unsafe.Pointer(cs))
	C.gb_set_thread_error(cs, C.size_t(len(msg)))
}

// panicError turns a recovered panic into an internal error.
func panicError(r any) error {
	stack := string(debug.Stack())
	// Keep the message one line: the panic value and the innermost frames.
	if i := strings.Index(stack, "panic("); i >= 0 {
		stack = stack[i:]
	}
	if len(stack) > 600 {
		stack = stack[:600]
	}
	return errorf(statusInternal, "internal error (please report it): %v [%s]", r, strings.Join(strings.Fields(stack), " "))
}

// withHandle runs fn on the handle behind p as one call: invalid or busy
// handles, errors and panics become status codes and last-error messages.
func withHandle(p *C.genbench_engine, fn func(h *handle) error) (status C.int) {
	h, err := acquire(p)
	if err != nil {
		return report(h, err)
	}
	defer h.release()
	defer func() {
		if r := recover(); r != nil {
			status = report(h, panicError(r))
		}
	}()
	return report(h, fn(h))
}

// withoutHandle runs fn as one call of a function without a handle;
// errors and panics go to the global last error.
func withoutHandle(fn func() error) (status C.int) {
	defer func() {
		if r := recover(); r != nil {
			status = report(nil, panicError(r))
		}
	}()
	return report(nil, fn())
}

// withOptionalHandle is withHandle when p is not NULL, else withoutHandle
// with a nil handle.
func withOptionalHandle(p *C.genbench_engine, fn func(h *handle) error) C.int {
	if p == nil {
		return withoutHandle(func() error { return fn(nil) })
	}
	return withHandle(p, fn)
}
