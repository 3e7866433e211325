package weights

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
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
	if avail, ok := availableMemory(); ok && uint64(2*n) > avail {
		return nil, nil, fmt.Errorf("out of memory: the weights need %.2f GiB but only %.2f GiB are available", float64(2*n)/(1<<30), float64(avail)/(1<<30))
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

// availableMemory reads MemAvailable from /proc/meminfo (Linux).
func availableMemory() (uint64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			if err != nil {
				return 0, false
			}
			return kb * 1024, true
		}
	}
	return 0, false
}
