/* LAPACK routines, bound at load time, and the matrix functions built on them (the nodes of
 * the slinalg and nlinalg op families).
 *
 * As with CBLAS (exprc_blas.h), the runtime library does not link to OpenBLAS: Python hands
 * the addresses of the scipy-openblas32 build's Fortran LAPACK symbols (scipy_dpotrf_, ...) to
 * exprc_lapack_bind.  Fortran passes every argument by address, integers are 32-bit in that
 * build (callers check that sizes fit), matrices are column-major, and each character argument
 * carries its length as a hidden trailing argument (gfortran's convention), which the
 * prototypes below spell out.
 *
 * The node functions take exprc_arrays of any strides, copy them into column-major work
 * buffers from the call's pool, call LAPACK, and write fresh C-contiguous outputs (allocated
 * here).  They check what only run time tells (square matrices, matching rows, sizes within
 * LAPACK's reach, values an iterative routine cannot converge on) and map a routine's
 * failure (info != 0) to an error naming `label` (the op).  Each returns 0, or -1 after
 * filling the error. */
#ifndef EXPRC_LAPACK_H
#define EXPRC_LAPACK_H

#include "exprc_blas.h"
#include "exprc_runtime.h"

typedef int32_t exprc_lapack_int;

/* CBLAS's column-major order (fixed by the standard), for products of LAPACK's matrices. */
enum { EXPRC_CBLAS_COL_MAJOR = 102 };

/* The routines of one element type: `void *` stands for float * or double *. */
typedef void exprc_potrf_fn(const char *uplo, const exprc_lapack_int *n, void *a,
                            const exprc_lapack_int *lda, exprc_lapack_int *info, size_t);
typedef void exprc_potrs_fn(const char *uplo, const exprc_lapack_int *n,
                            const exprc_lapack_int *nrhs, const void *a,
                            const exprc_lapack_int *lda, void *b, const exprc_lapack_int *ldb,
                            exprc_lapack_int *info, size_t);
typedef void exprc_gesv_fn(const exprc_lapack_int *n, const exprc_lapack_int *nrhs, void *a,
                           const exprc_lapack_int *lda, exprc_lapack_int *ipiv, void *b,
                           const exprc_lapack_int *ldb, exprc_lapack_int *info);
typedef void exprc_getrf_fn(const exprc_lapack_int *m, const exprc_lapack_int *n, void *a,
                            const exprc_lapack_int *lda, exprc_lapack_int *ipiv,
                            exprc_lapack_int *info);
typedef void exprc_trtrs_fn(const char *uplo, const char *trans, const char *diag,
                            const exprc_lapack_int *n, const exprc_lapack_int *nrhs,
                            const void *a, const exprc_lapack_int *lda, void *b,
                            const exprc_lapack_int *ldb, exprc_lapack_int *info, size_t,
                            size_t, size_t);
typedef void exprc_sysv_fn(const char *uplo, const exprc_lapack_int *n,
                           const exprc_lapack_int *nrhs, void *a, const exprc_lapack_int *lda,
                           exprc_lapack_int *ipiv, void *b, const exprc_lapack_int *ldb,
                           void *work, const exprc_lapack_int *lwork, exprc_lapack_int *info,
                           size_t);
typedef void exprc_syevd_fn(const char *jobz, const char *uplo, const exprc_lapack_int *n,
                            void *a, const exprc_lapack_int *lda, void *w, void *work,
                            const exprc_lapack_int *lwork, exprc_lapack_int *iwork,
                            const exprc_lapack_int *liwork, exprc_lapack_int *info, size_t,
                            size_t);
typedef void exprc_sygvd_fn(const exprc_lapack_int *itype, const char *jobz, const char *uplo,
                            const exprc_lapack_int *n, void *a, const exprc_lapack_int *lda,
                            void *b, const exprc_lapack_int *ldb, void *w, void *work,
                            const exprc_lapack_int *lwork, exprc_lapack_int *iwork,
                            const exprc_lapack_int *liwork, exprc_lapack_int *info, size_t,
                            size_t);
typedef void exprc_gesdd_fn(const char *jobz, const exprc_lapack_int *m,
                            const exprc_lapack_int *n, void *a, const exprc_lapack_int *lda,
                            void *s, void *u, const exprc_lapack_int *ldu, void *vt,
                            const exprc_lapack_int *ldvt, void *work,
                            const exprc_lapack_int *lwork, exprc_lapack_int *iwork,
                            exprc_lapack_int *info, size_t);
typedef void exprc_geqrf_fn(const exprc_lapack_int *m, const exprc_lapack_int *n, void *a,
                            const exprc_lapack_int *lda, void *tau, void *work,
                            const exprc_lapack_int *lwork, exprc_lapack_int *info);
typedef void exprc_orgqr_fn(const exprc_lapack_int *m, const exprc_lapack_int *n,
                            const exprc_lapack_int *k, void *a, const exprc_lapack_int *lda,
                            const void *tau, void *work, const exprc_lapack_int *lwork,
                            exprc_lapack_int *info);
typedef void exprc_geev_fn(const char *jobvl, const char *jobvr, const exprc_lapack_int *n,
                           void *a, const exprc_lapack_int *lda, void *wr, void *wi, void *vl,
                           const exprc_lapack_int *ldvl, void *vr,
                           const exprc_lapack_int *ldvr, void *work,
                           const exprc_lapack_int *lwork, exprc_lapack_int *info, size_t,
                           size_t);
typedef void exprc_gelsd_fn(const exprc_lapack_int *m, const exprc_lapack_int *n,
                            const exprc_lapack_int *nrhs, void *a, const exprc_lapack_int *lda,
                            void *b, const exprc_lapack_int *ldb, void *s, const void *rcond,
                            exprc_lapack_int *rank, void *work, const exprc_lapack_int *lwork,
                            exprc_lapack_int *iwork, exprc_lapack_int *info);

/* The routines bound, in the order exprc_lapack_bind receives them (for each type, float32
 * first): exprc/link/c/lapack.py lists the same names. */
#define EXPRC_LAPACK_ROUTINES(X) \
    X(potrf) X(potrs) X(gesv) X(getrf) X(trtrs) X(sysv) X(syevd) X(sygvd) \
    X(gesdd) X(geqrf) X(orgqr) X(geev) X(gelsd)

#define EXPRC_LAPACK_FIELD(name) exprc_##name##_fn *name;
typedef struct {
    EXPRC_LAPACK_ROUTINES(EXPRC_LAPACK_FIELD)
} exprc_lapack_table;
#undef EXPRC_LAPACK_FIELD

/* The bound routines of each type (all NULL until exprc_lapack_bind is called). */
extern exprc_lapack_table exprc_lapack_float32, exprc_lapack_float64;

/* Bind the routines: `count` addresses, the float32 ones then the float64 ones, each in the
 * order of EXPRC_LAPACK_ROUTINES.  Returns 0, or -1 when `count` is not that number. */
EXPRC_EXPORT int exprc_lapack_bind(void *const *routines, int count);

/* ---------------------------------------------------------------- the nodes
 * Each entry point exists as <stem>_float32 and <stem>_float64 (exprc_lapack_body.h), of one
 * function type; its inputs and outputs all have that dtype, except the int64 rank of lstsq. */

/* Cholesky factor of the lower (or upper) triangle of a; with nan_on_error a matrix that is not
 * positive definite gives NaNs instead of an error. */
typedef int exprc_cholesky_entry(exprc_pool *pool, exprc_array *out, const exprc_array *a,
                                 int lower, int nan_on_error, const char *label,
                                 exprc_error *error, int64_t node);
EXPRC_EXPORT exprc_cholesky_entry exprc_cholesky_float32, exprc_cholesky_float64;

/* a @ x = b by the structure of a: 0 general, 1 symmetric (the lower or upper triangle read),
 * 2 triangular (that triangle; with trans a.T @ x = b; with unit a unit diagonal). */
typedef int exprc_solve_entry(exprc_pool *pool, exprc_array *out, const exprc_array *a,
                              const exprc_array *b, int structure, int lower, int trans,
                              int unit, const char *label, exprc_error *error, int64_t node);
EXPRC_EXPORT exprc_solve_entry exprc_solve_float32, exprc_solve_float64;

/* (c c^T) x = b for a lower factor c, (c^T c) x = b for an upper one. */
typedef int exprc_cho_solve_entry(exprc_pool *pool, exprc_array *out, const exprc_array *c,
                                  const exprc_array *b, int lower, const char *label,
                                  exprc_error *error, int64_t node);
EXPRC_EXPORT exprc_cho_solve_entry exprc_cho_solve_float32, exprc_cho_solve_float64;

/* Eigenvalues w (ascending) of the symmetric a, or of a v = w b v when b is not NULL, and the
 * eigenvectors (the columns of v) when v is not NULL; one triangle of each matrix is read. */
typedef int exprc_eigh_entry(exprc_pool *pool, exprc_array *w, exprc_array *v,
                             const exprc_array *a, const exprc_array *b, int lower,
                             const char *label, exprc_error *error, int64_t node);
EXPRC_EXPORT exprc_eigh_entry exprc_eigh_float32, exprc_eigh_float64;

/* A function of a square matrix into one output: inverse, determinant (0-d), exponential
 * (computed in double precision). */
typedef int exprc_matrix_entry(exprc_pool *pool, exprc_array *out, const exprc_array *a,
                               const char *label, exprc_error *error, int64_t node);
EXPRC_EXPORT exprc_matrix_entry exprc_inverse_float32, exprc_inverse_float64;
EXPRC_EXPORT exprc_matrix_entry exprc_det_float32, exprc_det_float64;
EXPRC_EXPORT exprc_matrix_entry exprc_expm_float32, exprc_expm_float64;

/* Pseudo-inverse, singular values below rcond times the largest taken as zero. */
typedef int exprc_pinv_entry(exprc_pool *pool, exprc_array *out, const exprc_array *a,
                             double rcond, const char *label, exprc_error *error, int64_t node);
EXPRC_EXPORT exprc_pinv_entry exprc_pinv_float32, exprc_pinv_float64;

/* a = u diag(s) vt; u and vt NULL for the values alone; with full, square u and vt. */
typedef int exprc_svd_entry(exprc_pool *pool, exprc_array *u, exprc_array *s, exprc_array *vt,
                            const exprc_array *a, int full, const char *label,
                            exprc_error *error, int64_t node);
EXPRC_EXPORT exprc_svd_entry exprc_svd_float32, exprc_svd_float64;

/* a = q r; mode 0 reduced, 1 complete, 2 r alone (q NULL). */
typedef int exprc_qr_entry(exprc_pool *pool, exprc_array *q, exprc_array *r,
                           const exprc_array *a, int mode, const char *label,
                           exprc_error *error, int64_t node);
EXPRC_EXPORT exprc_qr_entry exprc_qr_float32, exprc_qr_float64;

/* Real eigenvalues and unit right eigenvectors of a (an error for complex ones). */
typedef int exprc_eig_entry(exprc_pool *pool, exprc_array *w, exprc_array *v,
                            const exprc_array *a, const char *label, exprc_error *error,
                            int64_t node);
EXPRC_EXPORT exprc_eig_entry exprc_eig_float32, exprc_eig_float64;

/* numpy.linalg.lstsq (solution, residuals, int64 rank, singular values); rcond NaN: the
 * dtype's machine epsilon times max(m, n) (NumPy's default), negative: machine precision. */
typedef int exprc_lstsq_entry(exprc_pool *pool, exprc_array *x, exprc_array *residuals,
                              exprc_array *rank, exprc_array *s, const exprc_array *a,
                              const exprc_array *b, double rcond, const char *label,
                              exprc_error *error, int64_t node);
EXPRC_EXPORT exprc_lstsq_entry exprc_lstsq_float32, exprc_lstsq_float64;

#endif /* EXPRC_LAPACK_H */
