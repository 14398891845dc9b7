/* The elementwise loop driver declared in exprc_elemwise.h (part of the runtime library). */
#include <string.h>

#include "exprc_elemwise.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* Merge axes that are contiguous in every operand, drop axes of size 1.  Writes the collapsed
 * shape to sh and strides to st[k * EXPRC_ELEMWISE_MAX_DIMS + d]; returns the collapsed rank
 * (at least 1), or 0 when the loop is empty. */
static int exprc_collapse(int nops, int64_t ndim, const int64_t *shape,
                          const int64_t *strides, exprc_int *sh, exprc_int *st)
{
    int nd = 0;
    for (int64_t d = 0; d < ndim; ++d) {
        if (shape[d] == 0) return 0;
        if (shape[d] == 1) continue;
        int merge = nd > 0;
        for (int k = 0; k < nops && merge; ++k)
            merge = st[k * EXPRC_ELEMWISE_MAX_DIMS + nd - 1] == strides[k * ndim + d] * shape[d];
        if (!merge) sh[nd++] = 1;
        sh[nd - 1] *= shape[d];
        for (int k = 0; k < nops; ++k)
            st[k * EXPRC_ELEMWISE_MAX_DIMS + nd - 1] = strides[k * ndim + d];
    }
    if (nd == 0) {
        sh[0] = 1;
        for (int k = 0; k < nops; ++k) st[k * EXPRC_ELEMWISE_MAX_DIMS] = 0;
        nd = 1;
    }
    return nd;
}

/* Fill buf with n copies of the element at value (itemsize 1 to 8 bytes). A typed store per
 * itemsize: a memcpy call per element cost as much as the loop it fed (a per-channel bias
 * repeated along each image's row is refilled for every tile). */
static void exprc_fill(char *buf, const char *value, exprc_int n, exprc_int itemsize)
{
#define EXPRC_FILL_AS(type)                                                            \
    do {                                                                               \
        type v_;                                                                       \
        memcpy(&v_, value, sizeof v_);                                                 \
        type *out_ = (type *)(void *)buf;                                              \
        for (exprc_int i = 0; i < n; ++i) out_[i] = v_;                                \
        return;                                                                        \
    } while (0)
    switch (itemsize) {
    case 1: EXPRC_FILL_AS(uint8_t);
    case 2: EXPRC_FILL_AS(uint16_t);
    case 4: EXPRC_FILL_AS(uint32_t);
    case 8: EXPRC_FILL_AS(uint64_t);
    default:
        for (exprc_int i = 0; i < n; ++i) memcpy(buf + i * itemsize, value, (size_t)itemsize);
    }
#undef EXPRC_FILL_AS
}

EXPRC_EXPORT int exprc_elemwise_run(int nops, const exprc_int *itemsize, int64_t ndim,
                                    const int64_t *shape, char **data,
                                    const int64_t *strides, exprc_inner_loop contiguous,
                                    exprc_inner_loop strided, exprc_int threshold)
{
    if (ndim < 0 || ndim > EXPRC_ELEMWISE_MAX_DIMS || nops > EXPRC_ELEMWISE_MAX_OPERANDS)
        return -1;
    exprc_int sh[EXPRC_ELEMWISE_MAX_DIMS];
    exprc_int st[EXPRC_ELEMWISE_MAX_OPERANDS * EXPRC_ELEMWISE_MAX_DIMS];
    const int nd = exprc_collapse(nops, ndim, shape, strides, sh, st);
    if (nd == 0) return 0;
    const exprc_int n = sh[nd - 1];
    exprc_int inner[EXPRC_ELEMWISE_MAX_OPERANDS];
    /* Operands repeated along the inner axis (stride 0: a broadcast scalar or row) do not
     * stop the contiguous loop: each tile reads them from a buffer filled with the repeated
     * value, as NumPy's buffered iteration does. */
    int is_contiguous = 1, nrepeated = 0, repeated[EXPRC_REPEAT_MAX];
    for (int k = 0; k < nops; ++k) {
        inner[k] = st[k * EXPRC_ELEMWISE_MAX_DIMS + nd - 1];
        if (inner[k] == itemsize[k]) continue;
        if (inner[k] == 0 && n > 1 && nrepeated < EXPRC_REPEAT_MAX && itemsize[k] <= 8)
            repeated[nrepeated++] = k;
        else
            is_contiguous = 0;
    }
    if (!is_contiguous) nrepeated = 0;
    const exprc_inner_loop loop = is_contiguous ? contiguous : strided;
    exprc_int outer = 1;
    for (int d = 0; d < nd - 1; ++d) outer *= sh[d];
    const int parallel = outer * n >= threshold;
    /* With few outer iterations, cut the inner axis into blocks so every thread gets work. */
    exprc_int block = n;
#ifdef _OPENMP
    const exprc_int wanted = 4 * (exprc_int)omp_get_max_threads();
    if (parallel && outer < wanted) {
        block = (n * outer + wanted - 1) / wanted;
        block = block < 4096 ? 4096 : (block + 63) / 64 * 64;
    }
#endif
    if (nrepeated && block > EXPRC_REPEAT_BLOCK) block = EXPRC_REPEAT_BLOCK;
    const exprc_int nblocks = (n + block - 1) / block;
    const exprc_int tiles = outer * nblocks;
#pragma omp parallel if (parallel)
    {
        exprc_int first = 0, last = tiles;
#ifdef _OPENMP
        const exprc_int threads = omp_get_num_threads(), id = omp_get_thread_num();
        first = tiles * id / threads;
        last = tiles * (id + 1) / threads;
#endif
        /* Position of tile `first`: its block and the index along each outer axis. */
        exprc_int index[EXPRC_ELEMWISE_MAX_DIMS];
        char *base[EXPRC_ELEMWISE_MAX_OPERANDS], *ptr[EXPRC_ELEMWISE_MAX_OPERANDS];
        exprc_int rest = first / nblocks, blk = first % nblocks;
        for (int k = 0; k < nops; ++k) base[k] = data[k];
        for (int d = nd - 2; d >= 0; --d) {
            index[d] = rest % sh[d];
            rest /= sh[d];
            for (int k = 0; k < nops; ++k)
                base[k] += index[d] * st[k * EXPRC_ELEMWISE_MAX_DIMS + d];
        }
        _Alignas(64) char fill[EXPRC_REPEAT_MAX][EXPRC_REPEAT_BLOCK * 8];
        const char *filled_from[EXPRC_REPEAT_MAX] = {NULL};
        exprc_int filled[EXPRC_REPEAT_MAX] = {0};
        for (exprc_int t = first; t < last; ++t) {
            const exprc_int lo = blk * block, len = n - lo < block ? n - lo : block;
            for (int k = 0; k < nops; ++k) ptr[k] = base[k] + lo * inner[k];
            for (int r = 0; r < nrepeated; ++r) {
                const int k = repeated[r];
                if (ptr[k] != filled_from[r] || len > filled[r]) {
                    exprc_fill(fill[r], ptr[k], len, itemsize[k]);
                    filled_from[r] = ptr[k];
                    filled[r] = len;
                }
                ptr[k] = fill[r];
            }
            loop(len, ptr, inner);
            if (++blk < nblocks) continue;
            blk = 0;
            for (int d = nd - 2; d >= 0; --d) {  /* odometer over the outer axes */
                const exprc_int *step = st + d;
                if (++index[d] < sh[d]) {
                    for (int k = 0; k < nops; ++k) base[k] += step[k * EXPRC_ELEMWISE_MAX_DIMS];
                    break;
                }
                index[d] = 0;
                for (int k = 0; k < nops; ++k)
                    base[k] -= (sh[d] - 1) * step[k * EXPRC_ELEMWISE_MAX_DIMS];
            }
        }
    }
    return 0;
}

void exprc_openmp_single_thread(void)
{
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
}
