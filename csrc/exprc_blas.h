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

/* Thread policy of the products (exprc_gemm.c).  Python hands over OpenBLAS's
 * openblas_set_num_threads, the thread count it applied (exprc.config.blas_threads, else
 * OpenMP's) and whether to back off under contention (exprc.config.thread_backoff); from then
 * on each product picks its own count: one thread for a product too small or too thin to gain
 * from a second (its packing and the wake-up of a worker cost more), and one thread, for the
 * products and for the calling thread's OpenMP loops, while the machine is oversubscribed
 * (see exprc_blas_threads_for). */
EXPRC_EXPORT void exprc_blas_bind_threads(void *set_num_threads, int count, int backoff);

/* Set OpenBLAS's thread count for the product of an m x k and a k x n matrix, by the policy
 * above, and return it (the count applied, or 0 while no setter is bound). */
int exprc_blas_threads_for(int64_t m, int64_t n, int64_t k);

/* Whether the thread policy found the machine oversubscribed at its last look (for tests and
 * the profile): 1 busy, 0 not. */
EXPRC_EXPORT int exprc_blas_contended(void);

#endif /* EXPRC_BLAS_H */
