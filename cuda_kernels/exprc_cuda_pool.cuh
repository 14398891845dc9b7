/* Pooling kernels (pool_2d and its gradients, exprc/tensor/signal/pool.py).
 *
 * Arrays are seen as `planes` images of (h, w) (the leading axes merged by the host), read
 * through element strides (plane, row, column); outputs are contiguous. Window i of an axis
 * starts at i * stride - pad: it covers the input elements [lo, hi) and has the padded extent
 * `full` that average_inc_pad divides by (exprc/link/reference/pool.py computes the same).
 *
 * Forward pooling and the first maximum of each window are one thread per window. The
 * gradients are one thread per input element gathering from the windows that contain it,
 * in window order: no atomics, and the sums are made in the reference's order. The max
 * gradient reads the position of each window's first maximum (row-major; the first NaN if
 * any, as np.argmax) from a first pass, so that overlapping windows are scanned once.
 *
 * Index arithmetic is in I: int32_t when the host found every index and offset below 2**31,
 * else int64_t; loop counters are 64-bit.
 */
#ifndef EXPRC_CUDA_POOL_CUH
#define EXPRC_CUDA_POOL_CUH

#include "exprc_cuda_common.cuh"

#define EXPRC_POOL_MAX 0
#define EXPRC_POOL_SUM 1
#define EXPRC_POOL_AVERAGE_INC_PAD 2
#define EXPRC_POOL_AVERAGE_EXC_PAD 3

struct exprc_cuda_pool_geom {
    int64_t planes, h, w, oh, ow;
    int64_t wh, ww, sh, sw, ph, pw;   /* window, stride, padding (rows, columns) */
    int64_t mode;                     /* EXPRC_POOL_* */
    int64_t xs[3];                    /* strides of the input in elements: plane, row, col */
    int64_t gs[3];                    /* strides of the second operand */
};

template <typename I>
struct exprc_pool_span {
    I lo, hi, full;
};

/* Window i along an axis of n elements (window extent w, stride s, padding p). */
template <typename I>
__device__ __forceinline__ exprc_pool_span<I> exprc_pool_span_at(I i, I w, I s, I p, I n)
{
    const I start = i * s - p;
    exprc_pool_span<I> span;
    span.lo = start < 0 ? 0 : (start > n ? n : start);
    const I end = start + w < n ? start + w : n;
    span.hi = end > span.lo ? end : span.lo;
    span.full = (start + w < n + p ? start + w : n + p) - start;
    return span;
}

/* The windows [first, last] along an axis that contain input element y. */
template <typename I>
__device__ __forceinline__ void exprc_pool_windows_of(I y, I w, I s, I p, I count, I *first,
                                                      I *last)
{
    const I lowest = y + p - w + 1;  /* windows starting after this padded position miss y */
    *first = lowest <= 0 ? 0 : (lowest + s - 1) / s;
    const I top = (y + p) / s;
    *last = top < count - 1 ? top : count - 1;
}

/* The position (row * w + col) of the first maximum of a non-empty window; a NaN beats
 * everything not NaN, and the first NaN is kept. */
template <typename T, typename I>
__device__ __forceinline__ I exprc_pool_first_max(const T *x, I xs1, I xs2, I w,
                                                  exprc_pool_span<I> R, exprc_pool_span<I> C)
{
    I best = R.lo * w + C.lo;
    T m = x[R.lo * xs1 + C.lo * xs2];
    for (I r = R.lo; r < R.hi; ++r)
        for (I c = C.lo; c < C.hi; ++c) {
            const T v = x[r * xs1 + c * xs2];
            if (v > m || (v != v && m == m)) {
                m = v;
                best = r * w + c;
            }
        }
    return best;
}

/* Plane, row and column of linear index idx over planes of (rows, cols). */
template <typename I>
__device__ __forceinline__ void exprc_pool_coords(I idx, I rows, I cols, I *l, I *r, I *c)
{
    const I q = idx / cols;
    *c = idx - q * cols;
    *l = q / rows;
    *r = q - *l * rows;
}

/* The grid-stride loop over n elements, its 64-bit counter e_. */
#define EXPRC_POOL_LOOP(n)                                                         \
    for (int64_t e_ = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e_ < (n);        \
         e_ += (int64_t)gridDim.x * blockDim.x)

template <typename T, typename I>
__device__ void exprc_pool_forward(const exprc_cuda_pool_geom &g, const T *__restrict__ x,
                                   T *__restrict__ out)
{
    const I xs0 = (I)g.xs[0], xs1 = (I)g.xs[1], xs2 = (I)g.xs[2];
    EXPRC_POOL_LOOP(g.planes * g.oh * g.ow)
    {
        const I idx = (I)e_;
        I l, i, j;
        exprc_pool_coords<I>(idx, (I)g.oh, (I)g.ow, &l, &i, &j);
        const exprc_pool_span<I> R = exprc_pool_span_at<I>(i, (I)g.wh, (I)g.sh, (I)g.ph, (I)g.h);
        const exprc_pool_span<I> C = exprc_pool_span_at<I>(j, (I)g.ww, (I)g.sw, (I)g.pw, (I)g.w);
        T result = (T)0;  /* a window entirely in padding: the zeros' value */
        if (R.hi > R.lo && C.hi > C.lo) {
            const T *plane = x + l * xs0;
            if (g.mode == EXPRC_POOL_MAX) {
                T m = plane[R.lo * xs1 + C.lo * xs2];
                for (I r = R.lo; r < R.hi; ++r)
                    for (I c = C.lo; c < C.hi; ++c) {
                        const T v = plane[r * xs1 + c * xs2];
                        m = (v > m || v != v) ? v : m;  /* a NaN wins, as in np.max */
                    }
                result = m;
            } else {
                /* Sums in double, as the C kernels make them. */
                double s = 0;
                for (I r = R.lo; r < R.hi; ++r)
                    for (I c = C.lo; c < C.hi; ++c)
                        s += (double)plane[r * xs1 + c * xs2];
                if (g.mode == EXPRC_POOL_AVERAGE_INC_PAD)
                    s /= (double)(R.full * C.full);
                else if (g.mode == EXPRC_POOL_AVERAGE_EXC_PAD)
                    s /= (double)((R.hi - R.lo) * (C.hi - C.lo));
                result = (T)s;
            }
        }
        out[idx] = result;
    }
}

/* first[window] = the position of the window's first maximum in its plane, -1 when empty. */
template <typename T, typename I>
__device__ void exprc_pool_argmax(const exprc_cuda_pool_geom &g, const T *__restrict__ x,
                                  I *__restrict__ first)
{
    const I xs0 = (I)g.xs[0], xs1 = (I)g.xs[1], xs2 = (I)g.xs[2];
    EXPRC_POOL_LOOP(g.planes * g.oh * g.ow)
    {
        const I idx = (I)e_;
        I l, i, j;
        exprc_pool_coords<I>(idx, (I)g.oh, (I)g.ow, &l, &i, &j);
        const exprc_pool_span<I> R = exprc_pool_span_at<I>(i, (I)g.wh, (I)g.sh, (I)g.ph, (I)g.h);
        const exprc_pool_span<I> C = exprc_pool_span_at<I>(j, (I)g.ww, (I)g.sw, (I)g.pw, (I)g.w);
        first[idx] = (R.hi > R.lo && C.hi > C.lo)
            ? exprc_pool_first_max<T, I>(x + l * xs0, xs1, xs2, (I)g.w, R, C) : (I)-1;
    }
}

/* out[window] = the value of v (shaped like x, strides gs) at the window's first maximum in
 * x, 0 for a window entirely in padding (the gradient of the max gradient). */
template <typename T, typename I>
__device__ void exprc_pool_max_grad_grad(const exprc_cuda_pool_geom &g, const T *__restrict__ x,
                                         const T *__restrict__ v, T *__restrict__ out)
{
    const I xs0 = (I)g.xs[0], xs1 = (I)g.xs[1], xs2 = (I)g.xs[2];
    const I gs0 = (I)g.gs[0], gs1 = (I)g.gs[1], gs2 = (I)g.gs[2], w = (I)g.w;
    EXPRC_POOL_LOOP(g.planes * g.oh * g.ow)
    {
        const I idx = (I)e_;
        I l, i, j;
        exprc_pool_coords<I>(idx, (I)g.oh, (I)g.ow, &l, &i, &j);
        const exprc_pool_span<I> R = exprc_pool_span_at<I>(i, (I)g.wh, (I)g.sh, (I)g.ph, (I)g.h);
        const exprc_pool_span<I> C = exprc_pool_span_at<I>(j, (I)g.ww, (I)g.sw, (I)g.pw, w);
        T result = (T)0;
        if (R.hi > R.lo && C.hi > C.lo) {
            const I at = exprc_pool_first_max<T, I>(x + l * xs0, xs1, xs2, w, R, C);
            const I r = at / w;
            result = v[l * gs0 + r * gs1 + (at - r * w) * gs2];
        }
        out[idx] = result;
    }
}

/* gx (contiguous, shaped like x) = the gradient of max pooling: the sum of gz (pooled shape,
 * strides gs) over the windows whose first maximum (from exprc_pool_argmax) is the element. */
template <typename T, typename I>
__device__ void exprc_pool_max_grad(const exprc_cuda_pool_geom &g, const I *__restrict__ first,
                                    const T *__restrict__ gz, T *__restrict__ gx)
{
    const I gs0 = (I)g.gs[0], gs1 = (I)g.gs[1], gs2 = (I)g.gs[2];
    const I oh = (I)g.oh, ow = (I)g.ow;
    EXPRC_POOL_LOOP(g.planes * g.h * g.w)
    {
        const I idx = (I)e_;
        I l, y, xx;
        exprc_pool_coords<I>(idx, (I)g.h, (I)g.w, &l, &y, &xx);
        I i0, i1, j0, j1;
        exprc_pool_windows_of<I>(y, (I)g.wh, (I)g.sh, (I)g.ph, oh, &i0, &i1);
        exprc_pool_windows_of<I>(xx, (I)g.ww, (I)g.sw, (I)g.pw, ow, &j0, &j1);
        const I here = y * (I)g.w + xx;
        const I *windows = first + l * oh * ow;
        T sum = (T)0;
        for (I i = i0; i <= i1; ++i)
            for (I j = j0; j <= j1; ++j)
                if (windows[i * ow + j] == here)
                    sum += gz[l * gs0 + i * gs1 + j * gs2];
        gx[idx] = sum;
    }
}

/* gx (contiguous, of x's shape) = the gradient of the sum and average modes: each window's
 * gz (strides gs), divided as the mode divides, summed over the windows holding the element. */
template <typename T, typename I>
__device__ void exprc_pool_average_grad(const exprc_cuda_pool_geom &g, const T *__restrict__ gz,
                                        T *__restrict__ gx)
{
    const I gs0 = (I)g.gs[0], gs1 = (I)g.gs[1], gs2 = (I)g.gs[2];
    const I oh = (I)g.oh, ow = (I)g.ow, h = (I)g.h, w = (I)g.w;
    EXPRC_POOL_LOOP(g.planes * g.h * g.w)
    {
        const I idx = (I)e_;
        I l, y, xx;
        exprc_pool_coords<I>(idx, (I)g.h, (I)g.w, &l, &y, &xx);
        I i0, i1, j0, j1;
        exprc_pool_windows_of<I>(y, (I)g.wh, (I)g.sh, (I)g.ph, oh, &i0, &i1);
        exprc_pool_windows_of<I>(xx, (I)g.ww, (I)g.sw, (I)g.pw, ow, &j0, &j1);
        T sum = (T)0;
        for (I i = i0; i <= i1; ++i) {
            const exprc_pool_span<I> R = exprc_pool_span_at<I>(i, (I)g.wh, (I)g.sh, (I)g.ph, h);
            for (I j = j0; j <= j1; ++j) {
                T share = gz[l * gs0 + i * gs1 + j * gs2];
                if (g.mode != EXPRC_POOL_SUM) {
                    const exprc_pool_span<I> C =
                        exprc_pool_span_at<I>(j, (I)g.ww, (I)g.sw, (I)g.pw, w);
                    const I count = g.mode == EXPRC_POOL_AVERAGE_INC_PAD
                        ? R.full * C.full : (R.hi - R.lo) * (C.hi - C.lo);
                    share = share / (T)count;  /* in T, as the reference divides */
                }
                sum += share;
            }
        }
        gx[idx] = sum;
    }
}

#undef EXPRC_POOL_LOOP

#endif /* EXPRC_CUDA_POOL_CUH */
