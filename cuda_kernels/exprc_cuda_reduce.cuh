/* Reductions over any axes of a strided array (the Reduce op, SumToShape, and the second pass
 * of a long reduction).
 *
 * The host describes the input as kept axes and reduced axes, each innermost first with
 * strides in elements (axes of size 1 dropped, neighbours contiguous in the input merged):
 * output element o of the contiguous output sits at the kept coordinates of o, and its value
 * folds the elements at every reduced coordinate r. Two ways to fold:
 *
 *   rows     one block per output (or per chunk of one output: `chunks` blocks each fold
 *            `chunk` consecutive reduced elements into a partial, which a second launch
 *            folds): the block's threads read consecutive elements, best when the reduced
 *            axis is the contiguous one; warp shuffles and one shared array combine them.
 *   columns  one thread per output, looping over the reduced elements: when the kept axis is
 *            the contiguous one, neighbouring threads read neighbouring elements.
 */
#ifndef EXPRC_CUDA_REDUCE_CUH
#define EXPRC_CUDA_REDUCE_CUH

#include "exprc_cuda_common.cuh"

struct exprc_reduce_loop {
    int64_t nkept, nred;          /* axes of each kind */
    int64_t kept_total, red_total;
    int64_t chunks, chunk;        /* blocks per output (rows) and elements per block */
    int64_t kshape[EXPRC_CUDA_MAXDIM], kstride[EXPRC_CUDA_MAXDIM];
    int64_t rshape[EXPRC_CUDA_MAXDIM], rstride[EXPRC_CUDA_MAXDIM];
};

/* The offset (in elements) of linear index i over n axes of `shape` (innermost first). */
static __device__ __forceinline__ int64_t exprc_reduce_offset(int64_t i, int64_t n,
                                                              const int64_t *shape,
                                                              const int64_t *stride)
{
    if (n == 1)
        return i * stride[0];
    int64_t offset = 0;
    for (int d = 0; d < n; ++d) {
        const int64_t size = shape[d];
        offset += (i % size) * stride[d];
        i /= size;
    }
    return offset;
}

template <typename In, typename Acc, typename Op>
__device__ void exprc_reduce_rows(const exprc_reduce_loop &loop, const In *__restrict__ x,
                                  Acc *__restrict__ y, Op op, Acc identity)
{
    const int64_t blocks = loop.kept_total * loop.chunks;
    for (int64_t b = blockIdx.x; b < blocks; b += gridDim.x) {
        const int64_t o = b / loop.chunks, c = b % loop.chunks;
        const int64_t base = exprc_reduce_offset(o, loop.nkept, loop.kshape, loop.kstride);
        const int64_t begin = c * loop.chunk;
        const int64_t end = begin + loop.chunk < loop.red_total ? begin + loop.chunk
                                                                : loop.red_total;
        Acc acc = identity;
        for (int64_t r = begin + threadIdx.x; r < end; r += blockDim.x)
            acc = op(acc, (Acc)x[base + exprc_reduce_offset(r, loop.nred, loop.rshape,
                                                            loop.rstride)]);
        acc = exprc_block_reduce(acc, op, identity);
        if (threadIdx.x == 0)
            y[b] = acc;
    }
}

template <typename In, typename Acc, typename Op>
__device__ void exprc_reduce_columns(const exprc_reduce_loop &loop, const In *__restrict__ x,
                                     Acc *__restrict__ y, Op op, Acc identity)
{
    const int64_t threads = (int64_t)gridDim.x * blockDim.x;
    for (int64_t o = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; o < loop.kept_total;
         o += threads) {
        const int64_t base = exprc_reduce_offset(o, loop.nkept, loop.kshape, loop.kstride);
        Acc acc = identity;
        for (int64_t r = 0; r < loop.red_total; ++r)
            acc = op(acc, (Acc)x[base + exprc_reduce_offset(r, loop.nred, loop.rshape,
                                                            loop.rstride)]);
        y[o] = acc;
    }
}

#endif /* EXPRC_CUDA_REDUCE_CUH */
