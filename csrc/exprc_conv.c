/* Convolution kernels (im2col and friends): the definitions declared in exprc_conv.h. */
#include <string.h>

#include "exprc_conv.h"
#include "exprc_gemm.h"

/* A chunk of images aims at this many columns of the unfolded matrix, enough for BLAS to run
 * its products near full speed, and keeps the matrix within this many bytes (one image always
 * goes, whatever its size) so that it stays in cache between unfolding and the product.
 * Measured on the LeNet shapes: chunks of 7 and 16 images beat one image (4.9 against 5.2 ms
 * for the first layer's filter gradient) and the whole batch (12.7 against 7.2 ms for the
 * second layer's forward pass). */
#define EXPRC_CONV_COLS_BYTES ((int64_t)2 << 20)
#define EXPRC_CONV_TARGET_COLS 4096

/* The sizes of one call, its paddings resolved. */
typedef struct {
    int64_t n, c, h, w;        /* input */
    int64_t o, cg, kh, kw;     /* filters: c / groups channels each */
    int64_t oh, ow;            /* output */
    int64_t ph, pw, sh, sw, dh, dw, groups, flip;
    int64_t p;                 /* oh * ow: columns per image */
    int64_t k;                 /* c * kh * kw: rows of the unfolded matrix */
    int64_t chunk;             /* images unfolded together */
} exprc_conv_geom;

static int64_t exprc_conv_pad(int64_t code, int64_t k, int64_t dilation)
{
    const int64_t span = (k - 1) * dilation + 1;
    if (code == EXPRC_CONV_PAD_HALF) return span / 2;
    if (code == EXPRC_CONV_PAD_FULL) return span - 1;
    return code;
}

/* Fill in the geometry from the input (n, c, h, w) and filter (o, cg, kh, kw) sizes, check
 * them, and choose the chunk; -1 with the error set when they do not fit together. */
static int exprc_conv_geometry(exprc_conv_geom *g, const int64_t *in, const int64_t *filt,
                               const exprc_conv_params *p, int64_t itemsize, const char *label,
                               exprc_error *error, int64_t node)
{
    g->n = in[0]; g->c = in[1]; g->h = in[2]; g->w = in[3];
    g->o = filt[0]; g->cg = filt[1]; g->kh = filt[2]; g->kw = filt[3];
    g->sh = p->stride[0]; g->sw = p->stride[1];
    g->dh = p->dilation[0]; g->dw = p->dilation[1];
    g->groups = p->groups; g->flip = p->flip;
    if (g->c % g->groups || g->o % g->groups || g->c != g->cg * g->groups)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: an input of %lld channels does not match filters of shape "
                               "%s in %lld group(s) (%lld input channels per group)", label,
                               (long long)g->c, exprc_ints_str(4, filt, 0),
                               (long long)g->groups, (long long)g->cg);
    if (g->kh < 1 || g->kw < 1)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node, "%s: empty filters of shape %s",
                               label, exprc_ints_str(4, filt, 0));
    g->ph = exprc_conv_pad(p->pad[0], g->kh, g->dh);
    g->pw = exprc_conv_pad(p->pad[1], g->kw, g->dw);
    const int64_t span_h = (g->kh - 1) * g->dh + 1, span_w = (g->kw - 1) * g->dw + 1;
    if (g->h + 2 * g->ph < span_h || g->w + 2 * g->pw < span_w)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: the filter of %lld x %lld (dilation %lld x %lld) is larger "
                               "than the input of %lld x %lld padded by %lld x %lld", label,
                               (long long)g->kh, (long long)g->kw, (long long)g->dh,
                               (long long)g->dw, (long long)g->h, (long long)g->w,
                               (long long)g->ph, (long long)g->pw);
    g->oh = (g->h + 2 * g->ph - span_h) / g->sh + 1;
    g->ow = (g->w + 2 * g->pw - span_w) / g->sw + 1;
    g->p = g->oh * g->ow;
    g->k = g->c * g->kh * g->kw;
    if (g->p > INT32_MAX || g->k > INT32_MAX || g->o > INT32_MAX)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: sizes beyond 2**31 - 1 are not supported by BLAS", label);
    int64_t chunk = EXPRC_CONV_TARGET_COLS / (g->p > 0 ? g->p : 1);
    const int64_t per_image = g->k * g->p * itemsize;
    if (per_image > 0 && chunk * per_image > EXPRC_CONV_COLS_BYTES)
        chunk = EXPRC_CONV_COLS_BYTES / per_image;
    if (chunk * g->p > INT32_MAX) chunk = INT32_MAX / (g->p > 0 ? g->p : 1);
    if (chunk > g->n) chunk = g->n;
    g->chunk = chunk < 1 ? 1 : chunk;
    return 0;
}

/* Whether the unfolded matrix of one image is the image itself (1x1 filters, stride 1, no
 * padding), so that no unfolding is needed. */
static int exprc_conv_is_pointwise(const exprc_conv_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

/* The outputs j in [lo, hi) of a row whose input column j * stride + off lies in [0, size). */
static inline void exprc_conv_valid_range(int64_t off, int64_t stride, int64_t size,
                                          int64_t count, int64_t *lo, int64_t *hi)
{
    int64_t l = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int64_t h = off > size - 1 ? 0 : (size - 1 - off) / stride + 1;
    if (h > count) h = count;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* Unfold images [n0, n0 + nb) of the contiguous x (elements of `isz` bytes) into cols:
 * row (ch, a, b) holds, at column bi * p + i * ow + j, the padded input at
 * (i * sh + ta * dh, j * sw + tb * dw), where (ta, tb) is (a, b) or its flip. */
static inline __attribute__((always_inline)) void
exprc_conv_unfold(const exprc_conv_geom *g, const char *x, char *cols, int64_t n0, int64_t nb,
                  const int64_t isz)
{
    const int64_t row_len = nb * g->p, taps = g->kh * g->kw;
    for (int64_t bi = 0; bi < nb; ++bi)
        for (int64_t ch = 0; ch < g->c; ++ch) {
            const char *image = x + ((n0 + bi) * g->c + ch) * g->h * g->w * isz;
            for (int64_t t = 0; t < taps; ++t) {
                const int64_t a = t / g->kw, b = t % g->kw;
                const int64_t ta = g->flip ? g->kh - 1 - a : a;
                const int64_t tb = g->flip ? g->kw - 1 - b : b;
                char *row = cols + ((ch * taps + t) * row_len + bi * g->p) * isz;
                const int64_t off = tb * g->dw - g->pw;
                int64_t lo, hi;
                exprc_conv_valid_range(off, g->sw, g->w, g->ow, &lo, &hi);
                for (int64_t i = 0; i < g->oh; ++i) {
                    char *dst = row + i * g->ow * isz;
                    const int64_t y = i * g->sh + ta * g->dh - g->ph;
                    if (y < 0 || y >= g->h) {
                        memset(dst, 0, (size_t)(g->ow * isz));
                        continue;
                    }
                    const char *src = image + (y * g->w + off) * isz;
                    memset(dst, 0, (size_t)(lo * isz));
                    if (g->sw == 1) {
                        memcpy(dst + lo * isz, src + lo * isz, (size_t)((hi - lo) * isz));
                    } else if (isz == 4) {
                        for (int64_t j = lo; j < hi; ++j)
                            ((float *)dst)[j] = ((const float *)src)[j * g->sw];
                    } else {
                        for (int64_t j = lo; j < hi; ++j)
                            ((double *)dst)[j] = ((const double *)src)[j * g->sw];
                    }
                    memset(dst + hi * isz, 0, (size_t)((g->ow - hi) * isz));
                }
            }
        }
}

/* Fold cols (laid out as exprc_conv_unfold writes it) back into images [n0, n0 + nb) of the
 * contiguous dx, adding every column into the input entry it was read from. */
static inline __attribute__((always_inline)) void
exprc_conv_fold(const exprc_conv_geom *g, const char *cols, char *dx, int64_t n0, int64_t nb,
                const int64_t isz)
{
    const int64_t row_len = nb * g->p, taps = g->kh * g->kw;
    for (int64_t bi = 0; bi < nb; ++bi)
        for (int64_t ch = 0; ch < g->c; ++ch) {
            char *image = dx + ((n0 + bi) * g->c + ch) * g->h * g->w * isz;
            for (int64_t t = 0; t < taps; ++t) {
                const int64_t a = t / g->kw, b = t % g->kw;
                const int64_t ta = g->flip ? g->kh - 1 - a : a;
                const int64_t tb = g->flip ? g->kw - 1 - b : b;
                const char *row = cols + ((ch * taps + t) * row_len + bi * g->p) * isz;
                const int64_t off = tb * g->dw - g->pw;
                int64_t lo, hi;
                exprc_conv_valid_range(off, g->sw, g->w, g->ow, &lo, &hi);
                for (int64_t i = 0; i < g->oh; ++i) {
                    const int64_t y = i * g->sh + ta * g->dh - g->ph;
                    if (y < 0 || y >= g->h) continue;
                    const char *src = row + i * g->ow * isz;
                    char *dst = image + (y * g->w + off) * isz;
                    if (isz == 4) {
                        for (int64_t j = lo; j < hi; ++j)
                            ((float *)dst)[j * g->sw] += ((const float *)src)[j];
                    } else {
                        for (int64_t j = lo; j < hi; ++j)
                            ((double *)dst)[j * g->sw] += ((const double *)src)[j];
                    }
                }
            }
        }
}

/* Copy between the batch layout (n, o, p) of images [n0, n0 + nb) and the chunk layout
 * (o, nb, p) of a product: to_chunk 1 gathers from batch into chunk, 0 scatters back. */
static void exprc_conv_transpose(const exprc_conv_geom *g, char *batch, char *chunk,
                                 int64_t n0, int64_t nb, int to_chunk, int64_t isz)
{
    const size_t bytes = (size_t)(g->p * isz);
    for (int64_t bi = 0; bi < nb; ++bi)
        for (int64_t oc = 0; oc < g->o; ++oc) {
            char *b = batch + (((n0 + bi) * g->o + oc) * g->p) * isz;
            char *c = chunk + ((oc * nb + bi) * g->p) * isz;
            if (to_chunk) memcpy(c, b, bytes); else memcpy(b, c, bytes);
        }
}

/* A 2-d view (rows x cols) of contiguous data, or its transpose, for exprc_gemm_*. */
static exprc_array exprc_conv_matrix(const char *data, int64_t rows, int64_t cols,
                                     int transposed, int64_t isz)
{
    exprc_array m;
    memset(&m, 0, sizeof m);
    m.data = (char *)data;
    m.ndim = 2;
    m.shape[0] = transposed ? cols : rows;
    m.shape[1] = transposed ? rows : cols;
    m.strides[0] = transposed ? isz : cols * isz;
    m.strides[1] = transposed ? cols * isz : isz;
    return m;
}

/* c (rows ldc apart) = a @ b + beta * c, in float or double. */
static int exprc_conv_gemm(exprc_pool *pool, const exprc_array *a, const exprc_array *b,
                           char *c, int64_t ldc, int beta, int64_t isz, exprc_error *error,
                           int64_t node)
{
    if (isz == 4) return exprc_gemm_s(pool, a, b, c, ldc, 1.0f, (float)beta, 0, error, node);
    return exprc_gemm_d(pool, a, b, c, ldc, 1.0, (double)beta, 0, error, node);
}

/* A fresh contiguous buffer of `count` elements as the 1-d array *a. */
static int exprc_conv_scratch(exprc_pool *pool, exprc_array *a, int64_t count, int64_t isz,
                              exprc_error *error, int64_t node)
{
    memset(a, 0, sizeof *a);
    a->ndim = 1;
    a->shape[0] = count;
    return exprc_alloc_array(pool, a, isz, error, node);
}

/* src itself when contiguous, else a contiguous copy in *copy (release copy->owner). */
static const char *exprc_conv_contiguous(exprc_pool *pool, const exprc_array *src,
                                         exprc_array *copy, int64_t isz, exprc_error *error,
                                         int64_t node)
{
    copy->owner = NULL;
    if (exprc_is_contiguous(src, isz)) return src->data;
    if (exprc_copy_contiguous(pool, copy, src, isz, error, node)) return NULL;
    return copy->data;
}

static int exprc_conv_alloc4(exprc_pool *pool, exprc_array *out, int64_t a, int64_t b,
                             int64_t c, int64_t d, int64_t isz, exprc_error *error,
                             int64_t node)
{
    out->ndim = 4;
    out->shape[0] = a; out->shape[1] = b; out->shape[2] = c; out->shape[3] = d;
    return exprc_alloc_array(pool, out, isz, error, node);
}

/* The output gradient's shape against the forward convolution's output. */
static int exprc_conv_check_grad(const exprc_conv_geom *g, const exprc_array *gy,
                                 const char *label, exprc_error *error, int64_t node)
{
    if (gy->shape[0] == g->n && gy->shape[1] == g->o && gy->shape[2] == g->oh
        && gy->shape[3] == g->ow)
        return 0;
    const int64_t expected[4] = {g->n, g->o, g->oh, g->ow};
    return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                           "%s: the output gradient of shape %s does not match the "
                           "convolution's output %s", label, exprc_shape_str(gy),
                           exprc_ints_str(4, expected, 0));
}

/* ---------------------------------------------------------------- the three ops */
static inline __attribute__((always_inline)) int
exprc_conv_forward(const exprc_conv_geom *g, exprc_pool *pool, char *out, const char *x,
                   const char *w, const int64_t isz, exprc_error *error, int64_t node)
{
    const int64_t og = g->o / g->groups, kg = g->k / g->groups;
    const int pointwise = exprc_conv_is_pointwise(g);
    const int64_t chunk = pointwise ? 1 : g->chunk;
    exprc_array cols = {0}, prod = {0};
    int rc = 0;
    if (!pointwise && exprc_conv_scratch(pool, &cols, g->k * chunk * g->p, isz, error, node))
        return -1;
    if (chunk > 1 && exprc_conv_scratch(pool, &prod, g->o * chunk * g->p, isz, error, node))
        rc = -1;
    for (int64_t n0 = 0; rc == 0 && n0 < g->n; n0 += chunk) {
        const int64_t nb = g->n - n0 < chunk ? g->n - n0 : chunk, len = nb * g->p;
        const char *unfolded = x + n0 * g->k * g->p * isz;
        if (!pointwise) {
            exprc_conv_unfold(g, x, cols.data, n0, nb, isz);
            unfolded = cols.data;
        }
        /* One image writes its (o, p) block in place; a chunk goes through (o, nb, p). */
        char *dest = nb == 1 ? out + n0 * g->o * g->p * isz : prod.data;
        for (int64_t gi = 0; rc == 0 && gi < g->groups; ++gi) {
            exprc_array a = exprc_conv_matrix(w + gi * og * kg * isz, og, kg, 0, isz);
            exprc_array b = exprc_conv_matrix(unfolded + gi * kg * len * isz, kg, len, 0, isz);
            rc = exprc_conv_gemm(pool, &a, &b, dest + gi * og * len * isz, len, 0, isz, error,
                                 node);
        }
        if (rc == 0 && nb > 1) exprc_conv_transpose(g, out, prod.data, n0, nb, 0, isz);
    }
    exprc_release(pool, cols.owner);
    exprc_release(pool, prod.owner);
    return rc;
}

static inline __attribute__((always_inline)) int
exprc_conv_backward_weights(const exprc_conv_geom *g, exprc_pool *pool, char *gw,
                            const char *x, const char *gy, const int64_t isz,
                            exprc_error *error, int64_t node)
{
    const int64_t og = g->o / g->groups, kg = g->k / g->groups;
    const int pointwise = exprc_conv_is_pointwise(g);
    const int64_t chunk = pointwise ? 1 : g->chunk;
    exprc_array cols = {0}, grads = {0};
    int rc = 0;
    memset(gw, 0, (size_t)(g->o * kg * isz));  /* the result of an empty batch */
    if (!pointwise && exprc_conv_scratch(pool, &cols, g->k * chunk * g->p, isz, error, node))
        return -1;
    if (chunk > 1 && exprc_conv_scratch(pool, &grads, g->o * chunk * g->p, isz, error, node))
        rc = -1;
    for (int64_t n0 = 0; rc == 0 && n0 < g->n; n0 += chunk) {
        const int64_t nb = g->n - n0 < chunk ? g->n - n0 : chunk, len = nb * g->p;
        const char *unfolded = x + n0 * g->k * g->p * isz;
        if (!pointwise) {
            exprc_conv_unfold(g, x, cols.data, n0, nb, isz);
            unfolded = cols.data;
        }
        const char *dy = gy + n0 * g->o * g->p * isz;
        if (nb > 1) {
            exprc_conv_transpose(g, (char *)gy, grads.data, n0, nb, 1, isz);
            dy = grads.data;
        }
        for (int64_t gi = 0; rc == 0 && gi < g->groups; ++gi) {
            exprc_array a = exprc_conv_matrix(dy + gi * og * len * isz, og, len, 0, isz);
            exprc_array b = exprc_conv_matrix(unfolded + gi * kg * len * isz, kg, len, 1, isz);
            rc = exprc_conv_gemm(pool, &a, &b, gw + gi * og * kg * isz, kg, n0 > 0, isz,
                                 error, node);
        }
    }
    exprc_release(pool, cols.owner);
    exprc_release(pool, grads.owner);
    return rc;
}

static inline __attribute__((always_inline)) int
exprc_conv_backward_inputs(const exprc_conv_geom *g, exprc_pool *pool, char *dx,
                           const char *w, const char *gy, const int64_t isz,
                           exprc_error *error, int64_t node)
{
    const int64_t og = g->o / g->groups, kg = g->k / g->groups;
    const int pointwise = exprc_conv_is_pointwise(g);
    const int64_t chunk = pointwise ? 1 : g->chunk;
    exprc_array cols = {0}, grads = {0};
    int rc = 0;
    memset(dx, 0, (size_t)(g->n * g->c * g->h * g->w * isz));
    if (!pointwise && exprc_conv_scratch(pool, &cols, g->k * chunk * g->p, isz, error, node))
        return -1;
    if (chunk > 1 && exprc_conv_scratch(pool, &grads, g->o * chunk * g->p, isz, error, node))
        rc = -1;
    for (int64_t n0 = 0; rc == 0 && n0 < g->n; n0 += chunk) {
        const int64_t nb = g->n - n0 < chunk ? g->n - n0 : chunk, len = nb * g->p;
        const char *dy = gy + n0 * g->o * g->p * isz;
        if (nb > 1) {
            exprc_conv_transpose(g, (char *)gy, grads.data, n0, nb, 1, isz);
            dy = grads.data;
        }
        /* Pointwise: the unfolded gradient is the input gradient itself. */
        char *unfolded = pointwise ? dx + n0 * g->k * g->p * isz : cols.data;
        for (int64_t gi = 0; rc == 0 && gi < g->groups; ++gi) {
            exprc_array a = exprc_conv_matrix(w + gi * og * kg * isz, og, kg, 1, isz);
            exprc_array b = exprc_conv_matrix(dy + gi * og * len * isz, og, len, 0, isz);
            rc = exprc_conv_gemm(pool, &a, &b, unfolded + gi * kg * len * isz, len, 0, isz,
                                 error, node);
        }
        if (rc == 0 && !pointwise) exprc_conv_fold(g, cols.data, dx, n0, nb, isz);
    }
    exprc_release(pool, cols.owner);
    exprc_release(pool, grads.owner);
    return rc;
}

/* ---------------------------------------------------------------- entry points */
static int exprc_conv2d_any(exprc_pool *pool, exprc_array *out, const exprc_array *x,
                            const exprc_array *w, const exprc_conv_params *params,
                            const char *label, exprc_error *error, int64_t node, int64_t isz)
{
    exprc_conv_geom g;
    if (exprc_conv_geometry(&g, x->shape, w->shape, params, isz, label, error, node)) return -1;
    if (exprc_conv_alloc4(pool, out, g.n, g.o, g.oh, g.ow, isz, error, node)) return -1;
    exprc_array xc, wc;
    const char *xd = exprc_conv_contiguous(pool, x, &xc, isz, error, node);
    const char *wd = xd ? exprc_conv_contiguous(pool, w, &wc, isz, error, node) : NULL;
    int rc = -1;
    if (wd != NULL)
        rc = isz == 4 ? exprc_conv_forward(&g, pool, out->data, xd, wd, 4, error, node)
                      : exprc_conv_forward(&g, pool, out->data, xd, wd, 8, error, node);
    if (xd != NULL) exprc_release(pool, xc.owner);
    if (wd != NULL) exprc_release(pool, wc.owner);
    return rc;
}

static int exprc_conv2d_grad_inputs_any(exprc_pool *pool, exprc_array *out,
                                        const exprc_array *w, const exprc_array *gy,
                                        const exprc_array *size, int code,
                                        const exprc_conv_params *params, const char *label,
                                        exprc_error *error, int64_t node, int64_t isz)
{
    int64_t hw[2];
    if (exprc_read_ints(size, code, 2, hw, label, error, node)) return -1;
    if (hw[0] < 0 || hw[1] < 0)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node, "%s: negative input size %s",
                               label, exprc_ints_str(2, hw, 0));
    if (gy->shape[1] != w->shape[0])
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: the output gradient of shape %s does not match filters of "
                               "shape %s", label, exprc_shape_str(gy), exprc_shape_str(w));
    const int64_t in[4] = {gy->shape[0], w->shape[1] * params->groups, hw[0], hw[1]};
    exprc_conv_geom g;
    if (exprc_conv_geometry(&g, in, w->shape, params, isz, label, error, node)) return -1;
    if (exprc_conv_check_grad(&g, gy, label, error, node)) return -1;
    if (exprc_conv_alloc4(pool, out, g.n, g.c, g.h, g.w, isz, error, node)) return -1;
    exprc_array wc, gc;
    const char *wd = exprc_conv_contiguous(pool, w, &wc, isz, error, node);
    const char *gd = wd ? exprc_conv_contiguous(pool, gy, &gc, isz, error, node) : NULL;
    int rc = -1;
    if (gd != NULL)
        rc = isz == 4 ? exprc_conv_backward_inputs(&g, pool, out->data, wd, gd, 4, error, node)
                      : exprc_conv_backward_inputs(&g, pool, out->data, wd, gd, 8, error, node);
    if (wd != NULL) exprc_release(pool, wc.owner);
    if (gd != NULL) exprc_release(pool, gc.owner);
    return rc;
}

static int exprc_conv2d_grad_weights_any(exprc_pool *pool, exprc_array *out,
                                         const exprc_array *x, const exprc_array *gy,
                                         const exprc_array *size, int code,
                                         const exprc_conv_params *params, const char *label,
                                         exprc_error *error, int64_t node, int64_t isz)
{
    int64_t khw[2];
    if (exprc_read_ints(size, code, 2, khw, label, error, node)) return -1;
    if (gy->shape[0] != x->shape[0])
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: the input of shape %s and the output gradient of shape %s "
                               "differ in batch size", label, exprc_shape_str(x),
                               exprc_shape_str(gy));
    const int64_t filt[4] = {gy->shape[1], x->shape[1] / params->groups, khw[0], khw[1]};
    exprc_conv_geom g;
    if (exprc_conv_geometry(&g, x->shape, filt, params, isz, label, error, node)) return -1;
    if (exprc_conv_check_grad(&g, gy, label, error, node)) return -1;
    if (exprc_conv_alloc4(pool, out, g.o, g.cg, g.kh, g.kw, isz, error, node)) return -1;
    exprc_array xc, gc;
    const char *xd = exprc_conv_contiguous(pool, x, &xc, isz, error, node);
    const char *gd = xd ? exprc_conv_contiguous(pool, gy, &gc, isz, error, node) : NULL;
    int rc = -1;
    if (gd != NULL)
        rc = isz == 4
            ? exprc_conv_backward_weights(&g, pool, out->data, xd, gd, 4, error, node)
            : exprc_conv_backward_weights(&g, pool, out->data, xd, gd, 8, error, node);
    if (xd != NULL) exprc_release(pool, xc.owner);
    if (gd != NULL) exprc_release(pool, gc.owner);
    return rc;
}

EXPRC_EXPORT int exprc_conv2d_s(exprc_pool *pool, exprc_array *out, const exprc_array *x,
                                const exprc_array *w, const exprc_conv_params *params,
                                const char *label, exprc_error *error, int64_t node)
{
    return exprc_conv2d_any(pool, out, x, w, params, label, error, node, 4);
}

EXPRC_EXPORT int exprc_conv2d_d(exprc_pool *pool, exprc_array *out, const exprc_array *x,
                                const exprc_array *w, const exprc_conv_params *params,
                                const char *label, exprc_error *error, int64_t node)
{
    return exprc_conv2d_any(pool, out, x, w, params, label, error, node, 8);
}

EXPRC_EXPORT int exprc_conv2d_grad_inputs_s(exprc_pool *pool, exprc_array *out,
                                            const exprc_array *w, const exprc_array *gy,
                                            const exprc_array *size, int code,
                                            const exprc_conv_params *params, const char *label,
                                            exprc_error *error, int64_t node)
{
    return exprc_conv2d_grad_inputs_any(pool, out, w, gy, size, code, params, label, error,
                                        node, 4);
}

EXPRC_EXPORT int exprc_conv2d_grad_inputs_d(exprc_pool *pool, exprc_array *out,
                                            const exprc_array *w, const exprc_array *gy,
                                            const exprc_array *size, int code,
                                            const exprc_conv_params *params, const char *label,
                                            exprc_error *error, int64_t node)
{
    return exprc_conv2d_grad_inputs_any(pool, out, w, gy, size, code, params, label, error,
                                        node, 8);
}

EXPRC_EXPORT int exprc_conv2d_grad_weights_s(exprc_pool *pool, exprc_array *out,
                                             const exprc_array *x, const exprc_array *gy,
                                             const exprc_array *size, int code,
                                             const exprc_conv_params *params,
                                             const char *label, exprc_error *error,
                                             int64_t node)
{
    return exprc_conv2d_grad_weights_any(pool, out, x, gy, size, code, params, label, error,
                                         node, 4);
}

EXPRC_EXPORT int exprc_conv2d_grad_weights_d(exprc_pool *pool, exprc_array *out,
                                             const exprc_array *x, const exprc_array *gy,
                                             const exprc_array *size, int code,
                                             const exprc_conv_params *params,
                                             const char *label, exprc_error *error,
                                             int64_t node)
{
    return exprc_conv2d_grad_weights_any(pool, out, x, gy, size, code, params, label, error,
                                         node, 8);
}
