/* Stable sorting along an axis (Sort, ArgSort) and the permutation op (Permute).
 *
 * Elements are ordered by (key, position in the lane): keys as numbers, NaNs after every
 * number (exprc_sort_less), equal keys by position. That order is total, so any correct sort
 * under it is the stable sort NumPy's kind="stable" gives, and the sorting network below needs
 * no stability of its own.
 *
 *   exprc_sort_segments  one block per segment of a lane (a lane is one segment when it fits):
 *                        a bitonic sort in shared memory of the segment's (key, position)
 *                        pairs, padded to a power of two; it writes the sorted values or
 *                        positions to the output, or the sorted pairs to scratch arrays for
 *                        the merge passes;
 *   exprc_sort_merge     one pass of a merge sort in global memory: runs of `width` sorted
 *                        pairs are merged two by two; each element finds its place by a
 *                        binary search in the other run (its rank there plus its own);
 *   exprc_sort_store     the sorted pairs of the scratch arrays into the output.
 *
 * Lanes are walked with struct exprc_lanes (exprc_cuda_scan.cuh): operand 0 the input, 1 the
 * output.
 */
#ifndef EXPRC_CUDA_SORT_CUH
#define EXPRC_CUDA_SORT_CUH

#include "exprc_cuda_common.cuh"
#include "exprc_cuda_scan.cuh"

/* (a, ia) sorts before (b, ib). */
template <typename T>
static __device__ __forceinline__ bool exprc_sort_before(T a, int64_t ia, T b, int64_t ib)
{
    if (exprc_sort_less(a, b))
        return true;
    if (exprc_sort_less(b, a))
        return false;
    return ia < ib;
}

/* Sort each segment of `seg` elements of each lane (the last one of a lane may be shorter);
 * npad: seg rounded up to a power of two, the shared arrays' length. Writes either `values`
 * (the sorted keys) and/or `indices` (their positions in the lane) at the output's place
 * (operand 1), or, when keys_out is not NULL, the pairs to keys_out and idx_out (lane l's at
 * l * n). */
template <typename T>
__device__ void exprc_sort_segments(const exprc_lanes &loop, int64_t seg, int64_t npad,
                                    const T *__restrict__ x, T *__restrict__ values,
                                    int64_t *__restrict__ indices, T *__restrict__ keys_out,
                                    int64_t *__restrict__ idx_out)
{
    EXPRC_DYNAMIC_SHARED(int64_t, exprc_sort_shared);
    int32_t *pos = (int32_t *)exprc_sort_shared;
    T *key = (T *)(exprc_sort_shared + (npad + 1) / 2);
    const int64_t n = loop.n;
    const int64_t segments = (n + seg - 1) / seg;
    for (int64_t b = blockIdx.x; b < loop.lanes * segments; b += gridDim.x) {
        const int64_t l = b / segments, start = (b % segments) * seg;
        const int64_t len = n - start < seg ? n - start : seg;
        const T *xl = x + exprc_lane_offset(loop, l, 0);
        for (int64_t t = threadIdx.x; t < npad; t += blockDim.x) {
            pos[t] = (int32_t)t;
            key[t] = t < len ? xl[(start + t) * loop.step[0]] : (T)0;
        }
        __syncthreads();
        for (int64_t k = 2; k <= npad; k <<= 1) {
            for (int64_t j = k >> 1; j > 0; j >>= 1) {
                for (int64_t t = threadIdx.x; t < npad; t += blockDim.x) {
                    const int64_t u = t ^ j;
                    if (u <= t)
                        continue;
                    /* Positions past len are padding, after every element (in position
                     * order among themselves, so that the order stays total). */
                    const int32_t pt = pos[t], pu = pos[u];
                    const bool u_first = pu >= len ? (pt >= len && pu < pt)
                                         : pt >= len ? true
                                         : exprc_sort_before(key[u], (int64_t)pu, key[t],
                                                             (int64_t)pt);
                    /* t < u: swap when u comes first in an ascending part of the network,
                     * or t does in a descending part. */
                    if (u_first == ((t & k) == 0)) {
                        pos[t] = pu;
                        pos[u] = pt;
                        const T kt = key[t];
                        key[t] = key[u];
                        key[u] = kt;
                    }
                }
                __syncthreads();
            }
        }
        const int64_t ol = exprc_lane_offset(loop, l, 1);
        for (int64_t t = threadIdx.x; t < len; t += blockDim.x) {
            if (keys_out != NULL) {
                keys_out[l * n + start + t] = key[t];
                idx_out[l * n + start + t] = start + pos[t];
            } else {
                if (values != NULL)
                    values[ol + (start + t) * loop.step[1]] = key[t];
                if (indices != NULL)
                    indices[ol + (start + t) * loop.step[1]] = start + pos[t];
            }
        }
        __syncthreads(); /* the shared arrays are filled again for the next segment */
    }
}

/* One merge pass: in each lane (n elements at l * n), runs of `width` sorted pairs are merged
 * two by two from (keys, idx) into (keys_to, idx_to). */
template <typename T>
__device__ void exprc_sort_merge(int64_t lanes, int64_t n, int64_t width,
                                 const T *__restrict__ keys, const int64_t *__restrict__ idx,
                                 T *__restrict__ keys_to, int64_t *__restrict__ idx_to)
{
    const int64_t total = lanes * n;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total;
         e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t l = e / n, p = e % n;
        const int64_t base = p / (2 * width) * (2 * width);
        const int64_t mid = base + width < n ? base + width : n;
        const int64_t end = base + 2 * width < n ? base + 2 * width : n;
        const T *kl = keys + l * n;
        const int64_t *il = idx + l * n;
        const T k = kl[p];
        const int64_t i = il[p];
        int64_t lo, hi, place;
        if (p < mid) {  /* in the first run: count the second run's pairs before it */
            lo = mid;
            hi = end;
            while (lo < hi) {
                const int64_t m = lo + (hi - lo) / 2;
                if (exprc_sort_before(kl[m], il[m], k, i))
                    lo = m + 1;
                else
                    hi = m;
            }
            place = p + (lo - mid);
        } else {        /* in the second run: count the first run's pairs before it */
            lo = base;
            hi = mid;
            while (lo < hi) {
                const int64_t m = lo + (hi - lo) / 2;
                if (exprc_sort_before(kl[m], il[m], k, i))
                    lo = m + 1;
                else
                    hi = m;
            }
            place = base + (p - mid) + (lo - base);
        }
        keys_to[l * n + place] = k;
        idx_to[l * n + place] = i;
    }
}

/* The sorted pairs (lane l's at l * n) into the output (operand 1 of loop): the keys into
 * values and/or the positions into indices. */
template <typename T>
__device__ void exprc_sort_store(const exprc_lanes &loop, const T *__restrict__ keys,
                                 const int64_t *__restrict__ idx, T *__restrict__ values,
                                 int64_t *__restrict__ indices)
{
    const int64_t n = loop.n, total = loop.lanes * n;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total;
         e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t l = e / n, j = e % n;
        const int64_t at = exprc_lane_offset(loop, l, 1) + j * loop.step[1];
        if (values != NULL)
            values[at] = keys[e];
        if (indices != NULL)
            indices[at] = idx[e];
    }
}

/* out = x reordered along each lane by perm (operands x, perm, out): out[j] = x[perm[j]].
 * Every lane of perm must be a permutation of 0 .. n - 1: seen (lanes * n counters, zeroed by
 * the host) counts the times each position is named, and an entry out of range or named twice
 * sets *flag. */
template <typename T, typename P>
__device__ void exprc_permute(const exprc_lanes &loop, const T *__restrict__ x,
                              const P *__restrict__ perm, T *__restrict__ out,
                              unsigned int *__restrict__ seen, int *__restrict__ flag)
{
    const int64_t n = loop.n, total = loop.lanes * n;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total;
         e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t l = e / n, j = e % n;
        const int64_t k = (int64_t)perm[exprc_lane_offset(loop, l, 1) + j * loop.step[1]];
        if (k < 0 || k >= n || atomicAdd(seen + l * n + k, 1u) != 0u) {
            *flag = 1;
            continue;
        }
        out[exprc_lane_offset(loop, l, 2) + j * loop.step[2]] =
            x[exprc_lane_offset(loop, l, 0) + k * loop.step[0]];
    }
}

#endif /* EXPRC_CUDA_SORT_CUH */
