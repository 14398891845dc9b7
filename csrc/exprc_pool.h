/* Pooling kernels for pool_2d and its gradients (exprc/tensor/signal/pool.py).
 *
 * Every function pools the last two axes of its arrays, looping over the leading axes (on
 * OpenMP threads when the input is large); inputs may have any strides, outputs are fresh
 * contiguous arrays.  The element type is float32 or float64, in the entry point's name.
 * Windows follow Theano's rules (see exprc_pool2d_params).  Each function returns 0, or -1
 * with the error filled (naming `label`) when its inputs' shapes do not fit together.
 *
 * Declared here, defined in exprc_pool.c (part of the runtime library). */
#ifndef EXPRC_POOL_H
#define EXPRC_POOL_H

#include "exprc_runtime.h"

/* The reduction of a window. */
#define EXPRC_POOL2D_MAX 0
#define EXPRC_POOL2D_SUM 1
#define EXPRC_POOL2D_AVERAGE_INC_PAD 2   /* divided by the window's size, padding included */
#define EXPRC_POOL2D_AVERAGE_EXC_PAD 3   /* divided by the number of input elements in it */

/* Window i of a pooled axis starts at i * stride - pad (padding is zeros); with
 * ignore_border only the windows that fit in the padded axis exist, without it a last
 * partial window is kept (exprc.tensor.signal.pool.pooled_size). */
typedef struct {
    int64_t ws[2];                   /* window rows, columns */
    int64_t stride[2];
    int64_t pad[2];                  /* before and after each axis; < ws */
    int64_t ignore_border;
    int64_t mode;                    /* EXPRC_POOL2D_* */
} exprc_pool2d_params;

/* Each op has one entry point per element type, exprc_<op>_float32 and exprc_<op>_float64
 * (defined by exprc_pool_body.h), of the signatures below. */

/* exprc_pool_2d: out = the pooling of x. */
typedef int exprc_pool_2d_entry(exprc_pool *pool, exprc_array *out, const exprc_array *x,
                                const exprc_pool2d_params *params, const char *label,
                                exprc_error *error, int64_t node);
EXPRC_EXPORT exprc_pool_2d_entry exprc_pool_2d_float32, exprc_pool_2d_float64;

/* The gradients, given x and the array a:
 * - exprc_max_pool_grad: out (shaped like x) = the gradient of max pooling: a[..., i, j] (a
 *   has the pooled shape) added at the first maximum (row-major) of window (i, j) of x;
 * - exprc_max_pool_grad_grad: out (pooled shape) = a[...] at the first maximum of each window
 *   of x; a is shaped like x;
 * - exprc_average_pool_grad: out (shaped like x, whose values are not read) = the gradient of
 *   the sum and average modes: a[..., i, j] (pooled shape), divided as the mode divides,
 *   added over window (i, j). */
typedef int exprc_pool_grad_entry(exprc_pool *pool, exprc_array *out, const exprc_array *x,
                                  const exprc_array *a, const exprc_pool2d_params *params,
                                  const char *label, exprc_error *error, int64_t node);
EXPRC_EXPORT exprc_pool_grad_entry exprc_max_pool_grad_float32, exprc_max_pool_grad_float64,
    exprc_max_pool_grad_grad_float32, exprc_max_pool_grad_grad_float64,
    exprc_average_pool_grad_float32, exprc_average_pool_grad_float64;

#endif /* EXPRC_POOL_H */
