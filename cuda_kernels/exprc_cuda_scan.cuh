/* Kernels of the extra_ops family (cumulative sums and products, the linear recurrence,
 * repeat and its transpose, one-hot rows, searchsorted) and the lane walk that they and the
 * sort family share.
 *
 * A lane is the 1-d slice of an array along the op's axis. The host describes up to three
 * operands of one shape outside the axis (struct exprc_lanes): the sizes of the other axes,
 * innermost first (axes of size 1 dropped), each operand's element strides on them, and its
 * element stride along the axis. Lane l starts at exprc_lane_offset(loop, l, k) in operand k.
 *
 * The recurrences (cumulative ops, the linear recurrence) run one thread per lane, in order
 * along the lane: the float results are then those of NumPy's sequential loop, bit for bit,
 * which a parallel scan (another order of additions) would not give.
 */
#ifndef EXPRC_CUDA_SCAN_CUH
#define EXPRC_CUDA_SCAN_CUH

#include "exprc_cuda_common.cuh"

#define EXPRC_LANE_OPERANDS 3

struct exprc_lanes {
    int64_t nd;                      /* axes besides the lane's (size-1 axes dropped) */
    int64_t lanes, n;                /* lanes, and elements per lane */
    int64_t shape[EXPRC_CUDA_MAXDIM];
    int64_t stride[EXPRC_LANE_OPERANDS][EXPRC_CUDA_MAXDIM];
    int64_t step[EXPRC_LANE_OPERANDS];  /* element stride along the lane */
};

/* The offset (in elements) of lane l's first element in operand k. */
static __device__ __forceinline__ int64_t exprc_lane_offset(const exprc_lanes &loop, int64_t l,
                                                            int k)
{
    int64_t offset = 0;
    for (int64_t d = 0; d < loop.nd && l > 0; ++d) {
        const int64_t size = loop.shape[d];
        offset += (l % size) * loop.stride[k][d];
        l /= size;
    }
    return offset;
}

/* Arithmetic rounded once per operation, as NumPy's: nvcc would otherwise contract a * b + c
 * into one fused multiply-add. Integers wrap around modulo their width, as in NumPy (signed
 * overflow is undefined in C++, unsigned arithmetic is not). */
template <typename T> struct exprc_arith {
    static __device__ __forceinline__ T add(T a, T b)
    {
        return (T)((uint64_t)a + (uint64_t)b);
    }
    static __device__ __forceinline__ T mul(T a, T b)
    {
        return (T)((uint64_t)a * (uint64_t)b);
    }
};
template <> struct exprc_arith<float> {
    static __device__ __forceinline__ float add(float a, float b)
    {
#ifdef __CUDA_ARCH__
        return __fadd_rn(a, b);
#else
        return a + b;
#endif
    }
    static __device__ __forceinline__ float mul(float a, float b)
    {
#ifdef __CUDA_ARCH__
        return __fmul_rn(a, b);
#else
        return a * b;
#endif
    }
};
template <> struct exprc_arith<double> {
    static __device__ __forceinline__ double add(double a, double b)
    {
#ifdef __CUDA_ARCH__
        return __dadd_rn(a, b);
#else
        return a + b;
#endif
    }
    static __device__ __forceinline__ double mul(double a, double b)
    {
#ifdef __CUDA_ARCH__
        return __dmul_rn(a, b);
#else
        return a * b;
#endif
    }
};
template <> struct exprc_arith<bool> {
    static __device__ __forceinline__ bool add(bool a, bool b) { return a || b; }
    static __device__ __forceinline__ bool mul(bool a, bool b) { return a && b; }
};

/* ------------------------------------------------------------------ recurrences */
/* Cumulative sum (mul false) or product along each lane of x (operand 0) into y (operand 1),
 * from the lane's end when reverse is set; identity -0.0 for float sums (exact: -0.0 + v is v
 * for every v). */
template <typename In, typename Out>
__device__ void exprc_cumulative(const exprc_lanes &loop, const In *__restrict__ x,
                                 Out *__restrict__ y, Out identity, bool mul, bool reverse)
{
    const int64_t n = loop.n, sx = loop.step[0], sy = loop.step[1];
    for (int64_t l = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; l < loop.lanes;
         l += (int64_t)gridDim.x * blockDim.x) {
        const In *xl = x + exprc_lane_offset(loop, l, 0);
        Out *yl = y + exprc_lane_offset(loop, l, 1);
        Out acc = identity;
        for (int64_t k = 0; k < n; ++k) {
            const int64_t j = reverse ? n - 1 - k : k;
            const Out v = (Out)xl[j * sx];
            acc = mul ? exprc_arith<Out>::mul(acc, v) : exprc_arith<Out>::add(acc, v);
            yl[j * sy] = acc;
        }
    }
}

/* s[j] = a[j] * s[j - 1] + b[j] along each lane (operands a, b, s), s[first] = b[first]; from
 * the lane's end when reverse is set. */
template <typename A, typename B, typename Out>
__device__ void exprc_linear_recurrence(const exprc_lanes &loop, const A *__restrict__ a,
                                        const B *__restrict__ b, Out *__restrict__ s,
                                        bool reverse)
{
    const int64_t n = loop.n, sa = loop.step[0], sb = loop.step[1], ss = loop.step[2];
    if (n == 0)
        return;
    for (int64_t l = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; l < loop.lanes;
         l += (int64_t)gridDim.x * blockDim.x) {
        const A *al = a + exprc_lane_offset(loop, l, 0);
        const B *bl = b + exprc_lane_offset(loop, l, 1);
        Out *sl = s + exprc_lane_offset(loop, l, 2);
        const int64_t first = reverse ? n - 1 : 0;
        /* The first step is b alone: a * 0 + b would turn an infinite a into NaN. */
        Out acc = (Out)bl[first * sb];
        sl[first * ss] = acc;
        for (int64_t k = 1; k < n; ++k) {
            const int64_t j = reverse ? n - 1 - k : k;
            acc = exprc_arith<Out>::add(exprc_arith<Out>::mul((Out)al[j * sa], acc),
                                        (Out)bl[j * sb]);
            sl[j * ss] = acc;
        }
    }
}

/* ------------------------------------------------------------------ repeat */
/* y (operand 1, lanes of `total` elements) = x (operand 0) repeated: output position t of a
 * lane copies x at source[t], or at t / count when source is NULL (one count for all). */
template <typename T>
__device__ void exprc_repeat(const exprc_lanes &loop, int64_t total, const T *__restrict__ x,
                             T *__restrict__ y, const int64_t *__restrict__ source,
                             int64_t count)
{
    const int64_t elements = loop.lanes * total;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < elements;
         e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t l = e / total, t = e % total;
        const int64_t from = source != NULL ? source[t] : t / count;
        y[exprc_lane_offset(loop, l, 1) + t * loop.step[1]] =
            x[exprc_lane_offset(loop, l, 0) + from * loop.step[0]];
    }
}

/* y (operand 1, lanes of `size` elements) = the sums of the repeated copies in g (operand
 * 0): element k adds, in order, g at first[k] .. first[k + 1] - 1, or at k * count .. (k + 1)
 * * count - 1 when first is NULL. */
template <typename T>
__device__ void exprc_repeat_sum(const exprc_lanes &loop, int64_t size, const T *__restrict__ g,
                                 T *__restrict__ y, const int64_t *__restrict__ first,
                                 int64_t count)
{
    const int64_t elements = loop.lanes * size;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < elements;
         e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t l = e / size, k = e % size;
        const int64_t begin = first != NULL ? first[k] : k * count;
        const int64_t end = first != NULL ? first[k + 1] : (k + 1) * count;
        const T *gl = g + exprc_lane_offset(loop, l, 0);
        T acc = (T)0;
        for (int64_t c = begin; c < end; ++c)
            acc = exprc_arith<T>::add(acc, gl[c * loop.step[0]]);
        y[exprc_lane_offset(loop, l, 1) + k * loop.step[1]] = acc;
    }
}

/* ------------------------------------------------------------------ one-hot */
/* out (n rows of classes, zeroed by the host) gets a 1 at [i, y[i]]; a label out of range sets
 * *flag. */
template <typename L, typename T>
__device__ void exprc_one_hot(const L *__restrict__ y, int64_t n, int64_t sy, int64_t classes,
                              T *__restrict__ out, int *__restrict__ flag)
{
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t label = (int64_t)y[i * sy];
        if (label < 0 || label >= classes)
            *flag = 1;
        else
            out[i * classes + label] = (T)1;
    }
}

/* ------------------------------------------------------------------ searchsorted */
/* a sorts before b: numbers in order, then NaNs (as EXPRC_SORT_LESS of csrc/exprc_sort.h). */
template <typename T> static __device__ __forceinline__ bool exprc_sort_less(T a, T b)
{
    return a < b || (b != b && a == a);
}

/* positions[k] = sorter[k] as int64 (sorter: n entries, stride ss); an entry out of [0, n)
 * sets *flag and is stored as 0, so that the search reads inside x. */
template <typename S>
__device__ void exprc_sorter_positions(const S *__restrict__ sorter, int64_t n, int64_t ss,
                                       int64_t *__restrict__ positions, int *__restrict__ flag)
{
    for (int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; k < n;
         k += (int64_t)gridDim.x * blockDim.x) {
        const int64_t p = (int64_t)sorter[k * ss];
        const bool bad = p < 0 || p >= n;
        if (bad)
            *flag = 1;
        positions[k] = bad ? 0 : p;
    }
}

/* out (operand 1 of loop, one element per lane) = where each value of v (operand 0) goes in
 * the sorted x (n elements, stride sx, in the order `positions` gives when not NULL), compared
 * in the type C; right: after the equal elements rather than before them. */
template <typename X, typename V, typename C>
__device__ void exprc_searchsorted(const exprc_lanes &loop, const X *__restrict__ x, int64_t n,
                                   int64_t sx, const int64_t *__restrict__ positions,
                                   const V *__restrict__ v, int64_t *__restrict__ out, bool right)
{
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < loop.lanes;
         e += (int64_t)gridDim.x * blockDim.x) {
        const C value = (C)v[exprc_lane_offset(loop, e, 0)];
        int64_t lo = 0, hi = n;
        while (lo < hi) {
            const int64_t m = lo + (hi - lo) / 2;
            const C key = (C)x[(positions != NULL ? positions[m] : m) * sx];
            const bool before = right ? !exprc_sort_less(value, key) : exprc_sort_less(key, value);
            if (before)
                lo = m + 1;
            else
                hi = m;
        }
        out[exprc_lane_offset(loop, e, 1)] = lo;
    }
}

#endif /* EXPRC_CUDA_SCAN_CUH */
