/* Convolution kernels (im2col and friends): the definitions declared in exprc_conv.h. */
#include "exprc_conv.h"
