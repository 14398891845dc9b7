/* Pooling kernels: the definitions declared in exprc_pool.h. */
#include "exprc_pool.h"
