package sysinfo

import (
	"runtime"
	"strings"
	"testing"
)

func TestCPUModel(t *testing.T) {
	for text, want := range map[string]string{
		"processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz\n": "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
		"processor\t: 0\nBogoMIPS\t: 50.00\n\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n":                    "Raspberry Pi 4 Model B Rev 1.4",
		"processor\t: 0\nmodel name\t:\ncpu model\t: Loongson-3A5000\n":                                       "Loongson-3A5000",
		"processor\t: 0\n": "",
	} {
		if got := cpuModel(strings.NewReader(text)); got != want {
			t.Errorf("cpuModel(%q) = %q, want %q", text, got, want)
		}
	}
	if runtime.GOOS == "linux" && CPUModel() == "" {
		t.Error("CPUModel is empty")
	}
}

func TestKBField(t *testing.T) {
	meminfo := "MemTotal:       65839396 kB\nMemFree:         1234567 kB\nMemAvailable:   40000000 kB\n"
	for field, want := range map[string]int64{"MemTotal": 65839396 * 1024, "MemAvailable": 40000000 * 1024, "SwapTotal": 0, "Mem": 0} {
		if got := kBField(strings.NewReader(meminfo), field); got != want {
			t.Errorf("%s = %d, want %d", field, got, want)
		}
	}
	status := "Name:\tgenbench\nVmPeak:\t  123456 kB\nVmHWM:\t   65536 kB\nVmRSS:\t   60000 kB\n"
	if got := kBField(strings.NewReader(status), "VmHWM"); got != 65536*1024 {
		t.Errorf("VmHWM = %d", got)
	}
}
