/* The LAPACK routines' binding and the matrix functions of exprc_lapack.h.
 *
 * What does not depend on the element type is here: the binding, the checks and messages, the
 * scratch buffers and the matrix exponential (computed in double precision for either type).
 * The typed node functions are exprc_lapack_body.h, included once per type at the end. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "exprc_lapack.h"

exprc_lapack_table exprc_lapack_float32, exprc_lapack_float64;

EXPRC_EXPORT int exprc_lapack_bind(void *const *routines, int count)
{
    int k = 0;
    if (count != 2 * (int)(sizeof(exprc_lapack_table) / sizeof(void *))) return -1;
    /* Each address becomes the field's function pointer type (POSIX guarantees that an object
     * pointer returned by dlsym converts to a function pointer). */
#define EXPRC_LAPACK_SET(name) table->name = (exprc_##name##_fn *)routines[k++];
    exprc_lapack_table *table = &exprc_lapack_float32;
    EXPRC_LAPACK_ROUTINES(EXPRC_LAPACK_SET)
    table = &exprc_lapack_float64;
    EXPRC_LAPACK_ROUTINES(EXPRC_LAPACK_SET)
#undef EXPRC_LAPACK_SET
    return 0;
}

/* ---------------------------------------------------------------- checks and messages */
static int lapack_error(exprc_error *error, int64_t node, const char *label, const char *fmt,
                        ...)
{
    char text[400];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    return exprc_set_error(error, EXPRC_VALUE_ERROR, node, "%s: %s", label, text);
}

/* An error unless LAPACK is bound (the routines are only NULL before exprc_lapack_bind). */
static int lapack_unbound(const exprc_lapack_table *table, const char *label,
                          exprc_error *error, int64_t node)
{
    if (table->gelsd != NULL) return 0;
    return lapack_error(error, node, label, "LAPACK is not bound in exprc's runtime library");
}

static int lapack_not_square(const exprc_array *a, const char *name, const char *label,
                             exprc_error *error, int64_t node)
{
    if (a->shape[0] == a->shape[1]) return 0;
    return lapack_error(error, node, label, "%s must be a square matrix, got shape %s", name,
                        exprc_shape_str(a));
}

/* An error when a size is beyond LAPACK's 32-bit integers. */
static int lapack_too_large(int64_t a, int64_t b, const char *label, exprc_error *error,
                            int64_t node)
{
    if (a <= INT32_MAX && b <= INT32_MAX) return 0;
    return lapack_error(error, node, label, "sizes beyond 2**31 - 1 (here %lld and %lld) are "
                        "not supported by LAPACK", (long long)a, (long long)b);
}

/* A routine rejected an argument: a mistake of this file, reported rather than hidden. */
static int lapack_rejected(const char *routine, exprc_lapack_int info, const char *label,
                           exprc_error *error, int64_t node)
{
    return lapack_error(error, node, label, "LAPACK's %s rejected its argument %d (a bug in "
                        "exprc)", routine, (int)-info);
}

static int lapack_unconverged(exprc_lapack_int info, const char *label, exprc_error *error,
                              int64_t node)
{
    return lapack_error(error, node, label, "the iteration did not converge (LAPACK info %d)",
                        (int)info);
}

/* `count` elements of `size` bytes from the pool (at least one byte), or NULL after filling
 * the error; released with exprc_release. */
static void *lapack_scratch(exprc_pool *pool, int64_t count, int64_t size, const char *label,
                            exprc_error *error, int64_t node)
{
    if (count < 0 || (count > 0 && size > INT64_MAX / count)) {
        lapack_error(error, node, label, "a work buffer of %lld elements is too large",
                     (long long)count);
        return NULL;
    }
    void *p = exprc_pool_alloc(pool, (size_t)(count * size) + 1);
    if (p == NULL)
        exprc_set_error(error, EXPRC_MEMORY_ERROR, node, "%s: cannot allocate a work buffer "
                        "of %lld bytes", label, (long long)(count * size));
    return p;
}

/* The workspace size a routine asked for in a query (its first work element). */
static exprc_lapack_int lapack_lwork(double asked)
{
    if (!(asked >= 1)) return 1;
    if (asked >= (double)INT32_MAX) return INT32_MAX;
    /* A float32 query rounds large sizes down: ask for a little more. */
    return (exprc_lapack_int)(asked * (1 + 4 * FLT_EPSILON)) + 1;
}

/* ---------------------------------------------------------------- the matrix exponential */
/* Padé orders and the largest 1-norm each serves in double precision (Higham, "The scaling
 * and squaring method for the matrix exponential revisited", 2005, table 2.3). */
static const int EXPM_ORDERS[4] = {3, 5, 7, 9};
static const double EXPM_THETA[4] = {1.495585217958292e-2, 2.539398330063230e-1,
                                     9.504178996162932e-1, 2.097847961257068e0};
static const double EXPM_THETA_13 = 5.371920351148152;

/* The coefficients b_0 .. b_m of the degree-m diagonal Padé approximant of exp, b_m = 1. */
static void expm_coefficients(int m, double *b)
{
    /* b_j / b_{j+1} = (j + 1)(2m - j) / (m - j), from b_j = (2m - j)! m! / ((2m)! j! (m - j)!) */
    b[m] = 1;
    for (int j = m - 1; j >= 0; --j) b[j] = b[j + 1] * (double)((j + 1) * (2 * m - j)) / (m - j);
}

/* c = a @ b for n x n column-major matrices. */
static void expm_product(const double *a, const double *b, double *c, exprc_lapack_int n)
{
    exprc_blas.dgemm(EXPRC_CBLAS_COL_MAJOR, EXPRC_CBLAS_NO_TRANS, EXPRC_CBLAS_NO_TRANS, n, n, n,
                     1.0, a, n, b, n, 0.0, c, n);
}

/* exp(a) into a (n x n, column-major, n > 0), with the scratch of 5 n*n doubles at w. */
static int expm_double(double *a, exprc_lapack_int n, double *w, exprc_lapack_int *ipiv,
                       const char *label, exprc_error *error, int64_t node)
{
    const int64_t nn = (int64_t)n * n;
    double norm = 0;
    for (int64_t j = 0; j < n; ++j) {
        double column = 0;
        for (int64_t i = 0; i < n; ++i) column += fabs(a[i + j * n]);
        norm = column > norm || isnan(column) ? column : norm;
    }
    if (!isfinite(norm)) {
        for (int64_t i = 0; i < nn; ++i) a[i] = NAN;
        return 0;
    }
    int m = 13, squarings = 0;
    for (int k = 0; k < 4; ++k)
        if (norm <= EXPM_THETA[k]) { m = EXPM_ORDERS[k]; break; }
    if (m == 13 && norm > EXPM_THETA_13) {
        squarings = (int)ceil(log2(norm / EXPM_THETA_13));
        const double scale = ldexp(1.0, -squarings);
        for (int64_t i = 0; i < nn; ++i) a[i] *= scale;
    }
    double b[14];
    expm_coefficients(m, b);
    /* u = a @ (sum of b_{2j+1} a^{2j}), v = sum of b_{2j} a^{2j}, built power by power. */
    double *power = w, *next = w + nn, *odd = w + 2 * nn, *even = w + 3 * nn, *u = w + 4 * nn;
    memset(power, 0, (size_t)nn * sizeof *power);
    for (int64_t i = 0; i < n; ++i) power[i + i * n] = 1;
    expm_product(a, a, u, n);  /* a^2, kept in u until u is formed */
    for (int64_t i = 0; i < nn; ++i) { odd[i] = b[1] * power[i]; even[i] = b[0] * power[i]; }
    for (int j = 1; 2 * j <= m; ++j) {
        expm_product(power, u, next, n);
        double *t = power; power = next; next = t;
        for (int64_t i = 0; i < nn; ++i) {
            odd[i] += b[2 * j + 1] * power[i];
            even[i] += b[2 * j] * power[i];
        }
    }
    expm_product(a, odd, u, n);
    /* exp(a) ~ (v - u)^-1 (v + u) */
    for (int64_t i = 0; i < nn; ++i) {
        const double vi = even[i], ui = u[i];
        even[i] = vi - ui;
        a[i] = vi + ui;
    }
    exprc_lapack_int info = 0;
    exprc_lapack_float64.gesv(&n, &n, even, &n, ipiv, a, &n, &info);
    if (info < 0) return lapack_rejected("dgesv", info, label, error, node);
    if (info > 0)
        return lapack_error(error, node, label, "the Padé denominator is singular");
    for (int k = 0; k < squarings; ++k) {
        expm_product(a, a, next, n);
        memcpy(a, next, (size_t)nn * sizeof *a);
    }
    return 0;
}

/* ---------------------------------------------------------------- the typed nodes */
#define EXPRC_T float
#define EXPRC_TYPED(stem) stem##_float32
#define EXPRC_LAPACK exprc_lapack_float32
#define EXPRC_LAPACK_GEMM exprc_blas.sgemm
#define EXPRC_LAPACK_EPS FLT_EPSILON
#define EXPRC_LAPACK_PREFIX "s"
#include "exprc_lapack_body.h"

#define EXPRC_T double
#define EXPRC_TYPED(stem) stem##_float64
#define EXPRC_LAPACK exprc_lapack_float64
#define EXPRC_LAPACK_GEMM exprc_blas.dgemm
#define EXPRC_LAPACK_EPS DBL_EPSILON
#define EXPRC_LAPACK_PREFIX "d"
#include "exprc_lapack_body.h"
