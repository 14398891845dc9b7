/* The softmax family: Softmax and LogSoftmax over any axis of a strided array, and the fused
 * cross-entropy of a softmax with integer labels.
 *
 * Every value is shifted by the maximum of its row before exp, as the reference does (a row
 * whose maximum is infinite is not shifted), so no exp overflows. The host describes the input
 * as rows: the softmax axis (`length` elements, `xstep` apart in x, `ostep` in the output) and
 * the other axes, innermost first, whose coordinates pick the row. Two ways to run:
 *
 *   rows     one block per row: the threads read consecutive elements of the row, and
 *            exprc_block_allreduce gives every thread the row's maximum, then its sum; best
 *            when the softmax axis is the contiguous one.
 *   columns  one thread per row, looping over the row three times: when the softmax axis is
 *            not contiguous but the rows are (softmax over axis 0 of a matrix), neighbouring
 *            threads read neighbouring elements.
 */
#ifndef EXPRC_CUDA_SOFTMAX_CUH
#define EXPRC_CUDA_SOFTMAX_CUH

#include <math.h>

#include "exprc_cuda_common.cuh"

struct exprc_softmax_loop {
    int64_t nouter;        /* axes other than the softmax axis (size-1 axes dropped) */
    int64_t rows;          /* the product of their sizes */
    int64_t length;        /* the softmax axis's size */
    int64_t xstep, ostep;  /* its stride, in elements, in x and in the output */
    int64_t shape[EXPRC_CUDA_MAXDIM], xstride[EXPRC_CUDA_MAXDIM], ostride[EXPRC_CUDA_MAXDIM];
};

static __device__ __forceinline__ float exprc_softmax_exp(float v) { return expf(v); }
static __device__ __forceinline__ double exprc_softmax_exp(double v) { return exp(v); }
static __device__ __forceinline__ float exprc_softmax_log(float v) { return logf(v); }
static __device__ __forceinline__ double exprc_softmax_log(double v) { return log(v); }

/* The shift of a row with maximum m: m, or 0 where m is infinite (inf - inf would be NaN
 * where the reference keeps the row unshifted). NaN passes through, as in the reference. */
template <typename T>
static __device__ __forceinline__ T exprc_softmax_shift(T m)
{
    const bool infinite = m == m && (m - m) != (m - m);
    return infinite ? (T)0 : m;
}

template <typename T>
static __device__ __forceinline__ T exprc_softmax_minus_inf()
{
    return -(T)INFINITY;
}

/* The offsets, in x and in the output, of the first element of row r. */
static __device__ __forceinline__ void exprc_softmax_row(const exprc_softmax_loop &loop,
                                                         int64_t r, int64_t *xo, int64_t *oo)
{
    int64_t x = 0, o = 0;
    for (int d = 0; d < loop.nouter; ++d) {
        const int64_t i = r % loop.shape[d];
        r /= loop.shape[d];
        x += i * loop.xstride[d];
        o += i * loop.ostride[d];
    }
    *xo = x;
    *oo = o;
}

template <typename T, bool Log>
__device__ void exprc_softmax_rows(const exprc_softmax_loop &loop, const T *__restrict__ x,
                                   T *__restrict__ out)
{
    const T minus_inf = exprc_softmax_minus_inf<T>();
    /* Every thread of a block runs the same rows, so the block-wide reductions are reached by
     * all of them. */
    for (int64_t r = blockIdx.x; r < loop.rows; r += gridDim.x) {
        int64_t xo, oo;
        exprc_softmax_row(loop, r, &xo, &oo);
        const T *row = x + xo;
        T *orow = out + oo;
        T m = minus_inf;
        for (int64_t j = threadIdx.x; j < loop.length; j += blockDim.x)
            m = exprc_max_op()(m, row[j * loop.xstep]);
        m = exprc_block_allreduce(m, exprc_max_op(), minus_inf);
        const T shift = exprc_softmax_shift(m);
        T s = 0;
        for (int64_t j = threadIdx.x; j < loop.length; j += blockDim.x)
            s += exprc_softmax_exp(row[j * loop.xstep] - shift);
        s = exprc_block_allreduce(s, exprc_add_op(), (T)0);
        if (Log) {
            const T log_sum = exprc_softmax_log(s);
            for (int64_t j = threadIdx.x; j < loop.length; j += blockDim.x)
                orow[j * loop.ostep] = (row[j * loop.xstep] - shift) - log_sum;
        } else {
            for (int64_t j = threadIdx.x; j < loop.length; j += blockDim.x)
                orow[j * loop.ostep] = exprc_softmax_exp(row[j * loop.xstep] - shift) / s;
        }
    }
}

template <typename T, bool Log>
__device__ void exprc_softmax_columns(const exprc_softmax_loop &loop, const T *__restrict__ x,
                                      T *__restrict__ out)
{
    const int64_t threads = (int64_t)gridDim.x * blockDim.x;
    for (int64_t r = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; r < loop.rows;
         r += threads) {
        int64_t xo, oo;
        exprc_softmax_row(loop, r, &xo, &oo);
        const T *row = x + xo;
        T *orow = out + oo;
        T m = exprc_softmax_minus_inf<T>();
        for (int64_t j = 0; j < loop.length; ++j)
            m = exprc_max_op()(m, row[j * loop.xstep]);
        const T shift = exprc_softmax_shift(m);
        T s = 0;
        for (int64_t j = 0; j < loop.length; ++j)
            s += exprc_softmax_exp(row[j * loop.xstep] - shift);
        if (Log) {
            const T log_sum = exprc_softmax_log(s);
            for (int64_t j = 0; j < loop.length; ++j)
                orow[j * loop.ostep] = (row[j * loop.xstep] - shift) - log_sum;
        } else {
            for (int64_t j = 0; j < loop.length; ++j)
                orow[j * loop.ostep] = exprc_softmax_exp(row[j * loop.xstep] - shift) / s;
        }
    }
}

/* Label v of a row as a column in [0, k), counting negative labels from the end; false when
 * it is outside [-k, k). Unsigned labels are compared without a signed conversion, so that a
 * huge uint64 does not wrap into range. */
template <typename L>
static __device__ __forceinline__ bool exprc_softmax_label(L v, int64_t k, int64_t *column)
{
    if (v < (L)0) {
        const int64_t s = (int64_t)v;
        *column = s + k;
        return s >= -k;
    }
    *column = (int64_t)v;
    return (uint64_t)v < (uint64_t)k;
}

/* loss[r] = logsumexp(x[r, :]) - x[r, labels[r]] for the n rows of the n x k matrix x (row
 * and column strides rs and cs, label stride ls, in elements), one block per row. A label out
 * of range sets *flag (when given) and leaves NaN: the host raises. */
template <typename T, typename L>
__device__ void exprc_crossentropy_rows(int64_t n, int64_t k, int64_t rs, int64_t cs,
                                        const T *__restrict__ x, const L *__restrict__ labels,
                                        int64_t ls, T *__restrict__ loss, int *flag)
{
    const T minus_inf = exprc_softmax_minus_inf<T>();
    for (int64_t r = blockIdx.x; r < n; r += gridDim.x) {
        const T *row = x + r * rs;
        T m = minus_inf;
        for (int64_t j = threadIdx.x; j < k; j += blockDim.x)
            m = exprc_max_op()(m, row[j * cs]);
        m = exprc_block_allreduce(m, exprc_max_op(), minus_inf);
        const T shift = exprc_softmax_shift(m);
        T s = 0;
        for (int64_t j = threadIdx.x; j < k; j += blockDim.x)
            s += exprc_softmax_exp(row[j * cs] - shift);
        s = exprc_block_allreduce(s, exprc_add_op(), (T)0);
        if (threadIdx.x == 0) {
            int64_t column;
            if (exprc_softmax_label(labels[r * ls], k, &column)) {
                loss[r] = -((row[column * cs] - shift) - exprc_softmax_log(s));
            } else {
                if (flag != 0)
                    *flag = 1;
                loss[r] = (T)NAN;
            }
        }
    }
}

#endif /* EXPRC_CUDA_SOFTMAX_CUH */
