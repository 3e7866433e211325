package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/genbench/genbench/cuda/cu"
	"github.com/genbench/genbench/gocore/backend"
	"github.com/genbench/genbench/gocore/sampling"
)

// sampler is a device-side token sampler (see kernels/sample.cu).
type sampler struct {
	b        *Backend
	p        sampling.Params
	vocab    int
	capacity int
	presence cu.DevPtr // u8[vocab], nil without a repetition penalty
	step     cu.DevPtr // int32 step counter
	scratch  cu.DevPtr // f32[vocab] (sampling; greedy needs none)
	partials cu.DevPtr // greedy: u64[blocks] per-block winners, then an int32 ticket and an int32 non-finite word
	blocks   int       // greedy, top-k: grid of sample_greedy or of the top-k first pass
	topk     cu.DevPtr // top-k first pass: the workspace of topkWorkspace
	ring     []byte    // host-mapped int32[capacity]: sampled ids, -1 until written, <= -2 for non-finite logits
	ringDev  cu.DevPtr
}

// NewSampler prepares device sampling for one generation. The parameters
// are validated as gocore/sampling does; history (the prompt) seeds the
// repetition-penalty presence table; capacity bounds the tokens sampled.
func (b *Backend) NewSampler(p sampling.Params, vocab int, history []int32, capacity int) (backend.TokenSampler, error) {
	if _, err := sampling.NewSampler(p, vocab); err != nil {
		return nil, err
	}
	if capacity <= 0 {
		return nil, fmt.Errorf("cuda: sampler capacity %d must be positive", capacity)
	}
	s := &sampler{b: b, p: p, vocab: vocab, capacity: capacity}
	penalised := p.RepetitionPenalty != 1 && p.RepetitionPenalty != 0
	var pres []byte
	if penalised {
		pres = make([]byte, vocab)
		for _, id := range history {
			if id >= 0 && int(id) < vocab {
				pres[id] = 1
			}
		}
	}
	err := b.do(func() error {
		var err error
		if s.step, err = b.alloc(4, "sampler step"); err != nil {
			return err
		}
		if p.Greedy() {
			// The multi-block argmax: per-block winners, a completion
			// ticket and the non-finite word (zero; the last block resets
			// them).
			s.blocks = greedyBlocks(vocab, b.sms)
			if s.partials, err = b.alloc(int64(8*s.blocks+8), "greedy argmax partials"); err != nil {
				return err
			}
			if err := b.drv.MemsetD8Async(s.partials, 0, int64(8*s.blocks+8), b.stream); err != nil {
				return err
			}
		} else {
			if s.scratch, err = b.alloc(int64(vocab)*4, "sampler scores"); err != nil {
				return err
			}
			if multiTopK(p, vocab) {
				// The top-k first pass: partials, histogram, candidates
				// and counters, zero (sample resets them after each step).
				s.blocks = greedyBlocks(vocab, b.sms)
				n := topkWorkspaceBytes(s.blocks)
				if s.topk, err = b.alloc(n, "top-k candidates"); err != nil {
					return err
				}
				if err := b.drv.MemsetD8Async(s.topk, 0, n, b.stream); err != nil {
					return err
				}
			}
		}
		if penalised {
			if s.presence, err = b.alloc(int64(vocab), "sampler presence"); err != nil {
				return err
			}
			if err := b.upload(s.presence, pres); err != nil {
				return err
			}
		}
		if s.ring, s.ringDev, err = b.drv.MemHostAllocMapped(4 * capacity); err != nil {
			return fmt.Errorf("cuda: sampler token ring: %w", err)
		}
		for i := 0; i < capacity; i++ {
			atomic.StoreInt32(s.slot(i), -1)
		}
		return b.drv.MemsetD32Async(s.step, 0, 1, b.stream)
	})
	if err != nil {
		s.Free()
		return nil, err
	}
	return s, nil
}

// multiTopK says whether a step with parameters p over vocab ids takes the
// multi-block first pass (sample_scores, sample_gather) before sample:
// sampling with a top-k that drops something.
func multiTopK(p sampling.Params, vocab int) bool {
	return !p.Greedy() && p.TopK > 0 && p.TopK < vocab
}

// The top-k first pass's workspace, in order: the per-block winners
// (u64[2*blocks]: scaled, then unscaled scores), the key histogram
// (u32[topkBins]), the candidates' ids (i32[candMax]) and scores
// (f32[candMax]), then the candidate count and the non-finite word
// (int32 each).
func topkWorkspaceBytes(blocks int) int64 { return int64(16*blocks + 4*topkBins + 8*candMax + 8) }

type topkLayout struct{ partials, hist, ids, vals, count, nonfinite cu.DevPtr }

func topkWorkspace(base cu.DevPtr, blocks int) topkLayout {
	l := topkLayout{partials: base}
	l.hist = l.partials + cu.DevPtr(16*blocks)
	l.ids = l.hist + cu.DevPtr(4*topkBins)
	l.vals = l.ids + cu.DevPtr(4*candMax)
	l.count = l.vals + cu.DevPtr(4*candMax)
	l.nonfinite = l.count + 4
	return l
}

func (s *sampler) slot(i int) *int32 { return (*int32)(unsafe.Pointer(&s.ring[4*i])) }

// Sample enqueues the choice of the next token from logits[0:vocab],
// writing it to ids[0]. It may be recorded by Capture.
func (s *sampler) Sample(logits, ids backend.Buffer) error {
	if s.step == 0 {
		return errors.New("cuda: Sample on a freed sampler")
	}
	lb, err := asBuf(logits, backend.BF16, s.vocab, "Sample logits")
	if err != nil {
		return err
	}
	ib, err := asBuf(ids, backend.Int32, 1, "Sample ids")
	if err != nil {
		return err
	}
	b := s.b
	greedy := 0
	if s.p.Greedy() {
		greedy = 1
	}
	return b.do(func() error {
		var p cu.Params
		if greedy == 1 {
			done := s.partials + cu.DevPtr(8*s.blocks)
			p.Ptr(lb.ptr).I32(s.vocab).Ptr(ib.ptr).Ptr(s.presence).Ptr(s.step).Ptr(s.ringDev).I32(s.capacity).
				F32(s.p.RepetitionPenalty).Ptr(s.partials).Ptr(done).Ptr(b.errWord)
			return b.launch("sample_greedy", b.k.sampleGreedy, cu.Dim3{X: uint32(s.blocks), Y: 1, Z: 1}, cu.Dim3{X: greedyThreads, Y: 1, Z: 1}, 0, &p)
		}
		var w topkLayout
		nparts := 0
		if s.topk != 0 {
			w, nparts = topkWorkspace(s.topk, s.blocks), s.blocks
			grid, block := cu.Dim3{X: uint32(s.blocks), Y: 1, Z: 1}, cu.Dim3{X: topkThreads, Y: 1, Z: 1}
			var q cu.Params
			q.Ptr(lb.ptr).I32(s.vocab).Ptr(s.presence).Ptr(s.scratch).F32(s.p.RepetitionPenalty).F32(s.p.Temperature).
				Ptr(w.partials).Ptr(w.hist).Ptr(w.nonfinite)
			if err := b.launch("sample_scores", b.k.sampleScores, grid, block, 0, &q); err != nil {
				return err
			}
			var g cu.Params
			g.Ptr(s.scratch).I32(s.vocab).I32(s.p.TopK).Ptr(w.hist).Ptr(w.ids).Ptr(w.vals).Ptr(w.count)
			if err := b.launch("sample_gather", b.k.sampleGather, grid, block, 0, &g); err != nil {
				return err
			}
		}
		p.Ptr(lb.ptr).I32(s.vocab).Ptr(ib.ptr).Ptr(s.presence).Ptr(s.step).Ptr(s.ringDev).I32(s.capacity).
			Ptr(s.scratch).I32(greedy).F32(s.p.RepetitionPenalty).F32(s.p.Temperature).I32(s.p.TopK).
			F32(s.p.TopP).U64(s.p.Seed).Ptr(w.partials).I32(nparts).Ptr(w.ids).Ptr(w.vals).Ptr(w.count).
			Ptr(w.hist).Ptr(w.nonfinite).Ptr(b.errWord)
		return b.launch("sample", b.k.sample, cu.Dim3{X: 1, Y: 1, Z: 1}, cu.Dim3{X: sampleThreads, Y: 1, Z: 1}, 0, &p)
	})
}

// Token returns the i-th sampled token, waiting for the device to write
// it. It spins on host-mapped memory (no stream synchronisation, so the
// next step can already run) and checks the stream for failures.
func (s *sampler) Token(i int) (int32, error) {
	if s.ring == nil {
		return 0, errors.New("cuda: Token on a freed sampler")
	}
	if i < 0 || i >= s.capacity {
		return 0, fmt.Errorf("cuda: token %d outside the sampler's capacity of %d", i, s.capacity)
	}
	slot := s.slot(i)
	start := time.Now()
	nextCheck := 200 * time.Microsecond
	for spins := 0; ; spins++ {
		if v := atomic.LoadInt32(slot); v != -1 {
			return tokenOrError(v)
		}
		if spins&63 == 63 {
			runtime.Gosched()
		}
		if time.Since(start) < nextCheck {
			continue
		}
		nextCheck = time.Since(start) + 200*time.Microsecond
		var idle bool
		err := s.b.do(func() error {
			done, err := s.b.drv.StreamQuery(s.b.stream)
			if err != nil {
				return err
			}
			idle = done
			if done {
				return s.b.checkDeviceError()
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("cuda: waiting for token %d: %w", i, err)
		}
		if idle {
			if v := atomic.LoadInt32(slot); v != -1 {
				return tokenOrError(v)
			}
			return 0, fmt.Errorf("cuda: token %d was never sampled (the stream is idle)", i)
		}
	}
}

// tokenOrError decodes a written ring slot: a token id, or (a value <= -2,
// NONFINITE_TOKEN in kernels/sample.cu) the first logit that is NaN or
// ±Inf, which is reported as an error naming the likely cause rather than
// sampled.
func tokenOrError(v int32) (int32, error) {
	if v >= 0 {
		return v, nil
	}
	c := -2 - int64(v)
	kind := [...]string{"NaN", "+Inf", "-Inf", "not finite"}[c%4]
	return 0, fmt.Errorf("cuda: logits are not finite: score %d is %s: the model's weights likely hold NaN or Inf values (a corrupt or wrongly converted checkpoint) or an activation overflowed bfloat16", c/4, kind)
}

// Free releases the sampler's memory. Idempotent.
func (s *sampler) Free() {
	b := s.b
	_ = b.do(func() error {
		if !b.capture {
			_ = b.drv.StreamSynchronize(b.stream)
		}
		b.free(s.step, 4)
		b.free(s.scratch, int64(s.vocab)*4)
		b.free(s.partials, int64(8*s.blocks+8)) // greedy
		b.free(s.topk, topkWorkspaceBytes(s.blocks))
		b.free(s.presence, int64(s.vocab))
		s.step, s.scratch, s.presence, s.partials, s.topk = 0, 0, 0, 0, 0
		if s.ring != nil {
			_ = b.drv.MemFreeHost(s.ring)
			s.ring, s.ringDev = nil, 0
		}
		return nil
	})
}
