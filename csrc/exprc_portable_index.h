/* Index arithmetic of the exported indexing ops, for bounds read at run time.
 *
 *     void exprc_portable_slice(int64_t size, int has_start, int64_t start, int has_stop,
 *                               int64_t stop, int64_t step, int64_t *first, int64_t *count);
 *
 * gives the first position and the number of elements of slice(start, stop, step) over an
 * axis of `size` elements, as Python's slice.indices does (a missing bound is its end of the
 * axis; negative bounds count from the end; out-of-range bounds are clamped). step != 0.
 * Differences are taken in uint64, so no bound or step of the int64 range overflows.
 */
static inline void exprc_portable_slice(int64_t size, int has_start, int64_t start,
                                        int has_stop, int64_t stop, int64_t step,
                                        int64_t *first, int64_t *count)
{
    const int64_t lower = step < 0 ? -1 : 0, upper = step < 0 ? size - 1 : size;
    uint64_t span, stride;
    if (!has_start) {
        start = step < 0 ? upper : lower;
    } else {
        if (start < 0) start = start < -size ? -size - 1 : start + size;
        start = start < lower ? lower : (start > upper ? upper : start);
    }
    if (!has_stop) {
        stop = step < 0 ? lower : upper;
    } else {
        if (stop < 0) stop = stop < -size ? -size - 1 : stop + size;
        stop = stop < lower ? lower : (stop > upper ? upper : stop);
    }
    *first = start;
    stride = step > 0 ? (uint64_t)step : (uint64_t)0 - (uint64_t)step;
    if (step > 0 ? stop <= start : start <= stop) {
        *count = 0;
        return;
    }
    span = step > 0 ? (uint64_t)stop - (uint64_t)start : (uint64_t)start - (uint64_t)stop;
    *count = (int64_t)((span - 1) / stride + 1);
}
