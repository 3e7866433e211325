package engine

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkDecodeContended measures tiny-model decode with 1 and 2 worker
// threads, on an otherwise idle machine and with a competing busy process
// pinned to CPU 0 (a shell busy loop), the situation of a shared box or a
// CI runner. The spinning worker pool must degrade gracefully there:
//
//	go test -run '^$' -bench DecodeContended -benchtime 20x ./gocore/engine
func BenchmarkDecodeContended(b *testing.B) {
	for _, busy := range []bool{false, true} {
		for _, threads := range []int{1, 2} {
			name := fmt.Sprintf("threads=%d/idle", threads)
			if busy {
				name = fmt.Sprintf("threads=%d/busy-cpu0", threads)
			}
			b.Run(name, func(b *testing.B) {
				if busy {
					stop := busyProcess(b, 0)
					defer stop()
				}
				e, err := Load(context.Background(), Options{Model: "tiny-llama", Device: "cpu", Threads: threads})
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close()
				reportDecodeRate(b, e, Request{Prompt: []int32{1, 2, 3, 4, 5, 6, 7, 8}, MaxNewTokens: 256, Stop: NoStop})
			})
		}
	}
}

// busyProcess starts a process that spins on the given CPU until stopped.
func busyProcess(b *testing.B, cpuID int) func() {
	b.Helper()
	cmd := exec.Command("/bin/sh", "-c", "while :; do :; done")
	if err := cmd.Start(); err != nil {
		b.Skipf("cannot start a busy process: %v", err)
	}
	var set unix.CPUSet
	set.Set(cpuID)
	if err := unix.SchedSetaffinity(cmd.Process.Pid, &set); err != nil {
		b.Logf("pinning the busy process to CPU %d: %v", cpuID, err)
	}
	time.Sleep(50 * time.Millisecond)
	return func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
}
