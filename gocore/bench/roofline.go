package bench

import "github.com/genbench/genbench/gocore/model"

// DecodeReadBytes is what one decode step must read from memory at a
// context of ctx tokens: every weight once (weightBytes, bf16) plus the KV
// cache, per layer 2 (K and V) × KV heads × head dim × 2 bytes (bf16) ×
// the keys the layer attends to (ctx, capped at the window on sliding
// layers). This is the memory-bound roofline of decoding: achieved read
// bandwidth = DecodeReadBytes × decode tok/s.
func DecodeReadBytes(spec *model.Spec, weightBytes int64, ctx int) int64 {
	total := weightBytes
	for l := 0; l < spec.NumLayers; l++ {
		keys := ctx
		if l < len(spec.LayerTypes) && spec.LayerTypes[l] == model.SlidingAttention && spec.SlidingWindow > 0 {
			keys = min(keys, spec.SlidingWindow)
		}
		total += int64(2*spec.NumKVHeads*spec.HeadDim*2) * int64(keys)
	}
	return total
}

// meanDecodeContext is the mean context of a config's decode steps: step i
// (1 .. gen-1) attends to prompt + i keys.
func meanDecodeContext(prompt, gen int) int { return prompt + gen/2 }

// addRoofline sets the config's bytes per decode step, the achieved read
// bandwidth of each trial (bytes per step × decode tok/s, in GB/s) and,
// when the device's bandwidth is known (dev non-nil), that as a percentage
// of it.
func (c *ConfigResult) addRoofline(spec *model.Spec, weightBytes int64, dev *DeviceBandwidth) {
	if spec == nil || weightBytes <= 0 || c.GenTokens < 2 {
		return
	}
	c.DecodeReadBytes = DecodeReadBytes(spec, weightBytes, meanDecodeContext(c.PromptTokens, c.GenTokens))
	gbs := make([]float64, len(c.DecodeTokS.Trials))
	for i, v := range c.DecodeTokS.Trials {
		gbs[i] = float64(c.DecodeReadBytes) * v / 1e9
	}
	f := NewFigure(gbs)
	c.DecodeReadGBs = &f
	if dev != nil && dev.GBs > 0 {
		p := percentOfBandwidth(f, dev.GBs)
		c.DecodeReadPct = &p
	}
}
