/* Reductions, declared in exprc_reduce.h (part of the runtime library): the plan, and the
 * float reductions of every operation (other element types are compiled per program). */
#include "exprc_reduce.h"

EXPRC_EXPORT int64_t exprc_reduce_axes(int64_t n, int64_t *size, int64_t *a, int64_t *b)
{
    for (int64_t i = 1; i < n; ++i)
        for (int64_t j = i; j > 0 && exprc_reduce_abs(a[j - 1]) < exprc_reduce_abs(a[j]); --j) {
            int64_t t;
            t = size[j]; size[j] = size[j - 1]; size[j - 1] = t;
            t = a[j]; a[j] = a[j - 1]; a[j - 1] = t;
            t = b[j]; b[j] = b[j - 1]; b[j - 1] = t;
        }
    int64_t m = 0;
    for (int64_t i = 0; i < n; ++i) {
        if (m > 0 && a[m - 1] == a[i] * size[i] && b[m - 1] == b[i] * size[i]) {
            size[m - 1] *= size[i];
            a[m - 1] = a[i];
            b[m - 1] = b[i];
            continue;
        }
        size[m] = size[i]; a[m] = a[i]; b[m] = b[i];
        ++m;
    }
    return m;
}

EXPRC_EXPORT void exprc_reduce_layout(exprc_reduce_plan *p, int64_t acc_size, int64_t threshold)
{
    const int64_t threads = exprc_reduce_max_threads();
    const int64_t work = p->outputs * (p->count > 0 ? p->count : 1);
    p->parallel = threads > 1 && work >= threshold;
    if (p->outer) {
        p->line = p->ks[p->nk - 1];
        p->ls = p->kx[p->nk - 1];
        p->lo = p->ko[p->nk - 1];
        /* Wide tiles walk the input row by row, which the memory system streams best; the
         * pairwise stack of a tile lives on the thread's stack, within EXPRC_REDUCE_STACK. */
        const int64_t blocks = exprc_reduce_ceil(p->count, EXPRC_REDUCE_STEPS);
        int64_t tile = EXPRC_REDUCE_STACK / (exprc_reduce_levels(blocks) * acc_size);
        tile = tile < EXPRC_REDUCE_TILE ? tile / 16 * 16 : EXPRC_REDUCE_TILE;
        if (p->line < tile) tile = p->line;
        p->tile = tile > 0 ? tile : 1;
        p->tiles = exprc_reduce_ceil(p->line, p->tile);
        p->units = p->outputs / (p->line > 0 ? p->line : 1) * p->tiles;
        p->blocks = blocks;
    } else {
        p->n0 = p->rs[p->nr - 1];
        p->s0 = p->rx[p->nr - 1];
        p->rows = p->n0 > 0 ? p->count / p->n0 : 0;
        p->tile = 1;
        p->units = p->outputs;
        if (p->n0 >= EXPRC_REDUCE_BLOCK) {
            p->group = 1;
            p->pieces = exprc_reduce_ceil(p->n0, EXPRC_REDUCE_BLOCK);
            p->blocks = p->rows * p->pieces;
        } else {
            p->group = EXPRC_REDUCE_BLOCK / (p->n0 > 0 ? p->n0 : 1);
            p->pieces = 1;
            p->blocks = exprc_reduce_ceil(p->rows, p->group);
        }
    }
    p->span = p->blocks > 0 ? p->blocks : 1;
    p->parts = 1;
    if (p->parallel && p->units < 2 * threads && p->blocks > 1) {
        const int64_t want = exprc_reduce_ceil(4 * threads, p->units > 0 ? p->units : 1);
        int64_t span = 1;
        while (span * want < p->blocks) span *= 2;
        p->span = span;
        p->parts = exprc_reduce_ceil(p->blocks, span);
    }
}

EXPRC_EXPORT void exprc_reduce_plan_init(exprc_reduce_plan *p, const exprc_array *x,
                                         const exprc_array *out, int64_t mask, int64_t acc_size,
                                         int64_t threshold)
{
    int64_t none[EXPRC_MAXDIM] = {0};
    p->nk = p->nr = 0;
    p->outputs = p->count = 1;
    for (int64_t d = 0, o = 0; d < x->ndim; ++d) {
        const int reduced = (int)((mask >> d) & 1);
        const int64_t size = x->shape[d];
        if (reduced) {
            p->count *= size;
            if (size != 1) {
                p->rs[p->nr] = size;
                p->rx[p->nr++] = x->strides[d];
            }
        } else {
            p->outputs *= size;
            if (size != 1) {
                p->ks[p->nk] = size;
                p->kx[p->nk] = x->strides[d];
                p->ko[p->nk++] = out->strides[o];
            }
        }
        o += !reduced || out->ndim == x->ndim;
    }
    p->nk = exprc_reduce_axes(p->nk, p->ks, p->kx, p->ko);
    p->nr = exprc_reduce_axes(p->nr, p->rs, p->rx, none);
    if (p->nr == 0) {  /* nothing to reduce, or only axes of size 1 */
        p->nr = 1;
        p->rs[0] = 1;
        p->rx[0] = 0;
    }
    /* Outer mode when a kept axis is the faster one, or when reduced rows are too short to
     * be worth a block each. */
    const int64_t n0 = p->rs[p->nr - 1];
    p->outer = p->nk > 0 && p->count > 0 && (exprc_reduce_abs(p->kx[p->nk - 1])
                                             < exprc_reduce_abs(p->rx[p->nr - 1]) || n0 < 8);
    exprc_reduce_layout(p, acc_size, threshold);
}
EXPRC_EXPORT int exprc_sum_to_shape(exprc_pool *pool, exprc_array *out, const exprc_array *g,
                                    const exprc_array *target, int code, int64_t itemsize,
                                    exprc_reduce_fn reduce, int64_t threshold,
                                    const char *label, exprc_error *error, int64_t node)
{
    int64_t t[EXPRC_MAXDIM] = {0};
    if (exprc_read_ints(target, code, g->ndim, t, label, error, node)) return -1;
    int64_t mask = 0, bad = 0;
    for (int64_t d = 0; d < g->ndim; ++d) {
        if (t[d] == 1 && g->shape[d] != 1) mask |= (int64_t)1 << d;
        else bad |= g->shape[d] != t[d];
    }
    if (bad)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: cannot sum an array of shape %s down to the target shape",
                               label, exprc_shape_str(g));
    if (mask == 0) {
        *out = *g;
        exprc_retain(out->owner);
        return 0;
    }
    out->ndim = g->ndim;
    for (int64_t d = 0; d < g->ndim; ++d) out->shape[d] = t[d];
    if (exprc_alloc_array(pool, out, itemsize, error, node)) return -1;
    exprc_reduce_plan plan;
    exprc_reduce_plan_init(&plan, g, out, mask, itemsize, threshold);
    reduce(&plan, g->data, out->data);
    return 0;
}

#define EXPRC_REDUCE_IN float
#define EXPRC_REDUCE_ACC float
#define EXPRC_REDUCE_CONV EXPRC_REDUCE_SAME
#define EXPRC_REDUCE_COMB EXPRC_REDUCE_ADD
#define EXPRC_REDUCE_IDENTITY 0
EXPRC_EXPORT void exprc_reduce_add_float32(exprc_reduce_plan *rp, const char *rx_data,
                                     char *rout_data)
#include "exprc_reduce_body.h"

#define EXPRC_REDUCE_IN float
#define EXPRC_REDUCE_ACC float
#define EXPRC_REDUCE_CONV EXPRC_REDUCE_SAME
#define EXPRC_REDUCE_COMB EXPRC_REDUCE_MUL
#define EXPRC_REDUCE_IDENTITY 1
EXPRC_EXPORT void exprc_reduce_mul_float32(exprc_reduce_plan *rp, const char *rx_data,
                                     char *rout_data)
#include "exprc_reduce_body.h"

#define EXPRC_REDUCE_IN float
#define EXPRC_REDUCE_ACC float
#define EXPRC_REDUCE_CONV EXPRC_REDUCE_SAME
#define EXPRC_REDUCE_COMB EXPRC_REDUCE_MAXIMUM
#define EXPRC_REDUCE_IDENTITY -INFINITY
EXPRC_EXPORT void exprc_reduce_maximum_float32(exprc_reduce_plan *rp, const char *rx_data,
                                         char *rout_data)
#include "exprc_reduce_body.h"

#define EXPRC_REDUCE_IN float
#define EXPRC_REDUCE_ACC float
#define EXPRC_REDUCE_CONV EXPRC_REDUCE_SAME
#define EXPRC_REDUCE_COMB EXPRC_REDUCE_MINIMUM
#define EXPRC_REDUCE_IDENTITY INFINITY
EXPRC_EXPORT void exprc_reduce_minimum_float32(exprc_reduce_plan *rp, const char *rx_data,
                                         char *rout_data)
#include "exprc_reduce_body.h"

#define EXPRC_REDUCE_IN double
#define EXPRC_REDUCE_ACC double
#define EXPRC_REDUCE_CONV EXPRC_REDUCE_SAME
#define EXPRC_REDUCE_COMB EXPRC_REDUCE_ADD
#define EXPRC_REDUCE_IDENTITY 0
EXPRC_EXPORT void exprc_reduce_add_float64(exprc_reduce_plan *rp, const char *rx_data,
                                     char *rout_data)
#include "exprc_reduce_body.h"

#define EXPRC_REDUCE_IN double
#define EXPRC_REDUCE_ACC double
#define EXPRC_REDUCE_CONV EXPRC_REDUCE_SAME
#define EXPRC_REDUCE_COMB EXPRC_REDUCE_MUL
#define EXPRC_REDUCE_IDENTITY 1
EXPRC_EXPORT void exprc_reduce_mul_float64(exprc_reduce_plan *rp, const char *rx_data,
                                     char *rout_data)
#include "exprc_reduce_body.h"

#define EXPRC_REDUCE_IN double
#define EXPRC_REDUCE_ACC double
#define EXPRC_REDUCE_CONV EXPRC_REDUCE_SAME
#define EXPRC_REDUCE_COMB EXPRC_REDUCE_MAXIMUM
#define EXPRC_REDUCE_IDENTITY -INFINITY
EXPRC_EXPORT void exprc_reduce_maximum_float64(exprc_reduce_plan *rp, const char *rx_data,
                                         char *rout_data)
#include "exprc_reduce_body.h"

#define EXPRC_REDUCE_IN double
#define EXPRC_REDUCE_ACC double
#define EXPRC_REDUCE_CONV EXPRC_REDUCE_SAME
#define EXPRC_REDUCE_COMB EXPRC_REDUCE_MINIMUM
#define EXPRC_REDUCE_IDENTITY INFINITY
EXPRC_EXPORT void exprc_reduce_minimum_float64(exprc_reduce_plan *rp, const char *rx_data,
                                         char *rout_data)
#include "exprc_reduce_body.h"

