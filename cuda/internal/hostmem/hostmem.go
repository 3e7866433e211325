// Package hostmem provides host memory outside the Go heap for data the
// CUDA libraries read or write through raw pointers: out-parameters, C
// strings, kernel parameter blocks. Such memory never moves and is never
// scanned by the garbage collector, so handing its address to C is safe for
// as long as the Arena lives.
package hostmem

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Arena is a bump allocator over an anonymous mmap. It is not safe for
// concurrent use: each owner (one per CUDA thread) has its own.
type Arena struct {
	buf []byte
	off int
}

// NewArena maps size bytes (rounded up to a page).
func NewArena(size int) (*Arena, error) {
	if size <= 0 {
		return nil, fmt.Errorf("hostmem: arena size %d must be positive", size)
	}
	ps := unix.Getpagesize()
	size = (size + ps - 1) / ps * ps
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("hostmem: mmap %d bytes: %w", size, err)
	}
	return &Arena{buf: b}, nil
}

// Free unmaps the arena. Idempotent.
func (a *Arena) Free() error {
	if a == nil || a.buf == nil {
		return nil
	}
	err := unix.Munmap(a.buf)
	a.buf = nil
	return err
}

// Reset releases every allocation at once.
func (a *Arena) Reset() { a.off = 0 }

// Mark returns the current allocation offset, for Release.
func (a *Arena) Mark() int { return a.off }

// Release frees everything allocated after mark.
func (a *Arena) Release(mark int) { a.off = mark }

// Alloc returns n zeroed bytes aligned to align (a power of two), or an
// error when the arena is full.
func (a *Arena) Alloc(n, align int) ([]byte, error) {
	if a.buf == nil {
		return nil, fmt.Errorf("hostmem: arena used after Free")
	}
	if align <= 0 {
		align = 8
	}
	start := (a.off + align - 1) &^ (align - 1)
	if n < 0 || start+n > len(a.buf) {
		return nil, fmt.Errorf("hostmem: arena of %d bytes cannot hold %d more bytes", len(a.buf), n)
	}
	a.off = start + n
	b := a.buf[start : start+n : start+n]
	clear(b)
	return b, nil
}

// Addr returns the address of b[0] (b must be non-empty and from an Arena).
func Addr(b []byte) uintptr { return uintptr(unsafe.Pointer(&b[0])) }

// CString copies s with a terminating NUL into the arena.
func (a *Arena) CString(s string) ([]byte, error) {
	b, err := a.Alloc(len(s)+1, 1)
	if err != nil {
		return nil, err
	}
	copy(b, s)
	return b, nil
}

// GoString reads the NUL-terminated C string at p (nil gives "").
func GoString(p unsafe.Pointer) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(p, n)) != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(p), n))
}

// PtrAt reads a C pointer stored at b[0:8].
func PtrAt(b []byte) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&b[0])) }

// U64At reads a uint64 stored at b[0:8].
func U64At(b []byte) uint64 { return *(*uint64)(unsafe.Pointer(&b[0])) }

// I32At reads an int32 stored at b[0:4].
func I32At(b []byte) int32 { return *(*int32)(unsafe.Pointer(&b[0])) }

// F32At reads a float32 stored at b[0:4].
func F32At(b []byte) float32 { return *(*float32)(unsafe.Pointer(&b[0])) }
