/* Convolution kernels (conv2d and its gradients): the unfolding of image patches into the
 * columns of a matrix ("im2col") and its adjoint ("col2im"); the products between them are
 * cuBLAS calls made by the host (exprc/link/cuda/ops/conv.py).
 *
 * A chunk of `nb` images (n, c, h, w) with filters of (kh, kw) taps unfolds into k = c * kh * kw
 * rows (channel, tap row, tap column) of p = oh * ow columns (output positions) per image.
 * Element (image bi, row, column i * ow + j) holds the padded input at
 *     (i * sh + ta * dh - ph, j * sw + tb * dw - pw)
 * where (ta, tb) is the tap (a, b), or (kh - 1 - a, kw - 1 - b) with filter_flip, so that the
 * filters multiply the matrix as they lie; positions in the padding give 0. Two layouts:
 *     image-major  (nb, k, p): one matrix per image, for the batched products of the forward
 *                  pass and of the input gradient;
 *     chunk-major  (k, nb * p): one matrix for the chunk, whose product with the output
 *                  gradient sums over the chunk's images (the filter gradient).
 * Either way the unfolding writes its output in order (element e at cols[e]).
 *
 * col2im (image-major columns only) gives each input element the sum of the columns that
 * read it, one thread per element gathering over the taps in order: no atomics, so the result
 * does not depend on scheduling.
 *
 * Index arithmetic is in I: int32_t when the host found every index and offset of the call
 * below 2**31 (32-bit division is several times cheaper on a GPU), else int64_t. The loop
 * counter is 64-bit either way so that the grid stride cannot overflow.
 */
#ifndef EXPRC_CUDA_CONV_CUH
#define EXPRC_CUDA_CONV_CUH

#include "exprc_cuda_common.cuh"

struct exprc_cuda_conv_geom {
    int64_t nb;                /* images of the chunk */
    int64_t c, h, w;           /* input channels, rows, columns */
    int64_t kh, kw, oh, ow;    /* filter taps, output rows and columns */
    int64_t sh, sw, dh, dw, ph, pw;
    int64_t flip;              /* nonzero: taps are read flipped (true convolution) */
    int64_t chunk_major;       /* the columns' layout: (k, nb, p) if set, else (nb, k, p) */
    int64_t xs[4];             /* strides of the input in elements: image, channel, row, col */
};

/* Unfold the chunk's images of x (the first image at x) into cols. */
template <typename T, typename I>
__device__ void exprc_conv_im2col(const exprc_cuda_conv_geom &g, const T *__restrict__ x,
                                  T *__restrict__ cols)
{
    const I nb = (I)g.nb, h = (I)g.h, w = (I)g.w, kh = (I)g.kh, kw = (I)g.kw;
    const I ow = (I)g.ow, p = (I)(g.oh * g.ow), taps = kh * kw, k = (I)g.c * taps;
    const I sh = (I)g.sh, sw = (I)g.sw, dh = (I)g.dh, dw = (I)g.dw, ph = (I)g.ph, pw = (I)g.pw;
    const I xs0 = (I)g.xs[0], xs1 = (I)g.xs[1], xs2 = (I)g.xs[2], xs3 = (I)g.xs[3];
    const bool flip = g.flip != 0, chunk_major = g.chunk_major != 0;
    const int64_t total = g.nb * (int64_t)k * p;
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += step) {
        const I idx = (I)e;
        const I q = idx / p, pos = idx - q * p;
        I row, bi;
        if (chunk_major) {
            row = q / nb;
            bi = q - row * nb;
        } else {
            bi = q / k;
            row = q - bi * k;
        }
        const I ch = row / taps, t = row - ch * taps;
        const I a = t / kw, b = t - a * kw;
        const I ta = flip ? kh - 1 - a : a, tb = flip ? kw - 1 - b : b;
        const I i = pos / ow, j = pos - i * ow;
        const I y = i * sh + ta * dh - ph, xx = j * sw + tb * dw - pw;
        T v = (T)0;
        if (y >= 0 && y < h && xx >= 0 && xx < w)
            v = x[bi * xs0 + ch * xs1 + y * xs2 + xx * xs3];
        cols[idx] = v;
    }
}

/* The first output index i in [0, count) whose tap `t` reads input index `y`, i.e.
 * i * s + t * d - pad == y, as *i; false when there is none. */
template <typename I>
__device__ __forceinline__ bool exprc_conv_source(I y, I t, I s, I d, I pad, I count, I *i)
{
    const I r = y + pad - t * d;
    if (r < 0)
        return false;
    const I q = r / s;
    if (q * s != r || q >= count)
        return false;
    *i = q;
    return true;
}

/* Fold the image-major cols of a chunk back into its images of the contiguous dx (the first
 * image at dx): every input element is the sum of the columns that read it, taps in order. */
template <typename T, typename I>
__device__ void exprc_conv_col2im(const exprc_cuda_conv_geom &g, const T *__restrict__ cols,
                                  T *__restrict__ dx)
{
    const I c = (I)g.c, h = (I)g.h, w = (I)g.w, kh = (I)g.kh, kw = (I)g.kw;
    const I oh = (I)g.oh, ow = (I)g.ow, p = oh * ow, taps = kh * kw, k = c * taps;
    const I sh = (I)g.sh, sw = (I)g.sw, dh = (I)g.dh, dw = (I)g.dw, ph = (I)g.ph, pw = (I)g.pw;
    const bool flip = g.flip != 0;
    const int64_t total = g.nb * g.c * g.h * g.w;
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += step) {
        const I idx = (I)e;
        const I xx = idx % w;
        I q = idx / w;
        const I y = q % h;
        q /= h;
        const I ch = q % c, bi = q / c;
        const T *image = cols + (bi * k + ch * taps) * p;
        T sum = (T)0;
        for (I a = 0; a < kh; ++a) {
            I i;
            if (!exprc_conv_source<I>(y, flip ? kh - 1 - a : a, sh, dh, ph, oh, &i))
                continue;
            for (I b = 0; b < kw; ++b) {
                I j;
                if (!exprc_conv_source<I>(xx, flip ? kw - 1 - b : b, sw, dw, pw, ow, &j))
                    continue;
                sum += image[(a * kw + b) * p + i * ow + j];
            }
        }
        dx[idx] = sum;
    }
}

#endif /* EXPRC_CUDA_CONV_CUH */
