package cpu

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestPool checks that every loop covers each index exactly once, whether
// the helpers are still spinning from the previous loop or have parked.
func TestPool(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 5} {
		p := newPool(workers)
		for it := 0; it < 200; it++ {
			n := 1 + it*37%1000
			hits := make([]atomic.Int32, n)
			p.parallel(n, 1+it%3, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					hits[i].Add(1)
				}
			})
			for i := range hits {
				if h := hits[i].Load(); h != 1 {
					t.Fatalf("%d workers, loop %d: index %d of %d run %d times", workers, it, i, n, h)
				}
			}
			if it%50 == 49 {
				time.Sleep(3 * spinFor) // let the helpers park
			}
		}
		p.close()
		p.close()
	}
}
