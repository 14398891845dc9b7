/* The constructors ARange and Eye, one thread per element (grid-stride).
 *
 * ARange has NumPy's two ways to form its values (see the reference rule):
 *   integer bounds  first + i * stride exactly, formed modulo 2**64 and read as int64 or
 *                   uint64 (whichever holds every value; the host says which), then cast;
 *   float bounds    NumPy's fill: the first two values are given (start and start + step,
 *                   cast to the dtype by the host), delta is their difference in the dtype,
 *                   and value i >= 2 is first + i * delta in the dtype's arithmetic.
 */
#ifndef EXPRC_CUDA_BASIC_CUH
#define EXPRC_CUDA_BASIC_CUH

#include "exprc_cuda_common.cuh"

template <typename T>
__device__ void exprc_arange_exact(int64_t n, uint64_t first, uint64_t stride, int is_signed,
                                   T *__restrict__ out)
{
    const int64_t threads = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += threads) {
        const uint64_t v = first + (uint64_t)i * stride;
        out[i] = is_signed ? (T)(int64_t)v : (T)v;
    }
}

/* value i of NumPy's fill for a float dtype */
template <typename T>
static __device__ __forceinline__ T exprc_arange_value(T first, T delta, int64_t i, float)
{
    return (T)(first + (T)i * delta);
}

/* ... and for an integer dtype: the C arithmetic of NumPy's fill, which promotes to a wider
 * integer and truncates on the store; unsigned 64-bit arithmetic gives the same low bits */
template <typename T>
static __device__ __forceinline__ T exprc_arange_value(T first, T delta, int64_t i, int)
{
    return (T)((uint64_t)(int64_t)first + (uint64_t)i * (uint64_t)(int64_t)delta);
}

template <typename T, typename Kind>
__device__ void exprc_arange_fill(int64_t n, T first, T second, T *__restrict__ out)
{
    const T delta = (T)(second - first);
    const int64_t threads = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += threads)
        out[i] = i == 0 ? first : i == 1 ? second : exprc_arange_value(first, delta, i, Kind());
}

/* The n x m matrix with ones on diagonal k (|k| clamped by the host to at most max(n, m)). */
template <typename T>
__device__ void exprc_eye(int64_t n, int64_t m, int64_t k, T *__restrict__ out)
{
    const int64_t total = n * m;
    const int64_t threads = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += threads)
        out[i] = (T)(i % m - i / m == k ? 1 : 0);
}

#endif /* EXPRC_CUDA_BASIC_CUH */
