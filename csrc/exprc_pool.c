/* Pooling kernels: the definitions declared in exprc_pool.h.
 *
 * This file holds what every element type shares (the windows, the checks, allocation); the
 * kernels and entry points are written once in exprc_pool_body.h and included for float and
 * double.  Arrays are addressed through byte strides, so inputs of any layout need no copy;
 * outputs are contiguous.  Each image (one index of the leading axes) is independent, so
 * the leading axes are shared among OpenMP threads and no two threads write one element. */
#include "exprc_pool.h"

#include <math.h>

/* Below this many input elements the images are walked on one thread.  Pooling is
 * memory-bound and one core is fast at it (the 2x2 paths: 0.13 ms forward, 0.36 ms gradient
 * for LeNet's largest map, 128 x 20 x 24 x 24 floats), while an OpenMP region started just
 * after a BLAS call competes with OpenBLAS's still-spinning workers: in the LeNet step on 2
 * cores the threaded pooling nodes took 3-5 ms each.  Even with OpenBLAS's workers sleeping
 * soon, threading LeNet's pooling at 64K elements saved 0.3 ms on the pooling and cost the
 * product after the second pooling 1 ms (its workers then wait for cores the OpenMP workers
 * still hold).  Threads pay only on larger arrays. */
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

/* A kernel of one element type (exprc_pool_body.h): pools x's windows as the plan lists them
 * into the allocated out, with the op's second array a (NULL for pooling itself). */
typedef void exprc_pool2d_kernel(const exprc_pool2d_plan *plan, const exprc_array *x,
                                 const exprc_array *a, exprc_array *out, int64_t mode);

/* An op whose output has the pooled shape: pooling (a NULL), or the gradient of max pooling's
 * gradient (a: values shaped like x).  Windows, checks and the output, then the kernel. */
static int exprc_pool2d_pooled(exprc_pool *pool, exprc_array *out, const exprc_array *x,
                               const exprc_array *a, const exprc_pool2d_params *params,
                               int64_t itemsize, exprc_pool2d_kernel *kernel,
                               const char *label, exprc_error *error, int64_t node)
{
    exprc_pool2d_plan plan;
    if (exprc_pool2d_plan_init(&plan, x, params, label, error, node)) return -1;
    int status;
    if (a != NULL && !exprc_pool2d_fits(a, x, plan.rows, plan.cols)) {
        status = exprc_set_error(error, EXPRC_VALUE_ERROR, node, "%s: values of shape %s for "
                                 "an input of shape %s (they must be equal)", label,
                                 exprc_shape_str(a), exprc_shape_str(x));
    } else {
        status = exprc_pool2d_alloc(pool, out, x, plan.out_rows, plan.out_cols, itemsize,
                                    error, node);
    }
    if (status == 0) kernel(&plan, x, a, out, params->mode);
    free(plan.spans);
    return status;
}

/* A gradient w.r.t. the input (gx, shaped like x) given gz of the pooled shape. */
static int exprc_pool2d_grad(exprc_pool *pool, exprc_array *gx, const exprc_array *x,
                             const exprc_array *gz, const exprc_pool2d_params *params,
                             int64_t itemsize, exprc_pool2d_kernel *kernel, const char *label,
                             exprc_error *error, int64_t node)
{
    exprc_pool2d_plan plan;
    if (exprc_pool2d_plan_init(&plan, x, params, label, error, node)) return -1;
    int status = exprc_pool2d_alloc_grad(pool, gx, x, gz, &plan, itemsize, label, error, node);
    if (status == 0) kernel(&plan, x, gz, gx, params->mode);
    free(plan.spans);
    return status;
}

/* The typed kernels and entry points (see csrc/README.md, "Typed kernels"); EXPRC_POOL2D_U is
 * the unsigned integer of the element's size, for bitwise selects. */
#define EXPRC_T float
#define EXPRC_TYPED(stem) stem##_float32
#define EXPRC_POOL2D_U uint32_t
#include "exprc_pool_body.h"

#define EXPRC_T double
#define EXPRC_TYPED(stem) stem##_float64
#define EXPRC_POOL2D_U uint64_t
#include "exprc_pool_body.h"
