/* Stable ordering of positions by key, for the exported Sort, ArgSort and their kin.
 *
 *     void exprc_portable_argsort_<dtype>(const T *keys, ptrdiff_t n, ptrdiff_t *idx,
 *                                         ptrdiff_t *tmp);
 *
 * reorders idx[0:n] (positions into keys, filled in by the caller) so that the keys they name
 * ascend; positions of equal keys keep their order (NumPy's kind="stable"). tmp is scratch
 * of n entries. Keys are compared with `<` alone: the caller leaves NaNs out of idx and puts
 * them after the sorted part, where NumPy puts them.
 *
 * A bottom-up merge sort over insertion-sorted runs of 16: O(n log n) comparisons in the
 * worst case, no recursion and no allocation (the exported program runs on small stacks).
 *
 * Typed kernel: the exporter defines EXPRC_T and EXPRC_TYPED around this text, once per
 * dtype; no include guard.
 */
static void EXPRC_TYPED(exprc_portable_argsort)(const EXPRC_T *keys, ptrdiff_t n,
                                                 ptrdiff_t *idx, ptrdiff_t *tmp)
{
    const ptrdiff_t run = 16;
    ptrdiff_t *src = idx, *dst = tmp;
    for (ptrdiff_t lo = 0; lo < n; lo += run) {
        const ptrdiff_t hi = n - lo > run ? lo + run : n;
        for (ptrdiff_t i = lo + 1; i < hi; ++i) {
            const ptrdiff_t v = idx[i];
            ptrdiff_t j = i;
            for (; j > lo && keys[v] < keys[idx[j - 1]]; --j) idx[j] = idx[j - 1];
            idx[j] = v;
        }
    }
    for (ptrdiff_t width = run; width < n; width = n - width > width ? 2 * width : n) {
        for (ptrdiff_t lo = 0; lo < n; lo += 2 * width) {
            const ptrdiff_t mid = n - lo > width ? lo + width : n;
            const ptrdiff_t hi = n - mid > width ? mid + width : n;
            ptrdiff_t i = lo, j = mid, k = lo;
            /* Ties take the left element first: that keeps the sort stable. */
            while (i < mid && j < hi) dst[k++] = keys[src[j]] < keys[src[i]] ? src[j++] : src[i++];
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
            if (n - lo <= 2 * width) break;
        }
        {
            ptrdiff_t *swap = src;
            src = dst;
            dst = swap;
        }
    }
    if (src != idx) memcpy(idx, src, (size_t)n * sizeof *idx);
}
