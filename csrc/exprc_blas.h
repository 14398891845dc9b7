/* CBLAS calls for generated code, independent of how the BLAS build names its symbols.
 *
 * The scipy-openblas32 wheel prefixes every symbol (scipy_cblas_sgemm, ...) so that it can live
 * next to other BLAS copies in one process.  The build passes that prefix as EXPRC_BLAS_PREFIX
 * (see exprc/link/c/blas.py); generated code calls exprc_cblas_* and never spells the prefix.
 * The integer type of dimensions is blasint (32-bit in this build): callers convert exprc_int
 * shapes after checking that they fit.
 */
#ifndef EXPRC_BLAS_H
#define EXPRC_BLAS_H

#include <cblas.h>

#ifndef EXPRC_BLAS_PREFIX
#define EXPRC_BLAS_PREFIX
#endif

#define EXPRC_BLAS_CAT_(a, b) a##b
#define EXPRC_BLAS_CAT(a, b) EXPRC_BLAS_CAT_(a, b)
#define EXPRC_BLAS_NAME(name) EXPRC_BLAS_CAT(EXPRC_BLAS_PREFIX, name)

#define exprc_cblas_sgemm EXPRC_BLAS_NAME(cblas_sgemm)
#define exprc_cblas_dgemm EXPRC_BLAS_NAME(cblas_dgemm)
#define exprc_cblas_sgemv EXPRC_BLAS_NAME(cblas_sgemv)
#define exprc_cblas_dgemv EXPRC_BLAS_NAME(cblas_dgemv)
#define exprc_cblas_sdot EXPRC_BLAS_NAME(cblas_sdot)
#define exprc_cblas_ddot EXPRC_BLAS_NAME(cblas_ddot)
#define exprc_cblas_sger EXPRC_BLAS_NAME(cblas_sger)
#define exprc_cblas_dger EXPRC_BLAS_NAME(cblas_dger)
#define exprc_cblas_saxpy EXPRC_BLAS_NAME(cblas_saxpy)
#define exprc_cblas_daxpy EXPRC_BLAS_NAME(cblas_daxpy)

#endif /* EXPRC_BLAS_H */
