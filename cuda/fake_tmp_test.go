package cuda

import (
	"context"
	"os"
	"testing"
)

func TestTmpFakeSelftest(t *testing.T) {
	dir := os.Getenv("GENBENCH_FAKECUDA")
	if dir == "" {
		t.Skip("no fake")
	}
	err := Selftest(context.Background(), os.Stdout, SelftestOptions{
		Backend: Options{DriverLibDirs: []string{dir}, KernelCacheDir: "/tmp/fakecuda/kc"},
		Models:  []string{"tiny-llama", "tiny-qwen3", "tiny-gemma3"}, BandwidthBytes: 1 << 20, Seed: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
}
