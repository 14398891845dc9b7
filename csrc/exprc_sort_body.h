/* The stable argsort of one key type, included by exprc_sort.h once per type.
 *
 * Protocol (csrc/README.md, "Typed kernels"): the includer defines
 *     EXPRC_T              the C type of a key
 *     EXPRC_TYPED(stem)    stem##_<dtype>: the name of the type's version of `stem`
 * and this file defines exprc_argsort_<dtype> (see exprc_sort.h), then undefines both
 * macros.  No include guard. */
static inline void EXPRC_TYPED(exprc_argsort)(const EXPRC_T *keys, int64_t n, int64_t *idx,
                                               int64_t *tmp)
{
    for (int64_t i = 0; i < n; ++i) idx[i] = i;
    for (int64_t lo = 0; lo < n; lo += EXPRC_SORT_RUN) {
        const int64_t hi = lo + EXPRC_SORT_RUN < n ? lo + EXPRC_SORT_RUN : n;
        for (int64_t i = lo + 1; i < hi; ++i) {
            const int64_t v = idx[i];
            int64_t j = i;
            for (; j > lo && EXPRC_SORT_LESS(keys[v], keys[idx[j - 1]]); --j) idx[j] = idx[j - 1];
            idx[j] = v;
        }
    }
    int64_t *src = idx, *dst = tmp;
    for (int64_t width = EXPRC_SORT_RUN; width < n; width *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * width) {
            const int64_t mid = lo + width < n ? lo + width : n;
            const int64_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            int64_t i = lo, j = mid, k = lo;
            /* Ties take the left element first: that keeps the sort stable. */
            while (i < mid && j < hi)
                dst[k++] = EXPRC_SORT_LESS(keys[src[j]], keys[src[i]]) ? src[j++] : src[i++];
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        int64_t *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != idx) memcpy(idx, src, (size_t)n * sizeof *idx);
}

#undef EXPRC_TYPED
#undef EXPRC_T
