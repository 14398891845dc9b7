/* Argmax and argmin over any axes of a strided array (the Argmax op).
 *
 * The host describes the input as for a reduction (struct exprc_reduce_loop of
 * exprc_cuda_reduce.cuh): the reduced axes, innermost first, merged where contiguous and with
 * size-1 axes dropped, so that the linear index r of a reduced element is its position in the
 * C-order flattening of the reduced axes, which is the index Argmax returns.
 *
 * A candidate is a (value, index) pair; (a, ia) is better than (b, ib) when a is the more
 * extreme value, a NaN being the most extreme of all (as NumPy), or when the values are equal
 * (or both NaN) and ia is the smaller index, so that the first occurrence wins. Index -1
 * stands for no candidate. Values travel as the key type K (the input type, or int for the
 * types narrower than 32 bits, which warp shuffles do not take).
 *
 *   rows     one block per output (or per chunk of one: partial candidates, folded by
 *            exprc_argmax_finish), threads reading consecutive reduced elements;
 *   columns  one thread per output, looping over the reduced elements.
 */
#ifndef EXPRC_CUDA_ARGMAX_CUH
#define EXPRC_CUDA_ARGMAX_CUH

#include "exprc_cuda_common.cuh"
#include "exprc_cuda_reduce.cuh"

template <typename K>
static __device__ __forceinline__ bool exprc_argmax_better(K a, int64_t ia, K b, int64_t ib,
                                                           bool largest)
{
    if (ib < 0)
        return ia >= 0;
    if (ia < 0)
        return false;
    const bool a_nan = a != a, b_nan = b != b;
    if (a_nan || b_nan)
        return a_nan && (!b_nan || ia < ib);
    if (a == b)
        return ia < ib;
    return largest ? a > b : a < b;
}

/* The best candidate of the block, valid in thread 0. Every thread of the block calls it. */
template <typename K>
static __device__ void exprc_argmax_block(K *v, int64_t *i, bool largest)
{
    __shared__ K vs[32];
    __shared__ int64_t is[32];
    for (int offset = 16; offset > 0; offset >>= 1) {
        const K ov = __shfl_down_sync(EXPRC_FULL_MASK, *v, offset);
        const int64_t oi = __shfl_down_sync(EXPRC_FULL_MASK, *i, offset);
        if (exprc_argmax_better(ov, oi, *v, *i, largest)) {
            *v = ov;
            *i = oi;
        }
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) {
        vs[warp] = *v;
        is[warp] = *i;
    }
    __syncthreads();
    const int warps = (blockDim.x + 31) >> 5;
    if (warp == 0) {
        *v = lane < warps ? vs[lane] : vs[0];
        *i = lane < warps ? is[lane] : -1;
        for (int offset = 16; offset > 0; offset >>= 1) {
            const K ov = __shfl_down_sync(EXPRC_FULL_MASK, *v, offset);
            const int64_t oi = __shfl_down_sync(EXPRC_FULL_MASK, *i, offset);
            if (exprc_argmax_better(ov, oi, *v, *i, largest)) {
                *v = ov;
                *i = oi;
            }
        }
    }
    __syncthreads(); /* vs and is may be written again by the next call */
}

/* Block b folds chunk b % chunks of output b / chunks; with one chunk it writes the index to
 * y, else the candidate to (pv, pi)[b]. */
template <typename In, typename K>
__device__ void exprc_argmax_rows(const exprc_reduce_loop &loop, const In *__restrict__ x,
                                  K *__restrict__ pv, int64_t *__restrict__ pi,
                                  int64_t *__restrict__ y, bool largest)
{
    const int64_t blocks = loop.kept_total * loop.chunks;
    for (int64_t b = blockIdx.x; b < blocks; b += gridDim.x) {
        const int64_t o = b / loop.chunks, c = b % loop.chunks;
        const int64_t base = exprc_reduce_offset(o, loop.nkept, loop.kshape, loop.kstride);
        const int64_t begin = c * loop.chunk;
        const int64_t end = begin + loop.chunk < loop.red_total ? begin + loop.chunk
                                                                : loop.red_total;
        K v = (K)0;
        int64_t i = -1;
        /* A thread's elements come in increasing r: a tie keeps the earlier one. */
        for (int64_t r = begin + threadIdx.x; r < end; r += blockDim.x) {
            const K w = (K)x[base + exprc_reduce_offset(r, loop.nred, loop.rshape, loop.rstride)];
            if (exprc_argmax_better(w, r, v, i, largest)) {
                v = w;
                i = r;
            }
        }
        exprc_argmax_block(&v, &i, largest);
        if (threadIdx.x == 0) {
            if (pv == NULL) {
                y[b] = i;
            } else {
                pv[b] = v;
                pi[b] = i;
            }
        }
    }
}

/* y[o] = the best of the `chunks` candidates (pv, pi)[o * chunks ...], one block per output. */
template <typename K>
__device__ void exprc_argmax_finish(int64_t outputs, int64_t chunks, const K *__restrict__ pv,
                                    const int64_t *__restrict__ pi, int64_t *__restrict__ y,
                                    bool largest)
{
    for (int64_t o = blockIdx.x; o < outputs; o += gridDim.x) {
        K v = (K)0;
        int64_t i = -1;
        for (int64_t c = threadIdx.x; c < chunks; c += blockDim.x) {
            if (exprc_argmax_better(pv[o * chunks + c], pi[o * chunks + c], v, i, largest)) {
                v = pv[o * chunks + c];
                i = pi[o * chunks + c];
            }
        }
        exprc_argmax_block(&v, &i, largest);
        if (threadIdx.x == 0)
            y[o] = i;
    }
}

/* One thread per output, in order over the reduced elements. */
template <typename In, typename K>
__device__ void exprc_argmax_columns(const exprc_reduce_loop &loop, const In *__restrict__ x,
                                     int64_t *__restrict__ y, bool largest)
{
    for (int64_t o = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; o < loop.kept_total;
         o += (int64_t)gridDim.x * blockDim.x) {
        const int64_t base = exprc_reduce_offset(o, loop.nkept, loop.kshape, loop.kstride);
        K v = (K)0;
        int64_t i = -1;
        for (int64_t r = 0; r < loop.red_total; ++r) {
            const K w = (K)x[base + exprc_reduce_offset(r, loop.nred, loop.rshape, loop.rstride)];
            if (exprc_argmax_better(w, r, v, i, largest)) {
                v = w;
                i = r;
            }
        }
        y[o] = i;
    }
}

#endif /* EXPRC_CUDA_ARGMAX_CUH */
