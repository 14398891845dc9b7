/* Advanced indexing: reading (AdvancedSubtensor), setting and incrementing
 * (AdvancedIncSubtensor) the elements an index with integer arrays selects.
 *
 * The host applies the basic part of the index (slices, new axes) as a view `v` of the
 * indexed array and describes the region the index selects as two kinds of axes:
 *
 *   whole axes  axes of v that the index keeps whole, each with its stride in v;
 *   block axes  the broadcast shape of the index arrays; block element b stands at the
 *               element offset xblock[b] in v (the sum, over the index arrays, of the
 *               array's entry at b times the stride of the axis it indexes).
 *
 * xblock is computed on the host when the host has the index arrays, else by
 * exprc_index_offsets from arrays in device memory, which checks their bounds and raises
 * *flag for the host to read. Region element (w, b) (w over the whole axes, b over the block)
 * is at v[wx(w) + xblock[b]]; the values y (broadcast to the region) and the output of a
 * read (contiguous in region order) have their own strides on both kinds of axes.
 *
 * Writing with repeated positions: two region elements with different w never meet (they
 * differ on a whole axis), so the `serial` kernel, one thread per w walking the block in
 * order, reproduces NumPy exactly (the last write wins). The parallel `scatter` kernel serves
 * increments with atomicAdd (np.add.at), boolean increments (which only ever write true), and
 * any mode when the host knows the block's positions are distinct.
 */
#ifndef EXPRC_CUDA_INDEX_CUH
#define EXPRC_CUDA_INDEX_CUH

#include "exprc_cuda_common.cuh"

/* Most index arrays of one advanced index (a mask of rank r counts as r arrays). */
#define EXPRC_INDEX_MAXARRAYS 8

struct exprc_index_plan {
    int64_t nwhole, nblock;           /* axes of each kind (size-1 axes dropped) */
    int64_t whole_total, block_total;
    /* innermost first: sizes, and strides in v, in y and in the output of a read */
    int64_t wshape[EXPRC_CUDA_MAXDIM], wx[EXPRC_CUDA_MAXDIM], wy[EXPRC_CUDA_MAXDIM],
        wo[EXPRC_CUDA_MAXDIM];
    int64_t bshape[EXPRC_CUDA_MAXDIM], by[EXPRC_CUDA_MAXDIM], bo[EXPRC_CUDA_MAXDIM];
};

/* Index arrays in device memory, broadcast to the block (stride 0 on broadcast axes). */
struct exprc_index_arrays {
    int64_t narrays, nblock, block_total;
    int64_t bshape[EXPRC_CUDA_MAXDIM];  /* innermost first */
    int64_t address[EXPRC_INDEX_MAXARRAYS];
    int64_t code[EXPRC_INDEX_MAXARRAYS];  /* dtype: see exprc_index_load */
    int64_t size[EXPRC_INDEX_MAXARRAYS];  /* size of the axis each array indexes */
    int64_t step[EXPRC_INDEX_MAXARRAYS];  /* that axis's stride in v, in elements */
    int64_t stride[EXPRC_INDEX_MAXARRAYS][EXPRC_CUDA_MAXDIM];
};

/* The offset of linear index i over n axes of `shape` (innermost first) with `stride`. */
static __device__ __forceinline__ int64_t exprc_index_offset(int64_t i, int64_t n,
                                                             const int64_t *shape,
                                                             const int64_t *stride)
{
    int64_t offset = 0;
    for (int d = 0; d < n; ++d) {
        const int64_t size = shape[d];
        offset += (i % size) * stride[d];
        i /= size;
    }
    return offset;
}

/* Entry `at` of an index array of dtype `code` (0-3: int8, int16, int32, int64; 4-7: uint8,
 * uint16, uint32, uint64) as a position in [0, size), negative entries counting from the end;
 * false when it is out of range. */
static __device__ __forceinline__ bool exprc_index_load(int64_t address, int64_t code,
                                                        int64_t at, int64_t size, int64_t *i)
{
    const char *p = (const char *)(uintptr_t)address;
    int64_t v = 0;
    switch (code) {
    case 0: v = ((const int8_t *)p)[at]; break;
    case 1: v = ((const int16_t *)p)[at]; break;
    case 2: v = ((const int32_t *)p)[at]; break;
    case 3: v = ((const int64_t *)p)[at]; break;
    case 4: v = ((const uint8_t *)p)[at]; break;
    case 5: v = ((const uint16_t *)p)[at]; break;
    case 6: v = ((const uint32_t *)p)[at]; break;
    default: {
        /* compared unsigned: a uint64 past the int64 range must not wrap into range */
        const uint64_t u = ((const uint64_t *)p)[at];
        *i = (int64_t)u;
        return u < (uint64_t)size;
    }
    }
    if (v < 0)
        v += size;
    *i = v;
    return v >= 0 && v < size;
}

static __device__ void exprc_index_offsets(const exprc_index_arrays &a,
                                           int64_t *__restrict__ xblock, int *flag)
{
    const int64_t threads = (int64_t)gridDim.x * blockDim.x;
    for (int64_t b = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; b < a.block_total;
         b += threads) {
        int64_t offset = 0;
        bool ok = true;
        for (int j = 0; j < a.narrays; ++j) {
            int64_t i;
            const int64_t at = exprc_index_offset(b, a.nblock, a.bshape, a.stride[j]);
            ok = exprc_index_load(a.address[j], a.code[j], at, a.size[j], &i) && ok;
            offset += i * a.step[j];
        }
        if (!ok) {
            *flag = 1;  /* every writer writes the same value */
            offset = 0;
        }
        xblock[b] = offset;
    }
}

template <typename T>
__device__ void exprc_index_gather(const exprc_index_plan &p, const T *__restrict__ x,
                                   const int64_t *__restrict__ xblock, T *__restrict__ out)
{
    const int64_t total = p.whole_total * p.block_total;
    const int64_t threads = (int64_t)gridDim.x * blockDim.x;
    /* w varies fastest: neighbouring threads read neighbouring elements of a whole axis */
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += threads) {
        const int64_t w = i % p.whole_total, b = i / p.whole_total;
        const int64_t o = exprc_index_offset(w, p.nwhole, p.wshape, p.wo)
                          + exprc_index_offset(b, p.nblock, p.bshape, p.bo);
        out[o] = x[exprc_index_offset(w, p.nwhole, p.wshape, p.wx) + xblock[b]];
    }
}

/* atomicAdd on the dtypes CUDA has it for (sm_60+ for double); 64-bit integers through
 * unsigned long long, whose wrapping sum is the same bits. */
static __device__ __forceinline__ void exprc_atomic_add(float *p, float v) { atomicAdd(p, v); }
static __device__ __forceinline__ void exprc_atomic_add(double *p, double v) { atomicAdd(p, v); }
static __device__ __forceinline__ void exprc_atomic_add(int32_t *p, int32_t v)
{
    atomicAdd((int *)p, (int)v);
}
static __device__ __forceinline__ void exprc_atomic_add(uint32_t *p, uint32_t v)
{
    atomicAdd((unsigned int *)p, (unsigned int)v);
}
static __device__ __forceinline__ void exprc_atomic_add(int64_t *p, int64_t v)
{
    atomicAdd((unsigned long long *)p, (unsigned long long)v);
}
static __device__ __forceinline__ void exprc_atomic_add(uint64_t *p, uint64_t v)
{
    atomicAdd((unsigned long long *)p, (unsigned long long)v);
}

/* How a value updates its target; `before` is the target's value before the node (another
 * array with the target's layout), read by the `_once` modes. */
struct exprc_index_set {
    template <typename T> __device__ __forceinline__ void operator()(T *t, const T *, T v) const
    {
        *t = v;
    }
};
struct exprc_index_add {
    template <typename T> __device__ __forceinline__ void operator()(T *t, const T *, T v) const
    {
        *t = (T)(*t + v);
    }
};
struct exprc_index_atomic_add {
    template <typename T> __device__ __forceinline__ void operator()(T *t, const T *, T v) const
    {
        exprc_atomic_add(t, v);
    }
};
/* NumPy adds booleans with `or`; writing only `true` lets repeated positions race safely. */
struct exprc_index_or {
    template <typename T> __device__ __forceinline__ void operator()(T *t, const T *, T v) const
    {
        if (v)
            *t = v;
    }
};
/* x[index] += y: each position gets its value before the node plus its last update. */
struct exprc_index_add_once {
    template <typename T>
    __device__ __forceinline__ void operator()(T *t, const T *before, T v) const
    {
        *t = (T)(*before + v);
    }
};
struct exprc_index_or_once {
    template <typename T>
    __device__ __forceinline__ void operator()(T *t, const T *before, T v) const
    {
        *t = *before || v;
    }
};

/* One thread per region element (the positions of the block must be distinct, or the mode
 * one that repeated positions do not disturb). */
template <typename T, typename Ty, typename Op>
__device__ void exprc_index_scatter(const exprc_index_plan &p, T *x,
                                    const int64_t *__restrict__ xblock, const Ty *__restrict__ y,
                                    const T *before, Op op)
{
    const int64_t total = p.whole_total * p.block_total;
    const int64_t threads = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += threads) {
        const int64_t w = i % p.whole_total, b = i / p.whole_total;
        const int64_t at = exprc_index_offset(w, p.nwhole, p.wshape, p.wx) + xblock[b];
        const int64_t from = exprc_index_offset(w, p.nwhole, p.wshape, p.wy)
                             + exprc_index_offset(b, p.nblock, p.bshape, p.by);
        op(x + at, before + at, (T)y[from]);
    }
}

/* One thread per element of the whole axes, walking the block in order: NumPy's order for
 * repeated positions. */
template <typename T, typename Ty, typename Op>
__device__ void exprc_index_serial(const exprc_index_plan &p, T *x,
                                   const int64_t *__restrict__ xblock, const Ty *__restrict__ y,
                                   const T *before, Op op)
{
    const int64_t threads = (int64_t)gridDim.x * blockDim.x;
    for (int64_t w = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; w < p.whole_total;
         w += threads) {
        const int64_t xw = exprc_index_offset(w, p.nwhole, p.wshape, p.wx);
        const int64_t yw = exprc_index_offset(w, p.nwhole, p.wshape, p.wy);
        for (int64_t b = 0; b < p.block_total; ++b) {
            const int64_t at = xw + xblock[b];
            op(x + at, before + at,
               (T)y[yw + exprc_index_offset(b, p.nblock, p.bshape, p.by)]);
        }
    }
}

#endif /* EXPRC_CUDA_INDEX_CUH */
