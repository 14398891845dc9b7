/* Pooling kernels for pool_2d and its gradients.
 *
 * Declared here, defined in exprc_pool.c (part of the runtime library). */
#ifndef EXPRC_POOL_H
#define EXPRC_POOL_H

#include "exprc_runtime.h"

#endif /* EXPRC_POOL_H */
