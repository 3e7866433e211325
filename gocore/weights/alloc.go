package weights

import (
	"fmt"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/genbench/genbench/gocore/internal/sysinfo"
)

// mmapThreshold is the size above which tensor memory is mapped directly
// from the OS (in transparent huge pages where the kernel has them;
// pre-faulted with MADV_POPULATE_WRITE or MAP_POPULATE, which is several
// times faster than faulting a multi-gigabyte heap slice page by page, and
// fails with an error instead of crashing when memory runs out). Such memory is released by
// Model.Close.
const mmapThreshold = 64 << 20

// allocBF16 returns n zeroed bf16 elements, and a release function when the
// memory is not managed by the Go heap.
func allocBF16(n int) ([]uint16, func() error, error) {
	if 2*n < mmapThreshold {
		return make([]uint16, n), nil, nil
	}
	if avail := sysinfo.MemInfo("MemAvailable"); avail > 0 && 2*int64(n) > avail {
		return nil, nil, fmt.Errorf("out of memory: the weights need %.2f GiB but only %.2f GiB are available", float64(2*n)/(1<<30), float64(avail)/(1<<30))
	}
	m, b, err := mapHuge(2 * n)
	if err != nil {
		m, err = unix.Mmap(-1, 0, 2*n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
		if err != nil {
			return nil, nil, fmt.Errorf("allocating %d MiB for weights: %w", (2*n)>>20, err)
		}
		b = m
	}
	var once sync.Once
	release := func() error {
		var err error
		once.Do(func() { err = unix.Munmap(m) })
		return err
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), n), release, nil
}

// hugePage is the size of a transparent huge page on amd64 and arm64.
const hugePage = 2 << 20

// mapHuge maps n bytes aligned to a huge page, asks for transparent huge
// pages (MADV_HUGEPAGE: decoding streams every weight once per token, and
// 2 MiB pages spare it most TLB misses) and pre-faults them
// (MADV_POPULATE_WRITE, which fails cleanly when memory runs out). It
// returns the whole mapping (to unmap) and the n bytes in it; on any error
// nothing stays mapped.
func mapHuge(n int) (m, b []byte, err error) {
	m, err = unix.Mmap(-1, 0, n+hugePage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, nil, err
	}
	off := 0
	if r := int(uintptr(unsafe.Pointer(&m[0])) % hugePage); r != 0 {
		off = hugePage - r
	}
	b = m[off : off+n]
	if err = unix.Madvise(b, unix.MADV_HUGEPAGE); err == nil {
		err = unix.Madvise(b, unix.MADV_POPULATE_WRITE)
	}
	if err != nil {
		unix.Munmap(m)
		return nil, nil, err
	}
	return m, b, nil
}
