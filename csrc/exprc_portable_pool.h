/* Pooling of exported programs over the last two axes, and its gradients.
 *
 *     void exprc_portable_pool2d_<dtype>(geometry, x, xp, xr, xc, out)
 *     void exprc_portable_max_pool_grad_<dtype>(geometry, x, xp, xr, xc, gz, gp, gr, gc, gx)
 *     void exprc_portable_max_pool_grad_grad_<dtype>(geometry, x, xp, xr, xc, g, gp, gr, gc,
 *                                                    out)
 *     void exprc_portable_average_pool_grad_<dtype>(geometry, gz, gp, gr, gc, gx)
 *
 * `planes` images of rows x cols (planes p apart, rows r apart, columns c apart, in
 * elements) are pooled into contiguous outputs of out_rows x out_cols each (gradients: into
 * contiguous arrays of the input's shape). Semantics are those of exprc.tensor.signal.pool
 * and its reference: window (i, j) covers the input rows [i * stride - pad, ... + ws) clipped
 * to the input (padding is never read), a window entirely in padding gives 0; `max` takes
 * the largest element, a NaN if any (as np.max); `sum` and the averages add in double and
 * divide by the window's padded extent clipped to the padded input (average_inc_pad) or by
 * the number of input elements (average_exc_pad), as exprc's C backend does. The gradients
 * of max route to the first maximum of the window in row-major order (the first NaN if any).
 *
 * Every function is static inline: a program pastes the whole section and calls only the
 * kernels its nodes need, and -Wall reports unused static functions only when not inline.
 * Typed kernel (float32, float64): the exporter defines EXPRC_T and EXPRC_TYPED around this
 * text, once per dtype; no include guard for that part.
 */
#ifndef EXPRC_PORTABLE_POOL_GEOMETRY
#define EXPRC_PORTABLE_POOL_GEOMETRY
enum { EXPRC_POOL_MAX, EXPRC_POOL_SUM, EXPRC_POOL_AVERAGE_INC_PAD, EXPRC_POOL_AVERAGE_EXC_PAD };

/* Sizes of one pooling, all known at export time. */
typedef struct {
    ptrdiff_t planes, rows, cols, out_rows, out_cols;
    ptrdiff_t ws_r, ws_c, stride_r, stride_c, pad_r, pad_c;
    int mode;
} exprc_portable_pool_geometry;

/* The input entries [lo, hi) of window i along an axis of n entries, and its padded extent
 * (the reference's min(start + ws, n + pad) - start). */
typedef struct {
    ptrdiff_t lo, hi, full;
} exprc_portable_pool_span;

static inline exprc_portable_pool_span exprc_portable_pool_window(ptrdiff_t i, ptrdiff_t ws,
                                                                  ptrdiff_t stride,
                                                                  ptrdiff_t pad, ptrdiff_t n)
{
    exprc_portable_pool_span s;
    const ptrdiff_t start = i * stride - pad, end = start + ws;
    s.lo = start < 0 ? 0 : (start < n ? start : n);
    s.hi = end < n ? end : n;
    if (s.hi < s.lo) s.hi = s.lo;
    s.full = (end < n + pad ? end : n + pad) - start;
    return s;
}
/* Whether v replaces m as the running maximum: larger, or a NaN (which then stays, as in
 * np.max); for the first maximum, a NaN replaces only a number. */
#define EXPRC_POOL_BEATS(v, m) ((v) > (m) || ((v) != (v) && (m) == (m)))
#endif /* EXPRC_PORTABLE_POOL_GEOMETRY */

static inline void EXPRC_TYPED(exprc_portable_pool2d)(const exprc_portable_pool_geometry *g,
                                                      const EXPRC_T *x, ptrdiff_t xp,
                                                      ptrdiff_t xr, ptrdiff_t xc, EXPRC_T *out)
{
    for (ptrdiff_t p = 0; p < g->planes; ++p) {
        const EXPRC_T *plane = x + p * xp;
        for (ptrdiff_t i = 0; i < g->out_rows; ++i) {
            const exprc_portable_pool_span R =
                exprc_portable_pool_window(i, g->ws_r, g->stride_r, g->pad_r, g->rows);
            for (ptrdiff_t j = 0; j < g->out_cols; ++j, ++out) {
                const exprc_portable_pool_span C =
                    exprc_portable_pool_window(j, g->ws_c, g->stride_c, g->pad_c, g->cols);
                if (R.hi == R.lo || C.hi == C.lo) {
                    *out = 0;  /* entirely in padding: the zeros' value */
                } else if (g->mode == EXPRC_POOL_MAX) {
                    /* Which element is largest is random on real data: a select (a max
                     * instruction) and a NaN flag, not branches, which would be mispredicted
                     * about half the time. */
                    EXPRC_T m = plane[R.lo * xr + C.lo * xc];
                    int nan = 0;
                    for (ptrdiff_t r = R.lo; r < R.hi; ++r)
                        for (ptrdiff_t c = C.lo; c < C.hi; ++c) {
                            const EXPRC_T v = plane[r * xr + c * xc];
                            m = v > m ? v : m;
                            nan |= v != v;
                        }
                    *out = nan ? (EXPRC_T)NAN : m;
                } else {
                    double s = 0;
                    for (ptrdiff_t r = R.lo; r < R.hi; ++r)
                        for (ptrdiff_t c = C.lo; c < C.hi; ++c) s += plane[r * xr + c * xc];
                    if (g->mode == EXPRC_POOL_AVERAGE_INC_PAD)
                        s /= (double)(R.full * C.full);
                    else if (g->mode == EXPRC_POOL_AVERAGE_EXC_PAD)
                        s /= (double)((R.hi - R.lo) * (C.hi - C.lo));
                    *out = (EXPRC_T)s;
                }
            }
        }
    }
}

/* The row and column of the first maximum of a non-empty window of one plane. */
static inline void EXPRC_TYPED(exprc_portable_pool_first_max)(
    const EXPRC_T *plane, ptrdiff_t xr, ptrdiff_t xc, exprc_portable_pool_span R,
    exprc_portable_pool_span C, ptrdiff_t *row, ptrdiff_t *col)
{
    EXPRC_T m = plane[R.lo * xr + C.lo * xc];
    *row = R.lo;
    *col = C.lo;
    for (ptrdiff_t r = R.lo; r < R.hi; ++r)
        for (ptrdiff_t c = C.lo; c < C.hi; ++c) {
            const EXPRC_T v = plane[r * xr + c * xc];
            if (EXPRC_POOL_BEATS(v, m)) {
                m = v;
                *row = r;
                *col = c;
            }
        }
}

/* gx (planes x rows x cols, contiguous): each window's gz added at its first maximum. */
static inline void EXPRC_TYPED(exprc_portable_max_pool_grad)(
    const exprc_portable_pool_geometry *g, const EXPRC_T *x, ptrdiff_t xp, ptrdiff_t xr,
    ptrdiff_t xc, const EXPRC_T *gz, ptrdiff_t gp, ptrdiff_t gr, ptrdiff_t gc, EXPRC_T *gx)
{
    const ptrdiff_t image = g->rows * g->cols;
    for (ptrdiff_t e = 0; e < g->planes * image; ++e) gx[e] = 0;
    for (ptrdiff_t p = 0; p < g->planes; ++p)
        for (ptrdiff_t i = 0; i < g->out_rows; ++i) {
            const exprc_portable_pool_span R =
                exprc_portable_pool_window(i, g->ws_r, g->stride_r, g->pad_r, g->rows);
            for (ptrdiff_t j = 0; j < g->out_cols; ++j) {
                const exprc_portable_pool_span C =
                    exprc_portable_pool_window(j, g->ws_c, g->stride_c, g->pad_c, g->cols);
                ptrdiff_t r, c;
                if (R.hi == R.lo || C.hi == C.lo) continue;
                EXPRC_TYPED(exprc_portable_pool_first_max)(x + p * xp, xr, xc, R, C, &r, &c);
                gx[p * image + r * g->cols + c] += gz[p * gp + i * gr + j * gc];
            }
        }
}

/* out (planes x out_rows x out_cols, contiguous): for each window, the element of values
 * (shaped like x) at the window's first maximum; 0 for a window entirely in padding. */
static inline void EXPRC_TYPED(exprc_portable_max_pool_grad_grad)(
    const exprc_portable_pool_geometry *g, const EXPRC_T *x, ptrdiff_t xp, ptrdiff_t xr,
    ptrdiff_t xc, const EXPRC_T *values, ptrdiff_t vp, ptrdiff_t vr, ptrdiff_t vc,
    EXPRC_T *out)
{
    for (ptrdiff_t p = 0; p < g->planes; ++p)
        for (ptrdiff_t i = 0; i < g->out_rows; ++i) {
            const exprc_portable_pool_span R =
                exprc_portable_pool_window(i, g->ws_r, g->stride_r, g->pad_r, g->rows);
            for (ptrdiff_t j = 0; j < g->out_cols; ++j, ++out) {
                const exprc_portable_pool_span C =
                    exprc_portable_pool_window(j, g->ws_c, g->stride_c, g->pad_c, g->cols);
                ptrdiff_t r, c;
                if (R.hi == R.lo || C.hi == C.lo) {
                    *out = 0;
                    continue;
                }
                EXPRC_TYPED(exprc_portable_pool_first_max)(x + p * xp, xr, xc, R, C, &r, &c);
                *out = values[p * vp + r * vr + c * vc];
            }
        }
}

/* gx (planes x rows x cols, contiguous): each window's gz, divided as the forward divided,
 * added to every input element of the window. */
static inline void EXPRC_TYPED(exprc_portable_average_pool_grad)(
    const exprc_portable_pool_geometry *g, const EXPRC_T *gz, ptrdiff_t gp, ptrdiff_t gr,
    ptrdiff_t gc, EXPRC_T *gx)
{
    const ptrdiff_t image = g->rows * g->cols;
    for (ptrdiff_t e = 0; e < g->planes * image; ++e) gx[e] = 0;
    for (ptrdiff_t p = 0; p < g->planes; ++p)
        for (ptrdiff_t i = 0; i < g->out_rows; ++i) {
            const exprc_portable_pool_span R =
                exprc_portable_pool_window(i, g->ws_r, g->stride_r, g->pad_r, g->rows);
            for (ptrdiff_t j = 0; j < g->out_cols; ++j) {
                const exprc_portable_pool_span C =
                    exprc_portable_pool_window(j, g->ws_c, g->stride_c, g->pad_c, g->cols);
                const ptrdiff_t count = (R.hi - R.lo) * (C.hi - C.lo);
                EXPRC_T share = gz[p * gp + i * gr + j * gc];
                if (count <= 0) continue;
                /* In the element type, as the reference divides its float32 array. */
                if (g->mode == EXPRC_POOL_AVERAGE_INC_PAD)
                    share = share / (EXPRC_T)(R.full * C.full);
                else if (g->mode == EXPRC_POOL_AVERAGE_EXC_PAD)
                    share = share / (EXPRC_T)count;
                for (ptrdiff_t r = R.lo; r < R.hi; ++r)
                    for (ptrdiff_t c = C.lo; c < C.hi; ++c)
                        gx[p * image + r * g->cols + c] += share;
            }
        }
}
