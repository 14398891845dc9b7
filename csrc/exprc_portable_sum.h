/* Pairwise sum of a strided lane of floats, for the exported Reduce (add).
 *
 *     T exprc_portable_sum_<dtype>(const T *x, ptrdiff_t n, ptrdiff_t stride);
 *
 * sums x[0], x[stride], ..., x[(n - 1) * stride] as NumPy sums floats: blocks of 128
 * elements, each summed with eight accumulators, are combined pairwise, so the rounding error
 * grows with log(n) rather than n. The pairs are kept on a stack of partial sums (one entry
 * per level, 64 levels cover any ptrdiff_t), not by recursion, for small stacks.
 *
 * Typed kernel (float32, float64): the exporter defines EXPRC_T and EXPRC_TYPED around this
 * text, once per dtype; no include guard.
 */
static EXPRC_T EXPRC_TYPED(exprc_portable_sum)(const EXPRC_T *x, ptrdiff_t n, ptrdiff_t stride)
{
    EXPRC_T partial[64];
    int level[64];
    int top = 0;
    EXPRC_T total;
    if (n <= 0) return (EXPRC_T)0;
    for (ptrdiff_t start = 0; start < n; start += 128) {
        const ptrdiff_t len = n - start < 128 ? n - start : 128;
        const EXPRC_T *p = x + start * stride;
        /* -0.0 is the exact identity of a float sum (it keeps the sign of a zero sum). */
        EXPRC_T r[8] = {-0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0};
        EXPRC_T s;
        int depth = 0;
        ptrdiff_t i = 0;
        for (; i + 8 <= len; i += 8)
            for (int j = 0; j < 8; ++j) r[j] += p[(i + j) * stride];
        s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < len; ++i) s += p[i * stride];
        /* Merge with the partial sums of as many blocks as this one holds. */
        while (top > 0 && level[top - 1] == depth) {
            s = partial[top - 1] + s;
            --top;
            ++depth;
        }
        partial[top] = s;
        level[top] = depth;
        ++top;
    }
    total = partial[top - 1];
    for (int k = top - 2; k >= 0; --k) total = partial[k] + total;
    return total;
}
