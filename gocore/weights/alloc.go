package weights

import (
	"fmt"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmapThreshold is the size above which tensor memory is mapped directly
// from the OS (pre-faulted with MAP_POPULATE, which is several times faster
// than faulting a multi-gigabyte heap slice page by page, and fails with an
// error instead of crashing when memory runs out). Such memory is released by
// Model.Close.
const mmapThreshold = 64 << 20

// allocBF16 returns n zeroed bf16 elements, and a release function when the
// memory is not managed by the Go heap.
func allocBF16(n int) ([]uint16, func() error, error) {
	if 2*n < mmapThreshold {
		return make([]uint16, n), nil, nil
	}
	b, err := unix.Mmap(-1, 0, 2*n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return nil, nil, fmt.Errorf("allocating %d MiB for weights: %w", (2*n)>>20, err)
	}
	var once sync.Once
	release := func() error {
		var err error
		once.Do(func() { err = unix.Munmap(b) })
		return err
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), n), release, nil
}
