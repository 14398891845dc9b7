/* The matrix products of one element type, included by exprc_gemm.c once per type.
 *
 * Protocol (csrc/README.md, "Typed kernels"): the includer defines
 *     EXPRC_T              the element type: float or double
 *     EXPRC_TYPED(stem)    stem##_<dtype>: the name of the type's version of `stem`
 *     EXPRC_GEMM_BLAS      the bound CBLAS gemm of EXPRC_T (exprc_blas.sgemm or .dgemm)
 * and this file defines the entry points exprc_gemm_<dtype>, exprc_gemm_enlarged_<dtype>,
 * exprc_gemm_node_<dtype> and exprc_dot_node_<dtype> declared in exprc_gemm.h, then
 * undefines the three macros.  No include guard. */

EXPRC_EXPORT int EXPRC_TYPED(exprc_gemm)(exprc_pool *pool, const exprc_array *a,
                                         const exprc_array *b, char *cp, int64_t ldc,
                                         EXPRC_T alpha, EXPRC_T beta, int exact_zeros,
                                         exprc_error *error, int64_t node)
{
    EXPRC_T *c = (EXPRC_T *)cp;
    const int64_t m = a->shape[0], n = b->shape[1], k = a->shape[1];
    const int64_t size = (int64_t)sizeof(EXPRC_T);
    if (m == 0 || n == 0) return 0;
    if (k == 0 || (exact_zeros && alpha == 0)) {
        /* The product is zero, or must be formed apart to keep NaN * 0. */
        EXPRC_T *p = NULL;
        exprc_array P;
        memset(&P, 0, sizeof P);
        if (k > 0) {
            P.ndim = 2; P.shape[0] = m; P.shape[1] = n;
            if (exprc_alloc_array(pool, &P, size, error, node)) return -1;
            if (EXPRC_TYPED(exprc_gemm)(pool, a, b, P.data, n, 1, 0, 0, error, node)) {
                exprc_release(pool, P.owner);
                return -1;
            }
            p = (EXPRC_T *)P.data;
        }
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
                EXPRC_T prod = p ? p[i * n + j] : (EXPRC_T)0;
                EXPRC_T old = exact_zeros ? beta * c[i * ldc + j] : (EXPRC_T)0;
                c[i * ldc + j] = old + alpha * prod;
            }
        exprc_release(pool, P.owner);
        return 0;
    }
    if (exact_zeros && beta == 0) {
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) c[i * ldc + j] *= beta;
        beta = 1;
    }
    if (EXPRC_GEMM_BLAS == NULL)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "BLAS is not bound in exprc's runtime library");
    int ta, tb;
    int64_t lda, ldb;
    const char *pa, *pb;
    exprc_array ca, cb;
    if (exprc_gemm_operand(pool, a, &ca, size, &ta, &lda, &pa, error, node)) return -1;
    if (exprc_gemm_operand(pool, b, &cb, size, &tb, &ldb, &pb, error, node)) {
        exprc_release(pool, ca.owner);
        return -1;
    }
    exprc_blas_threads_for(m, n, k);
    EXPRC_GEMM_BLAS(EXPRC_CBLAS_ROW_MAJOR, ta ? EXPRC_CBLAS_TRANS : EXPRC_CBLAS_NO_TRANS,
                    tb ? EXPRC_CBLAS_TRANS : EXPRC_CBLAS_NO_TRANS, (exprc_blasint)m,
                    (exprc_blasint)n, (exprc_blasint)k, alpha, (const EXPRC_T *)pa,
                    (exprc_blasint)lda, (const EXPRC_T *)pb, (exprc_blasint)ldb, beta, c,
                    (exprc_blasint)ldc);
    exprc_release(pool, ca.owner);
    exprc_release(pool, cb.owner);
    return 0;
}

EXPRC_EXPORT int EXPRC_TYPED(exprc_gemm_enlarged)(exprc_pool *pool, const exprc_array *z,
                                                  const exprc_array *x, const exprc_array *y,
                                                  exprc_array *out, EXPRC_T alpha,
                                                  EXPRC_T beta, exprc_error *error,
                                                  int64_t node)
{
    const int64_t m = x->shape[0], n = y->shape[1], size = (int64_t)sizeof(EXPRC_T);
    exprc_array P;
    memset(&P, 0, sizeof P);
    P.ndim = 2; P.shape[0] = m; P.shape[1] = n;
    if (exprc_alloc_array(pool, &P, size, error, node)) return -1;
    if (EXPRC_TYPED(exprc_gemm)(pool, x, y, P.data, n > 1 ? n : 1, 1, 0, 0, error, node)) {
        exprc_release(pool, P.owner);
        return -1;
    }
    out->ndim = 2;
    out->shape[0] = m > z->shape[0] ? m : z->shape[0];
    out->shape[1] = n > z->shape[1] ? n : z->shape[1];
    if (exprc_alloc_array(pool, out, size, error, node)) {
        exprc_release(pool, P.owner);
        return -1;
    }
    const EXPRC_T *p = (const EXPRC_T *)P.data;
    for (int64_t i = 0; i < out->shape[0]; ++i)
        for (int64_t j = 0; j < out->shape[1]; ++j) {
            EXPRC_T zv = *(const EXPRC_T *)(z->data + (z->shape[0] > 1 ? i : 0) * z->strides[0]
                                            + (z->shape[1] > 1 ? j : 0) * z->strides[1]);
            EXPRC_T pv = p[(m > 1 ? i : 0) * n + (n > 1 ? j : 0)];
            ((EXPRC_T *)out->data)[i * out->shape[1] + j] = beta * zv + alpha * pv;
        }
    exprc_release(pool, P.owner);
    return 0;
}

EXPRC_EXPORT int EXPRC_TYPED(exprc_gemm_node)(exprc_pool *pool, exprc_array *out,
                                              const exprc_array *z, const exprc_array *x,
                                              const exprc_array *y, EXPRC_T alpha, EXPRC_T beta,
                                              int inplace, const char *label,
                                              exprc_error *error, int64_t node)
{
    const int64_t size = (int64_t)sizeof(EXPRC_T);
    if (!exprc_product_sizes_ok(x, y, label, error, node)) return -1;
    const int64_t m = x->shape[0], n = y->shape[1];
    if ((z->shape[0] != 1 && m != 1 && z->shape[0] != m)
        || (z->shape[1] != 1 && n != 1 && z->shape[1] != n))
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: z of shape %s does not broadcast to the product's "
                               "shape (%lld, %lld)", label, exprc_shape_str(z),
                               (long long)m, (long long)n);
    /* z larger than the product, which then broadcasts: formed element by element. */
    if ((z->shape[0] != m && m == 1) || (z->shape[1] != n && n == 1))
        return EXPRC_TYPED(exprc_gemm_enlarged)(pool, z, x, y, out, alpha, beta, error, node);
    if (inplace && exprc_refs(z->owner) == 1 && z->shape[0] == m && z->shape[1] == n
        && (n <= 1 || z->strides[1] == size)
        && (m <= 1 || (z->strides[0] % size == 0
                       && z->strides[0] >= (n > 1 ? n : 1) * size))) {
        *out = *z;
        exprc_retain(out->owner);
    } else {
        out->ndim = 2; out->shape[0] = m; out->shape[1] = n;
        if (exprc_alloc_array(pool, out, size, error, node)) return -1;
        exprc_assign(out, z, size);
    }
    const int64_t ldc = m > 1 ? out->strides[0] / size : (n > 1 ? n : 1);
    return EXPRC_TYPED(exprc_gemm)(pool, x, y, out->data, ldc, alpha, beta, 1, error, node);
}

EXPRC_EXPORT int EXPRC_TYPED(exprc_dot_node)(exprc_pool *pool, exprc_array *out,
                                             const exprc_array *a, const exprc_array *b,
                                             const char *label, exprc_error *error, int64_t node)
{
    const exprc_array A = exprc_as_matrix(a, 1), B = exprc_as_matrix(b, 0);
    if (!exprc_product_sizes_ok(&A, &B, label, error, node)) return -1;
    out->ndim = 0;
    if (a->ndim == 2) out->shape[out->ndim++] = a->shape[0];
    if (b->ndim == 2) out->shape[out->ndim++] = b->shape[1];
    if (exprc_alloc_array(pool, out, (int64_t)sizeof(EXPRC_T), error, node)) return -1;
    return EXPRC_TYPED(exprc_gemm)(pool, &A, &B, out->data, B.shape[1] > 1 ? B.shape[1] : 1, 1,
                                   0, 0, error, node);
}

#undef EXPRC_GEMM_BLAS
#undef EXPRC_TYPED
#undef EXPRC_T
