/* The CBLAS routines the runtime library calls, bound at load time.
 *
 * The runtime library is built once (at install time, or once per machine) and must not
 * depend on where the scipy-openblas32 wheel sits, so it does not link to OpenBLAS: Python
 * loads the wheel's library and hands the addresses of its prefixed symbols
 * (scipy_cblas_sgemm, ...) to exprc_blas_bind (see exprc/link/c/runtime.py).  The
 * integer type of dimensions is 32-bit in that build: callers check that sizes fit first.
 */
#ifndef EXPRC_BLAS_H
#define EXPRC_BLAS_H

#include "exprc_common.h"

/* The CBLAS enumerations' values are fixed by the CBLAS standard. */
enum { EXPRC_CBLAS_ROW_MAJOR = 101 };
enum { EXPRC_CBLAS_NO_TRANS = 111, EXPRC_CBLAS_TRANS = 112 };

typedef int32_t exprc_blasint;

typedef void (*exprc_sgemm_fn)(int order, int trans_a, int trans_b, exprc_blasint m,
                               exprc_blasint n, exprc_blasint k, float alpha, const float *a,
                               exprc_blasint lda, const float *b, exprc_blasint ldb,
                               float beta, float *c, exprc_blasint ldc);
typedef void (*exprc_dgemm_fn)(int order, int trans_a, int trans_b, exprc_blasint m,
                               exprc_blasint n, exprc_blasint k, double alpha, const double *a,
                               exprc_blasint lda, const double *b, exprc_blasint ldb,
                               double beta, double *c, exprc_blasint ldc);

typedef struct {
    exprc_sgemm_fn sgemm;
    exprc_dgemm_fn dgemm;
} exprc_blas_table;

/* The bound routines (NULL until exprc_blas_bind is called). */
extern exprc_blas_table exprc_blas;

/* Bind the CBLAS routines; called once by Python when the runtime library is loaded. */
EXPRC_EXPORT void exprc_blas_bind(void *sgemm, void *dgemm);

#endif /* EXPRC_BLAS_H */
