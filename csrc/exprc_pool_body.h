/* The pooling kernels of one element type, included by exprc_pool.c once per type.
 *
 * Protocol (csrc/README.md, "Typed kernels"): the includer defines
 *     EXPRC_T              the element type: float or double
 *     EXPRC_TYPED(stem)    stem##_<dtype>: the name of the type's version of `stem`
 *     EXPRC_POOL2D_U       the unsigned integer type of EXPRC_T's size
 * and this file defines the type's kernels (static), then the entry points
 * exprc_pool_2d_<dtype>, exprc_max_pool_grad_<dtype>, exprc_max_pool_grad_grad_<dtype> and
 * exprc_average_pool_grad_<dtype> declared in exprc_pool.h; it undefines the three macros at
 * its end.  No include guard. */

#define POOL_AT(base, offset) (*(const EXPRC_T *)((base) + (offset)))
/* The larger of m and v, or v when it is NaN (a NaN wins, as in np.max). */
#define POOL_MAX(m, v) (((v) > (m) || (v) != (v)) ? (v) : (m))
/* Whether v replaces m as the first maximum: larger, or the first NaN. */
#define POOL_BEATS(v, m) ((v) > (m) || ((v) != (v) && (m) == (m)))

/* One window of an image (xr, xc: byte strides of its rows and columns). */
static inline EXPRC_T EXPRC_TYPED(exprc_pool2d_window)(const char *x, int64_t xr, int64_t xc,
                                                       exprc_pool2d_span R, exprc_pool2d_span C,
                                                       int64_t mode)
{
    if (R.hi == R.lo || C.hi == C.lo) return 0;   /* entirely in padding: the zeros' value */
    if (mode == EXPRC_POOL2D_MAX) {
        EXPRC_T m = POOL_AT(x, R.lo * xr + C.lo * xc);
        for (int64_t r = R.lo; r < R.hi; ++r)
            for (int64_t c = C.lo; c < C.hi; ++c) {
                const EXPRC_T v = POOL_AT(x, r * xr + c * xc);
                m = POOL_MAX(m, v);
            }
        return m;
    }
    double s = 0;
    for (int64_t r = R.lo; r < R.hi; ++r)
        for (int64_t c = C.lo; c < C.hi; ++c) s += POOL_AT(x, r * xr + c * xc);
    if (mode == EXPRC_POOL2D_AVERAGE_INC_PAD) s /= (double)(R.full * C.full);
    else if (mode == EXPRC_POOL2D_AVERAGE_EXC_PAD) s /= (double)((R.hi - R.lo) * (C.hi - C.lo));
    return (EXPRC_T)s;
}

/* The row of the first maximum (row-major; the first NaN if any) of a non-empty window, its
 * column in *col. */
static inline int64_t EXPRC_TYPED(exprc_pool2d_first_max)(const char *x, int64_t xr,
                                                          int64_t xc, exprc_pool2d_span R,
                                                          exprc_pool2d_span C, int64_t *col)
{
    int64_t best_r = R.lo, best_c = C.lo;
    EXPRC_T m = POOL_AT(x, R.lo * xr + C.lo * xc);
    for (int64_t r = R.lo; r < R.hi; ++r)
        for (int64_t c = C.lo; c < C.hi; ++c) {
            const EXPRC_T v = POOL_AT(x, r * xr + c * xc);
            if (POOL_BEATS(v, m)) {
                m = v;
                best_r = r;
                best_c = c;
            }
        }
    *col = best_c;
    return best_r;
}

/* The maximum of a 2x2 window, NaN when any element is (which NaN does not matter).  The
 * comparisons `b > a ? b : a` are exactly the processor's max instruction, and the NaN test
 * is a branch that real data always predicts, so the loops below stay free of unpredictable
 * branches (the rows are short, and their scalar remainders would otherwise dominate). */
static inline EXPRC_T EXPRC_TYPED(exprc_pool2d_max4)(EXPRC_T v0, EXPRC_T v1, EXPRC_T v2,
                                                     EXPRC_T v3)
{
    const EXPRC_T m01 = v1 > v0 ? v1 : v0, m23 = v3 > v2 ? v3 : v2;
    const EXPRC_T m = m23 > m01 ? m23 : m01;
    if (__builtin_expect((v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3), 0))
        return v0 + v1 + v2 + v3;
    return m;
}

/* Max pooling of an image with contiguous rows by 2x2 windows side by side (the usual case
 * in CNNs): no spans to consult, and loops over the columns the compiler vectorizes.  The
 * rows are often short (4 or 12 windows on LeNet), shorter than one vector of a loop over
 * the whole row, whose scalar remainder would then do all the work: so a row goes in blocks
 * of 8 and then 4 windows (each block a loop of constant length, vectorized on its own) and
 * a scalar tail of at most 3. */
#define EXPRC_POOL2D_BLOCKS(j, n, ...)                                                     \
    do {                                                                                  \
        int64_t j##0_ = 0;                                                                \
        for (; j##0_ + 8 <= (n); j##0_ += 8) {                                            \
            _Pragma("omp simd") for (int64_t j = j##0_; j < j##0_ + 8; ++j) __VA_ARGS__;  \
        }                                                                                 \
        for (; j##0_ + 4 <= (n); j##0_ += 4) {                                            \
            _Pragma("omp simd") for (int64_t j = j##0_; j < j##0_ + 4; ++j) __VA_ARGS__;  \
        }                                                                                 \
        for (int64_t j = j##0_; j < (n); ++j) __VA_ARGS__;                                \
    } while (0)

static void EXPRC_TYPED(exprc_pool2d_max_pairs)(const char *x, int64_t xr, EXPRC_T *out,
                                                int64_t out_rows, int64_t out_cols)
{
    for (int64_t i = 0; i < out_rows; ++i) {
        const EXPRC_T *a = (const EXPRC_T *)(x + 2 * i * xr);
        const EXPRC_T *b = (const EXPRC_T *)(x + (2 * i + 1) * xr);
        EXPRC_T *restrict o = out + i * out_cols;
        EXPRC_POOL2D_BLOCKS(j, out_cols, {
            o[j] = EXPRC_TYPED(exprc_pool2d_max4)(a[2 * j], a[2 * j + 1], b[2 * j],
                                                  b[2 * j + 1]);
        });
    }
}

/* The gradient of exprc_pool2d_max_pairs into gx (rows of `cols` elements): every element
 * of the covered rows and columns is written, gz's value at its window's first maximum and
 * zero elsewhere.  Which of the four wins is random on real data, so the choice is made with
 * bit masks (exact for any value of gz, inf and NaN included) rather than branches, which
 * would be mispredicted half the time. */
static void EXPRC_TYPED(exprc_pool2d_max_grad_pairs)(const char *x, int64_t xr,
                                                     const char *gz, int64_t gr,
                                                     int64_t gc, EXPRC_T *gx,
                                                     int64_t cols, int64_t out_rows,
                                                     int64_t out_cols)
{
    typedef EXPRC_POOL2D_U bits;
    for (int64_t i = 0; i < out_rows; ++i) {
        const EXPRC_T *a = (const EXPRC_T *)(x + 2 * i * xr);
        const EXPRC_T *b = (const EXPRC_T *)(x + (2 * i + 1) * xr);
        const char *g = gz + i * gr;
        bits *restrict ga = (bits *)(gx + 2 * i * cols), *restrict gb = ga + cols;
        EXPRC_POOL2D_BLOCKS(j, out_cols, {
            const EXPRC_T v0 = a[2 * j], v1 = a[2 * j + 1], v2 = b[2 * j], v3 = b[2 * j + 1];
            /* The first element equal to the maximum (a NaN "equals" a NaN maximum). */
            const EXPRC_T m = EXPRC_TYPED(exprc_pool2d_max4)(v0, v1, v2, v3);
            const bits nan = (bits)0 - (bits)(m != m);
            const bits e0 = ((bits)0 - (bits)(v0 == m)) | (nan & ((bits)0 - (bits)(v0 != v0)));
            const bits e1 = (((bits)0 - (bits)(v1 == m)) | (nan & ((bits)0 - (bits)(v1 != v1))))
                            & ~e0;
            const bits e2 = (((bits)0 - (bits)(v2 == m)) | (nan & ((bits)0 - (bits)(v2 != v2))))
                            & ~(e0 | e1);
            const bits e3 = ~(e0 | e1 | e2);
            bits gv;
            memcpy(&gv, g + j * gc, sizeof gv);
            ga[2 * j] = gv & e0;
            ga[2 * j + 1] = gv & e1;
            gb[2 * j] = gv & e2;
            gb[2 * j + 1] = gv & e3;
        });
    }
}

/* The kernels, of the signature exprc_pool2d_kernel (exprc_pool.c). */
static void EXPRC_TYPED(exprc_pool2d_run)(const exprc_pool2d_plan *plan, const exprc_array *x,
                                          const exprc_array *unused, exprc_array *out,
                                          int64_t mode)
{
    (void)unused;
    const int64_t xr = x->strides[x->ndim - 2], xc = x->strides[x->ndim - 1];
    const int64_t oc = plan->out_cols, image = plan->out_rows * oc;
    const exprc_pool2d_span *rows = plan->spans, *cols = plan->spans + plan->out_rows;
    const int pairs = plan->pairs && mode == EXPRC_POOL2D_MAX && xc == sizeof(EXPRC_T);
#pragma omp parallel for schedule(static) if (plan->parallel)
    for (int64_t n = 0; n < plan->images; ++n) {
        const char *xp = x->data + exprc_pool2d_image_offset(x, n);
        EXPRC_T *op = (EXPRC_T *)out->data + n * image;
        if (pairs) {
            EXPRC_TYPED(exprc_pool2d_max_pairs)(xp, xr, op, plan->out_rows, oc);
            continue;
        }
        for (int64_t i = 0; i < plan->out_rows; ++i)
            for (int64_t j = 0; j < oc; ++j)
                op[i * oc + j] = EXPRC_TYPED(exprc_pool2d_window)(xp, xr, xc, rows[i],
                                                                  cols[j], mode);
    }
}

static void EXPRC_TYPED(exprc_pool2d_max_grad)(const exprc_pool2d_plan *plan,
                                               const exprc_array *x, const exprc_array *gz,
                                               exprc_array *gx, int64_t mode)
{
    (void)mode;
    const int64_t xr = x->strides[x->ndim - 2], xc = x->strides[x->ndim - 1];
    const int64_t gr = gz->strides[gz->ndim - 2], gc = gz->strides[gz->ndim - 1];
    const int64_t cols_in = plan->cols, image = plan->rows * cols_in;
    const exprc_pool2d_span *rows = plan->spans, *cols = plan->spans + plan->out_rows;
    const int pairs = plan->pairs && xc == sizeof(EXPRC_T);
#pragma omp parallel for schedule(static) if (plan->parallel)
    for (int64_t n = 0; n < plan->images; ++n) {
        const char *xp = x->data + exprc_pool2d_image_offset(x, n);
        const char *gp = gz->data + exprc_pool2d_image_offset(gz, n);
        EXPRC_T *gxp = (EXPRC_T *)gx->data + n * image;
        /* The pairs write every element their windows cover: only an odd last row or
         * column is left to zero. */
        if (!pairs || plan->rows % 2 || plan->cols % 2)
            memset(gxp, 0, sizeof(EXPRC_T) * (size_t)image);
        if (pairs) {
            EXPRC_TYPED(exprc_pool2d_max_grad_pairs)(xp, xr, gp, gr, gc, gxp, cols_in,
                                                     plan->out_rows, plan->out_cols);
            continue;
        }
        for (int64_t i = 0; i < plan->out_rows; ++i)
            for (int64_t j = 0; j < plan->out_cols; ++j) {
                if (rows[i].hi == rows[i].lo || cols[j].hi == cols[j].lo) continue;
                int64_t c;
                const int64_t r = EXPRC_TYPED(exprc_pool2d_first_max)(xp, xr, xc, rows[i],
                                                                      cols[j], &c);
                gxp[r * cols_in + c] += POOL_AT(gp, i * gr + j * gc);
            }
    }
}

static void EXPRC_TYPED(exprc_pool2d_max_grad_grad)(const exprc_pool2d_plan *plan,
                                                    const exprc_array *x, const exprc_array *g,
                                                    exprc_array *out, int64_t mode)
{
    (void)mode;
    const int64_t xr = x->strides[x->ndim - 2], xc = x->strides[x->ndim - 1];
    const int64_t gr = g->strides[g->ndim - 2], gc = g->strides[g->ndim - 1];
    const int64_t oc = plan->out_cols, image = plan->out_rows * oc;
    const exprc_pool2d_span *rows = plan->spans, *cols = plan->spans + plan->out_rows;
#pragma omp parallel for schedule(static) if (plan->parallel)
    for (int64_t n = 0; n < plan->images; ++n) {
        const char *xp = x->data + exprc_pool2d_image_offset(x, n);
        const char *gp = g->data + exprc_pool2d_image_offset(g, n);
        EXPRC_T *op = (EXPRC_T *)out->data + n * image;
        for (int64_t i = 0; i < plan->out_rows; ++i)
            for (int64_t j = 0; j < oc; ++j) {
                EXPRC_T v = 0;
                if (rows[i].hi > rows[i].lo && cols[j].hi > cols[j].lo) {
                    int64_t c;
                    const int64_t r = EXPRC_TYPED(exprc_pool2d_first_max)(xp, xr, xc, rows[i],
                                                                          cols[j], &c);
                    v = POOL_AT(gp, r * gr + c * gc);
                }
                op[i * oc + j] = v;
            }
    }
}

static void EXPRC_TYPED(exprc_pool2d_average_grad)(const exprc_pool2d_plan *plan,
                                                   const exprc_array *unused,
                                                   const exprc_array *gz, exprc_array *gx,
                                                   int64_t mode)
{
    (void)unused;
    const int64_t gr = gz->strides[gz->ndim - 2], gc = gz->strides[gz->ndim - 1];
    const int64_t cols_in = plan->cols, image = plan->rows * cols_in;
    const exprc_pool2d_span *rows = plan->spans, *cols = plan->spans + plan->out_rows;
#pragma omp parallel for schedule(static) if (plan->parallel)
    for (int64_t n = 0; n < plan->images; ++n) {
        const char *gp = gz->data + exprc_pool2d_image_offset(gz, n);
        EXPRC_T *gxp = (EXPRC_T *)gx->data + n * image;
        memset(gxp, 0, sizeof(EXPRC_T) * (size_t)image);
        for (int64_t i = 0; i < plan->out_rows; ++i)
            for (int64_t j = 0; j < plan->out_cols; ++j) {
                const exprc_pool2d_span R = rows[i], C = cols[j];
                if (R.hi == R.lo || C.hi == C.lo) continue;
                EXPRC_T share = POOL_AT(gp, i * gr + j * gc);
                if (mode == EXPRC_POOL2D_AVERAGE_INC_PAD)
                    share = (EXPRC_T)(share / (double)(R.full * C.full));
                else if (mode == EXPRC_POOL2D_AVERAGE_EXC_PAD)
                    share = (EXPRC_T)(share / (double)((R.hi - R.lo) * (C.hi - C.lo)));
                for (int64_t r = R.lo; r < R.hi; ++r)
                    for (int64_t c = C.lo; c < C.hi; ++c) gxp[r * cols_in + c] += share;
            }
    }
}

/* ---------------------------------------------------------------- entry points */
EXPRC_EXPORT int EXPRC_TYPED(exprc_pool_2d)(exprc_pool *pool, exprc_array *out,
                                            const exprc_array *x,
                                            const exprc_pool2d_params *params,
                                            const char *label, exprc_error *error, int64_t node)
{
    return exprc_pool2d_pooled(pool, out, x, NULL, params, (int64_t)sizeof(EXPRC_T),
                               EXPRC_TYPED(exprc_pool2d_run), label, error, node);
}

EXPRC_EXPORT int EXPRC_TYPED(exprc_max_pool_grad_grad)(exprc_pool *pool, exprc_array *out,
                                                       const exprc_array *x,
                                                       const exprc_array *g,
                                                       const exprc_pool2d_params *params,
                                                       const char *label, exprc_error *error,
                                                       int64_t node)
{
    return exprc_pool2d_pooled(pool, out, x, g, params, (int64_t)sizeof(EXPRC_T),
                               EXPRC_TYPED(exprc_pool2d_max_grad_grad), label, error, node);
}

EXPRC_EXPORT int EXPRC_TYPED(exprc_max_pool_grad)(exprc_pool *pool, exprc_array *gx,
                                                  const exprc_array *x, const exprc_array *gz,
                                                  const exprc_pool2d_params *params,
                                                  const char *label, exprc_error *error,
                                                  int64_t node)
{
    return exprc_pool2d_grad(pool, gx, x, gz, params, (int64_t)sizeof(EXPRC_T),
                             EXPRC_TYPED(exprc_pool2d_max_grad), label, error, node);
}

EXPRC_EXPORT int EXPRC_TYPED(exprc_average_pool_grad)(exprc_pool *pool, exprc_array *gx,
                                                      const exprc_array *x,
                                                      const exprc_array *gz,
                                                      const exprc_pool2d_params *params,
                                                      const char *label, exprc_error *error,
                                                      int64_t node)
{
    return exprc_pool2d_grad(pool, gx, x, gz, params, (int64_t)sizeof(EXPRC_T),
                             EXPRC_TYPED(exprc_pool2d_average_grad), label, error, node);
}

#undef EXPRC_POOL2D_BLOCKS
#undef POOL_BEATS
#undef POOL_MAX
#undef POOL_AT
#undef EXPRC_T
#undef EXPRC_POOL2D_U
#undef EXPRC_TYPED
