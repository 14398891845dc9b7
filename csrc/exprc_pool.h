/* Pooling kernels for pool_2d and its gradients (exprc/tensor/signal/pool.py).
 *
 * Every function pools the last two axes of its arrays, looping over the leading axes (on
 * OpenMP threads when the input is large); inputs may have any strides, outputs are fresh
 * contiguous arrays.  The element type is float32 (itemsize 4) or float64 (itemsize 8).
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

/* out = the pooling of x. */
EXPRC_EXPORT int exprc_pool_2d(exprc_pool *pool, exprc_array *out, const exprc_array *x,
                               const exprc_pool2d_params *params, int64_t itemsize,
                               const char *label, exprc_error *error, int64_t node);

/* gx (shaped like x) = the gradient of max pooling: gz[..., i, j] added at the first
 * maximum (row-major) of window (i, j) of x; gz has the pooled shape. */
EXPRC_EXPORT int exprc_max_pool_grad(exprc_pool *pool, exprc_array *gx, const exprc_array *x,
                                     const exprc_array *gz, const exprc_pool2d_params *params,
                                     int64_t itemsize, const char *label, exprc_error *error,
                                     int64_t node);

/* out (pooled shape) = g[...] at the first maximum of each window of x; g is shaped like x. */
EXPRC_EXPORT int exprc_max_pool_grad_grad(exprc_pool *pool, exprc_array *out,
                                          const exprc_array *x, const exprc_array *g,
                                          const exprc_pool2d_params *params, int64_t itemsize,
                                          const char *label, exprc_error *error, int64_t node);

/* gx (shaped like x, whose values are not read) = the gradient of the sum and average modes:
 * gz[..., i, j], divided as the mode divides, added over window (i, j). */
EXPRC_EXPORT int exprc_average_pool_grad(exprc_pool *pool, exprc_array *gx,
                                         const exprc_array *x, const exprc_array *gz,
                                         const exprc_pool2d_params *params, int64_t itemsize,
                                         const char *label, exprc_error *error, int64_t node);

#endif /* EXPRC_POOL_H */
