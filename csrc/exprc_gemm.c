/* Matrix products through CBLAS, declared in exprc_gemm.h (part of the runtime library). */
#include <string.h>

#include "exprc_gemm.h"

exprc_blas_table exprc_blas;

EXPRC_EXPORT void exprc_blas_bind(void *sgemm, void *dgemm)
{
    exprc_blas.sgemm = (exprc_sgemm_fn)sgemm;
    exprc_blas.dgemm = (exprc_dgemm_fn)dgemm;
}

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

/* c = alpha * a @ b + beta * c for the 2-d views a (m x k) and b (k x n) into the m x n
 * matrix at c, rows ldc elements apart, through BLAS.
 *
 * With exact_zeros, zero coefficients act as the reference executor's beta * z + alpha *
 * product does, where 0 * NaN and 0 * inf are NaN: BLAS does not read c when beta is 0 and
 * skips the product when alpha is 0, so there c is scaled by beta first and the product is
 * formed apart.  Without it (a plain product: alpha 1, beta 0), c is not read.
 * Returns nonzero after setting error. */
#define EXPRC_GEMM_DEFINE(name, enlarged, type, blas)                                      \
    EXPRC_EXPORT int name(exprc_pool *pool, const exprc_array *a, const exprc_array *b, char *cp,  \
                    int64_t ldc, type alpha, type beta, int exact_zeros, exprc_error *error, \
                    int64_t node)                                                            \
    {                                                                                        \
        type *c = (type *)cp;                                                                \
        const int64_t m = a->shape[0], n = b->shape[1], k = a->shape[1];                    \
        const int64_t size = (int64_t)sizeof(type);                                          \
        if (m == 0 || n == 0) return 0;                                                      \
        if (k == 0 || (exact_zeros && alpha == 0)) {                                         \
            /* The product is zero, or must be formed apart to keep NaN * 0. */              \
            type *p = NULL;                                                                  \
            exprc_array P;                                                                   \
            memset(&P, 0, sizeof P);                                                         \
            if (k > 0) {                                                                     \
                P.ndim = 2; P.shape[0] = m; P.shape[1] = n;                                  \
                if (exprc_alloc_array(pool, &P, size, error, node)) return -1;               \
                if (name(pool, a, b, P.data, n, 1, 0, 0, error, node)) {                     \
                    exprc_release(pool, P.owner);                                            \
                    return -1;                                                               \
                }                                                                            \
                p = (type *)P.data;                                                          \
            }                                                                                \
            for (int64_t i = 0; i < m; ++i)                                                  \
                for (int64_t j = 0; j < n; ++j) {                                            \
                    type prod = p ? p[i * n + j] : (type)0;                                  \
                    type old = exact_zeros ? beta * c[i * ldc + j] : (type)0;               \
                    c[i * ldc + j] = old + alpha * prod;                                     \
                }                                                                            \
            exprc_release(pool, P.owner);                                                    \
            return 0;                                                                        \
        }                                                                                    \
        if (exact_zeros && beta == 0) {                                                      \
            for (int64_t i = 0; i < m; ++i)                                                  \
                for (int64_t j = 0; j < n; ++j) c[i * ldc + j] *= beta;                     \
            beta = 1;                                                                        \
        }                                                                                    \
        if (blas == NULL)                                                                    \
            return exprc_set_error(error, EXPRC_VALUE_ERROR, node,                           \
                                   "BLAS is not bound in exprc's runtime library");         \
        int ta, tb;                                                                          \
        int64_t lda, ldb;                                                                    \
        const char *pa, *pb;                                                                 \
        exprc_array ca, cb;                                                                  \
        if (exprc_gemm_operand(pool, a, &ca, size, &ta, &lda, &pa, error, node)) return -1;  \
        if (exprc_gemm_operand(pool, b, &cb, size, &tb, &ldb, &pb, error, node)) {           \
            exprc_release(pool, ca.owner);                                                   \
            return -1;                                                                       \
        }                                                                                    \
        blas(EXPRC_CBLAS_ROW_MAJOR, ta ? EXPRC_CBLAS_TRANS : EXPRC_CBLAS_NO_TRANS,            \
             tb ? EXPRC_CBLAS_TRANS : EXPRC_CBLAS_NO_TRANS,                                  \
             (exprc_blasint)m, (exprc_blasint)n, (exprc_blasint)k, alpha, (const type *)pa,  \
             (exprc_blasint)lda, (const type *)pb, (exprc_blasint)ldb, beta, c,              \
             (exprc_blasint)ldc);                                                            \
        exprc_release(pool, ca.owner);                                                       \
        exprc_release(pool, cb.owner);                                                       \
        return 0;                                                                            \
    }                                                                                        \
    /* out = beta * z + alpha * x @ y when z is larger than the product, which then         \
     * broadcasts (a product with one row or one column): out is allocated here. */          \
    EXPRC_EXPORT int enlarged(exprc_pool *pool, const exprc_array *z, const exprc_array *x,        \
                        const exprc_array *y, exprc_array *out, type alpha, type beta,       \
                        exprc_error *error, int64_t node)                                    \
    {                                                                                        \
        const int64_t m = x->shape[0], n = y->shape[1], size = (int64_t)sizeof(type);        \
        exprc_array P;                                                                       \
        memset(&P, 0, sizeof P);                                                             \
        P.ndim = 2; P.shape[0] = m; P.shape[1] = n;                                          \
        if (exprc_alloc_array(pool, &P, size, error, node)) return -1;                       \
        if (name(pool, x, y, P.data, n > 1 ? n : 1, 1, 0, 0, error, node)) {                 \
            exprc_release(pool, P.owner);                                                    \
            return -1;                                                                       \
        }                                                                                    \
        out->ndim = 2;                                                                       \
        out->shape[0] = m > z->shape[0] ? m : z->shape[0];                                   \
        out->shape[1] = n > z->shape[1] ? n : z->shape[1];                                   \
        if (exprc_alloc_array(pool, out, size, error, node)) {                               \
            exprc_release(pool, P.owner);                                                    \
            return -1;                                                                       \
        }                                                                                    \
        const type *p = (const type *)P.data;                                                \
        for (int64_t i = 0; i < out->shape[0]; ++i)                                          \
            for (int64_t j = 0; j < out->shape[1]; ++j) {                                    \
                type zv = *(const type *)(z->data + (z->shape[0] > 1 ? i : 0) * z->strides[0] \
                                          + (z->shape[1] > 1 ? j : 0) * z->strides[1]);      \
                type pv = p[(m > 1 ? i : 0) * n + (n > 1 ? j : 0)];                          \
                ((type *)out->data)[i * out->shape[1] + j] = beta * zv + alpha * pv;         \
            }                                                                                \
        exprc_release(pool, P.owner);                                                        \
        return 0;                                                                            \
    }
EXPRC_GEMM_DEFINE(exprc_gemm_s, exprc_gemm_enlarged_s, float, exprc_blas.sgemm)
EXPRC_GEMM_DEFINE(exprc_gemm_d, exprc_gemm_enlarged_d, double, exprc_blas.dgemm)
#undef EXPRC_GEMM_DEFINE

EXPRC_EXPORT int exprc_product_sizes_ok(const exprc_array *a, const exprc_array *b,
                                        const char *label, exprc_error *error, int64_t node)
{
    if (a->shape[1] != b->shape[0]) {
        exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                        "%s: shapes %s and %s are not aligned: %lld (dim 1) != %lld (dim 0)",
                        label, exprc_shape_str(a), exprc_shape_str(b), (long long)a->shape[1],
                        (long long)b->shape[0]);
        return 0;
    }
    if (a->shape[0] > INT32_MAX || a->shape[1] > INT32_MAX || b->shape[1] > INT32_MAX) {
        exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                        "%s: sizes beyond 2**31 - 1 are not supported by BLAS", label);
        return 0;
    }
    return 1;
}

#define EXPRC_GEMM_NODE_DEFINE(name, dot_name, type, product, enlarged)                      \
    EXPRC_EXPORT int name(exprc_pool *pool, exprc_array *out, const exprc_array *z,          \
                          const exprc_array *x, const exprc_array *y, type alpha, type beta, \
                          int inplace, const char *label, exprc_error *error, int64_t node)  \
    {                                                                                        \
        const int64_t size = (int64_t)sizeof(type);                                          \
        if (!exprc_product_sizes_ok(x, y, label, error, node)) return -1;                    \
        const int64_t m = x->shape[0], n = y->shape[1];                                      \
        if ((z->shape[0] != 1 && m != 1 && z->shape[0] != m)                                 \
            || (z->shape[1] != 1 && n != 1 && z->shape[1] != n))                             \
            return exprc_set_error(error, EXPRC_VALUE_ERROR, node,                           \
                                   "%s: z of shape %s does not broadcast to the product's "  \
                                   "shape (%lld, %lld)", label, exprc_shape_str(z),          \
                                   (long long)m, (long long)n);                              \
        /* z larger than the product, which then broadcasts: formed element by element. */  \
        if ((z->shape[0] != m && m == 1) || (z->shape[1] != n && n == 1))                    \
            return enlarged(pool, z, x, y, out, alpha, beta, error, node);                   \
        if (inplace && exprc_refs(z->owner) == 1 && z->shape[0] == m && z->shape[1] == n     \
            && (n <= 1 || z->strides[1] == size)                                             \
            && (m <= 1 || (z->strides[0] % size == 0                                         \
                           && z->strides[0] >= (n > 1 ? n : 1) * size))) {                   \
            *out = *z;                                                                       \
            exprc_retain(out->owner);                                                        \
        } else {                                                                             \
            out->ndim = 2; out->shape[0] = m; out->shape[1] = n;                             \
            if (exprc_alloc_array(pool, out, size, error, node)) return -1;                  \
            exprc_assign(out, z, size);                                                      \
        }                                                                                    \
        const int64_t ldc = m > 1 ? out->strides[0] / size : (n > 1 ? n : 1);                \
        return product(pool, x, y, out->data, ldc, alpha, beta, 1, error, node);             \
    }                                                                                        \
    EXPRC_EXPORT int dot_name(exprc_pool *pool, exprc_array *out, const exprc_array *a,      \
                              const exprc_array *b, const char *label, exprc_error *error,   \
                              int64_t node)                                                  \
    {                                                                                        \
        const exprc_array A = exprc_as_matrix(a, 1), B = exprc_as_matrix(b, 0);              \
        if (!exprc_product_sizes_ok(&A, &B, label, error, node)) return -1;                  \
        out->ndim = 0;                                                                       \
        if (a->ndim == 2) out->shape[out->ndim++] = a->shape[0];                             \
        if (b->ndim == 2) out->shape[out->ndim++] = b->shape[1];                             \
        if (exprc_alloc_array(pool, out, (int64_t)sizeof(type), error, node)) return -1;     \
        return product(pool, &A, &B, out->data, B.shape[1] > 1 ? B.shape[1] : 1, 1, 0, 0,    \
                       error, node);                                                         \
    }
EXPRC_GEMM_NODE_DEFINE(exprc_gemm_node_s, exprc_dot_node_s, float, exprc_gemm_s,
                       exprc_gemm_enlarged_s)
EXPRC_GEMM_NODE_DEFINE(exprc_gemm_node_d, exprc_dot_node_d, double, exprc_gemm_d,
                       exprc_gemm_enlarged_d)
#undef EXPRC_GEMM_NODE_DEFINE
