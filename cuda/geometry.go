package cuda

import "github.com/genbench/genbench/cuda/cu"

// Launch geometry of each kernel, kept apart from the launches so that it
// can be tested without a GPU. The constants mirror the kernel sources.
const (
	gemvThreads    = 256 // GEMV_WARPS * 32
	gemvRowsPerBlk = 16  // GEMV_WARPS * GEMV_ROWS
	gemmThreads    = 128
	gemmTile       = 64 // GEMM_BM == GEMM_BN
	attnThreads    = 256
	attnMaxHeadDim = 256
	// attnStaticShared is the attention kernel's static shared memory
	// (qs + red + accs) as the source declares it. The backend reads the
	// real figure (after any ptxas padding) from the loaded kernel
	// (cuFuncGetAttribute) and sizes the dynamic score buffer from that.
	attnStaticShared = attnMaxHeadDim*4 + 32*4 + (attnThreads/32)*attnMaxHeadDim*4
	// sharedDefault is what static + dynamic shared memory may total
	// without cuFuncSetAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES).
	sharedDefault = 48 << 10
	sampleThreads = 1024
	greedyThreads = 256 // sample_greedy's block
	topkThreads   = 256 // TOPK_THREADS: sample_scores' and sample_gather's block
	topkBins      = 4096
	candMax       = 4096 // CAND_MAX: the candidates sample_gather keeps
	maxGreedyBlks = 1024
	ropeThreads   = 128
	elemThreads   = 256
	maxGridX      = 1 << 30
	maxElemBlocks = 65535
)

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// greedyBlocks is the grid of the multi-block greedy argmax, and of the
// top-k first pass (sample_scores, sample_gather), over a vocabulary of
// vocab ids: two blocks per SM, each thread reading at least
// eight logits (one 16-byte load), at most maxGreedyBlks.
func greedyBlocks(vocab, sms int) int {
	return max(1, min(2*max(sms, 1), ceilDiv(vocab, greedyThreads*8), maxGreedyBlks))
}

// gemvGrid is the grid of the decode GEMV for rows output rows with two
// rows per warp.
func gemvGrid(rows int) (grid, block cu.Dim3) {
	return cu.Dim3{X: uint32(ceilDiv(rows, gemvRowsPerBlk)), Y: 1, Z: 1}, cu.Dim3{X: gemvThreads, Y: 1, Z: 1}
}

// gemvRowsPerWarp picks one row per warp when two would leave fewer than
// two blocks per SM (small matrices: every SM must stream weights), else
// two (more loads in flight per warp).
func gemvRowsPerWarp(rows, sms int) int {
	if ceilDiv(rows, gemvRowsPerBlk) < 2*sms {
		return 1
	}
	return 2
}

// gemmGrid is the grid of the tensor-core GEMM for n tokens and rows outputs.
func gemmGrid(n, rows int) (grid, block cu.Dim3) {
	return cu.Dim3{X: uint32(ceilDiv(rows, gemmTile)), Y: uint32(ceilDiv(n, gemmTile)), Z: 1}, cu.Dim3{X: gemmThreads, Y: 1, Z: 1}
}

// elemGrid is the grid of a grid-stride elementwise kernel over total items.
func elemGrid(total int) (grid, block cu.Dim3) {
	b := ceilDiv(total, elemThreads)
	b = max(1, min(b, maxElemBlocks))
	return cu.Dim3{X: uint32(b), Y: 1, Z: 1}, cu.Dim3{X: elemThreads, Y: 1, Z: 1}
}

// normBlock is the block size of RMSNorm for rows of width dim: a multiple
// of 32 no wider than needed, at most 256.
func normBlock(dim int) uint32 {
	b := ceilDiv(dim, 32) * 32
	return uint32(max(32, min(b, 256)))
}

// attnStored is how many scores the attention kernel keeps in dynamic
// shared memory for a cache of capacity positions (more are recomputed),
// given the dynamic shared memory a launch may use without raising the
// kernel's limit (48 KiB minus the kernel's real static size).
func attnStored(capacity, maxDynamic int) int {
	return max(0, min(capacity, maxDynamic/4))
}

// Split-key decode attention (kernels/attention.cu, attn_split_*).
const (
	splitMinChunk = 32  // keys per block, at least
	splitMaxChunk = 256 // keys per block, at most
	maxSplits     = 64
	// attnDoneSlots is the fixed block of per-head completion counters at
	// the start of the workspace; it holds nothing else, whatever shapes
	// share the workspace, so the counters stay zero between launches.
	attnDoneSlots = 256
)

// attnSplit returns the chunk size and chunk count of a one-query
// attention over a cache of capacity positions with heads query heads on a
// GPU of sms multiprocessors; ok is false when one block per head is
// enough. One block per head leaves most SMs idle when there are few heads
// (4 blocks for Gemma 3 1B on 132 SMs) and walks long caches serially, so
// the keys are split into chunks of 32-256 (a multiple of 32) until heads x
// chunks reaches two blocks per SM or the chunks are as small as allowed.
func attnSplit(capacity, heads, sms int) (chunk, splits int, ok bool) {
	if capacity <= splitMinChunk || heads <= 0 || heads > attnDoneSlots {
		return 0, 0, false
	}
	want := ceilDiv(2*max(sms, 1), heads) // chunks per head to fill the GPU
	chunk = ceilDiv(capacity, want)
	chunk = ceilDiv(chunk, splitMinChunk) * splitMinChunk
	chunk = min(max(chunk, splitMinChunk), splitMaxChunk)
	splits = ceilDiv(capacity, chunk)
	if splits > maxSplits {
		splits = maxSplits
		chunk = ceilDiv(ceilDiv(capacity, splits), splitMinChunk) * splitMinChunk
		splits = ceilDiv(capacity, chunk)
	}
	return chunk, splits, splits > 1
}

// attnWorkspaceBytes is the split attention's scratch: the completion
// counters (attnDoneSlots int32), then scores [H][capacity], partial maxima
// and sums [H][S][2], partial outputs [H][S][D] (float32).
func attnWorkspaceBytes(heads, capacity, headDim, splits int) int64 {
	return 4 * (attnDoneSlots + int64(heads)*int64(capacity) + int64(heads)*int64(splits)*2 + int64(heads)*int64(splits)*int64(headDim))
}
