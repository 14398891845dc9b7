/* Reductions over any set of axes: the plan shared by every element type.
 *
 * A reduction folds the reduced axes of x into out with one associative operation.  Sums are
 * formed pairwise, so the rounding error of a float sum grows with the logarithm of the count
 * (as NumPy's does), not with the count itself:
 *
 * - the reduced elements of one output are cut into blocks, in the order of their flat index;
 *   each block is folded on its own, and the block results are combined by a pairwise stack (a
 *   binary counter: a new result merges with the top while both cover as many blocks);
 * - inner mode (the reduced axes are the fast ones): a block is EXPRC_REDUCE_BLOCK elements of
 *   a row of the innermost reduced axis, or several whole rows when rows are shorter, folded
 *   into EXPRC_REDUCE_ACCS interleaved partial results, which vectorizes;
 * - outer mode (a kept axis is the fast one, as in a column sum): a tile of outputs along that
 *   axis is folded together, EXPRC_REDUCE_STEPS reduced elements per block, which vectorizes
 *   across the outputs.
 *
 * Above a size threshold OpenMP shares the work: across units of output (one output, or one
 * tile) when there are enough, else by also cutting the blocks of each unit into parts of a
 * power-of-two count of blocks, whose results go through the same pairwise stack.  A part of
 * 2**k blocks forms exactly the subtree the single-threaded walk forms, so the result does not
 * depend on the number of threads, bit for bit.
 *
 * The element type is filled in by exprc_reduce_body.h, included inside the generated
 * function after this plan is made (see that file for the protocol).
 */
#ifndef EXPRC_REDUCE_H
#define EXPRC_REDUCE_H

#include <math.h>

#include "exprc_runtime.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#define EXPRC_REDUCE_BLOCK 128  /* elements of one inner-mode block */
#define EXPRC_REDUCE_ACCS 16    /* interleaved partial results within an inner-mode block */
#define EXPRC_REDUCE_STEPS 16   /* reduced elements per output in one outer-mode block */
#define EXPRC_REDUCE_TILE 4096  /* most outputs of one outer-mode unit */
#define EXPRC_REDUCE_STACK (512 * 1024)  /* most bytes of an outer-mode pairwise stack */
#define EXPRC_REDUCE_DEPTH 64   /* entries of a pairwise stack: enough for 2**63 blocks */

typedef struct {
    /* Axes of size 1 dropped, sorted by decreasing input stride, merged where contiguous. */
    int64_t nk, ks[EXPRC_MAXDIM], kx[EXPRC_MAXDIM], ko[EXPRC_MAXDIM];  /* kept: size, strides */
    int64_t nr, rs[EXPRC_MAXDIM], rx[EXPRC_MAXDIM];                    /* reduced: size, stride */
    int64_t outputs, count;  /* number of outputs; reduced elements per output */
    int outer;               /* 1: outer mode */
    /* inner mode: rows of the innermost reduced axis */
    int64_t n0, s0, rows;    /* row length, element stride, rows per output */
    int64_t group, pieces;   /* whole rows per block (short rows), blocks per row (long rows) */
    /* outer mode: lines of the innermost kept axis, cut into tiles */
    int64_t line, ls, lo;    /* outputs per line; their input and output strides */
    int64_t tile, tiles;     /* outputs per tile, tiles per line */
    /* work */
    int64_t units, blocks;   /* units (outputs or tiles); blocks per unit */
    int64_t span, parts;     /* blocks per part (a power of two when parts > 1); parts per unit */
    int parallel;
} exprc_reduce_plan;

static inline int64_t exprc_reduce_abs(int64_t v) { return v < 0 ? -v : v; }

static inline int64_t exprc_reduce_max_threads(void)
{
#ifdef _OPENMP
    return (int64_t)omp_get_max_threads();
#else
    return 1;
#endif
}

/* This thread's share [first, last) of `total` items (all of them outside a parallel region). */
static inline void exprc_reduce_range(int64_t total, int64_t *first, int64_t *last)
{
#ifdef _OPENMP
    const int64_t threads = omp_get_num_threads(), id = omp_get_thread_num();
    *first = total * id / threads;
    *last = total * (id + 1) / threads;
#else
    *first = 0;
    *last = total;
#endif
}

/* Offsets (along strides s and t) of the element of C-order flat index `flat` over `sizes`;
 * idx receives its position. */
static inline void exprc_reduce_locate(int64_t nd, const int64_t *sizes, const int64_t *s,
                                       const int64_t *t, int64_t flat, int64_t *idx,
                                       int64_t *off_s, int64_t *off_t)
{
    *off_s = 0;
    *off_t = 0;
    for (int64_t d = nd - 1; d >= 0; --d) {
        idx[d] = flat % sizes[d];
        flat /= sizes[d];
        *off_s += idx[d] * s[d];
        *off_t += idx[d] * t[d];
    }
}

/* Step idx to the next position in C order, moving the offsets along s and t. */
static inline void exprc_reduce_next(int64_t nd, const int64_t *sizes, const int64_t *s,
                                     const int64_t *t, int64_t *idx, int64_t *off_s,
                                     int64_t *off_t)
{
    for (int64_t d = nd - 1; d >= 0; --d) {
        if (++idx[d] < sizes[d]) {
            *off_s += s[d];
            *off_t += t[d];
            return;
        }
        idx[d] = 0;
        *off_s -= (sizes[d] - 1) * s[d];
        *off_t -= (sizes[d] - 1) * t[d];
    }
}

/* Sort axes by decreasing |stride of the first array| (stable), then merge each axis into the
 * one before it where both arrays step through them as through one axis. */
EXPRC_EXPORT int64_t exprc_reduce_axes(int64_t n, int64_t *size, int64_t *a, int64_t *b);

static inline int64_t exprc_reduce_ceil(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Levels a pairwise stack over `blocks` blocks can hold at once. */
static inline int64_t exprc_reduce_levels(int64_t blocks)
{
    int64_t levels = 1;
    while (blocks > 1) {
        blocks = (blocks + 1) / 2;
        ++levels;
    }
    return levels + 1;
}

/* How many blocks each unit has, and how the units (and maybe parts of them) are shared. */
EXPRC_EXPORT void exprc_reduce_layout(exprc_reduce_plan *p, int64_t acc_size, int64_t threshold);

/* The plan of reducing x into out: axis d of x is reduced when bit d of `mask` is set.  out
 * has x's kept axes, or all of x's axes (the reduced ones of size 1), and elements of
 * `acc_size` bytes.  Loops of at least `threshold` elements run on all OpenMP threads. */
EXPRC_EXPORT void exprc_reduce_plan_init(exprc_reduce_plan *p, const exprc_array *x,
                                         const exprc_array *out, int64_t mask, int64_t acc_size,
                                         int64_t threshold);

/* Where the output of inner-mode unit u goes, and where its input starts. */
static inline void exprc_reduce_unit_offsets(const exprc_reduce_plan *p, int64_t u,
                                             int64_t *x_off, int64_t *out_off)
{
    int64_t idx[EXPRC_MAXDIM];
    if (p->outer) {
        const int64_t line = u / p->tiles, first = (u % p->tiles) * p->tile;
        exprc_reduce_locate(p->nk - 1, p->ks, p->kx, p->ko, line, idx, x_off, out_off);
        *x_off += first * p->ls;
        *out_off += first * p->lo;
    } else {
        exprc_reduce_locate(p->nk, p->ks, p->kx, p->ko, u, idx, x_off, out_off);
    }
}

/* Lanes of unit u (1 in inner mode). */
static inline int64_t exprc_reduce_unit_lanes(const exprc_reduce_plan *p, int64_t u)
{
    if (!p->outer) return 1;
    const int64_t first = (u % p->tiles) * p->tile;
    return p->line - first < p->tile ? p->line - first : p->tile;
}



/* The operations, NaN-propagating for maximum and minimum (as NumPy). */
#define EXPRC_REDUCE_ADD(a, b) ((a) + (b))
#define EXPRC_REDUCE_MUL(a, b) ((a) * (b))
#define EXPRC_REDUCE_MAXIMUM(a, b) (((a) != (a) || (a) >= (b)) ? (a) : (b))
#define EXPRC_REDUCE_MINIMUM(a, b) (((a) != (a) || (a) <= (b)) ? (a) : (b))
#define EXPRC_REDUCE_OR(a, b) ((a) || (b))
#define EXPRC_REDUCE_AND(a, b) ((a) && (b))
#define EXPRC_REDUCE_SAME(v) (v)
/* Integer sums and products wrap around (as NumPy's): computed in uint64_t, converted back. */
#define EXPRC_REDUCE_WRAP_ADD(T, a, b) ((T)((uint64_t)(a) + (uint64_t)(b)))
#define EXPRC_REDUCE_WRAP_MUL(T, a, b) ((T)((uint64_t)(a) * (uint64_t)(b)))


/* A reduction loop: folds x (at rx_data) into out (at rout_data) as the plan says. */
typedef void exprc_reduce_loop(exprc_reduce_plan *rp, const char *rx_data, char *rout_data);
typedef exprc_reduce_loop *exprc_reduce_fn;

/* SumToShape: g summed over every axis where the target shape (the integer vector `target`,
 * read with exprc_index_value's `code`) is 1 and g is not, keeping the axis, by `reduce`
 * (elements of `itemsize` bytes); a view of g when no axis is summed.  An error naming
 * `label` when g does not reduce to the target. */
EXPRC_EXPORT int exprc_sum_to_shape(exprc_pool *pool, exprc_array *out, const exprc_array *g,
                                    const exprc_array *target, int code, int64_t itemsize,
                                    exprc_reduce_fn reduce, int64_t threshold,
                                    const char *label, exprc_error *error, int64_t node);

/* The float reductions of graphs, compiled once in the runtime library (exprc_reduce.c).
 * Other element types include exprc_reduce_body.h in a hot function of the program. */
EXPRC_EXPORT exprc_reduce_loop exprc_reduce_add_float32;
EXPRC_EXPORT exprc_reduce_loop exprc_reduce_mul_float32;
EXPRC_EXPORT exprc_reduce_loop exprc_reduce_maximum_float32;
EXPRC_EXPORT exprc_reduce_loop exprc_reduce_minimum_float32;
EXPRC_EXPORT exprc_reduce_loop exprc_reduce_add_float64;
EXPRC_EXPORT exprc_reduce_loop exprc_reduce_mul_float64;
EXPRC_EXPORT exprc_reduce_loop exprc_reduce_maximum_float64;
EXPRC_EXPORT exprc_reduce_loop exprc_reduce_minimum_float64;

#endif /* EXPRC_REDUCE_H */
