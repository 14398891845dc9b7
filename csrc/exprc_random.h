/* The counter-based random number generator of RandomStreams.
 *
 * Philox4x32-10 (Salmon et al., SC 2011) maps a 128-bit counter and a 64-bit key to 128
 * random bits.  A random node reads a state of six uint32 words (key0, key1, ctr0..ctr3, ctr0
 * the least significant), uses the blocks at counters ctr, ctr + 1, ..., ctr + B - 1, and
 * writes the state with its counter advanced by B.  The words of those blocks form one
 * stream (word w is word w % 4 of block w / 4); which words each element reads, and how they
 * become a sample, is documented on the ops in exprc/tensor/random.py and followed exactly
 * here and in the NumPy reference (exprc/link/reference/random.py), so that every backend
 * gives the same bits for a seed.
 *
 * Every sampler takes the state, the sample's shape (ndim sizes, read from the size input)
 * and the distribution's parameters, each with ndim axes of the sample's size or 1; it
 * allocates new_state and out and returns 0, or fills `error` (naming `label`) and returns -1.
 * The float samplers have one entry point per dtype (exprc_random_uniform_float32, ...: a
 * float32 sample reads other words than a float64 one).  The integer samplers compute int64
 * counts and indices and store them into the output's dtype, given by a store code: 1, 2, 4, 8
 * for signed integers of that many bytes, -1, -2, -4, -8 for unsigned ones (exprc_index_value's
 * codes), 32 and 64 for float32 and float64.
 *
 * Declared here, defined in exprc_random.c (part of the runtime library). */
#ifndef EXPRC_RANDOM_H
#define EXPRC_RANDOM_H

#include "exprc_runtime.h"

#define EXPRC_RANDOM_FLOAT32 32
#define EXPRC_RANDOM_FLOAT64 64

/* One Philox4x32-10 block: out = philox(ctr, key). */
EXPRC_EXPORT void exprc_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2],
                                      uint32_t out[4]);

/* The float samplers, of parameters a and b (defined by exprc_random_body.h):
 * - exprc_random_uniform_<dtype>: low + (high - low) * u (a = low, b = high), u in [0, 1)
 *   from 24 (float32) or 53 (float64) random bits;
 * - exprc_random_normal_<dtype>: avg + std * z (a = avg, b = std), z standard normal by
 *   Box-Muller.
 * A uniform sample needs high - low finite and >= 0, a normal one std >= 0 (or NaN): other
 * values are a ValueError naming the op and the parameter. */
typedef int exprc_random_float_entry(exprc_pool *pool, exprc_array *new_state, exprc_array *out,
                                     const exprc_array *state, int64_t ndim,
                                     const int64_t *shape, const exprc_array *a,
                                     const exprc_array *b, const char *label,
                                     exprc_error *error, int64_t node);
EXPRC_EXPORT exprc_random_float_entry exprc_random_uniform_float32, exprc_random_uniform_float64,
    exprc_random_normal_float32, exprc_random_normal_float64;

/* Integers uniform in [low, high] (int64 parameters, both ends included), exact over the
 * whole int64 range. */
EXPRC_EXPORT int exprc_random_integers(exprc_pool *pool, exprc_array *new_state, exprc_array *out,
                                       const exprc_array *state, int64_t ndim,
                                       const int64_t *shape, const exprc_array *low,
                                       const exprc_array *high, const char *label,
                                       exprc_error *error, int64_t node);

/* Binomial counts of n (int64) trials of probability p (double). */
EXPRC_EXPORT int exprc_random_binomial(exprc_pool *pool, exprc_array *new_state, exprc_array *out,
                                       const exprc_array *state, int64_t ndim,
                                       const int64_t *shape, const exprc_array *n,
                                       const exprc_array *p, int code, const char *label,
                                       exprc_error *error, int64_t node);

/* Indices from range(a) (a: 0-d int64), with or without replacement, weighted by the double
 * vector p or uniform (p NULL). */
EXPRC_EXPORT int exprc_random_choice(exprc_pool *pool, exprc_array *new_state, exprc_array *out,
                                     const exprc_array *state, int64_t ndim, const int64_t *shape,
                                     const exprc_array *a, const exprc_array *p, int replace,
                                     int code, const char *label, exprc_error *error,
                                     int64_t node);

/* One permutation of range(n) (n: 0-d int64) per element of shape: out has ndim + 1 axes. */
EXPRC_EXPORT int exprc_random_permutation(exprc_pool *pool, exprc_array *new_state,
                                          exprc_array *out, const exprc_array *state,
                                          int64_t ndim, const int64_t *shape,
                                          const exprc_array *n, int code, const char *label,
                                          exprc_error *error, int64_t node);

#endif /* EXPRC_RANDOM_H */
