/* The counter-based random number generator: the definitions declared in exprc_random.h. */
#include "exprc_random.h"
