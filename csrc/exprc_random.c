/* The counter-based random number generator: the definitions declared in exprc_random.h.
 *
 * Bit-for-bit agreement with the NumPy reference (exprc/link/reference/random.py) needs every
 * floating-point operation rounded once, as NumPy rounds it: contracting a * b + c into a
 * fused multiply-add (which GCC does by default with -march=native) would change results, so
 * it is turned off for this file.  log, cos and sin are the polynomials below rather than the
 * C library's, for the same reason (the reference evaluates the same ones).  Static names
 * carry the prefix rnd_ because the runtime library may be compiled as one unity source. */
#include <math.h>

#include "exprc_random.h"

/* Scoped to this file: the runtime library is also built as one unity source. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

/* Philox4x32 multipliers and Weyl key increments (Random123's PHILOX_M4x32 and PHILOX_W32). */
#define RND_PHILOX_M0 0xD2511F53u
#define RND_PHILOX_M1 0xCD9E8D57u
#define RND_PHILOX_W0 0x9E3779B9u
#define RND_PHILOX_W1 0xBB67AE85u

/* How far from 1 a choice's probabilities may sum (exprc.tensor.random.P_SUM_TOLERANCE). */
#define RND_P_SUM_TOLERANCE 0x1p-26

/* Most trials (random words) one binomial op draws in a call. */
#define RND_BINOMIAL_MAX_WORDS ((int64_t)1 << 27)

/* Above this many blocks (or trials), sampling runs on all threads. */
#define RND_PARALLEL_WORK 4096

static inline void rnd_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3], k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; ++r) {
        if (r) {
            k0 += RND_PHILOX_W0;
            k1 += RND_PHILOX_W1;
        }
        const uint64_t p0 = (uint64_t)RND_PHILOX_M0 * c0, p1 = (uint64_t)RND_PHILOX_M1 * c2;
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

EXPRC_EXPORT void exprc_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2],
                                      uint32_t out[4])
{
    rnd_philox(ctr, key, out);
}

/* ------------------------------------------------------------------ the stream */
typedef struct {
    uint32_t key[2];
    uint64_t lo, hi;                 /* the 128-bit counter of block 0 */
} rnd_stream;

static inline void rnd_block_at(const rnd_stream *g, uint64_t b, uint32_t out[4])
{
    const uint64_t lo = g->lo + b, hi = g->hi + (lo < g->lo);
    const uint32_t ctr[4] = {(uint32_t)lo, (uint32_t)(lo >> 32), (uint32_t)hi,
                             (uint32_t)(hi >> 32)};
    rnd_philox(ctr, g->key, out);
}

/* Reads words of the stream in any order, computing each block once while reads stay in it. */
typedef struct {
    const rnd_stream *g;
    uint64_t block;
    int valid;
    uint32_t w[4];
} rnd_reader;

static inline uint32_t rnd_word_at(rnd_reader *r, uint64_t w)
{
    if (!r->valid || r->block != w >> 2) {
        r->block = w >> 2;
        r->valid = 1;
        rnd_block_at(r->g, r->block, r->w);
    }
    return r->w[w & 3];
}

/* float64 in [0, 1) from two words: 27 bits of the first, 26 of the second. */
static inline double rnd_u53(uint32_t a, uint32_t b)
{
    return ((double)(a >> 5) * 67108864.0 + (double)(b >> 6)) * 0x1p-53;
}

/* Draw d of 53 bits (words 2d and 2d + 1). */
static inline double rnd_u53_at(rnd_reader *r, uint64_t d)
{
    const uint32_t a = rnd_word_at(r, 2 * d);
    return rnd_u53(a, rnd_word_at(r, 2 * d + 1));
}

/* ------------------------------------------------------------------ portable log, cos, sin */
static const double RND_LOG_C[12] = {
    0x1.642c8590b2164p-5, 0x1.8618618618618p-5, 0x1.af286bca1af28p-5, 0x1.e1e1e1e1e1e1ep-5,
    0x1.1111111111111p-4, 0x1.3b13b13b13b14p-4, 0x1.745d1745d1746p-4, 0x1.c71c71c71c71cp-4,
    0x1.2492492492492p-3, 0x1.999999999999ap-3, 0x1.5555555555555p-2, 0x1.0000000000000p+0};
static const double RND_SIN_C[12] = {
    -0x1.761b41316381ap-75, 0x1.71b8ef6dcf572p-66, -0x1.2f49b46814157p-57, 0x1.952c77030ad4ap-49,
    -0x1.ae7f3e733b81fp-41, 0x1.6124613a86d09p-33, -0x1.ae64567f544e4p-26, 0x1.71de3a556c734p-19,
    -0x1.a01a01a01a01ap-13, 0x1.1111111111111p-7, -0x1.5555555555555p-3, 0x1.0000000000000p+0};
static const double RND_COS_C[12] = {
    -0x1.0ce396db7f853p-70, 0x1.e542ba4020225p-62, -0x1.6827863b97d97p-53, 0x1.ae7f3e733b81fp-45,
    -0x1.93974a8c07c9dp-37, 0x1.1eed8eff8d898p-29, -0x1.27e4fb7789f5cp-22, 0x1.a01a01a01a01ap-16,
    -0x1.6c16c16c16c17p-10, 0x1.5555555555555p-5, -0x1.0000000000000p-1, 0x1.0000000000000p+0};
#define RND_LN2 0x1.62e42fefa39efp-1
#define RND_SQRT_HALF 0x1.6a09e667f3bcdp-1
#define RND_HALF_PI 0x1.921fb54442d18p+0

static inline double rnd_horner(const double *c, double x)
{
    double acc = c[0];
    for (int k = 1; k < 12; ++k) acc = acc * x + c[k];
    return acc;
}

/* log(u) for positive finite u: log(m) = 2 atanh((m - 1) / (m + 1)), m in [sqrt(1/2), sqrt 2). */
static inline double rnd_portable_log(double u)
{
    int e;
    double m = frexp(u, &e);
    if (m < RND_SQRT_HALF) {
        m = m * 2.0;
        e -= 1;
    }
    const double s = (m - 1.0) / (m + 1.0);
    return (double)e * RND_LN2 + (2.0 * s) * rnd_horner(RND_LOG_C, s * s);
}

/* cos(2 pi u) and sin(2 pi u) for u in [0, 1): the quadrant exactly from 4u, then Taylor. */
static inline void rnd_portable_cos_sin(double u, double *cos_out, double *sin_out)
{
    const double quarter = u * 4.0, q = floor(quarter);
    const double x = (quarter - q) * RND_HALF_PI, x2 = x * x;
    const double c = rnd_horner(RND_COS_C, x2), s = x * rnd_horner(RND_SIN_C, x2);
    switch ((int)q) {
    case 0: *cos_out = c; *sin_out = s; break;
    case 1: *cos_out = -s; *sin_out = c; break;
    case 2: *cos_out = -c; *sin_out = -s; break;
    default: *cos_out = s; *sin_out = -c; break;
    }
}

/* Two standard normal values from u1 in (0, 1] and u2 in [0, 1) (Box-Muller). */
static inline void rnd_box_muller(double u1, double u2, double *z0, double *z1)
{
    const double r = sqrt(-2.0 * rnd_portable_log(u1));
    double c, s;
    rnd_portable_cos_sin(u2, &c, &s);
    *z0 = r * c;
    *z1 = r * s;
}

/* ------------------------------------------------------------------ nodes: common parts */
static int64_t rnd_code_size(int code)
{
    if (code == EXPRC_RANDOM_FLOAT32) return 4;
    if (code == EXPRC_RANDOM_FLOAT64) return 8;
    return code < 0 ? -code : code;
}

/* A malloc'd scratch array of count items (at least one byte), or NULL with `error` set: a
 * ValueError when its byte size overflows, a MemoryError when malloc fails.  Call it outside
 * parallel regions (it writes `error`). */
static void *rnd_scratch(int64_t count, size_t itemsize, const char *label, exprc_error *error,
                         int64_t node)
{
    if (count > (int64_t)(INT64_MAX / itemsize)) {
        exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                        "%s: a scratch array of %lld items is too large", label,
                        (long long)count);
        return NULL;
    }
    void *p = malloc(count > 0 ? (size_t)count * itemsize : 1);
    if (p == NULL)
        exprc_set_error(error, EXPRC_MEMORY_ERROR, node,
                        "%s: cannot allocate %lld bytes of scratch memory", label,
                        (long long)count * (long long)itemsize);
    return p;
}

static inline void rnd_store(char *p, int code, int64_t v)
{
    switch (code) {
    case 1: *(int8_t *)p = (int8_t)v; break;
    case 2: *(int16_t *)p = (int16_t)v; break;
    case 4: *(int32_t *)p = (int32_t)v; break;
    case 8: *(int64_t *)p = v; break;
    case -1: *(uint8_t *)p = (uint8_t)v; break;
    case -2: *(uint16_t *)p = (uint16_t)v; break;
    case -4: *(uint32_t *)p = (uint32_t)v; break;
    case -8: *(uint64_t *)p = (uint64_t)v; break;
    case EXPRC_RANDOM_FLOAT32: *(float *)p = (float)v; break;
    default: *(double *)p = (double)v; break;
    }
}

/* Read the state into g; check the sizes; give the sample its shape (plus an axis of `extra`
 * when extra >= 0) and a buffer of elements of `itemsize` bytes, and new_state a buffer.
 * *count: elements of shape. */
static int rnd_begin(exprc_pool *pool, exprc_array *new_state, exprc_array *out,
                     const exprc_array *state, int64_t ndim, const int64_t *shape, int64_t extra,
                     int64_t itemsize, rnd_stream *g, int64_t *count, const char *label,
                     exprc_error *error, int64_t node)
{
    if (state->ndim != 1 || state->shape[0] != 6)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: the state must hold 6 words, got shape %s", label,
                               exprc_shape_str(state));
    uint32_t s[6];
    for (int k = 0; k < 6; ++k) s[k] = *(const uint32_t *)(state->data + k * state->strides[0]);
    g->key[0] = s[0];
    g->key[1] = s[1];
    g->lo = (uint64_t)s[2] | (uint64_t)s[3] << 32;
    g->hi = (uint64_t)s[4] | (uint64_t)s[5] << 32;
    for (int64_t d = 0; d < ndim; ++d)
        if (shape[d] < 0)
            return exprc_set_error(error, EXPRC_VALUE_ERROR, node, "%s: negative size in %s",
                                   label, exprc_ints_str(ndim, shape, 0));
    out->ndim = ndim + (extra >= 0);
    for (int64_t d = 0; d < ndim; ++d) out->shape[d] = shape[d];
    if (extra >= 0) out->shape[ndim] = extra;
    if (exprc_alloc_array(pool, out, itemsize, error, node)) return -1;
    *count = 1;
    for (int64_t d = 0; d < ndim; ++d) *count *= shape[d];
    new_state->ndim = 1;
    new_state->shape[0] = 6;
    return exprc_alloc_array(pool, new_state, 4, error, node);
}

/* Write g's key and its counter advanced by `blocks` into the (contiguous) new state. */
static void rnd_finish(exprc_array *new_state, const rnd_stream *g, uint64_t blocks)
{
    const uint64_t lo = g->lo + blocks, hi = g->hi + (lo < g->lo);
    uint32_t *s = (uint32_t *)new_state->data;
    s[0] = g->key[0];
    s[1] = g->key[1];
    s[2] = (uint32_t)lo;
    s[3] = (uint32_t)(lo >> 32);
    s[4] = (uint32_t)hi;
    s[5] = (uint32_t)(hi >> 32);
}

/* A parameter must have each axis of the sample's size or 1 (its rank is the sample's). */
static int rnd_check_param(const exprc_array *a, int64_t ndim, const int64_t *shape,
                       const char *name, const char *label, exprc_error *error, int64_t node)
{
    int ok = a->ndim == ndim;
    for (int64_t d = 0; ok && d < ndim; ++d) ok = a->shape[d] == shape[d] || a->shape[d] == 1;
    if (!ok)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: %s of shape %s does not broadcast to the size %s", label,
                               name, exprc_shape_str(a), exprc_ints_str(ndim, shape, 0));
    return 0;
}

/* Check the two parameters (named na, nb) against the size, then rnd_begin without an extra
 * axis: the start of every sampler with two broadcast parameters. */
static int rnd_begin_with(exprc_pool *pool, exprc_array *new_state, exprc_array *out,
                          const exprc_array *state, int64_t ndim, const int64_t *shape,
                          const exprc_array *a, const char *na, const exprc_array *b,
                          const char *nb, int64_t itemsize, rnd_stream *g, int64_t *count,
                          const char *label, exprc_error *error, int64_t node)
{
    if (rnd_check_param(a, ndim, shape, na, label, error, node)
        || rnd_check_param(b, ndim, shape, nb, label, error, node))
        return -1;
    return rnd_begin(pool, new_state, out, state, ndim, shape, -1, itemsize, g, count, label,
                     error, node);
}

static int rnd_is_single(const exprc_array *a)
{
    for (int64_t d = 0; d < a->ndim; ++d)
        if (a->shape[d] != 1) return 0;
    return 1;
}

/* Element i (C order over shape) of the broadcast parameter a. */
static inline const char *rnd_param_at(const exprc_array *a, int64_t ndim, const int64_t *shape,
                                   int64_t i)
{
    const char *p = a->data;
    for (int64_t d = ndim - 1; d >= 0 && i > 0; --d) {
        const int64_t at = i % shape[d];
        i /= shape[d];
        if (a->shape[d] != 1) p += at * a->strides[d];
    }
    return p;
}

/* ------------------------------------------------------------------ uniform and normal
 *
 * A uniform variate of a float32 sample is made from one stream word, one of a float64
 * sample from two (exprc/tensor/random.py): the functions below turn words into variates per
 * type, and the sampling loops, the affine step and the entry points are one template. */

/* A uniform float in [0, 1) from 24 bits of w[0]. */
static inline float rnd_unit_float32(const uint32_t *w)
{
    return (float)(w[0] >> 8) * 0x1p-24f;
}

/* A uniform double in [0, 1) from 53 bits of w[0] and w[1]. */
static inline double rnd_unit_float64(const uint32_t *w)
{
    return rnd_u53(w[0], w[1]);
}

/* The two uniforms of a float32 Box-Muller pair: u1 in (0, 1] from w[0], u2 from w[1]. */
static inline void rnd_normal_units_float32(const uint32_t *w, double *u1, double *u2)
{
    *u1 = ((double)w[0] + 1.0) * 0x1p-32;
    *u2 = (double)w[1] * 0x1p-32;
}

/* The two uniforms of a float64 Box-Muller pair: 53 bits each from w[0:2] and w[2:4]. */
static inline void rnd_normal_units_float64(const uint32_t *w, double *u1, double *u2)
{
    *u1 = rnd_u53(w[0], w[1]) + 0x1p-53;
    *u2 = rnd_u53(w[2], w[3]);
}

#define EXPRC_T float
#define EXPRC_TYPED(stem) stem##_float32
#include "exprc_random_body.h"

#define EXPRC_T double
#define EXPRC_TYPED(stem) stem##_float64
#include "exprc_random_body.h"

/* ------------------------------------------------------------------ integers */
/* The high 64 bits of the 128-bit product a * b, and its low 64 bits in *lo, from 32-bit
 * halves (no 128-bit type needed). */
static inline uint64_t rnd_mul_64x64(uint64_t a, uint64_t b, uint64_t *lo)
{
    const uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    const uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    const uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    *lo = mid << 32 | (uint32_t)p00;
    return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/* floor(r * span / 2**128) for the 128-bit r = w[0] + w[1] 2**32 + w[2] 2**64 + w[3] 2**96;
 * span 0 stands for 2**64 (the whole int64 range). With r = hi 2**64 + lo, hi * span =
 * a_hi 2**64 + a_lo and lo * span = b_hi 2**64 + b_lo, the result is a_hi plus the carry of
 * a_lo + b_hi (b_lo < 2**64 cannot carry further). */
static inline uint64_t rnd_scale_128(const uint32_t w[4], uint64_t span)
{
    const uint64_t lo = (uint64_t)w[0] | (uint64_t)w[1] << 32;
    const uint64_t hi = (uint64_t)w[2] | (uint64_t)w[3] << 32;
    if (span == 0) return hi;
    uint64_t a_lo, b_lo;
    const uint64_t a_hi = rnd_mul_64x64(hi, span, &a_lo);
    const uint64_t b_hi = rnd_mul_64x64(lo, span, &b_lo);
    return a_hi + (a_lo + b_hi < a_lo);
}

EXPRC_EXPORT int exprc_random_integers(exprc_pool *pool, exprc_array *new_state, exprc_array *out,
                                       const exprc_array *state, int64_t ndim,
                                       const int64_t *shape, const exprc_array *low,
                                       const exprc_array *high, const char *label,
                                       exprc_error *error, int64_t node)
{
    rnd_stream g;
    int64_t count;
    if (rnd_begin_with(pool, new_state, out, state, ndim, shape, low, "low", high, "high", 8,
                       &g, &count, label, error, node))
        return -1;
    const int single = rnd_is_single(low) && rnd_is_single(high);
    for (int64_t i = 0; i < (single && count > 0 ? 1 : count); ++i) {
        const int64_t lo = *(const int64_t *)rnd_param_at(low, ndim, shape, i);
        const int64_t hi = *(const int64_t *)rnd_param_at(high, ndim, shape, i);
        if (lo > hi)
            return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                                   "%s: low must be <= high, got low = %lld > high = %lld",
                                   label, (long long)lo, (long long)hi);
    }
    int64_t *o = (int64_t *)out->data;
#pragma omp parallel for if (count > RND_PARALLEL_WORK) schedule(static)
    for (int64_t i = 0; i < count; ++i) {
        const uint64_t lo = (uint64_t)*(const int64_t *)rnd_param_at(low, ndim, shape, i);
        const uint64_t hi = (uint64_t)*(const int64_t *)rnd_param_at(high, ndim, shape, i);
        uint32_t w[4];
        rnd_block_at(&g, (uint64_t)i, w);
        /* Modulo 2**64: the span and the sum wrap exactly as the two's complement values. */
        const uint64_t value = lo + rnd_scale_128(w, hi - lo + 1);
        memcpy(o + i, &value, sizeof value);
    }
    rnd_finish(new_state, &g, (uint64_t)count);
    return 0;
}

/* ------------------------------------------------------------------ binomial */
EXPRC_EXPORT int exprc_random_binomial(exprc_pool *pool, exprc_array *new_state, exprc_array *out,
                                       const exprc_array *state, int64_t ndim,
                                       const int64_t *shape, const exprc_array *n,
                                       const exprc_array *p, int code, const char *label,
                                       exprc_error *error, int64_t node)
{
    rnd_stream g;
    int64_t count;
    if (rnd_begin_with(pool, new_state, out, state, ndim, shape, n, "n", p, "p",
                       rnd_code_size(code), &g, &count, label, error, node))
        return -1;
    /* Single parameters (the common case) are checked once. */
    const int single = rnd_is_single(n) && rnd_is_single(p);
    int64_t trials = 0;
    for (int64_t i = 0; i < (single && count > 0 ? 1 : count); ++i) {
        const int64_t ni = *(const int64_t *)rnd_param_at(n, ndim, shape, i);
        const double pi = *(const double *)rnd_param_at(p, ndim, shape, i);
        if (ni < 0)
            return exprc_set_error(error, EXPRC_VALUE_ERROR, node, "%s: n must be >= 0, got %lld",
                                   label, (long long)ni);
        if (!(pi >= 0 && pi <= 1))
            return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                                   "%s: p must lie in [0, 1], got %g", label, pi);
        if (ni > trials) trials = ni;
    }
    /* Every trial is drawn, so the work grows with n: a bound keeps a huge n from running
     * for hours (the reference applies the same one). */
    int64_t words;
    if (__builtin_mul_overflow(count, trials, &words) || words > RND_BINOMIAL_MAX_WORDS)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: %lld samples of up to %lld trials are too many (at most "
                               "%lld trials in all per call)", label, (long long)count,
                               (long long)trials, (long long)RND_BINOMIAL_MAX_WORDS);
    const int64_t size = rnd_code_size(code);
    if (single && trials == 1) {
        /* Bernoulli draws (dropout masks): element i is word i, a whole block at a time. */
        const double pi = *(const double *)p->data;
#pragma omp parallel for if (count > 16 * RND_PARALLEL_WORK) schedule(static)
        for (int64_t b = 0; b < (count + 3) / 4; ++b) {
            uint32_t w[4];
            rnd_block_at(&g, (uint64_t)b, w);
            for (int64_t j = 0; j < 4 && 4 * b + j < count; ++j)
                rnd_store(out->data + (4 * b + j) * size, code, (double)w[j] * 0x1p-32 < pi);
        }
        rnd_finish(new_state, &g, (uint64_t)(words + 3) / 4);
        return 0;
    }
#pragma omp parallel if (words > 16 * RND_PARALLEL_WORK)
    {
        rnd_reader r = {&g, 0, 0, {0, 0, 0, 0}};
#pragma omp for schedule(static)
        for (int64_t i = 0; i < count; ++i) {
            const int64_t ni = *(const int64_t *)rnd_param_at(n, ndim, shape, i);
            const double pi = *(const double *)rnd_param_at(p, ndim, shape, i);
            const uint64_t base = (uint64_t)i * (uint64_t)trials;
            int64_t successes = 0;
            for (int64_t t = 0; t < ni; ++t)
                successes += (double)rnd_word_at(&r, base + (uint64_t)t) * 0x1p-32 < pi;
            rnd_store(out->data + i * size, code, successes);
        }
    }
    rnd_finish(new_state, &g, (uint64_t)(words + 3) / 4);
    return 0;
}

/* ------------------------------------------------------------------ choice and permutation */
typedef struct {
    double key;
    int64_t index;
} rnd_keyed;

/* Larger keys first; equal keys in index order. */
static int rnd_by_key(const void *x, const void *y)
{
    const rnd_keyed *a = x, *b = y;
    if (a->key != b->key) return a->key > b->key ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* The first k steps of a Fisher-Yates shuffle of perm[0:n]; step i uses draw first + i. */
static void rnd_fisher_yates(int64_t *perm, int64_t n, int64_t k, rnd_reader *r, uint64_t first)
{
    for (int64_t i = 0; i < k && i < n - 1; ++i) {
        const int64_t left = n - i;
        int64_t j = (int64_t)(rnd_u53_at(r, first + (uint64_t)i) * (double)left);
        j = i + (j < left - 1 ? j : left - 1);
        const int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

/* Check a choice's arguments as the reference does; *last: the last index with p > 0. */
static int rnd_check_choice(int64_t a, int64_t k, const exprc_array *p, int replace, int64_t *last,
                        const char *label, exprc_error *error, int64_t node)
{
    if (a < 0 || (a == 0 && k > 0))
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node, "%s: a must be greater than 0 "
                               "unless no samples are taken, got %lld", label, (long long)a);
    int64_t available = a;
    *last = 0;
    if (p != NULL) {
        if (p->shape[0] != a)
            return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                                   "%s: p has %lld entries for a population of %lld", label,
                                   (long long)p->shape[0], (long long)a);
        double total = 0;
        int ok = 1;
        available = 0;
        for (int64_t j = 0; j < a; ++j) {
            const double pj = *(const double *)(p->data + j * p->strides[0]);
            ok &= isfinite(pj) && pj >= 0;
            total += pj;
            if (pj > 0) {
                available += 1;
                *last = j;
            }
        }
        if (!ok || (k > 0 && !(total > 0)))
            return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                                   "%s: p must be finite, >= 0 and not all 0", label);
        /* As NumPy: the probabilities must sum to 1 within sqrt(eps) of float64. */
        if (a > 0 && fabs(total - 1.0) > RND_P_SUM_TOLERANCE)
            return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                                   "%s: p must sum to 1, got a sum of %.17g", label, total);
    }
    if (!replace && k > available)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node, "%s: cannot take %lld samples "
                               "without replacement from %lld candidates", label, (long long)k,
                               (long long)available);
    return 0;
}

/* Sample the k indices of a weighted choice with replacement into idx; cdf: a doubles. */
static void rnd_weighted_with_replacement(int64_t *idx, int64_t k, int64_t a,
                                          const exprc_array *p, int64_t last, double *cdf,
                                          rnd_reader *r)
{
    double acc = 0;
    for (int64_t j = 0; j < a; ++j) {
        const double pj = *(const double *)(p->data + j * p->strides[0]);
        acc = j == 0 ? pj : acc + pj;
        cdf[j] = acc;
    }
    for (int64_t i = 0; i < k; ++i) {
        const double target = rnd_u53_at(r, (uint64_t)i) * cdf[a - 1];
        int64_t lo = 0, hi = a;      /* the first j with cdf[j] > target */
        while (lo < hi) {
            const int64_t mid = lo + (hi - lo) / 2;
            if (cdf[mid] > target) hi = mid; else lo = mid + 1;
        }
        idx[i] = lo < last ? lo : last;
    }
}

/* The k indices of the largest keys log(u_j) / p_j (Efraimidis-Spirakis) into idx; keys: a
 * entries. */
static void rnd_weighted_without_replacement(int64_t *idx, int64_t k, int64_t a,
                                             const exprc_array *p, rnd_keyed *keys,
                                             rnd_reader *r)
{
    for (int64_t j = 0; j < a; ++j) {
        const double pj = *(const double *)(p->data + j * p->strides[0]);
        const double u = rnd_u53_at(r, (uint64_t)j) + 0x1p-53;
        keys[j].key = pj > 0 ? rnd_portable_log(u) / pj : -INFINITY;
        keys[j].index = j;
    }
    qsort(keys, (size_t)a, sizeof *keys, rnd_by_key);
    for (int64_t i = 0; i < k; ++i) idx[i] = keys[i].index;
}

/* k uniform indices of range(a) into idx; without replacement, perm holds a entries. */
static void rnd_uniform_choice(int64_t *idx, int64_t k, int64_t a, int replace, int64_t *perm,
                               rnd_reader *r)
{
    if (replace) {
        for (int64_t i = 0; i < k; ++i) {
            const int64_t j = (int64_t)(rnd_u53_at(r, (uint64_t)i) * (double)a);
            idx[i] = j < a - 1 ? j : a - 1;
        }
        return;
    }
    for (int64_t j = 0; j < a; ++j) perm[j] = j;
    rnd_fisher_yates(perm, a, k, r, 0);
    memcpy(idx, perm, (size_t)k * sizeof *idx);
}

EXPRC_EXPORT int exprc_random_choice(exprc_pool *pool, exprc_array *new_state, exprc_array *out,
                                     const exprc_array *state, int64_t ndim, const int64_t *shape,
                                     const exprc_array *a, const exprc_array *p, int replace,
                                     int code, const char *label, exprc_error *error,
                                     int64_t node)
{
    rnd_stream g;
    int64_t k, last = 0;
    const int64_t population = *(const int64_t *)a->data;
    if (rnd_begin(pool, new_state, out, state, ndim, shape, -1, rnd_code_size(code), &g, &k,
                  label, error, node)
        || rnd_check_choice(population, k, p, replace, &last, label, error, node))
        return -1;
    /* Scratch over the population: the shuffled range, the cumulative weights or the keys. */
    const size_t item = p == NULL ? (replace ? 0 : sizeof(int64_t))
                                  : (replace ? sizeof(double) : sizeof(rnd_keyed));
    void *scratch = NULL;
    if (item && (scratch = rnd_scratch(population, item, label, error, node)) == NULL) return -1;
    int64_t *idx = rnd_scratch(k, sizeof *idx, label, error, node);
    if (idx == NULL) {
        free(scratch);
        return -1;
    }
    rnd_reader r = {&g, 0, 0, {0, 0, 0, 0}};
    if (p == NULL)
        rnd_uniform_choice(idx, k, population, replace, scratch, &r);
    else if (replace)
        rnd_weighted_with_replacement(idx, k, population, p, last, scratch, &r);
    else
        rnd_weighted_without_replacement(idx, k, population, p, scratch, &r);
    free(scratch);
    const int64_t size = rnd_code_size(code);
    for (int64_t i = 0; i < k; ++i) rnd_store(out->data + i * size, code, idx[i]);
    free(idx);
    const uint64_t draws = (uint64_t)(p != NULL && !replace ? population : k);
    rnd_finish(new_state, &g, (2 * draws + 3) / 4);
    return 0;
}

EXPRC_EXPORT int exprc_random_permutation(exprc_pool *pool, exprc_array *new_state,
                                          exprc_array *out, const exprc_array *state,
                                          int64_t ndim, const int64_t *shape,
                                          const exprc_array *n, int code, const char *label,
                                          exprc_error *error, int64_t node)
{
    rnd_stream g;
    int64_t rows;
    const int64_t length = *(const int64_t *)n->data;
    if (length < 0)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node, "%s: n must be >= 0, got %lld",
                               label, (long long)length);
    if (rnd_begin(pool, new_state, out, state, ndim, shape, length, rnd_code_size(code), &g,
                  &rows, label, error, node))
        return -1;
    const int64_t size = rnd_code_size(code);
    /* An empty output needs no scratch, whatever n is; otherwise the output's allocation
     * shows that a row of length int64 fits in memory. */
    if (rows == 0 || length == 0) {
        rnd_finish(new_state, &g, 0);
        return 0;
    }
    int failed = 0;
#pragma omp parallel if (rows * length > RND_PARALLEL_WORK) reduction(|: failed)
    {
        rnd_reader r = {&g, 0, 0, {0, 0, 0, 0}};
        int64_t *perm = malloc((size_t)length * sizeof *perm);
        failed = perm == NULL;
#pragma omp for schedule(static)
        for (int64_t row = 0; row < rows; ++row) {
            if (perm == NULL) continue;
            for (int64_t j = 0; j < length; ++j) perm[j] = j;
            rnd_fisher_yates(perm, length, length, &r, (uint64_t)(row * length));
            char *o = out->data + row * length * size;
            for (int64_t j = 0; j < length; ++j) rnd_store(o + j * size, code, perm[j]);
        }
        free(perm);
    }
    if (failed)
        return exprc_set_error(error, EXPRC_MEMORY_ERROR, node,
                               "%s: cannot allocate scratch memory", label);
    rnd_finish(new_state, &g, (2 * (uint64_t)rows * (uint64_t)length + 3) / 4);
    return 0;
}

#if defined(__clang__)
#pragma STDC FP_CONTRACT DEFAULT
#elif defined(__GNUC__)
#pragma GCC pop_options
#endif
