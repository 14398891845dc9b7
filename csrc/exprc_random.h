/* The counter-based random number generator of RandomStreams.
 *
 * Declared here, defined in exprc_random.c (part of the runtime library). */
#ifndef EXPRC_RANDOM_H
#define EXPRC_RANDOM_H

#include "exprc_runtime.h"

#endif /* EXPRC_RANDOM_H */
