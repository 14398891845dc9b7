/* Random number generation: the Philox4x32-10 stream of RandomStreams and its samplers.
 *
 * Every sample is bit for bit the one of the C runtime (csrc/exprc_random.c) and of the NumPy
 * reference (exprc/link/reference/random.py) for the same state: the same stream words are
 * read (exprc/tensor/random.py documents which) and turned into values by the same
 * floating-point operations, each rounded once. nvcc contracts a * b + c into a fused
 * multiply-add by default, which rounds once instead of twice, so the float arithmetic here
 * goes through exprc_rnd_add / exprc_rnd_mul, which use the _rn intrinsics on the device
 * (never contracted) and plain operators elsewhere. log, cos and sin are the polynomials of
 * the C runtime, not libdevice's; sqrt and division are IEEE-rounded on the device as on the
 * CPU, and frexp and floor are exact.
 *
 * A sampler kernel reads the state (key and counter) from device memory; the thread with
 * global index 0 writes the new state, the counter advanced by the blocks the node uses, so
 * that the whole node is one launch and the host never waits for the device. Parameters
 * outside a distribution's domain set *flag (when flag is not NULL); the host then reads it
 * and raises the error.
 */
#ifndef EXPRC_CUDA_RANDOM_CUH
#define EXPRC_CUDA_RANDOM_CUH

#include "exprc_cuda_common.cuh"

#if defined(EXPRC_CUDA_EMULATED) && !defined(__host__)
#define __host__
#endif

/* Philox4x32 multipliers and Weyl key increments (Random123's PHILOX_M4x32 and PHILOX_W32). */
#define EXPRC_PHILOX_M0 0xD2511F53u
#define EXPRC_PHILOX_M1 0xCD9E8D57u
#define EXPRC_PHILOX_W0 0x9E3779B9u
#define EXPRC_PHILOX_W1 0xBB67AE85u

/* One Philox4x32-10 block: out = philox(ctr, key), as rnd_philox of csrc/exprc_random.c. */
static __host__ __device__ __forceinline__ void exprc_philox4x32_10(const uint32_t ctr[4],
                                                                     uint32_t k0, uint32_t k1,
                                                                     uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    for (int r = 0; r < 10; ++r) {
        if (r) {
            k0 += EXPRC_PHILOX_W0;
            k1 += EXPRC_PHILOX_W1;
        }
        const uint64_t p0 = (uint64_t)EXPRC_PHILOX_M0 * c0, p1 = (uint64_t)EXPRC_PHILOX_M1 * c2;
        const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c0 = n0;
        c1 = (uint32_t)p1;
        c2 = n2;
        c3 = (uint32_t)p0;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* A stream: the key and the 128-bit counter of its block 0. */
struct exprc_rnd_stream {
    uint32_t key0, key1;
    uint64_t lo, hi;
};

/* The stream a state of six words (key0, key1, ctr0..ctr3) starts; `stride` in elements. */
static __host__ __device__ __forceinline__ exprc_rnd_stream
exprc_rnd_load(const uint32_t *__restrict__ state, int64_t stride)
{
    exprc_rnd_stream g;
    g.key0 = state[0];
    g.key1 = state[stride];
    g.lo = (uint64_t)state[2 * stride] | (uint64_t)state[3 * stride] << 32;
    g.hi = (uint64_t)state[4 * stride] | (uint64_t)state[5 * stride] << 32;
    return g;
}

/* Block b of the stream (the counter carries from its low 64 bits into the high ones). */
static __host__ __device__ __forceinline__ void exprc_rnd_block(const exprc_rnd_stream &g,
                                                                uint64_t b, uint32_t out[4])
{
    const uint64_t lo = g.lo + b, hi = g.hi + (lo < g.lo);
    const uint32_t ctr[4] = {(uint32_t)lo, (uint32_t)(lo >> 32), (uint32_t)hi,
                             (uint32_t)(hi >> 32)};
    exprc_philox4x32_10(ctr, g.key0, g.key1, out);
}

/* The new state (contiguous): g's key and counter advanced by `blocks`. */
static __host__ __device__ __forceinline__ void exprc_rnd_finish(uint32_t *__restrict__ s,
                                                                 const exprc_rnd_stream &g,
                                                                 uint64_t blocks)
{
    const uint64_t lo = g.lo + blocks, hi = g.hi + (lo < g.lo);
    s[0] = g.key0;
    s[1] = g.key1;
    s[2] = (uint32_t)lo;
    s[3] = (uint32_t)(lo >> 32);
    s[4] = (uint32_t)hi;
    s[5] = (uint32_t)(hi >> 32);
}

/* Reads stream words in any order, computing each block once while reads stay in it. */
struct exprc_rnd_reader {
    uint64_t block;
    int valid;
    uint32_t w[4];
};

static __device__ __forceinline__ uint32_t exprc_rnd_word(exprc_rnd_reader &r,
                                                          const exprc_rnd_stream &g, uint64_t w)
{
    if (!r.valid || r.block != w >> 2) {
        r.block = w >> 2;
        r.valid = 1;
        exprc_rnd_block(g, r.block, r.w);
    }
    return r.w[w & 3];
}

/* ------------------------------------------------------------------ arithmetic rounded once */
static __host__ __device__ __forceinline__ double exprc_rnd_add(double a, double b)
{
#ifdef __CUDA_ARCH__
    return __dadd_rn(a, b);
#else
    return a + b;
#endif
}
static __host__ __device__ __forceinline__ double exprc_rnd_mul(double a, double b)
{
#ifdef __CUDA_ARCH__
    return __dmul_rn(a, b);
#else
    return a * b;
#endif
}
static __host__ __device__ __forceinline__ float exprc_rnd_add(float a, float b)
{
#ifdef __CUDA_ARCH__
    return __fadd_rn(a, b);
#else
    return a + b;
#endif
}
static __host__ __device__ __forceinline__ float exprc_rnd_mul(float a, float b)
{
#ifdef __CUDA_ARCH__
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}
static __host__ __device__ __forceinline__ double exprc_rnd_sub(double a, double b)
{
    return exprc_rnd_add(a, -b);
}
static __host__ __device__ __forceinline__ float exprc_rnd_sub(float a, float b)
{
    return exprc_rnd_add(a, -b);
}

/* float64 in [0, 1) from two words: 27 bits of the first, 26 of the second (exact). */
static __device__ __forceinline__ double exprc_rnd_u53(uint32_t a, uint32_t b)
{
    return exprc_rnd_mul(exprc_rnd_add(exprc_rnd_mul((double)(a >> 5), 67108864.0),
                                       (double)(b >> 6)),
                         0x1p-53);
}

/* Draw d of 53 bits (words 2d and 2d + 1). */
static __device__ __forceinline__ double exprc_rnd_u53_at(exprc_rnd_reader &r,
                                                          const exprc_rnd_stream &g, uint64_t d)
{
    const uint32_t a = exprc_rnd_word(r, g, 2 * d);
    return exprc_rnd_u53(a, exprc_rnd_word(r, g, 2 * d + 1));
}

/* ------------------------------------------------------------------ portable log, cos, sin */
#define EXPRC_RND_STEP(c) acc = exprc_rnd_add(exprc_rnd_mul(acc, x), c)

/* sum 1 / (2k + 1) x^k for k = 0 .. 11 (Horner, as RND_LOG_C). */
static __device__ __forceinline__ double exprc_rnd_log_series(double x)
{
    double acc = 0x1.642c8590b2164p-5;
    EXPRC_RND_STEP(0x1.8618618618618p-5);
    EXPRC_RND_STEP(0x1.af286bca1af28p-5);
    EXPRC_RND_STEP(0x1.e1e1e1e1e1e1ep-5);
    EXPRC_RND_STEP(0x1.1111111111111p-4);
    EXPRC_RND_STEP(0x1.3b13b13b13b14p-4);
    EXPRC_RND_STEP(0x1.745d1745d1746p-4);
    EXPRC_RND_STEP(0x1.c71c71c71c71cp-4);
    EXPRC_RND_STEP(0x1.2492492492492p-3);
    EXPRC_RND_STEP(0x1.999999999999ap-3);
    EXPRC_RND_STEP(0x1.5555555555555p-2);
    EXPRC_RND_STEP(0x1.0000000000000p+0);
    return acc;
}

/* The Taylor series of sin(sqrt(x)) / sqrt(x) (as RND_SIN_C). */
static __device__ __forceinline__ double exprc_rnd_sin_series(double x)
{
    double acc = -0x1.761b41316381ap-75;
    EXPRC_RND_STEP(0x1.71b8ef6dcf572p-66);
    EXPRC_RND_STEP(-0x1.2f49b46814157p-57);
    EXPRC_RND_STEP(0x1.952c77030ad4ap-49);
    EXPRC_RND_STEP(-0x1.ae7f3e733b81fp-41);
    EXPRC_RND_STEP(0x1.6124613a86d09p-33);
    EXPRC_RND_STEP(-0x1.ae64567f544e4p-26);
    EXPRC_RND_STEP(0x1.71de3a556c734p-19);
    EXPRC_RND_STEP(-0x1.a01a01a01a01ap-13);
    EXPRC_RND_STEP(0x1.1111111111111p-7);
    EXPRC_RND_STEP(-0x1.5555555555555p-3);
    EXPRC_RND_STEP(0x1.0000000000000p+0);
    return acc;
}

/* The Taylor series of cos(sqrt(x)) (as RND_COS_C). */
static __device__ __forceinline__ double exprc_rnd_cos_series(double x)
{
    double acc = -0x1.0ce396db7f853p-70;
    EXPRC_RND_STEP(0x1.e542ba4020225p-62);
    EXPRC_RND_STEP(-0x1.6827863b97d97p-53);
    EXPRC_RND_STEP(0x1.ae7f3e733b81fp-45);
    EXPRC_RND_STEP(-0x1.93974a8c07c9dp-37);
    EXPRC_RND_STEP(0x1.1eed8eff8d898p-29);
    EXPRC_RND_STEP(-0x1.27e4fb7789f5cp-22);
    EXPRC_RND_STEP(0x1.a01a01a01a01ap-16);
    EXPRC_RND_STEP(-0x1.6c16c16c16c17p-10);
    EXPRC_RND_STEP(0x1.5555555555555p-5);
    EXPRC_RND_STEP(-0x1.0000000000000p-1);
    EXPRC_RND_STEP(0x1.0000000000000p+0);
    return acc;
}
#undef EXPRC_RND_STEP

#define EXPRC_RND_LN2 0x1.62e42fefa39efp-1
#define EXPRC_RND_SQRT_HALF 0x1.6a09e667f3bcdp-1
#define EXPRC_RND_HALF_PI 0x1.921fb54442d18p+0

/* log(u) for positive finite u: log(m) = 2 atanh((m - 1) / (m + 1)), m in [sqrt(1/2), sqrt 2). */
static __device__ __forceinline__ double exprc_rnd_log(double u)
{
    int e;
    double m = frexp(u, &e);
    if (m < EXPRC_RND_SQRT_HALF) {
        m = exprc_rnd_mul(m, 2.0);
        e -= 1;
    }
    const double s = exprc_rnd_sub(m, 1.0) / exprc_rnd_add(m, 1.0);
    return exprc_rnd_add(exprc_rnd_mul((double)e, EXPRC_RND_LN2),
                         exprc_rnd_mul(exprc_rnd_mul(2.0, s),
                                       exprc_rnd_log_series(exprc_rnd_mul(s, s))));
}

/* Two standard normal values from u1 in (0, 1] and u2 in [0, 1) (Box-Muller): r cos(2 pi u2)
 * and r sin(2 pi u2), the quadrant exactly from 4 u2, then the Taylor series. */
static __device__ __forceinline__ void exprc_rnd_box_muller(double u1, double u2, double *z0,
                                                            double *z1)
{
#ifdef __CUDA_ARCH__
    const double r = __dsqrt_rn(exprc_rnd_mul(-2.0, exprc_rnd_log(u1)));
#else
    const double r = sqrt(exprc_rnd_mul(-2.0, exprc_rnd_log(u1)));
#endif
    const double quarter = exprc_rnd_mul(u2, 4.0), q = floor(quarter);
    const double x = exprc_rnd_mul(exprc_rnd_sub(quarter, q), EXPRC_RND_HALF_PI);
    const double x2 = exprc_rnd_mul(x, x);
    const double c = exprc_rnd_cos_series(x2), s = exprc_rnd_mul(x, exprc_rnd_sin_series(x2));
    double cs, sn;
    switch ((int)q) {
    case 0: cs = c; sn = s; break;
    case 1: cs = -s; sn = c; break;
    case 2: cs = -c; sn = -s; break;
    default: cs = s; sn = -c; break;
    }
    *z0 = exprc_rnd_mul(r, cs);
    *z1 = exprc_rnd_mul(r, sn);
}

/* ------------------------------------------------------------------ broadcast parameters */
/* The sample's shape and the element strides of its two parameters (0 on broadcast axes), in
 * C order; a parameter with one element has `single` set and is read at offset 0. */
struct exprc_rnd_params {
    int64_t ndim, single_a, single_b;
    int64_t shape[EXPRC_CUDA_MAXDIM], astride[EXPRC_CUDA_MAXDIM], bstride[EXPRC_CUDA_MAXDIM];
};

/* Offsets of element i of the sample in the two parameters. */
static __device__ __forceinline__ void exprc_rnd_param_offsets(const exprc_rnd_params &p,
                                                               int64_t i, int64_t *oa,
                                                               int64_t *ob)
{
    int64_t a = 0, b = 0;
    if (!(p.single_a && p.single_b)) {
        for (int64_t d = p.ndim - 1; d >= 0 && i > 0; --d) {
            const int64_t at = i % p.shape[d];
            i /= p.shape[d];
            a += at * p.astride[d];
            b += at * p.bstride[d];
        }
    }
    *oa = p.single_a ? 0 : a;
    *ob = p.single_b ? 0 : b;
}

/* ------------------------------------------------------------------ uniform and normal */
/* Whether (a, b) lies in the domain: high - low finite and >= 0 (uniform), std >= 0 or NaN
 * (normal). */
template <typename T>
static __device__ __forceinline__ bool exprc_rnd_params_ok(T a, T b, bool uniform)
{
    if (!uniform)
        return !(b < 0);
    const T span = exprc_rnd_sub(b, a);
    return span >= 0 && isfinite(span);
}

template <typename T>
static __device__ __forceinline__ void exprc_rnd_affine(const exprc_rnd_params &p, int64_t i,
                                                        const T *__restrict__ a,
                                                        const T *__restrict__ b,
                                                        T *__restrict__ out, T z, bool uniform,
                                                        int *__restrict__ flag)
{
    int64_t oa, ob;
    exprc_rnd_param_offsets(p, i, &oa, &ob);
    const T va = a[oa], vb = b[ob];
    const T scale = uniform ? exprc_rnd_sub(vb, va) : vb;
    if (flag != NULL && !exprc_rnd_params_ok(va, vb, uniform))
        *flag = 1;
    out[i] = exprc_rnd_add(va, exprc_rnd_mul(scale, z));
}

/* The uniform variates of one block: 4 (float, 24 bits of a word each) or 2 (double, 53 bits
 * of two words each). */
static __device__ __forceinline__ int exprc_rnd_units(const uint32_t w[4], float u[4])
{
    for (int j = 0; j < 4; ++j)
        u[j] = (float)(w[j] >> 8) * 0x1p-24f; /* exact */
    return 4;
}
static __device__ __forceinline__ int exprc_rnd_units(const uint32_t w[4], double u[4])
{
    u[0] = exprc_rnd_u53(w[0], w[1]);
    u[1] = exprc_rnd_u53(w[2], w[3]);
    return 2;
}

/* The standard normal values of one block: two pairs (float: u1, u2 from one word each) or
 * one pair (double: 53 bits each). */
static __device__ __forceinline__ int exprc_rnd_normals(const uint32_t w[4], float z[4])
{
    for (int h = 0; h < 2; ++h) {
        const double u1 = exprc_rnd_mul(exprc_rnd_add((double)w[2 * h], 1.0), 0x1p-32);
        const double u2 = exprc_rnd_mul((double)w[2 * h + 1], 0x1p-32);
        double z0, z1;
        exprc_rnd_box_muller(u1, u2, &z0, &z1);
        z[2 * h] = (float)z0;
        z[2 * h + 1] = (float)z1;
    }
    return 4;
}
static __device__ __forceinline__ int exprc_rnd_normals(const uint32_t w[4], double z[4])
{
    const double u1 = exprc_rnd_add(exprc_rnd_u53(w[0], w[1]), 0x1p-53);
    exprc_rnd_box_muller(u1, exprc_rnd_u53(w[2], w[3]), &z[0], &z[1]);
    return 2;
}

/* out[0:n] = a + (b - a) u (uniform) or a + b z (normal), one thread per block of the stream;
 * `used` blocks advance the state. */
template <typename T>
__device__ void exprc_random_float(const uint32_t *__restrict__ state, int64_t state_stride,
                                   uint32_t *__restrict__ new_state, int64_t used, int64_t n,
                                   const exprc_rnd_params &p, const T *__restrict__ a,
                                   const T *__restrict__ b, T *__restrict__ out,
                                   int *__restrict__ flag, bool uniform)
{
    const exprc_rnd_stream g = exprc_rnd_load(state, state_stride);
    const int64_t start = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (start == 0)
        exprc_rnd_finish(new_state, g, (uint64_t)used);
    /* 16 bytes of stream per block: 4 floats or 2 doubles either way. */
    const int64_t per_block = 16 / (int64_t)sizeof(T);
    const int64_t blocks = (n + per_block - 1) / per_block;
    for (int64_t blk = start; blk < blocks; blk += (int64_t)gridDim.x * blockDim.x) {
        uint32_t w[4];
        T v[4];
        exprc_rnd_block(g, (uint64_t)blk, w);
        const int count = uniform ? exprc_rnd_units(w, v) : exprc_rnd_normals(w, v);
        for (int j = 0; j < count && blk * count + j < n; ++j)
            exprc_rnd_affine(p, blk * count + j, a, b, out, v[j], uniform, flag);
    }
}

/* ------------------------------------------------------------------ integers */
/* The high 64 bits of the 128-bit product a * b, its low 64 bits in *lo. */
static __device__ __forceinline__ uint64_t exprc_rnd_mul_64x64(uint64_t a, uint64_t b,
                                                               uint64_t *lo)
{
    *lo = a * b;
#ifdef __CUDA_ARCH__
    return __umul64hi(a, b);
#else
    const uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    const uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    const uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

/* floor(r * span / 2**128) for the 128-bit r of the block's four words; span 0 stands for
 * 2**64 (as rnd_scale_128 of the C runtime). */
static __device__ __forceinline__ uint64_t exprc_rnd_scale_128(const uint32_t w[4], uint64_t span)
{
    const uint64_t lo = (uint64_t)w[0] | (uint64_t)w[1] << 32;
    const uint64_t hi = (uint64_t)w[2] | (uint64_t)w[3] << 32;
    if (span == 0)
        return hi;
    uint64_t a_lo, b_lo;
    const uint64_t a_hi = exprc_rnd_mul_64x64(hi, span, &a_lo);
    const uint64_t b_hi = exprc_rnd_mul_64x64(lo, span, &b_lo);
    return a_hi + (a_lo + b_hi < a_lo);
}

/* Integers uniform in [low, high], one block of the stream per element. */
static __device__ void exprc_random_integers(const uint32_t *__restrict__ state,
                                             int64_t state_stride,
                                             uint32_t *__restrict__ new_state, int64_t n,
                                             const exprc_rnd_params &p,
                                             const int64_t *__restrict__ low,
                                             const int64_t *__restrict__ high,
                                             int64_t *__restrict__ out, int *__restrict__ flag)
{
    const exprc_rnd_stream g = exprc_rnd_load(state, state_stride);
    const int64_t start = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (start == 0)
        exprc_rnd_finish(new_state, g, (uint64_t)n);
    for (int64_t i = start; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t oa, ob;
        exprc_rnd_param_offsets(p, i, &oa, &ob);
        const int64_t l = low[oa], h = high[ob];
        if (flag != NULL && l > h)
            *flag = 1;
        uint32_t w[4];
        exprc_rnd_block(g, (uint64_t)i, w);
        /* Modulo 2**64: the span and the sum wrap exactly as the two's complement values. */
        out[i] = (int64_t)((uint64_t)l + exprc_rnd_scale_128(w, (uint64_t)h - (uint64_t)l + 1));
    }
}

/* ------------------------------------------------------------------ binomial */
/* Counts of n trials of probability p: element i reads words i * trials .. i * trials + n_i
 * (trials: the largest n). n is the array `nn`, or the single value `n_single` when nn is
 * NULL. */
template <typename T>
__device__ void exprc_random_binomial(const uint32_t *__restrict__ state, int64_t state_stride,
                                      uint32_t *__restrict__ new_state, int64_t used,
                                      int64_t count, const exprc_rnd_params &p,
                                      const int64_t *__restrict__ nn, int64_t n_single,
                                      const double *__restrict__ prob, int64_t trials,
                                      T *__restrict__ out, int *__restrict__ flag)
{
    const exprc_rnd_stream g = exprc_rnd_load(state, state_stride);
    const int64_t start = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (start == 0)
        exprc_rnd_finish(new_state, g, (uint64_t)used);
    for (int64_t i = start; i < count; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t oa, ob;
        exprc_rnd_param_offsets(p, i, &oa, &ob);
        const int64_t ni = nn == NULL ? n_single : nn[oa];
        const double pi = prob[ob];
        if (flag != NULL && !(pi >= 0 && pi <= 1))
            *flag = 1;
        exprc_rnd_reader r;
        r.valid = 0;
        const uint64_t base = (uint64_t)i * (uint64_t)trials;
        int64_t successes = 0;
        for (int64_t t = 0; t < ni; ++t)
            successes += exprc_rnd_mul((double)exprc_rnd_word(r, g, base + (uint64_t)t),
                                       0x1p-32) < pi;
        out[i] = (T)successes;
    }
}

/* ------------------------------------------------------------------ choice and permutation */
/* Uniform indices of range(a) with replacement: floor(u * a), u from draw i. */
template <typename T>
__device__ void exprc_random_choice_uniform(const uint32_t *__restrict__ state,
                                            int64_t state_stride,
                                            uint32_t *__restrict__ new_state, int64_t used,
                                            int64_t k, int64_t a, T *__restrict__ out)
{
    const exprc_rnd_stream g = exprc_rnd_load(state, state_stride);
    const int64_t start = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (start == 0)
        exprc_rnd_finish(new_state, g, (uint64_t)used);
    for (int64_t i = start; i < k; i += (int64_t)gridDim.x * blockDim.x) {
        exprc_rnd_reader r;
        r.valid = 0;
        const int64_t j = (int64_t)exprc_rnd_mul(exprc_rnd_u53_at(r, g, (uint64_t)i), (double)a);
        out[i] = (T)(j < a - 1 ? j : a - 1);
    }
}

/* Weighted indices with replacement: the first j with cdf[j] > u * cdf[a - 1], at most
 * `last` (the last index of positive probability). */
template <typename T>
__device__ void exprc_random_choice_cdf(const uint32_t *__restrict__ state,
                                        int64_t state_stride, uint32_t *__restrict__ new_state,
                                        int64_t used, int64_t k, int64_t a,
                                        const double *__restrict__ cdf, int64_t last,
                                        T *__restrict__ out)
{
    const exprc_rnd_stream g = exprc_rnd_load(state, state_stride);
    const int64_t start = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (start == 0)
        exprc_rnd_finish(new_state, g, (uint64_t)used);
    for (int64_t i = start; i < k; i += (int64_t)gridDim.x * blockDim.x) {
        exprc_rnd_reader r;
        r.valid = 0;
        const double target = exprc_rnd_mul(exprc_rnd_u53_at(r, g, (uint64_t)i), cdf[a - 1]);
        int64_t lo = 0, hi = a;
        while (lo < hi) {
            const int64_t mid = lo + (hi - lo) / 2;
            if (cdf[mid] > target)
                hi = mid;
            else
                lo = mid + 1;
        }
        out[i] = (T)(lo < last ? lo : last);
    }
}

/* The keys of a weighted choice without replacement (Efraimidis-Spirakis), negated so that an
 * ascending stable sort puts the largest first: -(log(u_j) / p_j), +inf where p_j is 0. */
static __device__ void exprc_random_choice_keys(const uint32_t *__restrict__ state,
                                                int64_t state_stride,
                                                uint32_t *__restrict__ new_state, int64_t used,
                                                int64_t a, const double *__restrict__ prob,
                                                double *__restrict__ keys)
{
    const exprc_rnd_stream g = exprc_rnd_load(state, state_stride);
    const int64_t start = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (start == 0)
        exprc_rnd_finish(new_state, g, (uint64_t)used);
    for (int64_t j = start; j < a; j += (int64_t)gridDim.x * blockDim.x) {
        exprc_rnd_reader r;
        r.valid = 0;
        const double u = exprc_rnd_add(exprc_rnd_u53_at(r, g, (uint64_t)j), 0x1p-53);
        const double pj = prob[j];
        keys[j] = pj > 0 ? -(exprc_rnd_log(u) / pj) : (double)INFINITY;
    }
}

/* Fisher-Yates shuffles: row `row` of `perm` (rows of `length` int64 entries) becomes the
 * first `steps` steps of a shuffle of range(length), step i using draw first + i, first =
 * row * length * spread (spread 1 for permutations; a choice has one row). One thread per
 * row; the rows are stored into `out` (rows of `keep` entries) converted to T. */
template <typename T>
__device__ void exprc_random_shuffle(const uint32_t *__restrict__ state, int64_t state_stride,
                                     uint32_t *__restrict__ new_state, int64_t used,
                                     int64_t rows, int64_t length, int64_t steps, int64_t keep,
                                     int64_t *__restrict__ perm, T *__restrict__ out)
{
    const exprc_rnd_stream g = exprc_rnd_load(state, state_stride);
    const int64_t start = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (start == 0)
        exprc_rnd_finish(new_state, g, (uint64_t)used);
    for (int64_t row = start; row < rows; row += (int64_t)gridDim.x * blockDim.x) {
        int64_t *pr = perm + row * length;
        for (int64_t j = 0; j < length; ++j)
            pr[j] = j;
        exprc_rnd_reader r;
        r.valid = 0;
        const uint64_t first = (uint64_t)(row * length);
        for (int64_t i = 0; i < steps && i < length - 1; ++i) {
            const int64_t left = length - i;
            int64_t j = (int64_t)exprc_rnd_mul(exprc_rnd_u53_at(r, g, first + (uint64_t)i),
                                               (double)left);
            j = i + (j < left - 1 ? j : left - 1);
            const int64_t t = pr[i];
            pr[i] = pr[j];
            pr[j] = t;
        }
        T *o = out + row * keep;
        for (int64_t j = 0; j < keep; ++j)
            o[j] = (T)pr[j];
    }
}

/* out[0:n] = src[0:n] converted to T (the indices of a weighted choice without replacement,
 * sorted as int64). */
template <typename T>
__device__ void exprc_random_store(int64_t n, const int64_t *__restrict__ src,
                                   T *__restrict__ out)
{
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        out[i] = (T)src[i];
}

#endif /* EXPRC_CUDA_RANDOM_CUH */
