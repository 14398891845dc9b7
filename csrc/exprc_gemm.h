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

/* A 2-d view of the vector or matrix a: a row (1, k) when first, a column (k, 1) when not. */
static inline exprc_array exprc_as_matrix(const exprc_array *a, int first)
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

/* Each function has a version per element type, named with its dtype (exprc_gemm_float32 on
 * floats, exprc_gemm_float64 on doubles, ...), defined by exprc_gemm_body.h. */

/* c = alpha * a @ b + beta * c for the 2-d views a (m x k) and b (k x n) into the m x n
 * matrix at c, rows ldc elements apart, through BLAS.
 *
 * With exact_zeros, zero coefficients act as the reference executor's beta * z + alpha *
 * product does, where 0 * NaN and 0 * inf are NaN: BLAS does not read c when beta is 0 and
 * skips the product when alpha is 0, so there c is scaled by beta first and the product is
 * formed apart.  Without it (a plain product: alpha 1, beta 0), c is not read.
 * Returns nonzero after setting error. */
EXPRC_EXPORT int exprc_gemm_float32(exprc_pool *pool, const exprc_array *a,
                                    const exprc_array *b, char *c, int64_t ldc, float alpha,
                                    float beta, int exact_zeros, exprc_error *error,
                                    int64_t node);
EXPRC_EXPORT int exprc_gemm_float64(exprc_pool *pool, const exprc_array *a,
                                    const exprc_array *b, char *c, int64_t ldc, double alpha,
                                    double beta, int exact_zeros, exprc_error *error,
                                    int64_t node);

/* out = beta * z + alpha * x @ y when z is larger than the product, which then broadcasts (a
 * product with one row or one column): out is allocated here. */
EXPRC_EXPORT int exprc_gemm_enlarged_float32(exprc_pool *pool, const exprc_array *z,
                                             const exprc_array *x, const exprc_array *y,
                                             exprc_array *out, float alpha, float beta,
                                             exprc_error *error, int64_t node);
EXPRC_EXPORT int exprc_gemm_enlarged_float64(exprc_pool *pool, const exprc_array *z,
                                             const exprc_array *x, const exprc_array *y,
                                             exprc_array *out, double alpha, double beta,
                                             exprc_error *error, int64_t node);

/* A Gemm node: out = beta * z + alpha * x @ y, checked (aligned sizes within BLAS's reach, z
 * broadcasting to the product), with errors naming `label`.  With `inplace`, out takes over
 * z's buffer when nothing else holds it and BLAS can write into it. */
EXPRC_EXPORT int exprc_gemm_node_float32(exprc_pool *pool, exprc_array *out,
                                         const exprc_array *z, const exprc_array *x,
                                         const exprc_array *y, float alpha, float beta,
                                         int inplace, const char *label, exprc_error *error,
                                         int64_t node);
EXPRC_EXPORT int exprc_gemm_node_float64(exprc_pool *pool, exprc_array *out,
                                         const exprc_array *z, const exprc_array *x,
                                         const exprc_array *y, double alpha, double beta,
                                         int inplace, const char *label, exprc_error *error,
                                         int64_t node);

/* A Dot node of vectors or matrices a and b into a fresh out, checked, with errors naming
 * `label`. */
typedef int exprc_dot_node_entry(exprc_pool *pool, exprc_array *out, const exprc_array *a,
                                 const exprc_array *b, const char *label, exprc_error *error,
                                 int64_t node);
EXPRC_EXPORT exprc_dot_node_entry exprc_dot_node_float32, exprc_dot_node_float64;

/* Whether the 2-d product a @ b is aligned and within BLAS's 32-bit sizes; else 0 with the
 * error set (naming `label`). */
EXPRC_EXPORT int exprc_product_sizes_ok(const exprc_array *a, const exprc_array *b,
                                        const char *label, exprc_error *error, int64_t node);

#endif /* EXPRC_GEMM_H */
