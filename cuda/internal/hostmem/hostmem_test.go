package hostmem

import (
	"testing"
	"unsafe"
)

func TestArena(t *testing.T) {
	a, err := NewArena(100)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Free()
	b1, err := a.Alloc(3, 1)
	if err != nil {
		t.Fatal(err)
	}
	copy(b1, "abc")
	b2, err := a.Alloc(8, 16)
	if err != nil {
		t.Fatal(err)
	}
	if Addr(b2)%16 != 0 {
		t.Fatalf("16-byte alignment not honoured: %#x", Addr(b2))
	}
	m := a.Mark()
	cs, err := a.CString("hello")
	if err != nil {
		t.Fatal(err)
	}
	if got := GoString(unsafe.Pointer(&cs[0])); got != "hello" {
		t.Fatalf("GoString = %q", got)
	}
	a.Release(m)
	again, _ := a.Alloc(6, 1)
	if Addr(again) != Addr(cs) {
		t.Fatal("Release did not rewind the arena")
	}
	for i, c := range again {
		if c != 0 {
			t.Fatalf("reused memory not zeroed at %d", i)
		}
	}
	if _, err := a.Alloc(1<<20, 8); err == nil {
		t.Fatal("an allocation beyond the arena succeeded")
	}
	if GoString(nil) != "" {
		t.Fatal("GoString(nil) != \"\"")
	}
	if err := a.Free(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Alloc(1, 1); err == nil {
		t.Fatal("Alloc after Free succeeded")
	}
	if _, err := NewArena(0); err == nil {
		t.Fatal("NewArena(0) succeeded")
	}
}
