/* Definitions shared by every CUDA source exprc generates.
 *
 * The same text is compiled by nvcc for a GPU and, for tests on machines without one, as C++
 * for the CPU with exprc_cuda_emu.h included first (EXPRC_CUDA_EMULATED defined), which
 * provides the execution model. Kernels therefore use only what both understand: the names
 * below, __syncthreads, __shfl_down_sync / __shfl_xor_sync with a full mask called by every
 * lane of the warp, atomicAdd, and static __shared__ arrays; dynamic shared memory is declared
 * with EXPRC_DYNAMIC_SHARED.
 */
#ifndef EXPRC_CUDA_COMMON_CUH
#define EXPRC_CUDA_COMMON_CUH

#include <stdint.h>

#include "exprc_common.h"

#ifndef EXPRC_CUDA_EMULATED
#define EXPRC_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#endif

#define EXPRC_FULL_MASK 0xffffffffu

/* Largest number of loop axes a strided elementwise kernel walks (after merging the axes that
 * are contiguous in every operand, which leaves one or two in nearly every graph). */
#define EXPRC_CUDA_MAXDIM 8

/* Combining operators of reductions; identities come from the generator. */
struct exprc_add_op {
    template <typename T> __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};
struct exprc_mul_op {
    template <typename T> __device__ __forceinline__ T operator()(T a, T b) const { return a * b; }
};
/* max/min propagate NaN, as NumPy's maximum.reduce does. */
struct exprc_max_op {
    template <typename T> __device__ __forceinline__ T operator()(T a, T b) const {
        return (a != a || a > b) ? a : b;
    }
};
struct exprc_min_op {
    template <typename T> __device__ __forceinline__ T operator()(T a, T b) const {
        return (a != a || a < b) ? a : b;
    }
};
struct exprc_and_op {
    template <typename T> __device__ __forceinline__ T operator()(T a, T b) const { return a && b; }
};
struct exprc_or_op {
    template <typename T> __device__ __forceinline__ T operator()(T a, T b) const { return a || b; }
};

/* The warp's combination of `value` over its 32 lanes, valid in lane 0. Every lane calls. */
template <typename T, typename Op>
__device__ __forceinline__ T exprc_warp_reduce(T value, Op op)
{
    for (int offset = 16; offset > 0; offset >>= 1)
        value = op(value, (T)__shfl_down_sync(EXPRC_FULL_MASK, value, offset));
    return value;
}

/* The block's combination of `value` over its threads, valid in thread 0. Every thread of the
 * block calls it (blockDim.x a multiple of 32, at most 1024); it may be called again at once. */
template <typename T, typename Op>
__device__ T exprc_block_reduce(T value, Op op, T identity)
{
    __shared__ T partial[32];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    value = exprc_warp_reduce(value, op);
    if (lane == 0)
        partial[warp] = value;
    __syncthreads();
    const int warps = (blockDim.x + 31) >> 5;
    value = (int)threadIdx.x < warps ? partial[lane] : identity;
    if (warp == 0)
        value = exprc_warp_reduce(value, op);
    __syncthreads(); /* partial may be written again by the next call */
    return value;
}

/* The block's combination broadcast to every thread (for softmax-like kernels that need the
 * row's maximum or sum in all threads). */
template <typename T, typename Op>
__device__ T exprc_block_allreduce(T value, Op op, T identity)
{
    __shared__ T result;
    value = exprc_block_reduce(value, op, identity);
    if (threadIdx.x == 0)
        result = value;
    __syncthreads();
    value = result;
    __syncthreads();
    return value;
}

#endif /* EXPRC_CUDA_COMMON_CUH */
