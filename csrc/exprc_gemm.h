/* Matrix products through CBLAS on exprc_array operands of any strides.
 *
 * BLAS reads a matrix as row-major with a leading dimension, transposed or not.  A 2-d view
 * whose elements are laid out that way is passed as it is; any other (negative, zero or odd
 * strides) is first copied into a contiguous buffer from the call's pool.
 */
#ifndef EXPRC_GEMM_H
#define EXPRC_GEMM_H

#include "exprc_blas.h"
#include "exprc_runtime.h"

/* How BLAS can read the 2-d view a: 1 with *trans and *ld set, or 0 when it cannot. */
static int exprc_gemm_layout(const exprc_array *a, int64_t itemsize, int *trans, int64_t *ld)
{
    int64_t r = a->shape[0], c = a->shape[1];
    if (a->strides[0] % itemsize || a->strides[1] % itemsize) return 0;
    int64_t s0 = a->strides[0] / itemsize, s1 = a->strides[1] / itemsize;
    int64_t rows = r > 1 ? r : 1, cols = c > 1 ? c : 1;
    if (rows > INT32_MAX || cols > INT32_MAX) return 0;
    if ((c <= 1 || s1 == 1) && (r <= 1 || (s0 >= cols && s0 <= INT32_MAX))) {
        *trans = 0;
        *ld = r <= 1 ? cols : s0;
        return 1;
    }
    if ((r <= 1 || s0 == 1) && (c <= 1 || (s1 >= rows && s1 <= INT32_MAX))) {
        *trans = 1;
        *ld = c <= 1 ? rows : s1;
        return 1;
    }
    return 0;
}

/* a as BLAS reads it: itself, or a contiguous copy put in *copy (release it after use). */
static int exprc_gemm_operand(exprc_pool *pool, const exprc_array *a, exprc_array *copy,
                              int64_t itemsize, int *trans, int64_t *ld, const char **data,
                              exprc_error *error, int64_t node)
{
    copy->owner = NULL;
    if (exprc_gemm_layout(a, itemsize, trans, ld)) {
        *data = a->data;
        return 0;
    }
    if (exprc_copy_contiguous(pool, copy, a, itemsize, error, node)) return -1;
    exprc_gemm_layout(copy, itemsize, trans, ld);
    *data = copy->data;
    return 0;
}

/* A 2-d view of the vector or matrix a: a row (1, k) when first, a column (k, 1) when not. */
static exprc_array exprc_as_matrix(const exprc_array *a, int first)
{
    exprc_array m = *a;
    if (a->ndim == 1) {
        m.ndim = 2;
        if (first) {
            m.shape[0] = 1; m.strides[0] = 0;
            m.shape[1] = a->shape[0]; m.strides[1] = a->strides[0];
        } else {
            m.shape[1] = 1; m.strides[1] = 0;
        }
    }
    return m;
}

#endif /* EXPRC_GEMM_H */
