/* Convolution kernels (im2col and friends) for conv2d and its gradients.
 *
 * NCHW images (n, c, h, w) and filters (o, c / groups, kh, kw).  Each op unfolds the
 * (padded, strided, dilated) input patches of a chunk of images into a matrix of
 * c * kh * kw rows (channel, tap row, tap column) and one column per output position of each
 * image of the chunk ("im2col"), then does one BLAS product per group:
 *
 *     forward          out_g   (o/g, cols)  = w_g (o/g, k_g) @ cols_g (k_g, cols)
 *     filter gradient  gw_g    (o/g, k_g)  += gy_g (o/g, cols) @ cols_g^T
 *     input gradient   dcols_g (k_g, cols)  = w_g^T @ gy_g, folded back into the input by
 *                                             col2im (adding where windows overlap)
 *
 * With filter_flip, tap (a, b) of the matrix reads the input at the flipped tap
 * (kh-1-a, kw-1-b), so the filters are used as they lie.  1x1 filters with stride 1 and no
 * padding need no unfolding: each image is its own matrix.
 *
 * Threads: OpenBLAS's workers busy-wait for a while after each product, and an OpenMP region
 * started between two products fights them for the cores (measured with 2 threads on 2
 * cores: the first LeNet layer's forward pass took 200 ms with OpenMP unfolding between
 * multi-threaded products against 2.5 ms without).  So when OpenMP has several threads, the
 * chunks of images are shared among OpenMP threads instead, each unfolding its own chunks
 * and running single-threaded products on them (OpenBLAS is set to one thread for the
 * duration of the op): one thread pool per op, the unfolding parallel too.  On the LeNet
 * shapes with 2 threads this took the five convolution ops of a training step from 31 to
 * 11 ms.  Without a way to set OpenBLAS's thread count the chunks run one after another on
 * multi-threaded products, the unfolding on the calling thread.
 *
 * Declared here, defined in exprc_conv.c (part of the runtime library). */
#ifndef EXPRC_CONV_H
#define EXPRC_CONV_H

#include "exprc_runtime.h"

/* Padding codes besides a count of padded entries (>= 0). */
#define EXPRC_CONV_PAD_HALF (-1)  /* dilated filter size // 2 */
#define EXPRC_CONV_PAD_FULL (-2)  /* dilated filter size - 1 */

/* The parameters shared by the three ops, per spatial axis (rows, cols). */
typedef struct {
    int64_t pad[2];       /* entries per side, or EXPRC_CONV_PAD_HALF / _FULL */
    int64_t stride[2];
    int64_t dilation[2];
    int64_t groups;
    int64_t flip;         /* nonzero: true convolution (Theano's filter_flip) */
} exprc_conv_params;

/* Each op has one entry point per element type, exprc_<op>_float32 and exprc_<op>_float64
 * (defined by exprc_conv_body.h), of the signature below. */

/* out (n, o, oh, ow) = conv2d(x (n, c, h, w), w (o, c / groups, kh, kw)), allocated here;
 * errors (channels, a filter larger than the padded input) name `label`. */
typedef int exprc_conv2d_entry(exprc_pool *pool, exprc_array *out, const exprc_array *x,
                               const exprc_array *w, const exprc_conv_params *params,
                               const char *label, exprc_error *error, int64_t node);
EXPRC_EXPORT exprc_conv2d_entry exprc_conv2d_float32, exprc_conv2d_float64;

/* The gradients of conv2d given the output gradient gy (n, o, oh, ow) and `size`, the integer
 * vector of the two spatial sizes of out, whose elements exprc_index_value's `code` reads:
 * - grad_inputs: out (n, c, h, w) w.r.t. the input, given the filters a = w, size (h, w);
 * - grad_weights: out (o, c / groups, kh, kw) w.r.t. the filters, given the input a = x,
 *   size (kh, kw). */
typedef int exprc_conv2d_grad_entry(exprc_pool *pool, exprc_array *out, const exprc_array *a,
                                    const exprc_array *gy, const exprc_array *size, int code,
                                    const exprc_conv_params *params, const char *label,
                                    exprc_error *error, int64_t node);
EXPRC_EXPORT exprc_conv2d_grad_entry exprc_conv2d_grad_inputs_float32,
    exprc_conv2d_grad_inputs_float64, exprc_conv2d_grad_weights_float32,
    exprc_conv2d_grad_weights_float64;

#endif /* EXPRC_CONV_H */
