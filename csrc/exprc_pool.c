/* Pooling kernels: the definitions declared in exprc_pool.h.
 *
 * The kernels are written once for both element types: this file includes itself twice with
 * EXPRC_POOL2D_T set to float and then double, and the part after `#else` (at the end) then
 * defines the typed functions <stem>_f32 and <stem>_f64 that the public functions dispatch
 * to.  Arrays are addressed through byte strides, so inputs of any layout need no copy;
 * outputs are contiguous.  Each image (one index of the leading axes) is independent, so
 * the leading axes are shared among OpenMP threads and no two threads write one element. */
#ifndef EXPRC_POOL2D_T
#include "exprc_pool.h"

#include <math.h>

/* Below this many input elements the images are walked on one thread.  Pooling is
 * memory-bound and one core is fast at it (the 2x2 paths: 0.25 ms forward, 0.8 ms gradient
 * for LeNet's largest map, 128 x 20 x 24 x 24 floats), while an OpenMP region started just
 * after a BLAS call competes with OpenBLAS's still-spinning workers: in the LeNet step on 2
 * cores the threaded pooling nodes took 3-5 ms each.  Threads pay only on larger arrays. */
#define EXPRC_POOL2D_PARALLEL_MIN ((int64_t)1 << 22)

/* Along one pooled axis, the input elements [lo, hi) a window covers, and its extent in the
 * padded axis (what average_inc_pad divides by). */
typedef struct {
    int64_t lo, hi, full;
} exprc_pool2d_span;

/* The windows of one call: the same for every image. */
typedef struct {
    int64_t images;                  /* product of the leading axes */
    int64_t rows, cols;              /* the input's pooled axes */
    int64_t out_rows, out_cols;
    exprc_pool2d_span *spans;          /* out_rows row spans, then out_cols column spans */
    int parallel;
    int pairs;                       /* 2x2 windows side by side, no padding: a fast path */
} exprc_pool2d_plan;

/* a // b rounded down (b > 0), as Python's // in Theano's size rule. */
static int64_t exprc_pool2d_floordiv(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* The number of windows along an axis of n elements (exprc.tensor.signal.pool.pooled_size). */
static int64_t exprc_pool2d_count(int64_t n, int64_t w, int64_t s, int64_t p, int64_t ignore_border)
{
    int64_t count;
    if (ignore_border) {
        count = exprc_pool2d_floordiv(n + 2 * p - w, s) + 1;
        return count > 0 ? count : 0;
    }
    if (s >= w) return exprc_pool2d_floordiv(n - 1, s) + 1;
    count = exprc_pool2d_floordiv(n - 1 - w + s, s);
    return (count > 0 ? count : 0) + 1;
}

static void exprc_pool2d_fill_spans(exprc_pool2d_span *spans, int64_t count, int64_t n, int64_t w,
                                  int64_t s, int64_t p)
{
    for (int64_t i = 0; i < count; ++i) {
        const int64_t start = i * s - p;
        const int64_t end = start + w < n + p ? start + w : n + p;
        int64_t lo = start < 0 ? 0 : start;
        if (lo > n) lo = n;
        int64_t hi = start + w < n ? start + w : n;
        if (hi < lo) hi = lo;      /* a window entirely in padding covers nothing */
        spans[i].lo = lo;
        spans[i].hi = hi;
        spans[i].full = end - start;
    }
}

/* The windows of x; 0, or -1 with the error filled when memory runs out. */
static int exprc_pool2d_plan_init(exprc_pool2d_plan *plan, const exprc_array *x,
                                const exprc_pool2d_params *p, const char *label,
                                exprc_error *error, int64_t node)
{
    const int64_t nd = x->ndim;
    plan->images = 1;
    for (int64_t d = 0; d < nd - 2; ++d) plan->images *= x->shape[d];
    plan->rows = x->shape[nd - 2];
    plan->cols = x->shape[nd - 1];
    plan->out_rows = exprc_pool2d_count(plan->rows, p->ws[0], p->stride[0], p->pad[0],
                                      p->ignore_border);
    plan->out_cols = exprc_pool2d_count(plan->cols, p->ws[1], p->stride[1], p->pad[1],
                                      p->ignore_border);
    plan->spans = malloc(sizeof(exprc_pool2d_span) * (size_t)(plan->out_rows + plan->out_cols + 1));
    if (plan->spans == NULL)
        return exprc_set_error(error, EXPRC_MEMORY_ERROR, node, "%s: out of memory", label);
    exprc_pool2d_fill_spans(plan->spans, plan->out_rows, plan->rows, p->ws[0], p->stride[0],
                          p->pad[0]);
    exprc_pool2d_fill_spans(plan->spans + plan->out_rows, plan->out_cols, plan->cols, p->ws[1],
                          p->stride[1], p->pad[1]);
    plan->pairs = p->ignore_border && p->ws[0] == 2 && p->ws[1] == 2 && p->stride[0] == 2
                  && p->stride[1] == 2 && p->pad[0] == 0 && p->pad[1] == 0;
    plan->parallel = plan->images > 1
                     && plan->images * plan->rows * plan->cols >= EXPRC_POOL2D_PARALLEL_MIN;
    return 0;
}

/* The byte offset of image n (row-major over the leading axes) in a. */
static inline int64_t exprc_pool2d_image_offset(const exprc_array *a, int64_t n)
{
    int64_t offset = 0;
    for (int64_t d = a->ndim - 3; d >= 0; --d) {
        offset += (n % a->shape[d]) * a->strides[d];
        n /= a->shape[d];
    }
    return offset;
}

/* Give out x's leading axes followed by (rows, cols), and a fresh buffer. */
static int exprc_pool2d_alloc(exprc_pool *pool, exprc_array *out, const exprc_array *x,
                            int64_t rows, int64_t cols, int64_t itemsize, exprc_error *error,
                            int64_t node)
{
    out->ndim = x->ndim;
    for (int64_t d = 0; d < x->ndim - 2; ++d) out->shape[d] = x->shape[d];
    out->shape[x->ndim - 2] = rows;
    out->shape[x->ndim - 1] = cols;
    return exprc_alloc_array(pool, out, itemsize, error, node);
}

/* Whether a has x's leading axes followed by (rows, cols). */
static int exprc_pool2d_fits(const exprc_array *a, const exprc_array *x, int64_t rows,
                           int64_t cols)
{
    if (a->ndim != x->ndim) return 0;
    for (int64_t d = 0; d < x->ndim - 2; ++d)
        if (a->shape[d] != x->shape[d]) return 0;
    return a->shape[x->ndim - 2] == rows && a->shape[x->ndim - 1] == cols;
}

/* For a gradient w.r.t. the input: check that gz has the pooled shape of x, then give gx
 * x's shape; 0, or -1 with the error filled. */
static int exprc_pool2d_alloc_grad(exprc_pool *pool, exprc_array *gx, const exprc_array *x,
                                   const exprc_array *gz, const exprc_pool2d_plan *plan,
                                   int64_t itemsize, const char *label, exprc_error *error,
                                   int64_t node)
{
    if (!exprc_pool2d_fits(gz, x, plan->out_rows, plan->out_cols)) {
        const int64_t pooled[2] = {plan->out_rows, plan->out_cols};
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node, "%s: the output gradient has "
                               "shape %s, but pooling the input of shape %s gives %s in the "
                               "last two axes", label, exprc_shape_str(gz), exprc_shape_str(x),
                               exprc_ints_str(2, pooled, 0));
    }
    return exprc_pool2d_alloc(pool, gx, x, plan->rows, plan->cols, itemsize, error, node);
}

/* EXPRC_POOL2D_U: the unsigned integer of the element's size, for bitwise selects. */
#define EXPRC_POOL2D_T float
#define EXPRC_POOL2D_U uint32_t
#define EXPRC_POOL2D_NAME(stem) stem##_f32
#include "exprc_pool.c"
#undef EXPRC_POOL2D_T
#undef EXPRC_POOL2D_U
#undef EXPRC_POOL2D_NAME
#define EXPRC_POOL2D_T double
#define EXPRC_POOL2D_U uint64_t
#define EXPRC_POOL2D_NAME(stem) stem##_f64
#include "exprc_pool.c"
#undef EXPRC_POOL2D_T
#undef EXPRC_POOL2D_U
#undef EXPRC_POOL2D_NAME

EXPRC_EXPORT int exprc_pool_2d(exprc_pool *pool, exprc_array *out, const exprc_array *x,
                               const exprc_pool2d_params *params, int64_t itemsize,
                               const char *label, exprc_error *error, int64_t node)
{
    exprc_pool2d_plan plan;
    if (exprc_pool2d_plan_init(&plan, x, params, label, error, node)) return -1;
    int status = exprc_pool2d_alloc(pool, out, x, plan.out_rows, plan.out_cols, itemsize, error,
                                  node);
    if (status == 0) {
        if (itemsize == 4) exprc_pool2d_run_f32(&plan, x, out, params->mode);
        else exprc_pool2d_run_f64(&plan, x, out, params->mode);
    }
    free(plan.spans);
    return status;
}

EXPRC_EXPORT int exprc_max_pool_grad(exprc_pool *pool, exprc_array *gx, const exprc_array *x,
                                     const exprc_array *gz, const exprc_pool2d_params *params,
                                     int64_t itemsize, const char *label, exprc_error *error,
                                     int64_t node)
{
    exprc_pool2d_plan plan;
    if (exprc_pool2d_plan_init(&plan, x, params, label, error, node)) return -1;
    int status = exprc_pool2d_alloc_grad(pool, gx, x, gz, &plan, itemsize, label, error, node);
    if (status == 0) {
        if (itemsize == 4) exprc_pool2d_max_grad_f32(&plan, x, gz, gx);
        else exprc_pool2d_max_grad_f64(&plan, x, gz, gx);
    }
    free(plan.spans);
    return status;
}

EXPRC_EXPORT int exprc_max_pool_grad_grad(exprc_pool *pool, exprc_array *out,
                                          const exprc_array *x, const exprc_array *g,
                                          const exprc_pool2d_params *params, int64_t itemsize,
                                          const char *label, exprc_error *error, int64_t node)
{
    exprc_pool2d_plan plan;
    if (exprc_pool2d_plan_init(&plan, x, params, label, error, node)) return -1;
    int status;
    if (!exprc_pool2d_fits(g, x, plan.rows, plan.cols)) {
        status = exprc_set_error(error, EXPRC_VALUE_ERROR, node, "%s: values of shape %s for "
                                 "an input of shape %s (they must be equal)", label,
                                 exprc_shape_str(g), exprc_shape_str(x));
    } else {
        status = exprc_pool2d_alloc(pool, out, x, plan.out_rows, plan.out_cols, itemsize, error,
                                  node);
    }
    if (status == 0) {
        if (itemsize == 4) exprc_pool2d_max_grad_grad_f32(&plan, x, g, out);
        else exprc_pool2d_max_grad_grad_f64(&plan, x, g, out);
    }
    free(plan.spans);
    return status;
}

EXPRC_EXPORT int exprc_average_pool_grad(exprc_pool *pool, exprc_array *gx,
                                         const exprc_array *x, const exprc_array *gz,
                                         const exprc_pool2d_params *params, int64_t itemsize,
                                         const char *label, exprc_error *error, int64_t node)
{
    exprc_pool2d_plan plan;
    if (exprc_pool2d_plan_init(&plan, x, params, label, error, node)) return -1;
    int status = exprc_pool2d_alloc_grad(pool, gx, x, gz, &plan, itemsize, label, error, node);
    if (status == 0) {
        if (itemsize == 4) exprc_pool2d_average_grad_f32(&plan, gz, gx, params->mode);
        else exprc_pool2d_average_grad_f64(&plan, gz, gx, params->mode);
    }
    free(plan.spans);
    return status;
}

#else /* ----------------------------------------- the typed kernels for EXPRC_POOL2D_T */

#define POOL_T EXPRC_POOL2D_T
#define POOL_AT(base, offset) (*(const POOL_T *)((base) + (offset)))
/* The larger of m and v, or v when it is NaN (a NaN wins, as in np.max). */
#define POOL_MAX(m, v) (((v) > (m) || (v) != (v)) ? (v) : (m))
/* Whether v replaces m as the first maximum: larger, or the first NaN. */
#define POOL_BEATS(v, m) ((v) > (m) || ((v) != (v) && (m) == (m)))

/* One window of an image (xr, xc: byte strides of its rows and columns). */
static inline POOL_T EXPRC_POOL2D_NAME(exprc_pool2d_window)(const char *x, int64_t xr, int64_t xc,
                                                        exprc_pool2d_span R, exprc_pool2d_span C,
                                                        int64_t mode)
{
    if (R.hi == R.lo || C.hi == C.lo) return 0;   /* entirely in padding: the zeros' value */
    if (mode == EXPRC_POOL2D_MAX) {
        POOL_T m = POOL_AT(x, R.lo * xr + C.lo * xc);
        for (int64_t r = R.lo; r < R.hi; ++r)
            for (int64_t c = C.lo; c < C.hi; ++c) {
                const POOL_T v = POOL_AT(x, r * xr + c * xc);
                m = POOL_MAX(m, v);
            }
        return m;
    }
    double s = 0;
    for (int64_t r = R.lo; r < R.hi; ++r)
        for (int64_t c = C.lo; c < C.hi; ++c) s += POOL_AT(x, r * xr + c * xc);
    if (mode == EXPRC_POOL2D_AVERAGE_INC_PAD) s /= (double)(R.full * C.full);
    else if (mode == EXPRC_POOL2D_AVERAGE_EXC_PAD) s /= (double)((R.hi - R.lo) * (C.hi - C.lo));
    return (POOL_T)s;
}

/* The row of the first maximum (row-major; the first NaN if any) of a non-empty window, its
 * column in *col. */
static inline int64_t EXPRC_POOL2D_NAME(exprc_pool2d_first_max)(const char *x, int64_t xr,
                                                            int64_t xc, exprc_pool2d_span R,
                                                            exprc_pool2d_span C, int64_t *col)
{
    int64_t best_r = R.lo, best_c = C.lo;
    POOL_T m = POOL_AT(x, R.lo * xr + C.lo * xc);
    for (int64_t r = R.lo; r < R.hi; ++r)
        for (int64_t c = C.lo; c < C.hi; ++c) {
            const POOL_T v = POOL_AT(x, r * xr + c * xc);
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
static inline POOL_T EXPRC_POOL2D_NAME(exprc_pool2d_max4)(POOL_T v0, POOL_T v1, POOL_T v2,
                                                          POOL_T v3)
{
    const POOL_T m01 = v1 > v0 ? v1 : v0, m23 = v3 > v2 ? v3 : v2;
    const POOL_T m = m23 > m01 ? m23 : m01;
    if (__builtin_expect((v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3), 0))
        return v0 + v1 + v2 + v3;
    return m;
}

/* Max pooling of an image with contiguous rows by 2x2 windows side by side (the usual case
 * in CNNs): no spans to consult, and a loop over the columns the compiler vectorizes. */
static void EXPRC_POOL2D_NAME(exprc_pool2d_max_pairs)(const char *x, int64_t xr, POOL_T *out,
                                                      int64_t out_rows, int64_t out_cols)
{
    for (int64_t i = 0; i < out_rows; ++i) {
        const POOL_T *a = (const POOL_T *)(x + 2 * i * xr);
        const POOL_T *b = (const POOL_T *)(x + (2 * i + 1) * xr);
        POOL_T *o = out + i * out_cols;
        for (int64_t j = 0; j < out_cols; ++j) {
            o[j] = EXPRC_POOL2D_NAME(exprc_pool2d_max4)(a[2 * j], a[2 * j + 1], b[2 * j],
                                                        b[2 * j + 1]);
        }
    }
}

/* The gradient of exprc_pool2d_max_pairs into gx (rows of `cols` elements): every element
 * of the covered rows and columns is written, gz's value at its window's first maximum and
 * zero elsewhere.  Which of the four wins is random on real data, so the choice is made with
 * bit masks (exact for any value of gz, inf and NaN included) rather than branches, which
 * would be mispredicted half the time. */
static void EXPRC_POOL2D_NAME(exprc_pool2d_max_grad_pairs)(const char *x, int64_t xr,
                                                           const char *gz, int64_t gr,
                                                           int64_t gc, POOL_T *gx,
                                                           int64_t cols, int64_t out_rows,
                                                           int64_t out_cols)
{
    typedef EXPRC_POOL2D_U bits;
    for (int64_t i = 0; i < out_rows; ++i) {
        const POOL_T *a = (const POOL_T *)(x + 2 * i * xr);
        const POOL_T *b = (const POOL_T *)(x + (2 * i + 1) * xr);
        const char *g = gz + i * gr;
        bits *restrict ga = (bits *)(gx + 2 * i * cols), *restrict gb = ga + cols;
        _Pragma("omp simd")
        for (int64_t j = 0; j < out_cols; ++j) {
            const POOL_T v0 = a[2 * j], v1 = a[2 * j + 1], v2 = b[2 * j], v3 = b[2 * j + 1];
            /* The first element equal to the maximum (a NaN "equals" a NaN maximum). */
            const POOL_T m = EXPRC_POOL2D_NAME(exprc_pool2d_max4)(v0, v1, v2, v3);
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
        }
    }
}

static void EXPRC_POOL2D_NAME(exprc_pool2d_run)(const exprc_pool2d_plan *plan, const exprc_array *x,
                                            exprc_array *out, int64_t mode)
{
    const int64_t xr = x->strides[x->ndim - 2], xc = x->strides[x->ndim - 1];
    const int64_t oc = plan->out_cols, image = plan->out_rows * oc;
    const exprc_pool2d_span *rows = plan->spans, *cols = plan->spans + plan->out_rows;
    const int pairs = plan->pairs && mode == EXPRC_POOL2D_MAX && xc == sizeof(POOL_T);
#pragma omp parallel for schedule(static) if (plan->parallel)
    for (int64_t n = 0; n < plan->images; ++n) {
        const char *xp = x->data + exprc_pool2d_image_offset(x, n);
        POOL_T *op = (POOL_T *)out->data + n * image;
        if (pairs) {
            EXPRC_POOL2D_NAME(exprc_pool2d_max_pairs)(xp, xr, op, plan->out_rows, oc);
            continue;
        }
        for (int64_t i = 0; i < plan->out_rows; ++i)
            for (int64_t j = 0; j < oc; ++j)
                op[i * oc + j] = EXPRC_POOL2D_NAME(exprc_pool2d_window)(xp, xr, xc, rows[i],
                                                                        cols[j], mode);
    }
}

static void EXPRC_POOL2D_NAME(exprc_pool2d_max_grad)(const exprc_pool2d_plan *plan,
                                                 const exprc_array *x, const exprc_array *gz,
                                                 exprc_array *gx)
{
    const int64_t xr = x->strides[x->ndim - 2], xc = x->strides[x->ndim - 1];
    const int64_t gr = gz->strides[gz->ndim - 2], gc = gz->strides[gz->ndim - 1];
    const int64_t cols_in = plan->cols, image = plan->rows * cols_in;
    const exprc_pool2d_span *rows = plan->spans, *cols = plan->spans + plan->out_rows;
    const int pairs = plan->pairs && xc == sizeof(POOL_T);
#pragma omp parallel for schedule(static) if (plan->parallel)
    for (int64_t n = 0; n < plan->images; ++n) {
        const char *xp = x->data + exprc_pool2d_image_offset(x, n);
        const char *gp = gz->data + exprc_pool2d_image_offset(gz, n);
        POOL_T *gxp = (POOL_T *)gx->data + n * image;
        /* The pairs write every element their windows cover: only an odd last row or
         * column is left to zero. */
        if (!pairs || plan->rows % 2 || plan->cols % 2)
            memset(gxp, 0, sizeof(POOL_T) * (size_t)image);
        if (pairs) {
            EXPRC_POOL2D_NAME(exprc_pool2d_max_grad_pairs)(xp, xr, gp, gr, gc, gxp, cols_in,
                                                           plan->out_rows, plan->out_cols);
            continue;
        }
        for (int64_t i = 0; i < plan->out_rows; ++i)
            for (int64_t j = 0; j < plan->out_cols; ++j) {
                if (rows[i].hi == rows[i].lo || cols[j].hi == cols[j].lo) continue;
                int64_t c;
                const int64_t r = EXPRC_POOL2D_NAME(exprc_pool2d_first_max)(xp, xr, xc, rows[i],
                                                                        cols[j], &c);
                gxp[r * cols_in + c] += POOL_AT(gp, i * gr + j * gc);
            }
    }
}

static void EXPRC_POOL2D_NAME(exprc_pool2d_max_grad_grad)(const exprc_pool2d_plan *plan,
                                                      const exprc_array *x,
                                                      const exprc_array *g, exprc_array *out)
{
    const int64_t xr = x->strides[x->ndim - 2], xc = x->strides[x->ndim - 1];
    const int64_t gr = g->strides[g->ndim - 2], gc = g->strides[g->ndim - 1];
    const int64_t oc = plan->out_cols, image = plan->out_rows * oc;
    const exprc_pool2d_span *rows = plan->spans, *cols = plan->spans + plan->out_rows;
#pragma omp parallel for schedule(static) if (plan->parallel)
    for (int64_t n = 0; n < plan->images; ++n) {
        const char *xp = x->data + exprc_pool2d_image_offset(x, n);
        const char *gp = g->data + exprc_pool2d_image_offset(g, n);
        POOL_T *op = (POOL_T *)out->data + n * image;
        for (int64_t i = 0; i < plan->out_rows; ++i)
            for (int64_t j = 0; j < oc; ++j) {
                POOL_T v = 0;
                if (rows[i].hi > rows[i].lo && cols[j].hi > cols[j].lo) {
                    int64_t c;
                    const int64_t r = EXPRC_POOL2D_NAME(exprc_pool2d_first_max)(xp, xr, xc, rows[i],
                                                                            cols[j], &c);
                    v = POOL_AT(gp, r * gr + c * gc);
                }
                op[i * oc + j] = v;
            }
    }
}

static void EXPRC_POOL2D_NAME(exprc_pool2d_average_grad)(const exprc_pool2d_plan *plan,
                                                     const exprc_array *gz, exprc_array *gx,
                                                     int64_t mode)
{
    const int64_t gr = gz->strides[gz->ndim - 2], gc = gz->strides[gz->ndim - 1];
    const int64_t cols_in = plan->cols, image = plan->rows * cols_in;
    const exprc_pool2d_span *rows = plan->spans, *cols = plan->spans + plan->out_rows;
#pragma omp parallel for schedule(static) if (plan->parallel)
    for (int64_t n = 0; n < plan->images; ++n) {
        const char *gp = gz->data + exprc_pool2d_image_offset(gz, n);
        POOL_T *gxp = (POOL_T *)gx->data + n * image;
        memset(gxp, 0, sizeof(POOL_T) * (size_t)image);
        for (int64_t i = 0; i < plan->out_rows; ++i)
            for (int64_t j = 0; j < plan->out_cols; ++j) {
                const exprc_pool2d_span R = rows[i], C = cols[j];
                if (R.hi == R.lo || C.hi == C.lo) continue;
                POOL_T share = POOL_AT(gp, i * gr + j * gc);
                if (mode == EXPRC_POOL2D_AVERAGE_INC_PAD)
                    share = (POOL_T)(share / (double)(R.full * C.full));
                else if (mode == EXPRC_POOL2D_AVERAGE_EXC_PAD)
                    share = (POOL_T)(share / (double)((R.hi - R.lo) * (C.hi - C.lo)));
                for (int64_t r = R.lo; r < R.hi; ++r)
                    for (int64_t c = C.lo; c < C.hi; ++c) gxp[r * cols_in + c] += share;
            }
    }
}

#undef POOL_BEATS
#undef POOL_MAX
#undef POOL_AT
#undef POOL_T

#endif /* EXPRC_POOL2D_T */
