/* 2-d convolution of exported programs (NCHW), its transpose and its filter gradient, as
 * im2col and the product of exprc_portable_gemm.h. requires: gemm
 *
 *     int exprc_portable_conv2d_<dtype>(geometry, x, x strides, w, w_rs, out, col, work, size)
 *     int exprc_portable_conv2d_grad_inputs_<dtype>(geometry, w, w_rs, gy, gy strides, gx,
 *                                                   col, work, size)
 *     int exprc_portable_conv2d_grad_weights_<dtype>(geometry, x, x strides, gy, gy strides,
 *                                                    gw, col, work, size)
 *
 * Semantics are those of exprc.tensor.nnet.conv (Theano's): the filters (O, C / groups, kh,
 * kw) meet the input zero-padded by pad_h, pad_w, with taps dilation apart and windows
 * stride apart; flip != 0 is a true convolution (the filters reversed along both spatial
 * axes), flip == 0 a cross-correlation. Each image and group is one product:
 *
 *     conv2d:        out[n, g] (Og x oh*ow)   = W[g] (Og x K) @ col(x[n, g]) (K x oh*ow)
 *     grad_inputs:   col (K x oh*ow)          = W[g]^T @ gy[n, g], then added back into
 *                                               gx[n, g] where im2col read it (col2im)
 *     grad_weights:  gw[g] (Og x K)          += gy[n, g] @ col(x[n, g])^T, over n
 *
 * with K = C / groups * kh * kw. The rows of col are ordered as the filters' (channel, tap
 * row, tap column), and with flip the row of tap (i, j) holds the input under tap (kh-1-i,
 * kw-1-j): the filters are used as stored, and the filter gradient comes out flipped back.
 * A 1x1 filter at stride 1 without padding needs no col: the image is the matrix.
 *
 * `col` holds K * oh * ow elements (unused by the 1x1 case) and `work` the product's packing
 * (sized with exprc.export.c.rules.blas.gemm_work). Each returns the product's status: 0, or
 * 1 when the work memory is too small.
 *
 * Every function is static inline: a program pastes the whole section and calls only the
 * kernels its nodes need, and -Wall reports unused static functions only when not inline.
 * Typed kernel (float32, float64): the exporter defines EXPRC_T and EXPRC_TYPED around this
 * text, once per dtype; no include guard for that part.
 */
#ifndef EXPRC_PORTABLE_CONV_GEOMETRY
#define EXPRC_PORTABLE_CONV_GEOMETRY
/* Sizes of one convolution, all known at export time. */
typedef struct {
    ptrdiff_t batch, groups;
    ptrdiff_t group_channels;  /* input channels per group: C / groups */
    ptrdiff_t group_filters;   /* output channels per group: O / groups */
    ptrdiff_t height, width;   /* the input's rows and columns */
    ptrdiff_t kernel_h, kernel_w, pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w;
    ptrdiff_t out_h, out_w;
    int flip;
} exprc_portable_conv_geometry;

/* The first output index o >= 0 with o * stride >= t (stride > 0). */
static inline ptrdiff_t exprc_portable_conv_first(ptrdiff_t t, ptrdiff_t stride)
{
    return t <= 0 ? 0 : (t + stride - 1) / stride;
}

/* The output columns [*lo, *hi) whose input column o * stride + offset lies in [0, width);
 * the others read padding. */
static inline void exprc_portable_conv_span(ptrdiff_t offset, ptrdiff_t stride, ptrdiff_t width,
                                            ptrdiff_t outputs, ptrdiff_t *lo, ptrdiff_t *hi)
{
    ptrdiff_t a = exprc_portable_conv_first(-offset, stride);
    ptrdiff_t b = exprc_portable_conv_first(width - offset, stride);
    a = a < outputs ? a : outputs;
    b = b < outputs ? b : outputs;
    *lo = a;
    *hi = b > a ? b : a;
}

/* Whether the filters are 1x1 at stride 1 without padding over an image whose rows follow
 * each other (row stride = width * column stride): then the image is the product's matrix. */
static inline int exprc_portable_conv_pointwise(const exprc_portable_conv_geometry *g,
                                                ptrdiff_t row_stride, ptrdiff_t col_stride)
{
    return g->kernel_h == 1 && g->kernel_w == 1 && g->stride_h == 1 && g->stride_w == 1
           && g->pad_h == 0 && g->pad_w == 0
           && (g->height <= 1 || row_stride == g->width * col_stride);
}
#endif /* EXPRC_PORTABLE_CONV_GEOMETRY */

/* col (K x oh*ow, row-major) = the windows of one group of one image x (its channels xc
 * apart, rows xh apart, columns xw apart), padding read as zeros. */
static inline void EXPRC_TYPED(exprc_portable_im2col)(const exprc_portable_conv_geometry *g,
                                                      const EXPRC_T *x, ptrdiff_t xc,
                                                      ptrdiff_t xh, ptrdiff_t xw, EXPRC_T *col)
{
    const ptrdiff_t kh = g->kernel_h, kw = g->kernel_w, oh = g->out_h, ow = g->out_w;
    for (ptrdiff_t c = 0; c < g->group_channels; ++c)
        for (ptrdiff_t i = 0; i < kh; ++i)
            for (ptrdiff_t j = 0; j < kw; ++j) {
                const ptrdiff_t ti = g->flip ? kh - 1 - i : i, tj = g->flip ? kw - 1 - j : j;
                const ptrdiff_t row_offset = ti * g->dilation_h - g->pad_h;
                const ptrdiff_t col_offset = tj * g->dilation_w - g->pad_w;
                const EXPRC_T *plane = x + c * xc;
                EXPRC_T *to = col + ((c * kh + i) * kw + j) * oh * ow;
                ptrdiff_t lo, hi;
                exprc_portable_conv_span(col_offset, g->stride_w, g->width, ow, &lo, &hi);
                for (ptrdiff_t y = 0; y < oh; ++y, to += ow) {
                    const ptrdiff_t r = y * g->stride_h + row_offset;
                    if (r < 0 || r >= g->height) {
                        for (ptrdiff_t o = 0; o < ow; ++o) to[o] = 0;
                        continue;
                    }
                    /* Indices, not a pointer moved by col_offset: that may point before
                     * the image, which C leaves undefined even when nothing is read there. */
                    const EXPRC_T *from = plane + r * xh;
                    const ptrdiff_t step = g->stride_w * xw, start = col_offset * xw;
                    for (ptrdiff_t o = 0; o < lo; ++o) to[o] = 0;
                    for (ptrdiff_t o = lo; o < hi; ++o) to[o] = from[o * step + start];
                    for (ptrdiff_t o = hi; o < ow; ++o) to[o] = 0;
                }
            }
}

/* The adjoint of im2col: every entry of col added to the element of one group of one
 * contiguous image gx (height x width per channel) it was read from; padding drops out. */
static inline void EXPRC_TYPED(exprc_portable_col2im)(const exprc_portable_conv_geometry *g,
                                                      const EXPRC_T *col, EXPRC_T *gx)
{
    const ptrdiff_t kh = g->kernel_h, kw = g->kernel_w, oh = g->out_h, ow = g->out_w;
    const ptrdiff_t width = g->width;
    for (ptrdiff_t c = 0; c < g->group_channels; ++c)
        for (ptrdiff_t i = 0; i < kh; ++i)
            for (ptrdiff_t j = 0; j < kw; ++j) {
                const ptrdiff_t ti = g->flip ? kh - 1 - i : i, tj = g->flip ? kw - 1 - j : j;
                const ptrdiff_t row_offset = ti * g->dilation_h - g->pad_h;
                const ptrdiff_t col_offset = tj * g->dilation_w - g->pad_w;
                EXPRC_T *plane = gx + c * g->height * width;
                const EXPRC_T *from = col + ((c * kh + i) * kw + j) * oh * ow;
                ptrdiff_t lo, hi;
                exprc_portable_conv_span(col_offset, g->stride_w, width, ow, &lo, &hi);
                for (ptrdiff_t y = 0; y < oh; ++y, from += ow) {
                    const ptrdiff_t r = y * g->stride_h + row_offset;
                    if (r < 0 || r >= g->height) continue;
                    EXPRC_T *to = plane + r * width;
                    for (ptrdiff_t o = lo; o < hi; ++o)
                        to[o * g->stride_w + col_offset] += from[o];
                }
            }
}

/* out (batch, O, oh, ow), contiguous = conv2d(x, w); x has strides (xn, xc, xh, xw), w is
 * the (O x K) matrix of rows w_rs apart. */
static inline int EXPRC_TYPED(exprc_portable_conv2d)(
    const exprc_portable_conv_geometry *g, const EXPRC_T *x, ptrdiff_t xn, ptrdiff_t xc,
    ptrdiff_t xh, ptrdiff_t xw, const EXPRC_T *w, ptrdiff_t w_rs, EXPRC_T *out, EXPRC_T *col,
    EXPRC_T *work, ptrdiff_t work_size)
{
    const ptrdiff_t og = g->group_filters, pixels = g->out_h * g->out_w;
    const ptrdiff_t depth = g->group_channels * g->kernel_h * g->kernel_w;
    const int pointwise = exprc_portable_conv_pointwise(g, xh, xw);
    for (ptrdiff_t n = 0; n < g->batch; ++n)
        for (ptrdiff_t q = 0; q < g->groups; ++q) {
            const EXPRC_T *image = x + n * xn + q * g->group_channels * xc;
            EXPRC_T *to = out + (n * g->groups + q) * og * pixels;
            const EXPRC_T *b = col;
            ptrdiff_t b_rs = pixels, b_cs = 1;
            if (pointwise) {
                b = image;
                b_rs = xc;
                b_cs = xw;
            } else {
                EXPRC_TYPED(exprc_portable_im2col)(g, image, xc, xh, xw, col);
            }
            if (EXPRC_TYPED(exprc_portable_gemm)(og, pixels, depth, 1, w + q * og * w_rs, w_rs,
                                                 1, b, b_rs, b_cs, 0, to, pixels, 0, work,
                                                 work_size))
                return 1;
        }
    return 0;
}

/* gx (batch, C, height, width), contiguous = the transposed convolution of gy (batch, O, oh,
 * ow; strides gn, gc, gh, gw with gh == ow * gw where oh > 1) by w (O x K, rows w_rs apart). */
static inline int EXPRC_TYPED(exprc_portable_conv2d_grad_inputs)(
    const exprc_portable_conv_geometry *g, const EXPRC_T *w, ptrdiff_t w_rs, const EXPRC_T *gy,
    ptrdiff_t gn, ptrdiff_t gc, ptrdiff_t gw, EXPRC_T *gx, EXPRC_T *col, EXPRC_T *work,
    ptrdiff_t work_size)
{
    const ptrdiff_t og = g->group_filters, pixels = g->out_h * g->out_w;
    const ptrdiff_t image = g->height * g->width;
    const ptrdiff_t depth = g->group_channels * g->kernel_h * g->kernel_w;
    /* 1x1 at stride 1 without padding: out_h x out_w is the image, and the product is it. */
    const int pointwise = exprc_portable_conv_pointwise(g, 0, 0) && pixels == image;
    for (ptrdiff_t n = 0; n < g->batch; ++n)
        for (ptrdiff_t q = 0; q < g->groups; ++q) {
            EXPRC_T *to = gx + (n * g->groups + q) * g->group_channels * image;
            const EXPRC_T *filters = w + q * og * w_rs;
            const EXPRC_T *grads = gy + n * gn + q * og * gc;
            if (pointwise) {
                if (EXPRC_TYPED(exprc_portable_gemm)(depth, pixels, og, 1, filters, 1, w_rs,
                                                     grads, gc, gw, 0, to, image, 0, work,
                                                     work_size))
                    return 1;
                continue;
            }
            for (ptrdiff_t e = 0; e < g->group_channels * image; ++e) to[e] = 0;
            if (EXPRC_TYPED(exprc_portable_gemm)(depth, pixels, og, 1, filters, 1, w_rs, grads,
                                                 gc, gw, 0, col, pixels, 0, work, work_size))
                return 1;
            EXPRC_TYPED(exprc_portable_col2im)(g, col, to);
        }
    return 0;
}

/* gw (O, C / groups, kh, kw), contiguous = the gradient of conv2d w.r.t. its filters, from
 * x (strides xn, xc, xh, xw) and gy (strides gn, gc, gh, gw with gh == ow * gw where
 * oh > 1). */
static inline int EXPRC_TYPED(exprc_portable_conv2d_grad_weights)(
    const exprc_portable_conv_geometry *g, const EXPRC_T *x, ptrdiff_t xn, ptrdiff_t xc,
    ptrdiff_t xh, ptrdiff_t xw, const EXPRC_T *gy, ptrdiff_t gn, ptrdiff_t gc, ptrdiff_t gw,
    EXPRC_T *out, EXPRC_T *col, EXPRC_T *work, ptrdiff_t work_size)
{
    const ptrdiff_t og = g->group_filters, pixels = g->out_h * g->out_w;
    const ptrdiff_t depth = g->group_channels * g->kernel_h * g->kernel_w;
    const int pointwise = exprc_portable_conv_pointwise(g, xh, xw);
    if (g->batch == 0)
        for (ptrdiff_t e = 0; e < g->groups * og * depth; ++e) out[e] = 0;
    for (ptrdiff_t q = 0; q < g->groups; ++q)
        for (ptrdiff_t n = 0; n < g->batch; ++n) {
            const EXPRC_T *image = x + n * xn + q * g->group_channels * xc;
            const EXPRC_T *b = col;
            ptrdiff_t b_rs = 1, b_cs = pixels;
            if (pointwise) {
                b = image;
                b_rs = xw;
                b_cs = xc;
            } else {
                EXPRC_TYPED(exprc_portable_im2col)(g, image, xc, xh, xw, col);
            }
            /* The first image sets the gradient, the others add to it. */
            if (EXPRC_TYPED(exprc_portable_gemm)(og, depth, pixels, 1, gy + n * gn + q * og * gc,
                                                 gc, gw, b, b_rs, b_cs, 1,
                                                 out + q * og * depth, depth, n > 0, work,
                                                 work_size))
                return 1;
        }
    return 0;
}
