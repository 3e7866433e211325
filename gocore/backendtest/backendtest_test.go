package backendtest

import (
	"strings"
	"testing"

	"github.com/genbench/genbench/gocore/backend"
	"github.com/genbench/genbench/gocore/cpu"
)

// The CPU backend's fast kernels pass the whole table against the
// reference loops.
func TestCPUBackend(t *testing.T) {
	b := cpu.New(2)
	defer b.Close()
	for _, r := range Run(b, Cases(false), 1) {
		if !r.Pass {
			t.Error(r)
		} else {
			t.Log(r)
		}
	}
}

// offByOne is the CPU backend with an Add that is one ulp off and a GLU
// that applies the other activation: the table must catch both.
type offByOne struct{ *cpu.Backend }

func (o offByOne) Add(out, a, b backend.Buffer, n int) error {
	if err := o.Backend.Add(out, a, b, n); err != nil {
		return err
	}
	x := out.(*cpu.Buf).U16
	x[n/2]++
	return nil
}

func (o offByOne) GLU(out, gate, up backend.Buffer, n, width int, act backend.Activation) error {
	return o.Backend.GLU(out, gate, up, n, width, 1-act)
}

func TestTableCatchesWrongOps(t *testing.T) {
	b := offByOne{cpu.New(1)}
	defer b.Close()
	failed := map[string]bool{}
	for _, r := range Run(b, Cases(true), 1) {
		if !r.Pass {
			failed[r.Case.Op] = true
			if !strings.HasPrefix(r.String(), "FAIL ") {
				t.Errorf("failed case reads %q", r)
			}
		}
	}
	for _, op := range []string{OpAdd, OpGLU, OpChain} {
		if !failed[op] {
			t.Errorf("a wrong %s passed", op)
		}
	}
	for _, op := range []string{OpEmbed, OpEmbedBad, OpMatmul, OpRMSNorm, OpAttention} {
		if failed[op] {
			t.Errorf("%s failed though it is right", op)
		}
	}
}

// skipsBadIDs is the CPU backend with an Embed that reads row 0 for ids of
// 10 or more (the bad-id case's table has 10 rows) instead of failing.
type skipsBadIDs struct{ *cpu.Backend }

func (s skipsBadIDs) Embed(out, ids backend.Buffer, n int, table backend.Weight, scale float32) error {
	x := ids.(*cpu.Buf).I32
	saved := append([]int32(nil), x...)
	for i := range x {
		if x[i] >= 10 {
			x[i] = 0
		}
	}
	defer copy(x, saved)
	return s.Backend.Embed(out, ids, n, table, scale)
}

func TestTableCatchesUncheckedIDs(t *testing.T) {
	b := skipsBadIDs{cpu.New(1)}
	defer b.Close()
	for _, c := range Cases(true) {
		if c.Op != OpEmbedBad {
			continue
		}
		if r := RunCase(b, c, 1); r.Pass || r.Metric != "no error" {
			t.Errorf("an Embed that ignores an out-of-range id: %s", r)
		}
		return
	}
	t.Fatal("the table has no embed bad id case")
}
