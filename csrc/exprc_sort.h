/* Stable argsort of one contiguous lane of keys, for the Sort, ArgSort and Permute rules.
 *
 *     void exprc_argsort_<type>(const T *keys, int64_t n, int64_t *idx, int64_t *tmp);
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

#define EXPRC_LESS_INT(a, b) ((a) < (b))
/* a sorts before b: numbers in order, then NaNs (a NaN is never less than anything). */
#define EXPRC_LESS_FLOAT(a, b) ((a) < (b) || ((b) != (b) && (a) == (a)))

#define EXPRC_DEFINE_ARGSORT(NAME, T, LESS)                                                  \
    static inline void NAME(const T *keys, int64_t n, int64_t *idx, int64_t *tmp)            \
    {                                                                                         \
        for (int64_t i = 0; i < n; ++i) idx[i] = i;                                           \
        for (int64_t lo = 0; lo < n; lo += EXPRC_SORT_RUN) {                                  \
            const int64_t hi = lo + EXPRC_SORT_RUN < n ? lo + EXPRC_SORT_RUN : n;             \
            for (int64_t i = lo + 1; i < hi; ++i) {                                           \
                const int64_t v = idx[i];                                                     \
                int64_t j = i;                                                                \
                for (; j > lo && LESS(keys[v], keys[idx[j - 1]]); --j) idx[j] = idx[j - 1];   \
                idx[j] = v;                                                                   \
            }                                                                                 \
        }                                                                                     \
        int64_t *src = idx, *dst = tmp;                                                       \
        for (int64_t width = EXPRC_SORT_RUN; width < n; width *= 2) {                         \
            for (int64_t lo = 0; lo < n; lo += 2 * width) {                                   \
                const int64_t mid = lo + width < n ? lo + width : n;                          \
                const int64_t hi = lo + 2 * width < n ? lo + 2 * width : n;                   \
                int64_t i = lo, j = mid, k = lo;                                              \
                /* Ties take the left element first: that keeps the sort stable. */           \
                while (i < mid && j < hi)                                                     \
                    dst[k++] = LESS(keys[src[j]], keys[src[i]]) ? src[j++] : src[i++];        \
                while (i < mid) dst[k++] = src[i++];                                          \
                while (j < hi) dst[k++] = src[j++];                                           \
            }                                                                                 \
            int64_t *swap = src;                                                              \
            src = dst;                                                                        \
            dst = swap;                                                                       \
        }                                                                                     \
        if (src != idx) memcpy(idx, src, (size_t)n * sizeof *idx);                            \
    }

EXPRC_DEFINE_ARGSORT(exprc_argsort_bool, bool, EXPRC_LESS_INT)
EXPRC_DEFINE_ARGSORT(exprc_argsort_int8, int8_t, EXPRC_LESS_INT)
EXPRC_DEFINE_ARGSORT(exprc_argsort_int16, int16_t, EXPRC_LESS_INT)
EXPRC_DEFINE_ARGSORT(exprc_argsort_int32, int32_t, EXPRC_LESS_INT)
EXPRC_DEFINE_ARGSORT(exprc_argsort_int64, int64_t, EXPRC_LESS_INT)
EXPRC_DEFINE_ARGSORT(exprc_argsort_uint8, uint8_t, EXPRC_LESS_INT)
EXPRC_DEFINE_ARGSORT(exprc_argsort_uint16, uint16_t, EXPRC_LESS_INT)
EXPRC_DEFINE_ARGSORT(exprc_argsort_uint32, uint32_t, EXPRC_LESS_INT)
EXPRC_DEFINE_ARGSORT(exprc_argsort_uint64, uint64_t, EXPRC_LESS_INT)
EXPRC_DEFINE_ARGSORT(exprc_argsort_float32, float, EXPRC_LESS_FLOAT)
EXPRC_DEFINE_ARGSORT(exprc_argsort_float64, double, EXPRC_LESS_FLOAT)

#endif /* EXPRC_SORT_H */
