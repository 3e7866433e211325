package cu

import (
	"math"
	"testing"
)

func TestParamsPacking(t *testing.T) {
	var p Params
	p.Ptr(0x7f0000001000).I32(-3).F32(1.5).U64(1 << 40).I32(7)
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	want := []uint64{0x7f0000001000, 0xfffffffd, uint64(math.Float32bits(1.5)), 1 << 40, 7}
	if p.Len() != len(want) {
		t.Fatalf("len %d, want %d", p.Len(), len(want))
	}
	for i, w := range want {
		if p.Slot(i) != w {
			t.Errorf("slot %d = %#x, want %#x", i, p.Slot(i), w)
		}
	}
	p.Reset()
	if p.Len() != 0 {
		t.Fatal("Reset left parameters")
	}
	p.I32(math.MaxInt32 + 1)
	if err := p.Check(); err == nil {
		t.Fatal("an int above 2^31-1 passed Check")
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{Op: "cuMemAlloc_v2(1024 bytes)", Code: ErrOutOfMemory, Name: "CUDA_ERROR_OUT_OF_MEMORY", Desc: "out of memory"}
	want := "cuda: cuMemAlloc_v2(1024 bytes): CUDA_ERROR_OUT_OF_MEMORY (2): out of memory"
	if e.Error() != want {
		t.Fatalf("got %q, want %q", e.Error(), want)
	}
	if !IsOutOfMemory(e) || IsOutOfMemory(&Error{Code: 1}) {
		t.Fatal("IsOutOfMemory misclassifies")
	}
}
