/* The loop driver of generated elementwise kernels.
 *
 * A kernel is two inner loops over n elements (one for contiguous operands, one for any
 * strides) that the generated code writes per fused expression; exprc_elemwise_run does the
 * rest: it merges axes that are contiguous in every operand, walks the outer axes and tiles of
 * the inner one, feeds operands repeated along the inner axis from a buffer so that the
 * contiguous loop still applies, and shares the tiles among OpenMP threads when the loop is
 * large.  Defined in exprc_elemwise.c, part of the runtime library.
 */
#ifndef EXPRC_ELEMWISE_H
#define EXPRC_ELEMWISE_H

#include "exprc_common.h"

#define EXPRC_ELEMWISE_MAX_DIMS 64
#define EXPRC_ELEMWISE_MAX_OPERANDS 64
#define EXPRC_REPEAT_MAX 4
#define EXPRC_REPEAT_BLOCK 1024

typedef void (*exprc_inner_loop)(exprc_int n, char *const *data, const exprc_int *strides);

/* Run the inner loops over a loop of shape[0:ndim] on nops operands (inputs then outputs) at
 * data, whose byte strides are strides[k * ndim + d]; loops of at least `threshold` elements
 * run on all OpenMP threads.  Returns 0, or -1 for more dimensions or operands than handled. */
EXPRC_EXPORT int exprc_elemwise_run(int nops, const exprc_int *itemsize, int64_t ndim,
                                    const int64_t *shape, char **data,
                                    const int64_t *strides, exprc_inner_loop contiguous,
                                    exprc_inner_loop strided, exprc_int threshold);

/* Run every later OpenMP loop of this process on one thread. Called in a child process right
 * after fork(): GNU OpenMP cannot start the workers of a pool the parent created, and a loop
 * that waits for them never ends. */
EXPRC_EXPORT void exprc_openmp_single_thread(void);

#endif /* EXPRC_ELEMWISE_H */
