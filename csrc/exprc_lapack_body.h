/* The matrix functions of one element type, included by exprc_lapack.c once per type.
 *
 * Protocol (csrc/README.md, "Typed kernels"): the includer defines
 *     EXPRC_T              the element type: float or double
 *     EXPRC_TYPED(stem)    stem##_<dtype>: the name of the type's version of `stem`
 *     EXPRC_LAPACK         the bound LAPACK routines of EXPRC_T (exprc_lapack_float32, ...)
 *     EXPRC_LAPACK_GEMM    the bound CBLAS gemm of EXPRC_T
 *     EXPRC_LAPACK_EPS     the machine epsilon of EXPRC_T
 *     EXPRC_LAPACK_PREFIX  LAPACK's letter for EXPRC_T ("s" or "d"), for messages
 * and this file defines the node functions declared in exprc_lapack.h, then undefines the six
 * macros.  No include guard.
 *
 * Every matrix goes through a column-major work buffer: element (i, j) at [i + j * ld]. */

/* a (a matrix, or a vector read as one column) into dst, columns ld elements apart. */
static void EXPRC_TYPED(lapack_load)(const exprc_array *a, EXPRC_T *dst, int64_t ld)
{
    const int64_t rows = a->shape[0], cols = a->ndim == 2 ? a->shape[1] : 1;
    const int64_t s0 = a->strides[0], s1 = a->ndim == 2 ? a->strides[1] : 0;
    for (int64_t j = 0; j < cols; ++j)
        for (int64_t i = 0; i < rows; ++i)
            dst[i + j * ld] = *(const EXPRC_T *)(a->data + i * s0 + j * s1);
}

/* The column-major src (columns ld apart) into the fresh C-contiguous out (a matrix, or a
 * vector taken from one column), keeping the lower (part 1) or upper (part 2) triangle only,
 * or everything (part 0). */
static void EXPRC_TYPED(lapack_store)(const EXPRC_T *src, int64_t ld, exprc_array *out,
                                      int part)
{
    EXPRC_T *o = (EXPRC_T *)out->data;
    const int64_t rows = out->shape[0], cols = out->ndim == 2 ? out->shape[1] : 1;
    for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) {
            const int keep = part == 0 || (part == 1 ? i >= j : i <= j);
            o[i * cols + j] = keep ? src[i + j * ld] : (EXPRC_T)0;
        }
}

/* Whether the rows x cols values at p (columns ld apart) are all finite. */
static int EXPRC_TYPED(lapack_finite)(const EXPRC_T *p, int64_t rows, int64_t cols, int64_t ld)
{
    for (int64_t j = 0; j < cols; ++j)
        for (int64_t i = 0; i < rows; ++i)
            if (!isfinite(p[i + j * ld])) return 0;
    return 1;
}

/* The matrix a loaded into a fresh column-major buffer of `cols` columns (at least a's), or
 * NULL after filling the error; with `finite`, NaN and infinity are an error naming `name`. */
static EXPRC_T *EXPRC_TYPED(lapack_copy)(exprc_pool *pool, const exprc_array *a, int64_t ld,
                                         int64_t cols, int finite, const char *name,
                                         const char *label, exprc_error *error, int64_t node)
{
    EXPRC_T *buf = lapack_scratch(pool, ld * cols, sizeof(EXPRC_T), label, error, node);
    if (buf == NULL) return NULL;
    EXPRC_TYPED(lapack_load)(a, buf, ld);
    if (finite && !EXPRC_TYPED(lapack_finite)(buf, a->shape[0], a->ndim == 2 ? a->shape[1] : 1,
                                              ld)) {
        exprc_release(pool, buf);
        lapack_error(error, node, label, "%s holds NaN or infinity", name);
        return NULL;
    }
    return buf;
}

static void EXPRC_TYPED(lapack_fill)(exprc_array *out, EXPRC_T value)
{
    const int64_t n = exprc_size(out->ndim, out->shape, 1);
    for (int64_t i = 0; i < n; ++i) ((EXPRC_T *)out->data)[i] = value;
}

/* out: a fresh identity matrix of its shape (rows x cols). */
static void EXPRC_TYPED(lapack_identity)(exprc_array *out)
{
    EXPRC_TYPED(lapack_fill)(out, 0);
    const int64_t rows = out->shape[0], cols = out->shape[1];
    for (int64_t i = 0; i < rows && i < cols; ++i) ((EXPRC_T *)out->data)[i * cols + i] = 1;
}

static int EXPRC_TYPED(lapack_alloc)(exprc_pool *pool, exprc_array *out, int64_t ndim,
                                     int64_t rows, int64_t cols, exprc_error *error,
                                     int64_t node)
{
    out->ndim = ndim;
    if (ndim > 0) out->shape[0] = rows;
    if (ndim > 1) out->shape[1] = cols;
    return exprc_alloc_array(pool, out, sizeof(EXPRC_T), error, node);
}

/* ---------------------------------------------------------------- Cholesky */
EXPRC_EXPORT int EXPRC_TYPED(exprc_cholesky)(exprc_pool *pool, exprc_array *out,
                                             const exprc_array *a, int lower,
                                             int nan_on_error, const char *label,
                                             exprc_error *error, int64_t node)
{
    if (lapack_unbound(&EXPRC_LAPACK, label, error, node)) return -1;
    if (lapack_not_square(a, "x", label, error, node)) return -1;
    const int64_t n64 = a->shape[0];
    if (lapack_too_large(n64, n64, label, error, node)) return -1;
    if (EXPRC_TYPED(lapack_alloc)(pool, out, 2, n64, n64, error, node)) return -1;
    if (n64 == 0) return 0;
    EXPRC_T *buf = EXPRC_TYPED(lapack_copy)(pool, a, n64, n64, 0, "x", label, error, node);
    if (buf == NULL) return -1;
    const exprc_lapack_int n = (exprc_lapack_int)n64;
    exprc_lapack_int info = 0;
    EXPRC_LAPACK.potrf(lower ? "L" : "U", &n, buf, &n, &info, 1);
    int status = 0;
    if (info < 0) status = lapack_rejected(EXPRC_LAPACK_PREFIX "potrf", info, label, error, node);
    else if (info > 0 && nan_on_error) EXPRC_TYPED(lapack_fill)(out, (EXPRC_T)NAN);
    else if (info > 0)
        status = lapack_error(error, node, label, "the matrix is not positive definite "
                              "(leading minor %d)", (int)info);
    else EXPRC_TYPED(lapack_store)(buf, n64, out, lower ? 1 : 2);
    exprc_release(pool, buf);
    return status;
}

/* ---------------------------------------------------------------- linear systems */
/* The checks of a x = b (a square, b with a's rows) and the output, shaped as b. */
static int EXPRC_TYPED(lapack_system)(exprc_pool *pool, exprc_array *out, const exprc_array *a,
                                      const exprc_array *b, const char *name,
                                      const char *label, exprc_error *error, int64_t node)
{
    if (lapack_unbound(&EXPRC_LAPACK, label, error, node)) return -1;
    if (lapack_not_square(a, name, label, error, node)) return -1;
    if (b->shape[0] != a->shape[0])
        return lapack_error(error, node, label, "%s is %lld x %lld but b has %lld rows", name,
                            (long long)a->shape[0], (long long)a->shape[1],
                            (long long)b->shape[0]);
    const int64_t nrhs = b->ndim == 2 ? b->shape[1] : 1;
    if (lapack_too_large(a->shape[0], nrhs, label, error, node)) return -1;
    return EXPRC_TYPED(lapack_alloc)(pool, out, b->ndim, b->shape[0], nrhs, error, node);
}

EXPRC_EXPORT int EXPRC_TYPED(exprc_solve)(exprc_pool *pool, exprc_array *out,
                                          const exprc_array *a, const exprc_array *b,
                                          int structure, int lower, int trans, int unit,
                                          const char *label, exprc_error *error, int64_t node)
{
    if (EXPRC_TYPED(lapack_system)(pool, out, a, b, "a", label, error, node)) return -1;
    const int64_t n64 = a->shape[0], nrhs64 = b->ndim == 2 ? b->shape[1] : 1;
    if (n64 == 0 || nrhs64 == 0) return 0;
    const exprc_lapack_int n = (exprc_lapack_int)n64, nrhs = (exprc_lapack_int)nrhs64;
    EXPRC_T *A = EXPRC_TYPED(lapack_copy)(pool, a, n64, n64, 0, "a", label, error, node);
    if (A == NULL) return -1;
    EXPRC_T *B = EXPRC_TYPED(lapack_copy)(pool, b, n64, nrhs64, 0, "b", label, error, node);
    exprc_lapack_int *ipiv = NULL;
    EXPRC_T *work = NULL;
    exprc_lapack_int info = 0;
    int status = -1;
    const char *uplo = lower ? "L" : "U";
    if (B == NULL) goto done;
    if (structure == 2) {
        EXPRC_LAPACK.trtrs(uplo, trans ? "T" : "N", unit ? "U" : "N", &n, &nrhs, A, &n, B, &n,
                           &info, 1, 1, 1);
        if (info > 0) {
            lapack_error(error, node, label, "the triangular matrix is singular (diagonal "
                         "entry %d is zero)", (int)info);
            goto done;
        }
    } else {
        ipiv = lapack_scratch(pool, n64, sizeof *ipiv, label, error, node);
        if (ipiv == NULL) goto done;
        if (structure == 0) {
            EXPRC_LAPACK.gesv(&n, &nrhs, A, &n, ipiv, B, &n, &info);
        } else {
            EXPRC_T asked = 0;
            const exprc_lapack_int query = -1;
            EXPRC_LAPACK.sysv(uplo, &n, &nrhs, A, &n, ipiv, B, &n, &asked, &query, &info, 1);
            const exprc_lapack_int lwork = lapack_lwork(asked);
            work = lapack_scratch(pool, lwork, sizeof *work, label, error, node);
            if (work == NULL) goto done;
            EXPRC_LAPACK.sysv(uplo, &n, &nrhs, A, &n, ipiv, B, &n, work, &lwork, &info, 1);
        }
        if (info > 0) {
            lapack_error(error, node, label, "the matrix is singular");
            goto done;
        }
    }
    if (info < 0) {
        lapack_rejected(structure == 2 ? EXPRC_LAPACK_PREFIX "trtrs" : structure == 0
                        ? EXPRC_LAPACK_PREFIX "gesv" : EXPRC_LAPACK_PREFIX "sysv", info, label,
                        error, node);
        goto done;
    }
    EXPRC_TYPED(lapack_store)(B, n64, out, 0);
    status = 0;
done:
    exprc_release(pool, work);
    exprc_release(pool, ipiv);
    exprc_release(pool, B);
    exprc_release(pool, A);
    return status;
}

EXPRC_EXPORT int EXPRC_TYPED(exprc_cho_solve)(exprc_pool *pool, exprc_array *out,
                                              const exprc_array *c, const exprc_array *b,
                                              int lower, const char *label,
                                              exprc_error *error, int64_t node)
{
    if (EXPRC_TYPED(lapack_system)(pool, out, c, b, "c", label, error, node)) return -1;
    const int64_t n64 = c->shape[0], nrhs64 = b->ndim == 2 ? b->shape[1] : 1;
    if (n64 == 0 || nrhs64 == 0) return 0;
    const exprc_lapack_int n = (exprc_lapack_int)n64, nrhs = (exprc_lapack_int)nrhs64;
    EXPRC_T *C = EXPRC_TYPED(lapack_copy)(pool, c, n64, n64, 0, "c", label, error, node);
    if (C == NULL) return -1;
    EXPRC_T *B = EXPRC_TYPED(lapack_copy)(pool, b, n64, nrhs64, 0, "b", label, error, node);
    int status = -1;
    if (B != NULL) {
        exprc_lapack_int info = 0;
        EXPRC_LAPACK.potrs(lower ? "L" : "U", &n, &nrhs, C, &n, B, &n, &info, 1);
        if (info < 0) lapack_rejected(EXPRC_LAPACK_PREFIX "potrs", info, label, error, node);
        else {
            EXPRC_TYPED(lapack_store)(B, n64, out, 0);
            status = 0;
        }
    }
    exprc_release(pool, B);
    exprc_release(pool, C);
    return status;
}

/* ---------------------------------------------------------------- symmetric eigenproblems */
EXPRC_EXPORT int EXPRC_TYPED(exprc_eigh)(exprc_pool *pool, exprc_array *w, exprc_array *v,
                                         const exprc_array *a, const exprc_array *b, int lower,
                                         const char *label, exprc_error *error, int64_t node)
{
    if (lapack_unbound(&EXPRC_LAPACK, label, error, node)) return -1;
    if (lapack_not_square(a, "a", label, error, node)) return -1;
    const int64_t n64 = a->shape[0];
    if (b != NULL) {
        if (lapack_not_square(b, "b", label, error, node)) return -1;
        if (b->shape[0] != n64)
            return lapack_error(error, node, label, "a is %lld x %lld but b is %lld x %lld",
                                (long long)n64, (long long)n64, (long long)b->shape[0],
                                (long long)b->shape[0]);
    }
    if (lapack_too_large(n64, n64, label, error, node)) return -1;
    if (EXPRC_TYPED(lapack_alloc)(pool, w, 1, n64, 0, error, node)) return -1;
    if (v != NULL && EXPRC_TYPED(lapack_alloc)(pool, v, 2, n64, n64, error, node)) return -1;
    if (n64 == 0) return 0;
    const exprc_lapack_int n = (exprc_lapack_int)n64, itype = 1, query = -1;
    EXPRC_T *A = EXPRC_TYPED(lapack_copy)(pool, a, n64, n64, 1, "a", label, error, node);
    if (A == NULL) return -1;
    EXPRC_T *B = NULL, *work = NULL, asked = 0;
    exprc_lapack_int *iwork = NULL, iasked = 0, info = 0;
    int status = -1;
    const char *jobz = v != NULL ? "V" : "N", *uplo = lower ? "L" : "U";
    EXPRC_T *values = (EXPRC_T *)w->data;
    if (b != NULL) {
        B = EXPRC_TYPED(lapack_copy)(pool, b, n64, n64, 1, "b", label, error, node);
        if (B == NULL) goto done;
        EXPRC_LAPACK.sygvd(&itype, jobz, uplo, &n, A, &n, B, &n, values, &asked, &query,
                           &iasked, &query, &info, 1, 1);
    } else {
        EXPRC_LAPACK.syevd(jobz, uplo, &n, A, &n, values, &asked, &query, &iasked, &query,
                           &info, 1, 1);
    }
    const exprc_lapack_int lwork = lapack_lwork(asked), liwork = iasked > 1 ? iasked : 1;
    work = lapack_scratch(pool, lwork, sizeof *work, label, error, node);
    iwork = lapack_scratch(pool, liwork, sizeof *iwork, label, error, node);
    if (work == NULL || iwork == NULL) goto done;
    if (b != NULL)
        EXPRC_LAPACK.sygvd(&itype, jobz, uplo, &n, A, &n, B, &n, values, work, &lwork, iwork,
                           &liwork, &info, 1, 1);
    else
        EXPRC_LAPACK.syevd(jobz, uplo, &n, A, &n, values, work, &lwork, iwork, &liwork, &info,
                           1, 1);
    if (info < 0) {
        lapack_rejected(b != NULL ? EXPRC_LAPACK_PREFIX "sygvd" : EXPRC_LAPACK_PREFIX "syevd",
                        info, label, error, node);
        goto done;
    }
    if (info > n) {
        lapack_error(error, node, label, "the matrix b is not positive definite (leading minor "
                     "%d)", (int)(info - n));
        goto done;
    }
    if (info > 0) {
        lapack_unconverged(info, label, error, node);
        goto done;
    }
    if (v != NULL) EXPRC_TYPED(lapack_store)(A, n64, v, 0);
    status = 0;
done:
    exprc_release(pool, iwork);
    exprc_release(pool, work);
    exprc_release(pool, B);
    exprc_release(pool, A);
    return status;
}

/* ---------------------------------------------------------------- LU: inverse, determinant */
EXPRC_EXPORT int EXPRC_TYPED(exprc_inverse)(exprc_pool *pool, exprc_array *out,
                                            const exprc_array *a, const char *label,
                                            exprc_error *error, int64_t node)
{
    if (lapack_unbound(&EXPRC_LAPACK, label, error, node)) return -1;
    if (lapack_not_square(a, "x", label, error, node)) return -1;
    const int64_t n64 = a->shape[0];
    if (lapack_too_large(n64, n64, label, error, node)) return -1;
    if (EXPRC_TYPED(lapack_alloc)(pool, out, 2, n64, n64, error, node)) return -1;
    if (n64 == 0) return 0;
    const exprc_lapack_int n = (exprc_lapack_int)n64;
    EXPRC_T *A = EXPRC_TYPED(lapack_copy)(pool, a, n64, n64, 0, "x", label, error, node);
    if (A == NULL) return -1;
    /* a x = I by LU, as NumPy does: several times faster than getri with this OpenBLAS. */
    EXPRC_T *B = lapack_scratch(pool, n64 * n64, sizeof *B, label, error, node);
    exprc_lapack_int info = 0, *ipiv = lapack_scratch(pool, n64, sizeof *ipiv, label, error,
                                                      node);
    int status = -1;
    if (B != NULL && ipiv != NULL) {
        memset(B, 0, (size_t)(n64 * n64) * sizeof *B);
        for (int64_t i = 0; i < n64; ++i) B[i + i * n64] = 1;
        EXPRC_LAPACK.gesv(&n, &n, A, &n, ipiv, B, &n, &info);
        if (info < 0) lapack_rejected(EXPRC_LAPACK_PREFIX "gesv", info, label, error, node);
        else if (info > 0) lapack_error(error, node, label, "the matrix is singular");
        else {
            EXPRC_TYPED(lapack_store)(B, n64, out, 0);
            status = 0;
        }
    }
    exprc_release(pool, ipiv);
    exprc_release(pool, B);
    exprc_release(pool, A);
    return status;
}

EXPRC_EXPORT int EXPRC_TYPED(exprc_det)(exprc_pool *pool, exprc_array *out,
                                        const exprc_array *a, const char *label,
                                        exprc_error *error, int64_t node)
{
    if (lapack_unbound(&EXPRC_LAPACK, label, error, node)) return -1;
    if (lapack_not_square(a, "x", label, error, node)) return -1;
    const int64_t n64 = a->shape[0];
    if (lapack_too_large(n64, n64, label, error, node)) return -1;
    if (EXPRC_TYPED(lapack_alloc)(pool, out, 0, 0, 0, error, node)) return -1;
    EXPRC_T *result = (EXPRC_T *)out->data;
    *result = 1;
    if (n64 == 0) return 0;
    const exprc_lapack_int n = (exprc_lapack_int)n64;
    EXPRC_T *A = EXPRC_TYPED(lapack_copy)(pool, a, n64, n64, 0, "x", label, error, node);
    if (A == NULL) return -1;
    exprc_lapack_int info = 0, *ipiv = lapack_scratch(pool, n64, sizeof *ipiv, label, error,
                                                      node);
    int status = -1;
    if (ipiv != NULL) {
        /* A zero pivot (info > 0) still leaves the factors: the product is then zero. */
        EXPRC_LAPACK.getrf(&n, &n, A, &n, ipiv, &info);
        if (info < 0) lapack_rejected(EXPRC_LAPACK_PREFIX "getrf", info, label, error, node);
        else {
            EXPRC_T product = 1;
            for (int64_t i = 0; i < n64; ++i)
                product *= ipiv[i] != i + 1 ? -A[i + i * n64] : A[i + i * n64];
            *result = product;
            status = 0;
        }
    }
    exprc_release(pool, ipiv);
    exprc_release(pool, A);
    return status;
}

/* ---------------------------------------------------------------- singular values */
/* gesdd of the m x n matrix at A (column-major, lda m): s, and with jobz 'S' or 'A' u (ldu m)
 * and vt (ldvt rows). */
static int EXPRC_TYPED(lapack_gesdd)(exprc_pool *pool, const char *jobz, int64_t m64,
                                     int64_t n64, EXPRC_T *A, EXPRC_T *s, EXPRC_T *u,
                                     EXPRC_T *vt, int64_t ldvt64, const char *label,
                                     exprc_error *error, int64_t node)
{
    const int64_t k64 = m64 < n64 ? m64 : n64;
    const exprc_lapack_int m = (exprc_lapack_int)m64, n = (exprc_lapack_int)n64, query = -1;
    const exprc_lapack_int ldu = *jobz == 'N' ? 1 : m, ldvt = *jobz == 'N' ? 1
                                 : (exprc_lapack_int)ldvt64;
    EXPRC_T asked = 0, dummy = 0, *work = NULL;
    exprc_lapack_int info = 0;
    exprc_lapack_int *iwork = lapack_scratch(pool, 8 * k64, sizeof *iwork, label, error, node);
    int status = -1;
    if (iwork == NULL) return -1;
    u = u != NULL ? u : &dummy;
    vt = vt != NULL ? vt : &dummy;
    EXPRC_LAPACK.gesdd(jobz, &m, &n, A, &m, s, u, &ldu, vt, &ldvt, &asked, &query, iwork,
                       &info, 1);
    const exprc_lapack_int lwork = lapack_lwork(asked);
    work = lapack_scratch(pool, lwork, sizeof *work, label, error, node);
    if (work != NULL) {
        EXPRC_LAPACK.gesdd(jobz, &m, &n, A, &m, s, u, &ldu, vt, &ldvt, work, &lwork, iwork,
                           &info, 1);
        if (info < 0) lapack_rejected(EXPRC_LAPACK_PREFIX "gesdd", info, label, error, node);
        else if (info > 0) lapack_unconverged(info, label, error, node);
        else status = 0;
    }
    exprc_release(pool, work);
    exprc_release(pool, iwork);
    return status;
}

EXPRC_EXPORT int EXPRC_TYPED(exprc_pinv)(exprc_pool *pool, exprc_array *out,
                                         const exprc_array *a, double rcond, const char *label,
                                         exprc_error *error, int64_t node)
{
    if (lapack_unbound(&EXPRC_LAPACK, label, error, node)) return -1;
    const int64_t m64 = a->shape[0], n64 = a->shape[1], k64 = m64 < n64 ? m64 : n64;
    if (lapack_too_large(m64, n64, label, error, node)) return -1;
    if (EXPRC_TYPED(lapack_alloc)(pool, out, 2, n64, m64, error, node)) return -1;
    if (k64 == 0) return 0;
    EXPRC_T *A = EXPRC_TYPED(lapack_copy)(pool, a, m64, n64, 1, "x", label, error, node);
    if (A == NULL) return -1;
    EXPRC_T *s = lapack_scratch(pool, k64, sizeof *s, label, error, node);
    EXPRC_T *u = lapack_scratch(pool, m64 * k64, sizeof *u, label, error, node);
    EXPRC_T *vt = lapack_scratch(pool, k64 * n64, sizeof *vt, label, error, node);
    int status = -1;
    if (s != NULL && u != NULL && vt != NULL
            && !EXPRC_TYPED(lapack_gesdd)(pool, "S", m64, n64, A, s, u, vt, k64, label, error,
                                          node)) {
        /* pinv(a)^T = u diag(1 / s) vt, which is out read as an m x n column-major matrix. */
        const EXPRC_T cutoff = (EXPRC_T)(rcond * s[0]);
        for (int64_t l = 0; l < k64; ++l) {
            const EXPRC_T scale = s[l] > cutoff ? 1 / s[l] : 0;
            for (int64_t i = 0; i < m64; ++i) u[i + l * m64] *= scale;
        }
        EXPRC_LAPACK_GEMM(EXPRC_CBLAS_COL_MAJOR, EXPRC_CBLAS_NO_TRANS, EXPRC_CBLAS_NO_TRANS,
                          (exprc_blasint)m64, (exprc_blasint)n64, (exprc_blasint)k64, 1, u,
                          (exprc_blasint)m64, vt, (exprc_blasint)k64, 0,
                          (EXPRC_T *)out->data, (exprc_blasint)m64);
        status = 0;
    }
    exprc_release(pool, vt);
    exprc_release(pool, u);
    exprc_release(pool, s);
    exprc_release(pool, A);
    return status;
}

EXPRC_EXPORT int EXPRC_TYPED(exprc_svd)(exprc_pool *pool, exprc_array *u, exprc_array *s,
                                        exprc_array *vt, const exprc_array *a, int full,
                                        const char *label, exprc_error *error, int64_t node)
{
    if (lapack_unbound(&EXPRC_LAPACK, label, error, node)) return -1;
    const int64_t m64 = a->shape[0], n64 = a->shape[1], k64 = m64 < n64 ? m64 : n64;
    const int64_t u_cols = full ? m64 : k64, vt_rows = full ? n64 : k64;
    if (lapack_too_large(m64, n64, label, error, node)) return -1;
    if (EXPRC_TYPED(lapack_alloc)(pool, s, 1, k64, 0, error, node)) return -1;
    if (u != NULL) {
        if (EXPRC_TYPED(lapack_alloc)(pool, u, 2, m64, u_cols, error, node)) return -1;
        if (EXPRC_TYPED(lapack_alloc)(pool, vt, 2, vt_rows, n64, error, node)) return -1;
    }
    if (k64 == 0) {  /* no singular value: the full bases are identities */
        if (u != NULL) {
            EXPRC_TYPED(lapack_identity)(u);
            EXPRC_TYPED(lapack_identity)(vt);
        }
        return 0;
    }
    EXPRC_T *A = EXPRC_TYPED(lapack_copy)(pool, a, m64, n64, 1, "x", label, error, node);
    if (A == NULL) return -1;
    EXPRC_T *U = NULL, *VT = NULL;
    int status = -1;
    if (u != NULL) {
        U = lapack_scratch(pool, m64 * u_cols, sizeof *U, label, error, node);
        VT = lapack_scratch(pool, vt_rows * n64, sizeof *VT, label, error, node);
        if (U == NULL || VT == NULL) goto done;
    }
    if (EXPRC_TYPED(lapack_gesdd)(pool, u == NULL ? "N" : full ? "A" : "S", m64, n64, A,
                                  (EXPRC_T *)s->data, U, VT, vt_rows, label, error, node))
        goto done;
    if (u != NULL) {
        EXPRC_TYPED(lapack_store)(U, m64, u, 0);
        EXPRC_TYPED(lapack_store)(VT, vt_rows, vt, 0);
    }
    status = 0;
done:
    exprc_release(pool, VT);
    exprc_release(pool, U);
    exprc_release(pool, A);
    return status;
}

/* ---------------------------------------------------------------- QR */
EXPRC_EXPORT int EXPRC_TYPED(exprc_qr)(exprc_pool *pool, exprc_array *q, exprc_array *r,
                                       const exprc_array *a, int mode, const char *label,
                                       exprc_error *error, int64_t node)
{
    if (lapack_unbound(&EXPRC_LAPACK, label, error, node)) return -1;
    const int64_t m64 = a->shape[0], n64 = a->shape[1], k64 = m64 < n64 ? m64 : n64;
    const int64_t q_cols = mode == 1 ? m64 : k64;
    if (lapack_too_large(m64, n64, label, error, node)) return -1;
    if (EXPRC_TYPED(lapack_alloc)(pool, r, 2, q_cols, n64, error, node)) return -1;
    if (mode != 2 && EXPRC_TYPED(lapack_alloc)(pool, q, 2, m64, q_cols, error, node))
        return -1;
    if (k64 == 0) {
        EXPRC_TYPED(lapack_fill)(r, 0);
        if (mode != 2) EXPRC_TYPED(lapack_identity)(q);
        return 0;
    }
    /* Room for q's columns too: orgqr forms q where the reflectors are. */
    const int64_t cols = n64 > q_cols ? n64 : q_cols;
    EXPRC_T *A = EXPRC_TYPED(lapack_copy)(pool, a, m64, cols, 0, "x", label, error, node);
    if (A == NULL) return -1;
    const exprc_lapack_int m = (exprc_lapack_int)m64, n = (exprc_lapack_int)n64,
                           k = (exprc_lapack_int)k64, qc = (exprc_lapack_int)q_cols, query = -1;
    EXPRC_T asked = 0, *work = NULL;
    exprc_lapack_int info = 0, lwork = 0;
    EXPRC_T *tau = lapack_scratch(pool, k64, sizeof *tau, label, error, node);
    int status = -1;
    if (tau == NULL) goto done;
    EXPRC_LAPACK.geqrf(&m, &n, A, &m, tau, &asked, &query, &info);
    lwork = lapack_lwork(asked);
    if (mode != 2) {
        EXPRC_LAPACK.orgqr(&m, &qc, &k, A, &m, tau, &asked, &query, &info);
        if (lapack_lwork(asked) > lwork) lwork = lapack_lwork(asked);
    }
    work = lapack_scratch(pool, lwork, sizeof *work, label, error, node);
    if (work == NULL) goto done;
    EXPRC_LAPACK.geqrf(&m, &n, A, &m, tau, work, &lwork, &info);
    if (info < 0) {
        lapack_rejected(EXPRC_LAPACK_PREFIX "geqrf", info, label, error, node);
        goto done;
    }
    EXPRC_TYPED(lapack_store)(A, m64, r, 2);  /* r: the upper triangle, zeros below */
    if (mode != 2) {
        EXPRC_LAPACK.orgqr(&m, &qc, &k, A, &m, tau, work, &lwork, &info);
        if (info < 0) {
            lapack_rejected(EXPRC_LAPACK_PREFIX "orgqr", info, label, error, node);
            goto done;
        }
        EXPRC_TYPED(lapack_store)(A, m64, q, 0);
    }
    status = 0;
done:
    exprc_release(pool, work);
    exprc_release(pool, tau);
    exprc_release(pool, A);
    return status;
}

/* ---------------------------------------------------------------- general eigenproblem */
EXPRC_EXPORT int EXPRC_TYPED(exprc_eig)(exprc_pool *pool, exprc_array *w, exprc_array *v,
                                        const exprc_array *a, const char *label,
                                        exprc_error *error, int64_t node)
{
    if (lapack_unbound(&EXPRC_LAPACK, label, error, node)) return -1;
    if (lapack_not_square(a, "x", label, error, node)) return -1;
    const int64_t n64 = a->shape[0];
    if (lapack_too_large(n64, n64, label, error, node)) return -1;
    if (EXPRC_TYPED(lapack_alloc)(pool, w, 1, n64, 0, error, node)) return -1;
    if (EXPRC_TYPED(lapack_alloc)(pool, v, 2, n64, n64, error, node)) return -1;
    if (n64 == 0) return 0;
    EXPRC_T *A = EXPRC_TYPED(lapack_copy)(pool, a, n64, n64, 1, "x", label, error, node);
    if (A == NULL) return -1;
    const exprc_lapack_int n = (exprc_lapack_int)n64, one = 1, query = -1;
    EXPRC_T *wi = lapack_scratch(pool, n64, sizeof *wi, label, error, node);
    EXPRC_T *vr = lapack_scratch(pool, n64 * n64, sizeof *vr, label, error, node);
    EXPRC_T *wr = (EXPRC_T *)w->data, asked = 0, dummy = 0, *work = NULL;
    exprc_lapack_int info = 0;
    int status = -1;
    if (wi == NULL || vr == NULL) goto done;
    EXPRC_LAPACK.geev("N", "V", &n, A, &n, wr, wi, &dummy, &one, vr, &n, &asked, &query, &info,
                      1, 1);
    const exprc_lapack_int lwork = lapack_lwork(asked);
    work = lapack_scratch(pool, lwork, sizeof *work, label, error, node);
    if (work == NULL) goto done;
    EXPRC_LAPACK.geev("N", "V", &n, A, &n, wr, wi, &dummy, &one, vr, &n, work, &lwork, &info,
                      1, 1);
    if (info < 0) {
        lapack_rejected(EXPRC_LAPACK_PREFIX "geev", info, label, error, node);
        goto done;
    }
    if (info > 0) {
        lapack_unconverged(info, label, error, node);
        goto done;
    }
    for (int64_t i = 0; i < n64; ++i)
        if (wi[i] != 0) {
            lapack_error(error, node, label, "the matrix has complex eigenvalues, which "
                         "exprc's real tensors cannot hold (eigh takes symmetric matrices)");
            goto done;
        }
    EXPRC_TYPED(lapack_store)(vr, n64, v, 0);
    status = 0;
done:
    exprc_release(pool, work);
    exprc_release(pool, vr);
    exprc_release(pool, wi);
    exprc_release(pool, A);
    return status;
}

/* ---------------------------------------------------------------- least squares */
EXPRC_EXPORT int EXPRC_TYPED(exprc_lstsq)(exprc_pool *pool, exprc_array *x,
                                          exprc_array *residuals, exprc_array *rank,
                                          exprc_array *s, const exprc_array *a,
                                          const exprc_array *b, double rcond,
                                          const char *label, exprc_error *error, int64_t node)
{
    if (lapack_unbound(&EXPRC_LAPACK, label, error, node)) return -1;
    const int64_t m64 = a->shape[0], n64 = a->shape[1], k64 = m64 < n64 ? m64 : n64;
    const int64_t nrhs64 = b->ndim == 2 ? b->shape[1] : 1;
    if (b->shape[0] != m64)
        return lapack_error(error, node, label, "a has %lld rows but b has %lld",
                            (long long)m64, (long long)b->shape[0]);
    int64_t ldb64 = m64 > n64 ? m64 : n64;
    ldb64 = ldb64 > 1 ? ldb64 : 1;
    if (lapack_too_large(ldb64, nrhs64, label, error, node)) return -1;
    if (EXPRC_TYPED(lapack_alloc)(pool, x, b->ndim, n64, nrhs64, error, node)) return -1;
    if (EXPRC_TYPED(lapack_alloc)(pool, s, 1, k64, 0, error, node)) return -1;
    rank->ndim = 0;
    if (exprc_alloc_array(pool, rank, sizeof(int64_t), error, node)) return -1;
    EXPRC_T *A = EXPRC_TYPED(lapack_copy)(pool, a, m64 > 1 ? m64 : 1, n64, 1, "a", label, error,
                                          node);
    if (A == NULL) return -1;
    EXPRC_T *B = lapack_scratch(pool, ldb64 * (nrhs64 > 1 ? nrhs64 : 1), sizeof *B, label,
                                error, node);
    EXPRC_T *work = NULL, asked = 0;
    /* NaN stands for the default cutoff; a negative one is LAPACK's (machine precision). */
    const EXPRC_T cutoff = (EXPRC_T)(isnan(rcond) ? EXPRC_LAPACK_EPS * (double)ldb64 : rcond);
    exprc_lapack_int *iwork = NULL, iasked = 0, info = 0, found = 0;
    /* gelsd wants a column of b even when it has none (NumPy adds a zero one too). */
    const exprc_lapack_int m = (exprc_lapack_int)m64, n = (exprc_lapack_int)n64,
                           nrhs = nrhs64 > 1 ? (exprc_lapack_int)nrhs64 : 1, lda = m > 1 ? m : 1,
                           ldb = (exprc_lapack_int)ldb64, query = -1;
    int status = -1;
    if (B == NULL) goto done;
    memset(B, 0, (size_t)(ldb64 * (nrhs64 > 1 ? nrhs64 : 1)) * sizeof *B);
    EXPRC_TYPED(lapack_load)(b, B, ldb64);
    if (!EXPRC_TYPED(lapack_finite)(B, m64, nrhs64, ldb64)) {
        lapack_error(error, node, label, "b holds NaN or infinity");
        goto done;
    }
    if (k64 > 0) {
        EXPRC_LAPACK.gelsd(&m, &n, &nrhs, A, &lda, B, &ldb, (EXPRC_T *)s->data, &cutoff, &found,
                           &asked, &query, &iasked, &info);
        const exprc_lapack_int lwork = lapack_lwork(asked), liwork = iasked > 1 ? iasked : 1;
        work = lapack_scratch(pool, lwork, sizeof *work, label, error, node);
        iwork = lapack_scratch(pool, liwork, sizeof *iwork, label, error, node);
        if (work == NULL || iwork == NULL) goto done;
        EXPRC_LAPACK.gelsd(&m, &n, &nrhs, A, &lda, B, &ldb, (EXPRC_T *)s->data, &cutoff, &found,
                           work, &lwork, iwork, &info);
        if (info < 0) {
            lapack_rejected(EXPRC_LAPACK_PREFIX "gelsd", info, label, error, node);
            goto done;
        }
        if (info > 0) {
            lapack_unconverged(info, label, error, node);
            goto done;
        }
    } else {
        /* No singular value: the minimum-norm solution is zero and b is all residual. */
        for (int64_t j = 0; j < nrhs64; ++j)
            for (int64_t i = 0; i < n64; ++i) B[i + j * ldb64] = 0;
    }
    *(int64_t *)rank->data = found;
    EXPRC_TYPED(lapack_store)(B, ldb64, x, 0);
    /* NumPy's residuals: one sum of squares per column of b when a has full column rank and
     * more rows than columns, else none. */
    const int with_residuals = found == n && m64 > n64;
    if (EXPRC_TYPED(lapack_alloc)(pool, residuals, 1, with_residuals ? nrhs64 : 0, 0, error,
                                  node))
        goto done;
    for (int64_t j = 0; with_residuals && j < nrhs64; ++j) {
        EXPRC_T total = 0;
        for (int64_t i = n64; i < m64; ++i) total += B[i + j * ldb64] * B[i + j * ldb64];
        ((EXPRC_T *)residuals->data)[j] = total;
    }
    status = 0;
done:
    exprc_release(pool, iwork);
    exprc_release(pool, work);
    exprc_release(pool, B);
    exprc_release(pool, A);
    return status;
}

/* ---------------------------------------------------------------- exponential */
EXPRC_EXPORT int EXPRC_TYPED(exprc_expm)(exprc_pool *pool, exprc_array *out,
                                         const exprc_array *a, const char *label,
                                         exprc_error *error, int64_t node)
{
    if (lapack_unbound(&exprc_lapack_float64, label, error, node)) return -1;
    if (lapack_not_square(a, "A", label, error, node)) return -1;
    const int64_t n64 = a->shape[0];
    if (lapack_too_large(n64, n64, label, error, node)) return -1;
    if (EXPRC_TYPED(lapack_alloc)(pool, out, 2, n64, n64, error, node)) return -1;
    if (n64 == 0) return 0;
    double *work = lapack_scratch(pool, 6 * n64 * n64, sizeof *work, label, error, node);
    exprc_lapack_int *ipiv = lapack_scratch(pool, n64, sizeof *ipiv, label, error, node);
    int status = -1;
    if (work != NULL && ipiv != NULL) {
        double *d = work + 5 * n64 * n64;
        for (int64_t j = 0; j < n64; ++j)
            for (int64_t i = 0; i < n64; ++i)
                d[i + j * n64] = *(const EXPRC_T *)(a->data + i * a->strides[0]
                                                    + j * a->strides[1]);
        status = expm_double(d, (exprc_lapack_int)n64, work, ipiv, label, error, node);
        EXPRC_T *o = (EXPRC_T *)out->data;
        for (int64_t i = 0; status == 0 && i < n64; ++i)
            for (int64_t j = 0; j < n64; ++j) o[i * n64 + j] = (EXPRC_T)d[i + j * n64];
    }
    exprc_release(pool, ipiv);
    exprc_release(pool, work);
    return status;
}

#undef EXPRC_T
#undef EXPRC_TYPED
#undef EXPRC_LAPACK
#undef EXPRC_LAPACK_GEMM
#undef EXPRC_LAPACK_EPS
#undef EXPRC_LAPACK_PREFIX
