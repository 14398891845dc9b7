/* Convolution kernels (im2col and friends) for conv2d and its gradients.
 *
 * Declared here, defined in exprc_conv.c (part of the runtime library). */
#ifndef EXPRC_CONV_H
#define EXPRC_CONV_H

#include "exprc_runtime.h"

#endif /* EXPRC_CONV_H */
