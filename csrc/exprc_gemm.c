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

/* The typed entry points (see csrc/README.md, "Typed kernels"). */
#define EXPRC_T float
#define EXPRC_TYPED(stem) stem##_float32
#define EXPRC_GEMM_BLAS exprc_blas.sgemm
#include "exprc_gemm_body.h"

#define EXPRC_T double
#define EXPRC_TYPED(stem) stem##_float64
#define EXPRC_GEMM_BLAS exprc_blas.dgemm
#include "exprc_gemm_body.h"
