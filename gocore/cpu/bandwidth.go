package cpu

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// BandwidthBytes is the buffer ReadBandwidth streams: far above any
// last-level cache, so that the figure is the memory's, not a cache's.
const BandwidthBytes = 256 << 20

// ReadBandwidth measures the memory read bandwidth of threads threads
// (0 = GOMAXPROCS) in bytes per second: each thread streams its share of a
// size-byte buffer with XorWords, as decoding streams the weights, and the
// best of passes passes is returned. It allocates and touches the buffer
// first (untimed) and returns it to the OS before it returns. It takes
// roughly (passes+1) × size / bandwidth.
func ReadBandwidth(threads, size, passes int) (float64, error) {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	if size < 1<<20 || passes < 1 {
		return 0, fmt.Errorf("cpu: read bandwidth needs a buffer of >= 1 MiB and >= 1 pass (got %d bytes, %d passes)", size, passes)
	}
	if err := checkAlloc("the read-bandwidth buffer", int64(size)); err != nil {
		return 0, err
	}
	buf := make([]byte, size)
	for i := 0; i < len(buf); i += 4096 { // fault every page in, non-zero
		buf[i] = byte(i>>12) | 1
	}
	var sink uint64
	run := func() time.Duration {
		start := time.Now()
		sink ^= StreamRead(buf, threads)
		return time.Since(start)
	}
	run() // warm up
	best := time.Duration(0)
	for p := 0; p < passes; p++ {
		if d := run(); best == 0 || d < best {
			best = d
		}
	}
	runtime.KeepAlive(sink)
	// Hand the buffer back to the OS now rather than when the runtime's
	// scavenger gets to it: a benchmark's peak-memory figure starts from the
	// process's resident set, which would otherwise still hold these pages.
	buf = nil
	debug.FreeOSMemory()
	if best <= 0 {
		return 0, errors.New("cpu: read bandwidth pass timed 0")
	}
	return float64(size) / best.Seconds(), nil
}

// StreamRead reads buf once with threads goroutines, each locked to an OS
// thread and XOR-folding its page-aligned share (XorWords), as decoding
// streams the weights; the result only keeps the reads from being
// optimised away.
func StreamRead(buf []byte, threads int) uint64 {
	share := (len(buf) / threads) &^ 4095
	sink := make([]uint64, threads)
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		lo, hi := t*share, (t+1)*share
		if t == threads-1 {
			hi = len(buf)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			sink[t] = XorWords(buf[lo:hi])
		}()
	}
	wg.Wait()
	var x uint64
	for _, v := range sink {
		x ^= v
	}
	return x
}

// MemoryBandwidth measures the memory read bandwidth of the backend's
// worker threads (backend.BandwidthMeter).
func (b *Backend) MemoryBandwidth() (float64, string, error) {
	bw, err := ReadBandwidth(b.threads, BandwidthBytes, 4)
	threads := fmt.Sprintf("%d threads", b.threads)
	if b.threads == 1 {
		threads = "1 thread"
	}
	return bw, fmt.Sprintf("cpu read, %s, %d MiB", threads, BandwidthBytes>>20), err
}
