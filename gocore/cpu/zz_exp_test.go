package cpu

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/genbench/genbench/gocore/backend"
)

func TestZZExp(t *testing.T) {
	modesS := os.Getenv("EXP_MODES")
	if modesS == "" {
		t.Skip()
	}
	var modes []int
	for _, f := range strings.Split(modesS, ",") {
		m, _ := strconv.Atoi(f)
		modes = append(modes, m)
	}
	be := New(0)
	defer be.Close()
	const H, I, V = 2048, 8192, 128256
	type op struct {
		w    backend.Weight
		outs []backend.Buffer
		x    backend.Buffer
	}
	var ops []op
	var bytes int64
	var arena []uint16
	if os.Getenv("EXP_THP") != "" {
		m, err := unix.Mmap(-1, 0, 2600<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			t.Fatal(err)
		}
		off := (2<<20 - int(uintptr(unsafe.Pointer(&m[0]))%(2<<20))) % (2 << 20)
		m = m[off : off+2590<<20]
		if err := unix.Madvise(m, unix.MADV_HUGEPAGE); err != nil {
			t.Fatal(err)
		}
		arena = unsafe.Slice((*uint16)(unsafe.Pointer(&m[0])), len(m)/2)
	}
	add := func(cols int, rows ...int) {
		var parts []backend.Matrix
		var outs []backend.Buffer
		for _, r := range rows {
			var d []uint16
			if arena != nil {
				d, arena = arena[:r*cols:r*cols], arena[r*cols:]
			} else {
				d = make([]uint16, r*cols)
			}
			for i := range d {
				d[i] = 0x3c00 + uint16(i&127) // small values, every page written
			}
			parts = append(parts, backend.Matrix{Name: "w", Rows: r, Cols: cols, Data: d})
			o, _ := be.NewBuffer(backend.BF16, r)
			outs = append(outs, o)
			bytes += int64(2 * r * cols)
		}
		w, _ := be.UploadWeight(parts...)
		ops = append(ops, op{w, outs, bufOf(make([]uint16, cols))})
	}
	for l := 0; l < 16; l++ {
		add(H, 2048, 512, 512)
		add(H, 2048)
		add(H, I, I)
		add(I, 2048)
	}
	add(H, V)
	step := func() {
		for _, o := range ops {
			be.Matmul(o.outs, o.x, 1, o.w)
		}
	}
	step()
	res := map[int][]float64{}
	for round := 0; round < 30; round++ {
		for _, m := range modes {
			gemvMode = m
			t0 := time.Now()
			step()
			step()
			res[m] = append(res[m], float64(2*bytes)/time.Since(t0).Seconds()/1e9)
		}
	}
	for _, m := range modes {
		r := res[m]
		sort.Float64s(r)
		fmt.Printf("mode %d: max %.1f  median %.1f GB/s\n", m, r[len(r)-1], r[len(r)/2])
	}
}
