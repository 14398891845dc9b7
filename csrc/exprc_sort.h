/* Stable argsort of one contiguous lane of keys, for the Sort, ArgSort and Permute rules.
 *
 *     void exprc_argsort_<dtype>(const T *keys, int64_t n, int64_t *idx, int64_t *tmp);
 *
 * fills idx[0:n] with the positions that put keys[0:n] in ascending order; tmp is scratch of
 * n entries.  Equal keys keep their order (the result matches NumPy's kind="stable"), and NaNs
 * compare greater than every number, so they come last in their original order.
 *
 * The sort is a bottom-up merge sort over short insertion-sorted runs: stable by construction
 * (an element moves ahead of another only when strictly less), O(n log n) in the worst case,
 * and it compares keys held in a contiguous buffer rather than striding through the input.
 */
#ifndef EXPRC_SORT_H
#define EXPRC_SORT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Runs this short are sorted by insertion before merging. */
#define EXPRC_SORT_RUN 16

/* a sorts before b: numbers in order, then NaNs (a NaN is never less than anything).  On
 * integer keys the NaN tests are always false and the compiler drops them: the code is that
 * of a plain `<` (the same instructions at -O1 and -O2). */
#define EXPRC_SORT_LESS(a, b) ((a) < (b) || ((b) != (b) && (a) == (a)))

/* One version per dtype (see csrc/README.md, "Typed kernels"). */
#define EXPRC_T bool
#define EXPRC_TYPED(stem) stem##_bool
#include "exprc_sort_body.h"

#define EXPRC_T int8_t
#define EXPRC_TYPED(stem) stem##_int8
#include "exprc_sort_body.h"

#define EXPRC_T int16_t
#define EXPRC_TYPED(stem) stem##_int16
#include "exprc_sort_body.h"

#define EXPRC_T int32_t
#define EXPRC_TYPED(stem) stem##_int32
#include "exprc_sort_body.h"

#define EXPRC_T int64_t
#define EXPRC_TYPED(stem) stem##_int64
#include "exprc_sort_body.h"

#define EXPRC_T uint8_t
#define EXPRC_TYPED(stem) stem##_uint8
#include "exprc_sort_body.h"

#define EXPRC_T uint16_t
#define EXPRC_TYPED(stem) stem##_uint16
#include "exprc_sort_body.h"

#define EXPRC_T uint32_t
#define EXPRC_TYPED(stem) stem##_uint32
#include "exprc_sort_body.h"

#define EXPRC_T uint64_t
#define EXPRC_TYPED(stem) stem##_uint64
#include "exprc_sort_body.h"

#define EXPRC_T float
#define EXPRC_TYPED(stem) stem##_float32
#include "exprc_sort_body.h"

#define EXPRC_T double
#define EXPRC_TYPED(stem) stem##_float64
#include "exprc_sort_body.h"

#endif /* EXPRC_SORT_H */
