/* Advanced indexing, declared in exprc_advanced.h (part of the runtime library). */
#include <stdbool.h>

#include "exprc_advanced.h"

EXPRC_EXPORT void exprc_adv_plan_free(exprc_adv_plan *plan)
{
    free(plan->xoff);
    free(plan->yoff);
    plan->xoff = plan->yoff = NULL;
}

EXPRC_EXPORT int64_t exprc_flat_offset(const exprc_array *a, int64_t k)
{
    int64_t offset = 0;
    for (int64_t d = a->ndim - 1; d >= 0; --d) {
        if (a->shape[d] == 0) return 0;
        offset += (k % a->shape[d]) * a->strides[d];
        k /= a->shape[d];
    }
    return offset;
}

EXPRC_EXPORT int exprc_adv_entry_offsets(const exprc_array *v, const exprc_adv_entry *e,
                                         exprc_array *table, int64_t **buffer, exprc_error *error,
                                         int64_t node, const char *label)
{
    int64_t count = 1;
    table->ndim = 0;
    if (e->kind == EXPRC_ADV_ARRAY) {
        table->ndim = e->array->ndim;
        for (int64_t d = 0; d < e->array->ndim; ++d) {
            table->shape[d] = e->array->shape[d];
            count *= e->array->shape[d];
        }
    } else if (e->kind == EXPRC_ADV_MASK) {
        const exprc_array *m = e->array;
        for (int64_t d = 0; d < e->naxes; ++d)
            if (m->shape[d] != v->shape[e->axis + d])
                return exprc_set_error(error, EXPRC_INDEX_ERROR, node,
                                       "%s: boolean index did not match indexed array along "
                                       "axis %lld; size of axis is %lld but size of "
                                       "corresponding boolean axis is %lld", label,
                                       (long long)(e->x_axis + d),
                                       (long long)v->shape[e->axis + d],
                                       (long long)m->shape[d]);
        int64_t size = 1;
        for (int64_t d = 0; d < m->ndim; ++d) size *= m->shape[d];
        count = 0;
        for (int64_t k = 0; k < size; ++k)
            count += *(const bool *)(m->data + exprc_flat_offset(m, k)) != 0;
        table->ndim = 1;
        table->shape[0] = count;
    }
    /* One spare slot so that an empty table still gets a distinct buffer. */
    *buffer = malloc((size_t)(count + 1) * sizeof(int64_t));
    if (*buffer == NULL)
        return exprc_set_error(error, EXPRC_MEMORY_ERROR, node, "%s: out of memory", label);
    table->data = (char *)*buffer;
    table->owner = NULL;
    exprc_contiguous_strides(table, sizeof(int64_t));
    int64_t *out = *buffer;
    if (e->kind == EXPRC_ADV_MASK) {
        const exprc_array *m = e->array;
        int64_t size = 1, at = 0;
        for (int64_t d = 0; d < m->ndim; ++d) size *= m->shape[d];
        for (int64_t k = 0; k < size; ++k) {
            if (!*(const bool *)(m->data + exprc_flat_offset(m, k))) continue;
            /* The mask's coordinates of element k, applied to the axes it covers. */
            int64_t rest = k, offset = 0;
            for (int64_t d = m->ndim - 1; d >= 0; --d) {
                offset += (rest % m->shape[d]) * v->strides[e->axis + d];
                rest /= m->shape[d];
            }
            out[at++] = offset;
        }
        return 0;
    }
    const int64_t size = v->shape[e->axis];
    for (int64_t k = 0; k < count; ++k) {
        int64_t i = e->kind == EXPRC_ADV_INT ? e->value
            : exprc_index_value(e->array->data + exprc_flat_offset(e->array, k), e->code);
        if (i < -size || i >= size)
            return exprc_set_error(error, EXPRC_INDEX_ERROR, node,
                                   "%s: index %lld is out of bounds for axis %lld with size "
                                   "%lld", label, (long long)i, (long long)e->x_axis,
                                   (long long)size);
        out[k] = (i < 0 ? i + size : i) * v->strides[e->axis];
    }
    return 0;
}

EXPRC_EXPORT int exprc_adv_plan_build(exprc_adv_plan *plan, const exprc_array *v, int nentries,
                                      const exprc_adv_entry *entries, int64_t block_at,
                                      const exprc_array *y, exprc_error *error, int64_t node,
                                      const char *label)
{
    exprc_array tables[EXPRC_MAXDIM];
    int64_t *buffers[EXPRC_MAXDIM] = {0};
    int64_t *block = NULL;
    int rc = -1;
    plan->xoff = plan->yoff = NULL;

    /* Which axes of v the advanced entries take; the rest are the region's whole axes. */
    int taken[EXPRC_MAXDIM] = {0};
    for (int j = 0; j < nentries; ++j)
        for (int64_t d = 0; d < entries[j].naxes; ++d) taken[entries[j].axis + d] = 1;
    int64_t whole[EXPRC_MAXDIM], nwhole = 0;
    for (int64_t d = 0; d < v->ndim; ++d)
        if (!taken[d]) whole[nwhole++] = d;

    for (int j = 0; j < nentries; ++j)
        if (exprc_adv_entry_offsets(v, &entries[j], &tables[j], &buffers[j], error, node,
                                    label))
            goto done;

    /* The index block: the entries' shapes broadcast together, as NumPy does. */
    const exprc_array *ptrs[EXPRC_MAXDIM];
    int64_t bdim = 0;
    for (int j = 0; j < nentries; ++j) {
        ptrs[j] = &tables[j];
        if (tables[j].ndim > bdim) bdim = tables[j].ndim;
    }
    int64_t bshape[EXPRC_MAXDIM];
    if (exprc_broadcast_shape(nentries, ptrs, bdim, bshape) >= 0) {
        exprc_set_error(error, EXPRC_INDEX_ERROR, node, "%s: shape mismatch: indexing arrays "
                        "could not be broadcast together with shapes %s", label,
                        exprc_shapes_str(nentries, ptrs));
        goto done;
    }
    if (nwhole + bdim > EXPRC_MAXDIM) {
        exprc_set_error(error, EXPRC_VALUE_ERROR, node, "%s: the result would have more than "
                        "%d axes", label, EXPRC_MAXDIM);
        goto done;
    }
    int64_t nblock = 1;
    for (int64_t d = 0; d < bdim; ++d) nblock *= bshape[d];

    /* Offset in v of each position of the block: the sum of the entries' offsets. */
    block = calloc((size_t)nblock + 1, sizeof(int64_t));
    if (block == NULL) {
        exprc_set_error(error, EXPRC_MEMORY_ERROR, node, "%s: out of memory", label);
        goto done;
    }
    for (int j = 0; j < nentries; ++j) {
        int64_t st[EXPRC_MAXDIM];
        exprc_loop_strides(&tables[j], bdim, bshape, st);
        for (int64_t b = 0; b < nblock; ++b) {
            int64_t rest = b, offset = 0;
            for (int64_t d = bdim - 1; d >= 0; --d) {
                offset += (rest % bshape[d]) * st[d];
                rest /= bshape[d];
            }
            block[b] += *(const int64_t *)(tables[j].data + offset);
        }
    }

    /* The region: block_at whole axes, the block, the other whole axes. */
    int64_t rshape[EXPRC_MAXDIM], rxstride[EXPRC_MAXDIM], ndim = 0;
    for (int64_t d = 0; d < block_at; ++d, ++ndim) {
        rshape[ndim] = v->shape[whole[d]];
        rxstride[ndim] = v->strides[whole[d]];
    }
    const int64_t block_first = ndim;
    for (int64_t d = 0; d < bdim; ++d, ++ndim) {
        rshape[ndim] = bshape[d];
        rxstride[ndim] = 0;
    }
    for (int64_t d = block_at; d < nwhole; ++d, ++ndim) {
        rshape[ndim] = v->shape[whole[d]];
        rxstride[ndim] = v->strides[whole[d]];
    }
    plan->ndim = ndim;
    plan->n = 1;
    for (int64_t d = 0; d < ndim; ++d) plan->shape[d] = rshape[d], plan->n *= rshape[d];

    int64_t ystride[EXPRC_MAXDIM] = {0};
    if (y != NULL) {
        int fits = y->ndim <= ndim;
        for (int64_t d = 0; fits && d < y->ndim; ++d) {
            int64_t size = y->shape[d], want = rshape[ndim - y->ndim + d];
            fits = size == 1 || size == want;
        }
        if (!fits) {
            exprc_array region;
            region.ndim = ndim;
            for (int64_t d = 0; d < ndim; ++d) region.shape[d] = rshape[d];
            exprc_set_error(error, EXPRC_VALUE_ERROR, node, "%s: shape mismatch: value array "
                            "of shape %s could not be broadcast to indexing result of shape %s",
                            label, exprc_shape_str(y), exprc_shape_str(&region));
            goto done;
        }
        exprc_loop_strides(y, ndim, rshape, ystride);
    }

    plan->xoff = malloc((size_t)(plan->n + 1) * sizeof(int64_t));
    if (y != NULL) plan->yoff = malloc((size_t)(plan->n + 1) * sizeof(int64_t));
    if (plan->xoff == NULL || (y != NULL && plan->yoff == NULL)) {
        exprc_set_error(error, EXPRC_MEMORY_ERROR, node, "%s: out of memory", label);
        goto done;
    }
    for (int64_t k = 0; k < plan->n; ++k) {
        int64_t rest = k, xo = 0, yo = 0, b = 0, scale = 1;
        for (int64_t d = ndim - 1; d >= 0; --d) {
            const int64_t i = rest % rshape[d];
            rest /= rshape[d];
            xo += i * rxstride[d];
            yo += i * ystride[d];
            if (d >= block_first && d < block_first + bdim) {
                b += i * scale;
                scale *= rshape[d];
            }
        }
        plan->xoff[k] = xo + block[b];
        if (y != NULL) plan->yoff[k] = yo;
    }
    rc = 0;

done:
    for (int j = 0; j < nentries; ++j) free(buffers[j]);
    free(block);
    if (rc) exprc_adv_plan_free(plan);
    return rc;
}
