package cuda

import (
	"fmt"

	"github.com/genbench/genbench/cuda/cu"
	"github.com/genbench/genbench/cuda/nvrtc"
)

// GPU describes one device.
type GPU struct {
	Index       int    `json:"index"`
	Name        string `json:"name"`
	CCMajor     int    `json:"cc_major"`
	CCMinor     int    `json:"cc_minor"`
	MemoryBytes int64  `json:"memory_bytes"`
	SMs         int    `json:"sms"`
	// MemoryBusBits and MemoryClockKHz give the theoretical bandwidth
	// (2 * clock * bus / 8); 0 when the driver does not report them.
	MemoryBusBits  int `json:"memory_bus_bits"`
	MemoryClockKHz int `json:"memory_clock_khz"`
	dev            cu.Device
}

// ComputeCapability is "major.minor".
func (g GPU) ComputeCapability() string { return fmt.Sprintf("%d.%d", g.CCMajor, g.CCMinor) }

// TheoreticalBandwidth is the datasheet memory bandwidth in bytes/s (0
// when unknown).
func (g GPU) TheoreticalBandwidth() float64 {
	return 2 * float64(g.MemoryClockKHz) * 1e3 * float64(g.MemoryBusBits) / 8
}

// ProbeResult is what Probe found.
type ProbeResult struct {
	DriverLibrary     string `json:"driver_library,omitempty"`
	DriverCUDAVersion string `json:"driver_cuda_version,omitempty"` // highest CUDA the driver supports
	DriverVersion     string `json:"driver_version,omitempty"`      // NVIDIA kernel module version
	NVRTCLibrary      string `json:"nvrtc_library,omitempty"`
	NVRTCVersion      string `json:"nvrtc_version,omitempty"`
	NVRTCArchs        []int  `json:"nvrtc_archs,omitempty"`
	// NVRTCFound lists every NVRTC the search loaded ("12.8 /path"); the
	// one used is the newest the driver supports.
	NVRTCFound []string `json:"nvrtc_found,omitempty"`
	GPUs       []GPU    `json:"gpus"`
	// DriverError and NVRTCError say why a library is unusable ("" when fine).
	DriverError string `json:"driver_error,omitempty"`
	NVRTCError  string `json:"nvrtc_error,omitempty"`
}

// Usable reports whether the CUDA backend can run: a GPU of compute
// capability 8.0 or newer and NVRTC.
func (p *ProbeResult) Usable() bool {
	if p == nil || p.NVRTCError != "" || p.DriverError != "" {
		return false
	}
	for _, g := range p.GPUs {
		if g.CCMajor >= 8 {
			return true
		}
	}
	return false
}

// Reason says why the backend is not usable ("" when it is).
func (p *ProbeResult) Reason() string {
	switch {
	case p == nil:
		return "not probed"
	case p.DriverError != "":
		return p.DriverError
	case p.NVRTCError != "":
		return p.NVRTCError
	case len(p.GPUs) == 0:
		return "cuda: no GPU found"
	case !p.Usable():
		return "cuda: no GPU with compute capability 8.0 or newer"
	}
	return ""
}

// Probe looks for the CUDA driver, NVRTC and GPUs without creating a
// context. It never fails: what is missing is described in the result's
// DriverError/NVRTCError fields.
func Probe(opts Options) *ProbeResult {
	res := &ProbeResult{GPUs: []GPU{}}
	lo := opts.libOptions()
	nvs, err := nvrtc.LoadAll(lo)
	if err != nil {
		res.NVRTCError = err.Error()
	}
	defer func() {
		for _, n := range nvs { // inspected, never used to compile
			n.Release()
		}
	}()
	for _, n := range nvs {
		res.NVRTCFound = append(res.NVRTCFound, n.VersionString()+" "+n.Path())
	}
	choose := func(driverCUDA int) {
		if len(nvs) == 0 {
			return
		}
		nv, _, err := nvrtc.Choose(nvs, driverCUDA)
		if err != nil {
			res.NVRTCError = err.Error()
			return
		}
		res.NVRTCLibrary = nv.Path()
		res.NVRTCVersion = nv.VersionString()
		res.NVRTCArchs = nv.SupportedArchs()
	}
	drv, err := cu.Load(opts.driverOptions())
	if err != nil {
		res.DriverError = err.Error()
		choose(0)
		return res
	}
	defer drv.Close()
	res.DriverLibrary = drv.Path()
	res.DriverVersion = nvidiaDriverVersion()
	v, err := drv.DriverVersion()
	if err == nil {
		res.DriverCUDAVersion = cudaVersionString(v)
	}
	choose(v)
	if err := drv.Init(); err != nil {
		res.DriverError = fmt.Sprintf("cuda: no usable GPU: %v", err)
		return res
	}
	n, err := drv.DeviceCount()
	if err != nil {
		res.DriverError = err.Error()
		return res
	}
	for i := 0; i < n; i++ {
		g, err := queryGPU(drv, i)
		if err != nil {
			res.DriverError = err.Error()
			return res
		}
		res.GPUs = append(res.GPUs, g)
	}
	return res
}

// queryGPU reads a device's properties (no context needed).
func queryGPU(drv *cu.Driver, i int) (GPU, error) {
	g := GPU{Index: i}
	dev, err := drv.DeviceGet(i)
	if err != nil {
		return g, err
	}
	g.dev = dev
	if g.Name, err = drv.DeviceName(dev); err != nil {
		return g, err
	}
	if g.MemoryBytes, err = drv.DeviceTotalMem(dev); err != nil {
		return g, err
	}
	attrs := []struct {
		p    *int
		attr int
	}{
		{&g.CCMajor, cu.AttrComputeCapabilityMajor},
		{&g.CCMinor, cu.AttrComputeCapabilityMinor},
		{&g.SMs, cu.AttrMultiprocessorCount},
		{&g.MemoryBusBits, cu.AttrGlobalMemoryBusWidth},
		{&g.MemoryClockKHz, cu.AttrMemoryClockRate},
	}
	for _, a := range attrs {
		v, err := drv.DeviceAttribute(dev, a.attr)
		if err != nil {
			// Bus width and clock are informational (deprecated on new drivers).
			if a.attr == cu.AttrGlobalMemoryBusWidth || a.attr == cu.AttrMemoryClockRate {
				continue
			}
			return g, err
		}
		*a.p = v
	}
	return g, nil
}
