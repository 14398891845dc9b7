/* Glue of the loop op (exprc/link/c/ops/scan.py): the views a loop step reads and the checks
 * of what it returns.  Rows are views: they share the buffer (and its owner, so that a view an
 * inner node takes of a row keeps the buffer alive) and never hold a reference themselves. */
#ifndef EXPRC_SCAN_H
#define EXPRC_SCAN_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* row = a[r] (one less axis). */
static inline void exprc_row_view(exprc_array *row, const exprc_array *a, int64_t r)
{
    row->ndim = a->ndim - 1;
    for (int64_t d = 0; d + 1 < a->ndim; ++d) {
        row->shape[d] = a->shape[d + 1];
        row->strides[d] = a->strides[d + 1];
    }
    row->data = a->data + r * a->strides[0];
    row->owner = a->owner;
}

/* The first `rows` rows of a, as a view. */
static inline void exprc_first_rows(exprc_array *view, const exprc_array *a, int64_t rows)
{
    *view = *a;
    view->shape[0] = rows;
}

/* Whether v has the shape of one row of buf. */
static inline int exprc_is_row_of(const exprc_array *buf, const exprc_array *v)
{
    if (v->ndim != buf->ndim - 1) return 0;
    for (int64_t d = 0; d < v->ndim; ++d)
        if (v->shape[d] != buf->shape[d + 1]) return 0;
    return 1;
}

/* Whether a and b have one shape. */
static inline int exprc_same_shape(const exprc_array *a, const exprc_array *b)
{
    if (a->ndim != b->ndim) return 0;
    for (int64_t d = 0; d < a->ndim; ++d)
        if (a->shape[d] != b->shape[d]) return 0;
    return 1;
}

/* Put the rows of the ring *buf in order, its oldest at row `first`: a fresh buffer holding
 * rows first.. then 0..first-1 replaces it (nothing to do when first is 0). */
static inline int exprc_ring_in_order(exprc_pool *pool, exprc_array *buf, int64_t first,
                                      int64_t itemsize, exprc_error *error, int64_t node)
{
    if (first == 0) return 0;
    exprc_array ordered = *buf;
    if (exprc_alloc_array(pool, &ordered, itemsize, error, node)) return -1;
    const int64_t rows = buf->shape[0];
    exprc_array from = *buf, to = ordered;
    from.data += first * buf->strides[0];
    from.shape[0] = to.shape[0] = rows - first;
    exprc_assign(&to, &from, itemsize);
    from = *buf;
    to = ordered;
    to.data += (rows - first) * ordered.strides[0];
    from.shape[0] = to.shape[0] = first;
    exprc_assign(&to, &from, itemsize);
    exprc_release(pool, buf->owner);
    *buf = ordered;
    return 0;
}

/* Add "at step t of scan <name>" to the message of an error raised inside a loop's body (an
 * interrupt keeps its message: it is not the body's fault). */
static inline void exprc_note_step(exprc_error *error, int64_t t, const char *name)
{
    if (error->kind == EXPRC_INTERRUPTED) return;
    size_t used = strlen(error->message);
    if (used + 1 < sizeof error->message)
        snprintf(error->message + used, sizeof error->message - used,
                 "\n    at step %lld of scan %s", (long long)t, name);
}

#endif /* EXPRC_SCAN_H */
