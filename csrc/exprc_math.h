/* Vectorizable elementary functions for the generated elementwise loops.
 *
 * Why this header exists: gcc does not vectorize a loop that calls libm's expf, sinf, ... unless
 * it may assume there are no NaNs or infinities (-ffast-math), which exprc never uses.  The
 * functions here are static inline, free of branches and of calls (selects are written as
 * `cond ? a : b` on values that are computed anyway, which the compiler turns into blends), so a
 * loop calling them is vectorized at -O3 with -fno-math-errno.
 *
 * Names: exprc_exp(double), exprc_expf(float), and so on for
 *   exp expm1 log log1p log2 log10 exp2 sin cos tan tanh sinh cosh sigmoid softplus erf erfc
 *   atan asin acos asinh acosh atanh atan2 pow.
 * sqrt needs nothing here: sqrtf/sqrt compile to one instruction with -fno-math-errno.
 *
 * Accuracy (measured by tests/test_c_math.py, table in docs/c_math.md): the float32 exp, exp2,
 * expm1, log, log1p, log2, log10, sin, cos, tan and tanh work in float arithmetic (16 lanes per
 * AVX-512 vector) and are within 1.3 ulp of the correctly rounded result over the whole float
 * range, including the huge arguments of sin, cos and tan.  The other float32 functions
 * evaluate in double precision and round once at the end (within about 0.5 ulp).  The float64
 * functions are within a few ulp.  exprc_sin, exprc_cos, exprc_tan and exprc_pow (float64 only)
 * call libm: a branch-free reduction of huge float64 arguments needs a 2 KiB-entry table, and
 * pow needs a double-double logarithm; their float32 versions are vectorized.
 *
 * Special values follow C99 Annex F, as NumPy does: NaN propagates, exp(-inf) = 0,
 * log(0) = -inf, log(-1) = NaN, tanh(+-inf) = +-1, signed zeros are kept by the odd functions,
 * results overflow to inf and underflow gradually through the subnormals.
 *
 * Techniques: range reduction (Cody-Waite with a split constant, or for float32 sin/cos/tan an
 * exact reduction from 28-bit pieces of 2/pi picked by comparisons, without tables) followed by
 * a polynomial on the reduced interval.  The float64 polynomials are truncated Taylor series
 * (exact rational coefficients, folded by the compiler), erfc uses Chebyshev fits of
 * x*exp(x^2)*erfc(x), and the float32 kernels use minimax fits with float coefficients.
 */
#ifndef EXPRC_MATH_H
#define EXPRC_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#define EXPRC_MATH_INLINE static inline __attribute__((always_inline))
#else
#define EXPRC_MATH_INLINE static inline
#endif

/* ---------------------------------------------------------------------------------------------
 * Bit access and helpers
 * ------------------------------------------------------------------------------------------- */

EXPRC_MATH_INLINE uint64_t exprc__bits(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

EXPRC_MATH_INLINE double exprc__from_bits(uint64_t u) {
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

EXPRC_MATH_INLINE uint32_t exprc__bitsf(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

EXPRC_MATH_INLINE float exprc__from_bitsf(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Adding and subtracting 1.5 * 2^52 rounds a double with |x| < 2^51 to the nearest integer (ties
 * to even) without a call; the integer also sits in the low bits of the sum. */
#define EXPRC__SHIFTER 0x1.8p52

/* 2^n for an integer n in [-1022, 1023], built from its exponent bits. */
EXPRC_MATH_INLINE double exprc__pow2i(int64_t n) {
    return exprc__from_bits((uint64_t)(n + 1023) << 52);
}

/* Constants.  ln 2 and log10 2 are split in a high part with 32 significant bits (so that k * hi
 * is exact for any exponent k) and the rest. */
#define EXPRC__LN2_HI 0x1.62e42fee00000p-1
#define EXPRC__LN2_LO 0x1.a39ef35793c76p-33
#define EXPRC__LOG10_2_HI 0x1.3441350800000p-2
#define EXPRC__LOG10_2_LO 0x1.f79fef311f12bp-34
#define EXPRC__INV_LN2 0x1.71547652b82fep+0
#define EXPRC__INV_LN10 0x1.bcb7b1526e50ep-2
#define EXPRC__PIO2_HI 0x1.921fb54442d18p+0
#define EXPRC__PIO2_LO 0x1.1a62633145c07p-54
#define EXPRC__PI_HI 0x1.921fb54442d18p+1
#define EXPRC__PI_LO 0x1.1a62633145c07p-53

/* ---------------------------------------------------------------------------------------------
 * exp, exp2, expm1
 * ------------------------------------------------------------------------------------------- */

/* exp(r) - 1 for |r| <= ln(2)/2 by its Taylor series: the first omitted term, r^14/14!, is below
 * 2^-56 relative.  The float32 variant stops at r^8/8! (relative error below 2^-30). */
EXPRC_MATH_INLINE double exprc__expm1_poly(double r) {
    double q = 1.0 / 6227020800.0;
    q = 1.0 / 479001600.0 + r * q;
    q = 1.0 / 39916800.0 + r * q;
    q = 1.0 / 3628800.0 + r * q;
    q = 1.0 / 362880.0 + r * q;
    q = 1.0 / 40320.0 + r * q;
    q = 1.0 / 5040.0 + r * q;
    q = 1.0 / 720.0 + r * q;
    q = 1.0 / 120.0 + r * q;
    q = 1.0 / 24.0 + r * q;
    q = 1.0 / 6.0 + r * q;
    q = 0.5 + r * q;
    return r + (r * r) * q;
}

EXPRC_MATH_INLINE double exprc__expm1_poly_f(double r) {
    double q = 1.0 / 40320.0;
    q = 1.0 / 5040.0 + r * q;
    q = 1.0 / 720.0 + r * q;
    q = 1.0 / 120.0 + r * q;
    q = 1.0 / 24.0 + r * q;
    q = 1.0 / 6.0 + r * q;
    q = 0.5 + r * q;
    return r + (r * r) * q;
}

/* Cody-Waite reduction x = n ln2 + r with |r| <= ln(2)/2: n * LN2_HI is exact and x - n * LN2_HI
 * cancels exactly, so r carries an absolute error of about 2^-60. */
EXPRC_MATH_INLINE double exprc__reduce_ln2(double x, int64_t *n) {
    double t = x * EXPRC__INV_LN2 + EXPRC__SHIFTER;
    double nd = t - EXPRC__SHIFTER;
    *n = (int64_t)(exprc__bits(t) - exprc__bits(EXPRC__SHIFTER));
    return (x - nd * EXPRC__LN2_HI) - nd * EXPRC__LN2_LO;
}

/* 2^n * (1 + em), with the scale split in two factors so that n may run from -1076 to 1025: the
 * first product stays normal and only the second rounds, giving overflow to inf and gradual
 * underflow with one rounding. */
EXPRC_MATH_INLINE double exprc__scale(double one_plus_em, int64_t n) {
    int64_t n1 = n >> 1;
    return one_plus_em * exprc__pow2i(n1) * exprc__pow2i(n - n1);
}

EXPRC_MATH_INLINE double exprc_exp(double x) {
    /* Clamp to where the result is already inf or 0 (NaN compares false and passes through). */
    double xc = x > 710.0 ? 710.0 : x;
    xc = xc < -746.0 ? -746.0 : xc;
    int64_t n;
    double r = exprc__reduce_ln2(xc, &n);
    return exprc__scale(1.0 + exprc__expm1_poly(r), n);
}

/* 2^r for |r| <= 1/2: Taylor series of exp(r ln 2), coefficients (ln 2)^k / k!. */
EXPRC_MATH_INLINE double exprc__exp2_poly(double r) {
    double q = 1.3691488853904128e-12;
    q = 2.5678435993488206e-11 + r * q;
    q = 4.4455382718708116e-10 + r * q;
    q = 7.054911620801123e-09 + r * q;
    q = 1.01780860092397e-07 + r * q;
    q = 1.321548679014431e-06 + r * q;
    q = 1.5252733804059841e-05 + r * q;
    q = 0.0001540353039338161 + r * q;
    q = 0.0013333558146428443 + r * q;
    q = 0.009618129107628477 + r * q;
    q = 0.05550410866482158 + r * q;
    q = 0.24022650695910072 + r * q;
    q = 0.6931471805599453 + r * q;
    return 1.0 + r * q;
}

EXPRC_MATH_INLINE double exprc_exp2(double x) {
    /* x = n + r with r exact; clamped where the result is inf or 0. */
    double xc = x > 1025.0 ? 1025.0 : x;
    xc = xc < -1080.0 ? -1080.0 : xc;
    double t = xc + EXPRC__SHIFTER;
    int64_t n = (int64_t)(exprc__bits(t) - exprc__bits(EXPRC__SHIFTER));
    double r = xc - (t - EXPRC__SHIFTER);
    return exprc__scale(exprc__exp2_poly(r), n);
}

/* expm1(x) = 2^n (1 + em) - 1 = 2^n em + (2^n - 1).  For n <= 56, 2^n - 1 is exact (or nearly),
 * so there is no cancellation beyond that of the true result; for larger n the -1 is negligible
 * and the product is formed with the split scale so that results near the overflow threshold stay
 * finite.  Below -40 (float64) the result is -1 to the last bit. */
EXPRC_MATH_INLINE double exprc__expm1_finish(double em, int64_t n) {
    int64_t n1 = n >> 1;
    double s1 = exprc__pow2i(n1), s2 = exprc__pow2i(n - n1);
    double small = (em * s1) * s2 + (s1 * s2 - 1.0);
    double large = ((1.0 + em) * s1) * s2 - 1.0;
    return n > 56 ? large : small;
}

EXPRC_MATH_INLINE double exprc_expm1(double x) {
    double xc = x > 710.0 ? 710.0 : x;
    xc = xc < -40.0 ? -40.0 : xc;
    int64_t n;
    double r = exprc__reduce_ln2(xc, &n);
    double res = exprc__expm1_finish(exprc__expm1_poly(r), n);
    return x == 0.0 ? x : res; /* keeps the sign of -0 */
}

EXPRC_MATH_INLINE double exprc__expm1_f(double x) {
    double xc = x > 89.0 ? 89.0 : x;
    xc = xc < -20.0 ? -20.0 : xc;
    int64_t n;
    double r = exprc__reduce_ln2(xc, &n);
    double res = exprc__expm1_finish(exprc__expm1_poly_f(r), n);
    return x == 0.0 ? x : res;
}


/* ---------------------------------------------------------------------------------------------
 * log, log1p, log2, log10
 * ------------------------------------------------------------------------------------------- */

/* Split x > 0 (finite) as 2^k * m with m in [sqrt(1/2), sqrt(2)) and return log(m); k goes to
 * *k.  Subnormals are first scaled by 2^54.  With f = m - 1 (exact) and s = f / (2 + f),
 * log(m) = 2 atanh(s) = f - s (f - R(s^2)) where R(z) = 2z/3 + 2z^2/5 + ...: the leading f is
 * exact and the rounding errors sit in the small correction.  |s| <= 0.1716, so the series needs
 * terms to z^11 (float64) or z^5 (float32). */
EXPRC_MATH_INLINE double exprc__log_split(double x, double *k, double *s_out, double *f_out) {
    int sub = x < 0x1p-1022;
    double xs = sub ? x * 0x1p54 : x;
    uint64_t t = exprc__bits(xs) - 0x3fe6a09e667f3bcdULL;
    int64_t ki = (int64_t)t >> 52;
    double m = exprc__from_bits((t & 0x000fffffffffffffULL) + 0x3fe6a09e667f3bcdULL);
    *k = (double)ki - (sub ? 54.0 : 0.0);
    double f = m - 1.0;
    *f_out = f;
    *s_out = f / (2.0 + f);
    return f;
}

EXPRC_MATH_INLINE double exprc__log_m(double f, double s) {
    double z = s * s;
    double q = 2.0 / 23.0;
    q = 2.0 / 21.0 + z * q;
    q = 2.0 / 19.0 + z * q;
    q = 2.0 / 17.0 + z * q;
    q = 2.0 / 15.0 + z * q;
    q = 2.0 / 13.0 + z * q;
    q = 2.0 / 11.0 + z * q;
    q = 2.0 / 9.0 + z * q;
    q = 2.0 / 7.0 + z * q;
    q = 2.0 / 5.0 + z * q;
    q = 2.0 / 3.0 + z * q;
    return f - s * (f - z * q);
}

EXPRC_MATH_INLINE double exprc__log_m_f(double f, double s) {
    double z = s * s;
    double q = 2.0 / 11.0;
    q = 2.0 / 9.0 + z * q;
    q = 2.0 / 7.0 + z * q;
    q = 2.0 / 5.0 + z * q;
    q = 2.0 / 3.0 + z * q;
    return f - s * (f - z * q);
}

/* log at the special points, as C99 gives them: log(NaN) = NaN, log(x < 0) = NaN, log(0) = -inf,
 * log(inf) = inf.  `res` is the value computed for finite positive x. */
EXPRC_MATH_INLINE double exprc__log_special(double x, double res) {
    res = x == INFINITY ? x : res;
    res = x == 0.0 ? -INFINITY : res;
    res = x < 0.0 ? NAN : res;
    return x != x ? x : res;
}

EXPRC_MATH_INLINE double exprc_log(double x) {
    double k, s, f;
    exprc__log_split(x, &k, &s, &f);
    double lm = exprc__log_m(f, s);
    return exprc__log_special(x, k * EXPRC__LN2_HI + (lm + k * EXPRC__LN2_LO));
}

EXPRC_MATH_INLINE double exprc_log2(double x) {
    double k, s, f;
    exprc__log_split(x, &k, &s, &f);
    return exprc__log_special(x, k + exprc__log_m(f, s) * EXPRC__INV_LN2);
}

EXPRC_MATH_INLINE double exprc_log10(double x) {
    double k, s, f;
    exprc__log_split(x, &k, &s, &f);
    double lm = exprc__log_m(f, s);
    return exprc__log_special(
        x, k * EXPRC__LOG10_2_HI + (lm * EXPRC__INV_LN10 + k * EXPRC__LOG10_2_LO));
}

/* log1p(x) = log(u) + (x - (u - 1)) / u with u = 1 + x rounded: the second term corrects the
 * rounding of u to first order (exact when u is 1, where it returns x itself).  `precise`
 * selects the float64 series; the branch folds away after inlining. */
EXPRC_MATH_INLINE double exprc__log1p_core(double x, int precise) {
    double u = 1.0 + x;
    double c = (x - (u - 1.0)) / u;
    double k, s, f;
    exprc__log_split(u, &k, &s, &f);
    double lm = precise ? exprc__log_m(f, s) : exprc__log_m_f(f, s);
    double res = k * EXPRC__LN2_HI + (lm + (k * EXPRC__LN2_LO + c));
    res = exprc__log_special(u, res);
    return x == 0.0 ? x : res; /* keeps the sign of -0 */
}

EXPRC_MATH_INLINE double exprc_log1p(double x) { return exprc__log1p_core(x, 1); }

/* float64 sin, cos, tan call libm (see the note at the top of the file). */
EXPRC_MATH_INLINE double exprc_sin(double x) { return sin(x); }
EXPRC_MATH_INLINE double exprc_cos(double x) { return cos(x); }
EXPRC_MATH_INLINE double exprc_tan(double x) { return tan(x); }

/* ---------------------------------------------------------------------------------------------
 * tanh, sinh, cosh, sigmoid, softplus
 * ------------------------------------------------------------------------------------------- */

/* tanh|x| = e / (e + 2) with e = expm1(2|x|): no cancellation for small |x|, and past 20
 * (float64) or 10 (float32) the result is 1 to the last bit, so |x| is clamped there to keep
 * inf / inf out. */
EXPRC_MATH_INLINE double exprc_tanh(double x) {
    double a = fabs(x);
    a = a > 20.0 ? 20.0 : a;
    double e = exprc_expm1(2.0 * a);
    return copysign(e / (e + 2.0), x);
}

/* sinh|x| = (e + e / (e + 1)) / 2 with e = expm1|x| (accurate near 0).  Past 22, e^-|x| no longer
 * matters and sinh = cosh = (t/2) t with t = e^(|x|/2), which stays finite up to the true
 * overflow threshold.  One expm1 serves both regimes. */
EXPRC_MATH_INLINE double exprc__sinh_cosh(double x, int want_cosh, int precise) {
    double a = fabs(x);
    int large = a > 22.0;
    double a2 = large ? 0.5 * a : a;
    double e = precise ? exprc_expm1(a2) : exprc__expm1_f(a2);
    double t = e + 1.0;
    double big = (0.5 * t) * t;
    double small = want_cosh ? 0.5 * t + 0.5 / t : 0.5 * (e + e / t);
    double res = large ? big : small;
    return want_cosh ? res : copysign(res, x);
}

EXPRC_MATH_INLINE double exprc_sinh(double x) { return exprc__sinh_cosh(x, 0, 1); }
EXPRC_MATH_INLINE double exprc_cosh(double x) { return exprc__sinh_cosh(x, 1, 1); }
EXPRC_MATH_INLINE float exprc_sinhf(float x) { return (float)exprc__sinh_cosh(x, 0, 0); }
EXPRC_MATH_INLINE float exprc_coshf(float x) { return (float)exprc__sinh_cosh(x, 1, 0); }

/* sigmoid(x) = 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0: the exponential never
 * overflows (no inf / inf), and tiny results keep their relative accuracy down to the
 * subnormals. */
EXPRC_MATH_INLINE double exprc_sigmoid(double x) {
    double e = exprc_exp(-fabs(x));
    double r = 1.0 / (1.0 + e);
    return x < 0.0 ? e * r : r;
}

EXPRC_MATH_INLINE float exprc_sigmoidf(float x) {
    double d = -(double)x;
    d = d > 110.0 ? 110.0 : d; /* e^110 is finite: the result rounds to 0 */
    d = d < -104.0 ? -104.0 : d;
    int64_t n;
    double r = exprc__reduce_ln2(d, &n);
    double e = (1.0 + exprc__expm1_poly_f(r)) * exprc__pow2i(n);
    return (float)(1.0 / (1.0 + e));
}

/* softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|): the exponential never overflows, and
 * for very negative x the result is e^x with full relative accuracy. */
EXPRC_MATH_INLINE double exprc_softplus(double x) {
    double m = x > 0.0 ? x : 0.0;
    return m + exprc_log1p(exprc_exp(-fabs(x)));
}

EXPRC_MATH_INLINE float exprc_softplusf(float xf) {
    double x = xf;
    double m = x > 0.0 ? x : 0.0;
    double a = -fabs(x);
    a = a < -104.0 ? -104.0 : a;
    int64_t n;
    double r = exprc__reduce_ln2(a, &n);
    double e = (1.0 + exprc__expm1_poly_f(r)) * exprc__pow2i(n);
    return (float)(m + exprc__log1p_core(e, 0));
}

/* ---------------------------------------------------------------------------------------------
 * atan, atan2, asin, acos
 * ------------------------------------------------------------------------------------------- */

/* atan(k/8), k = 0..8, as high and low parts. */
static const double exprc__atan8_hi[16] = {
    0x0.0p+0, 0x1.fd5ba9aac2f6ep-4, 0x1.f5b75f92c80ddp-3, 0x1.6f61941e4def1p-2,
    0x1.dac670561bb4fp-2, 0x1.1e00babdefeb4p-1, 0x1.4978fa3269ee1p-1, 0x1.700a7c5784634p-1,
    0x1.921fb54442d18p-1,
};
static const double exprc__atan8_lo[16] = {
    0x0.0p+0, -0x1.cd37686760c17p-59, 0x1.8ab6e3cf7afbdp-57, -0x1.c63aae6f6e918p-56,
    0x1.a2b7f222f65e2p-56, -0x1.928df287a668fp-58, 0x1.2419a87f2a458p-56, -0x1.8c34d25aadef6p-56,
    0x1.1a62633145c07p-55,
};

/* atan(t) for t in [0, 1] (or NaN).  With c = k/8 the nearest eighth, atan(t) = atan(c) +
 * atan(u), u = (t - c) / (1 + t c), an identity for any c; t - c is exact and |u| <= 1/16, where
 * the Taylor series to u^13 has a relative error below 2^-56. */
EXPRC_MATH_INLINE double exprc__atan01(double t) {
    double kd = (8.0 * t + EXPRC__SHIFTER) - EXPRC__SHIFTER;
    /* k is 0..8; the mask keeps a NaN input inside the (padded) table, its result is NaN. */
    int64_t k = (int64_t)(exprc__bits(kd + EXPRC__SHIFTER) - exprc__bits(EXPRC__SHIFTER)) & 15;
    double c = 0.125 * kd;
    double u = (t - c) / (1.0 + t * c);
    double z = u * u;
    double q = -1.0 / 13.0;
    q = 1.0 / 11.0 + z * q;
    q = -1.0 / 9.0 + z * q;
    q = 1.0 / 7.0 + z * q;
    q = -1.0 / 5.0 + z * q;
    q = 1.0 / 3.0 + z * q;
    double p = u - (u * z) * q;
    return exprc__atan8_hi[k] + (exprc__atan8_lo[k] + p);
}

/* pi/2 - v and pi - v with the constants in two parts. */
EXPRC_MATH_INLINE double exprc__pio2_minus(double v) {
    return (EXPRC__PIO2_HI - v) + EXPRC__PIO2_LO;
}

EXPRC_MATH_INLINE double exprc__pi_minus(double v) { return (EXPRC__PI_HI - v) + EXPRC__PI_LO; }

EXPRC_MATH_INLINE double exprc_atan(double x) {
    /* |x| > 1: atan|x| = pi/2 - atan(1/|x|). */
    double a = fabs(x);
    int big = a > 1.0;
    double v = exprc__atan01(big ? 1.0 / a : a);
    return copysign(big ? exprc__pio2_minus(v) : v, x);
}

EXPRC_MATH_INLINE float exprc_atanf(float x) { return (float)exprc_atan(x); }

/* atan2 from the ratio of the smaller to the larger magnitude, then the octant: C99 special
 * values follow (atan2(+-0, -0) = +-pi, atan2(+-inf, -inf) = +-3pi/4, ...). */
EXPRC_MATH_INLINE double exprc_atan2(double y, double x) {
    double ay = fabs(y), ax = fabs(x);
    int swap = ay > ax;
    double mn = swap ? ax : ay, mx = swap ? ay : ax;
    double t = mn / mx;
    t = (mx == 0.0 && mn == 0.0) ? 0.0 : t;           /* both zero */
    t = (mx == INFINITY && mn == INFINITY) ? 1.0 : t; /* both infinite */
    double v = exprc__atan01(t);
    v = swap ? exprc__pio2_minus(v) : v;
    v = (exprc__bits(x) >> 63) ? exprc__pi_minus(v) : v;
    return copysign(v, y);
}

EXPRC_MATH_INLINE float exprc_atan2f(float y, float x) { return (float)exprc_atan2(y, x); }

/* asin x = atan2(x, sqrt(1 - x^2)) and acos x = atan2(sqrt(1 - x^2), x), with 1 - x^2 formed as
 * (1 - x)(1 + x) so that it is accurate near |x| = 1; |x| > 1 gives sqrt(negative) = NaN. */
EXPRC_MATH_INLINE double exprc_asin(double x) {
    double a = fabs(x);
    return copysign(exprc_atan2(a, sqrt((1.0 - a) * (1.0 + a))), x);
}

EXPRC_MATH_INLINE double exprc_acos(double x) {
    return exprc_atan2(sqrt((1.0 - x) * (1.0 + x)), x);
}

EXPRC_MATH_INLINE float exprc_asinf(float x) { return (float)exprc_asin(x); }
EXPRC_MATH_INLINE float exprc_acosf(float x) { return (float)exprc_acos(x); }

/* ---------------------------------------------------------------------------------------------
 * asinh, acosh, atanh
 * ------------------------------------------------------------------------------------------- */

/* asinh|x| = log1p(|x| + x^2 / (1 + sqrt(1 + x^2))), which has no cancellation near 0.  Past
 * 2^28 the 1 no longer matters: asinh|x| = log|x| + log 2, computed as log1p(|x| - 1) + log 2 so
 * that one log1p serves both (x^2 may overflow there; its NaN is not selected). */
EXPRC_MATH_INLINE double exprc__asinh(double x, int precise) {
    double a = fabs(x);
    int large = a > 0x1p28;
    double u = large ? a - 1.0 : a + a * a / (1.0 + sqrt(1.0 + a * a));
    double res = exprc__log1p_core(u, precise) + (large ? EXPRC__LN2_HI + EXPRC__LN2_LO : 0.0);
    return copysign(res, x);
}

EXPRC_MATH_INLINE double exprc_asinh(double x) { return exprc__asinh(x, 1); }
EXPRC_MATH_INLINE float exprc_asinhf(float x) { return (float)exprc__asinh(x, 0); }

/* acosh x = log1p((x - 1) + sqrt((x - 1)(x + 1))): x - 1 is exact near 1, where acosh is
 * ill-conditioned only through its argument.  x < 1 gives NaN through the sqrt. */
EXPRC_MATH_INLINE double exprc__acosh(double x, int precise) {
    int large = x > 0x1p28;
    double xm = x - 1.0;
    double u = large ? xm : xm + sqrt(xm * (x + 1.0));
    double res = exprc__log1p_core(u, precise) + (large ? EXPRC__LN2_HI + EXPRC__LN2_LO : 0.0);
    return x < 1.0 ? NAN : res; /* for x <= -1 the product under the sqrt is not negative */
}

EXPRC_MATH_INLINE double exprc_acosh(double x) { return exprc__acosh(x, 1); }
EXPRC_MATH_INLINE float exprc_acoshf(float x) { return (float)exprc__acosh(x, 0); }

/* atanh|x| = log1p(2|x| / (1 - |x|)) / 2: atanh(1) = inf, |x| > 1 gives log1p(< -1) = NaN. */
EXPRC_MATH_INLINE double exprc__atanh(double x, int precise) {
    double a = fabs(x);
    return copysign(0.5 * exprc__log1p_core(2.0 * a / (1.0 - a), precise), x);
}

EXPRC_MATH_INLINE double exprc_atanh(double x) { return exprc__atanh(x, 1); }
EXPRC_MATH_INLINE float exprc_atanhf(float x) { return (float)exprc__atanh(x, 0); }

/* ---------------------------------------------------------------------------------------------
 * erf, erfc
 * ------------------------------------------------------------------------------------------- */

/* For |x| >= 0.75, erfc x = e^(-x^2) g(x) / x with g(x) = x e^(x^2) erfc(x), smooth and between
 * 0.4 and 0.57.  g is fitted by Chebyshev polynomials of degree 16 on four pieces: in x on
 * [0.75, 1.5) and [1.5, 3), in v = 1/x^2 on [3, 4) and [4, 28) (erfc underflows past 27.3).
 * Relative error of the fits < 1.1e-15.  Coefficients: highest degree first, in the variable
 * t = (v - mid) * scale. */
static const double exprc__erfc_mid[4] = {
    1.125, 2.25, 0.08680555555555555, 0.03188775510204082,
};
static const double exprc__erfc_scale[4] = {
    2.6666666666666665, 1.3333333333333333, 41.142857142857146, 32.666666666666664,
};
static const double exprc__erfc_poly[4 * 17] = {
    /* piece 0 */
    4.093586673860844e-13, -1.3377942160305947e-14, -3.635012882071163e-12,
    1.7605938551402036e-11, -1.3540669460100414e-10, 1.0962640145609167e-09,
    -8.415840846642545e-09, 6.196648671861953e-08, -4.3654835405558456e-07,
    2.9267112828719937e-06, -1.854784365443825e-05, 0.00011013096778524207,
    -0.0006050668583150054, 0.0030184675567478513, -0.013245598491656248,
    0.04795585516464947, 0.4451603394971203,
    /* piece 1 */
    -1.1888984488545908e-11, 6.520130287871734e-11, -2.9633851713095316e-10,
    1.5248011557856665e-09, -7.744064703631543e-09, 3.788221246801449e-08,
    -1.7983526465683443e-07, 8.270585161713685e-07, -3.671769043905038e-06,
    1.5672744447736012e-05, -6.398750938460075e-05, 0.0002481272678732504,
    -0.0009047071013265524, 0.00305352733026551, -0.009282988763246694,
    0.02399447055802916, 0.5199463321433816,
    /* piece 2 */
    -2.662108212734639e-13, -8.673993695499201e-14, 9.870382219808748e-13,
    3.1478811616134826e-13, -1.4740339100146092e-12, -4.665433697894537e-13,
    1.206740682384458e-12, -4.202303194763323e-13, 8.064968079644324e-12,
    -1.0241072081811217e-10, 1.3282140351340562e-09, -1.9054732795617036e-08,
    3.1041772302928563e-07, -5.994183117327646e-06, 0.00014797234382734147,
    -0.005491175137118312, 0.5423523579239246,
    /* piece 3 */
    -7.809813206713847e-13, -2.7537635112000977e-13, 3.0017005272472223e-12,
    7.752270991165511e-13, -3.927807749207621e-12, -4.2675925645819775e-12,
    1.904641465637317e-11, -8.297489586611523e-11, 4.908384365506592e-10,
    -3.1645568041392394e-09, 2.2598035061582908e-08, -1.8334466408729855e-07,
    1.7438829364749664e-06, -2.0403647419384797e-05, 0.00031883996336218756,
    -0.007895722005494321, 0.5555935357966107,
};

/* erfc(a) for a >= 0.75 (a may be inf or NaN). */
EXPRC_MATH_INLINE double exprc__erfc_large(double a) {
    double ac = a > 28.0 ? 28.0 : a;
    int64_t i = (int64_t)(ac >= 1.5) + (int64_t)(ac >= 3.0) + (int64_t)(ac >= 4.0);
    double v = i >= 2 ? 1.0 / (ac * ac) : ac;
    double t = (v - exprc__erfc_mid[i]) * exprc__erfc_scale[i];
    int64_t ci = 17 * i;
    double g = exprc__erfc_poly[ci + 0];
    g = exprc__erfc_poly[ci + 1] + t * g;
    g = exprc__erfc_poly[ci + 2] + t * g;
    g = exprc__erfc_poly[ci + 3] + t * g;
    g = exprc__erfc_poly[ci + 4] + t * g;
    g = exprc__erfc_poly[ci + 5] + t * g;
    g = exprc__erfc_poly[ci + 6] + t * g;
    g = exprc__erfc_poly[ci + 7] + t * g;
    g = exprc__erfc_poly[ci + 8] + t * g;
    g = exprc__erfc_poly[ci + 9] + t * g;
    g = exprc__erfc_poly[ci + 10] + t * g;
    g = exprc__erfc_poly[ci + 11] + t * g;
    g = exprc__erfc_poly[ci + 12] + t * g;
    g = exprc__erfc_poly[ci + 13] + t * g;
    g = exprc__erfc_poly[ci + 14] + t * g;
    g = exprc__erfc_poly[ci + 15] + t * g;
    g = exprc__erfc_poly[ci + 16] + t * g;
    /* e^(-a^2) with a^2 = hi + lo exactly (fma): e^-hi (1 - lo). */
    double hi = ac * ac, lo = fma(ac, ac, -hi);
    double res = exprc_exp(-hi) * (1.0 - lo) * (g / ac);
    return a > 27.5 ? 0.0 : res;
}

/* erf x for |x| < 0.75: Taylor series, 2/sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n+1)), n <= 15. */
EXPRC_MATH_INLINE double exprc__erf_small(double x) {
    double z = x * x;
    double q = -2.7835162072109215e-14;
    q = 4.4632242632864775e-13 + z * q;
    q = -6.7113668551641105e-12 + z * q;
    q = 9.422759064650411e-11 + z * q;
    q = -1.2290555301717928e-09 + z * q;
    q = 1.4807192815879218e-08 + z * q;
    q = -1.6365844691234924e-07 + z * q;
    q = 1.6462114365889248e-06 + z * q;
    q = -1.492565035840625e-05 + z * q;
    q = 0.00012055332981789664 + z * q;
    q = -0.0008548327023450853 + z * q;
    q = 0.005223977625442188 + z * q;
    q = -0.026866170645131252 + z * q;
    q = 0.11283791670955126 + z * q;
    q = -0.37612638903183754 + z * q;
    return x * 1.1283791670955126 + (x * z) * q;
}

EXPRC_MATH_INLINE double exprc_erf(double x) {
    double a = fabs(x);
    double large = copysign(1.0 - exprc__erfc_large(a), x);
    return a < 0.75 ? exprc__erf_small(x) : large;
}

EXPRC_MATH_INLINE double exprc_erfc(double x) {
    double a = fabs(x);
    double el = exprc__erfc_large(a);
    double res = x < 0.0 ? 2.0 - el : el;
    return a < 0.75 ? 1.0 - exprc__erf_small(x) : res;
}

EXPRC_MATH_INLINE float exprc_erff(float x) { return (float)exprc_erf(x); }
EXPRC_MATH_INLINE float exprc_erfcf(float x) { return (float)exprc_erfc(x); }

/* ---------------------------------------------------------------------------------------------
 * pow
 * ------------------------------------------------------------------------------------------- */

/* float32 pow: exp(y log|x|) in double precision, where the float64 log makes the product
 * accurate to about 2^-45 relative over the whole float32 range.  Then C99's special cases:
 * pow(x, +-0) = 1 and pow(1, y) = 1 even for NaN, a negative base needs an integer exponent
 * (odd: negative result), pow(+-0, y < 0) = inf with the sign of an odd integer y. */
EXPRC_MATH_INLINE float exprc_powf(float xf, float yf) {
    double x = xf, y = yf, ax = fabs(x);
    double k, s, f;
    exprc__log_split(ax, &k, &s, &f);
    double l = exprc__log_special(ax, k * EXPRC__LN2_HI + (exprc__log_m(f, s) + k * EXPRC__LN2_LO));
    double p = y * l;
    p = p > 200.0 ? 200.0 : p;   /* beyond these the float result is inf or 0; NaN passes */
    p = p < -200.0 ? -200.0 : p;
    int64_t n;
    double r = exprc__reduce_ln2(p, &n);
    double res = (1.0 + exprc__expm1_poly_f(r)) * exprc__pow2i(n);
    res = y * l == 0.0 ? 1.0 : res;           /* also |x| = 1, y finite */
    double yi = trunc(y);
    int y_int = yi == y;                       /* false for NaN, true for +-inf */
    int y_odd = y_int && fabs(y) < 0x1p53 && trunc(0.5 * y) != 0.5 * y;
    res = ((exprc__bits(x) >> 63) && y_odd) ? -res : res;
    res = (x < 0.0 && !y_int && y == y && ax != INFINITY) ? NAN : res;
    res = (y == 0.0 || x == 1.0) ? 1.0 : res;
    res = (ax == 1.0 && fabs(y) == INFINITY) ? 1.0 : res; /* pow(-1, +-inf) = 1 */
    return (float)res;
}

/* float64 pow calls libm (see the note at the top of the file). */
EXPRC_MATH_INLINE double exprc_pow(double x, double y) { return pow(x, y); }

/* =============================================================================================
 * float32 kernels in float arithmetic
 *
 * These work in float throughout (16 lanes per AVX-512 vector instead of 8), with range
 * reductions and polynomials sized for float32.  The polynomials are minimax fits (relative
 * error) with float coefficients; the error analysis keeps the exactly known leading terms out of
 * the rounded sums.  Where the compiler may contract a * b + c into a fused multiply-add
 * (gcc does by default in GNU C mode), the results only get more accurate.
 * ============================================================================================= */

/* Adding and subtracting 1.5 * 2^23 rounds a float with |x| < 2^22 to the nearest integer; the
 * integer also sits in the low bits of the sum. */
#define EXPRC__SHIFTERF 0x1.8p23f
#define EXPRC__INV_LN2F 0x1.715476p+0f
/* ln 2 with 16 significant bits (k * hi is exact for |k| < 256) and the rest. */
#define EXPRC__LN2_HIF 0x1.62e4p-1f
#define EXPRC__LN2_LOF 0x1.7f7d1cp-20f

/* 2^n for an integer n in [-126, 127]. */
EXPRC_MATH_INLINE float exprc__pow2if(int32_t n) {
    return exprc__from_bitsf((uint32_t)(n + 127) << 23);
}

/* v 2^n for n in [-252, 254], in two factors: the first product is exact and only the second
 * rounds, so overflow gives inf and underflow is gradual with one rounding. */
EXPRC_MATH_INLINE float exprc__scalef(float v, int32_t n) {
    int32_t n1 = n >> 1;
    return v * exprc__pow2if(n1) * exprc__pow2if(n - n1);
}

/* ---------------------------------------------------------------------------------------------
 * float32 exp, exp2, expm1
 * ------------------------------------------------------------------------------------------- */

/* x = n ln2 + r with |r| <= ln(2)/2 for |x| < 2^21, returned as r rounded and its rounding
 * error *rc.  n * LN2_HIF is exact and x - n * LN2_HIF cancels exactly (Sterbenz); adding
 * -n * LN2_LOF rounds, and a fast two-sum recovers that rounding, which keeps it out of the
 * result. */
EXPRC_MATH_INLINE float exprc__reduce_ln2f(float x, int32_t *n, float *rc) {
    float t = x * EXPRC__INV_LN2F + EXPRC__SHIFTERF;
    float k = t - EXPRC__SHIFTERF;
    *n = (int32_t)(exprc__bitsf(t) - exprc__bitsf(EXPRC__SHIFTERF));
    float rh = x - k * EXPRC__LN2_HIF, rl = -k * EXPRC__LN2_LOF;
    float r = rh + rl;
    *rc = (rh - r) + rl;
    return r;
}

/* e^(r + rc) - 1 for |r| <= 0.35 and a tiny correction rc: r + tail, tail = rc + r^2 Q(r), Q a
 * degree-4 minimax fit of (e^r - 1 - r) / r^2 (relative error 2^-22.9, weighted by r^2 in the
 * result; rc enters to first order). */
EXPRC_MATH_INLINE float exprc__expm1_tailf(float r, float rc) {
    float q = 0x1.6c6e22p-10f;
    q = 0x1.120c70p-7f + r * q;
    q = 0x1.5555b0p-5f + r * q;
    q = 0x1.5554dcp-3f + r * q;
    q = 0.5f + r * q;
    return rc + (r * r) * q;
}

EXPRC_MATH_INLINE float exprc__expm1_polyf(float r, float rc) {
    return r + exprc__expm1_tailf(r, rc);
}

/* e^x for x in [-104, 89] (or NaN), without the clamp. */
EXPRC_MATH_INLINE float exprc__expf_core(float x) {
    int32_t n;
    float rc, r = exprc__reduce_ln2f(x, &n, &rc);
    return exprc__scalef(1.0f + exprc__expm1_polyf(r, rc), n);
}

EXPRC_MATH_INLINE float exprc_expf(float x) {
    /* e^89 overflows and e^-104 rounds to 0; NaN compares false and passes through. */
    x = x > 89.0f ? 89.0f : x;
    x = x < -104.0f ? -104.0f : x;
    return exprc__expf_core(x);
}

/* 2^x = 2^n 2^r with x = n + r exact, |r| <= 1/2: 2^r = 1 + r ln2 + r^2 Q2(r), Q2 a degree-4
 * minimax fit; r ln2 is formed as r LN2_HIF + r LN2_LOF so that its rounding stays small. */
EXPRC_MATH_INLINE float exprc_exp2f(float x) {
    x = x > 129.0f ? 129.0f : x;
    x = x < -151.0f ? -151.0f : x;
    float t = x + EXPRC__SHIFTERF;
    int32_t n = (int32_t)(exprc__bitsf(t) - exprc__bitsf(EXPRC__SHIFTERF));
    float r = x - (t - EXPRC__SHIFTERF);
    float q = 0x1.4352e2p-13f;
    q = 0x1.5ec80cp-10f + r * q;
    q = 0x1.3b2b14p-7f + r * q;
    q = 0x1.c6afeep-5f + r * q;
    q = 0x1.ebfbe0p-3f + r * q;
    float p = r * EXPRC__LN2_HIF + (r * EXPRC__LN2_LOF + (r * r) * q);
    return exprc__scalef(1.0f + p, n);
}

/* expm1(x) = 2^n (1 + p) - 1 = 2^n p + (2^n - 1): for n <= 24, 2^n - 1 is exact, so the only
 * cancellation is the true result's; past 24 the -1 is below half an ulp of the product. */
EXPRC_MATH_INLINE float exprc__expm1f_core(float x) {
    int32_t n;
    float rc, r = exprc__reduce_ln2f(x, &n, &rc);
    float tail = exprc__expm1_tailf(r, rc), p = r + tail;
    float s = exprc__pow2if(n > 24 ? 24 : n);
    float small = ((s - 1.0f) + s * r) + s * tail; /* the first sum is exact for n = 1 */
    float large = exprc__scalef(1.0f + p, n) - 1.0f;
    return n > 24 ? large : small;
}

EXPRC_MATH_INLINE float exprc_expm1f(float x) {
    /* Below -18 the result is -1 to the last bit. */
    float xc = x > 89.0f ? 89.0f : x;
    xc = xc < -18.0f ? -18.0f : xc;
    float res = exprc__expm1f_core(xc);
    return x == 0.0f ? x : res; /* keeps the sign of -0 */
}

/* ---------------------------------------------------------------------------------------------
 * float32 log, log1p, log2, log10
 * ------------------------------------------------------------------------------------------- */

/* Split x > 0 as 2^k m with m in [sqrt(1/2), sqrt(2)) (subnormals are first scaled by 2^23) and
 * return f = m - 1, exact. */
EXPRC_MATH_INLINE float exprc__log_splitf(float x, float *k) {
    int sub = x < 0x1p-126f;
    float xs = sub ? x * 0x1p23f : x;
    uint32_t t = exprc__bitsf(xs) - 0x3f3504f3u;
    int32_t ki = (int32_t)t >> 23;
    float m = exprc__from_bitsf((t & 0x007fffffu) + 0x3f3504f3u);
    *k = (float)ki - (sub ? 23.0f : 0.0f);
    return m - 1.0f;
}

/* log(1 + f) - f + f^2/2 = s (f^2/2 + R(s^2)) with s = f / (2 + f) (the classic fdlibm split):
 * R fits (log(1+s) - log(1-s))/s - 2 to 2^-34; s only scales a term of order f^3, so its
 * rounding hardly matters. */
EXPRC_MATH_INLINE float exprc__log_tailf(float f, float hfsq) {
    float s = f / (2.0f + f);
    float z = s * s, w = z * z;
    float r = z * (0x1.555554p-1f + w * 0x1.23d3dcp-2f) + w * (0x1.999c26p-2f + w * 0x1.f13c4cp-3f);
    return s * (hfsq + r);
}

/* log at the special points, as C99 gives them (see exprc__log_special). */
EXPRC_MATH_INLINE float exprc__log_specialf(float x, float res) {
    res = x == INFINITY ? x : res;
    res = x == 0.0f ? -INFINITY : res;
    res = x < 0.0f ? NAN : res;
    return x != x ? x : res;
}

EXPRC_MATH_INLINE float exprc_logf(float x) {
    float k, f = exprc__log_splitf(x, &k);
    float hfsq = 0.5f * f * f;
    float tail = exprc__log_tailf(f, hfsq);
    float res = k * EXPRC__LN2_HIF - ((hfsq - (tail + k * EXPRC__LN2_LOF)) - f);
    return exprc__log_specialf(x, res);
}

/* log2 and log10 split f - f^2/2 into hi (12 significant bits, so that products with the
 * constant's high part are exact) and lo, as fdlibm's e_log2f and e_log10f do. */
EXPRC_MATH_INLINE float exprc__log_hilof(float f, float *lo) {
    float hfsq = 0.5f * f * f;
    float hi = exprc__from_bitsf(exprc__bitsf(f - hfsq) & 0xfffff000u);
    *lo = ((f - hi) - hfsq) + exprc__log_tailf(f, hfsq);
    return hi;
}

EXPRC_MATH_INLINE float exprc_log2f(float x) {
    float k, lo, f = exprc__log_splitf(x, &k);
    float hi = exprc__log_hilof(f, &lo);
    const float ivln2hi = 0x1.716p+0f, ivln2lo = -0x1.7135a8p-13f;
    float res = ((lo + hi) * ivln2lo + lo * ivln2hi) + hi * ivln2hi + k;
    return exprc__log_specialf(x, res);
}

EXPRC_MATH_INLINE float exprc_log10f(float x) {
    float k, lo, f = exprc__log_splitf(x, &k);
    float hi = exprc__log_hilof(f, &lo);
    const float ivln10hi = 0x1.bccp-2f, ivln10lo = -0x1.09d5b2p-15f;
    const float log10_2hi = 0x1.344100p-2f, log10_2lo = 0x1.a84fb6p-21f;
    float res = k * log10_2lo + (lo + hi) * ivln10lo + lo * ivln10hi + hi * ivln10hi
                + k * log10_2hi;
    return exprc__log_specialf(x, res);
}

/* log1p(x) = log(u) + c / u with u = 1 + x rounded and c the rounding error of u (exact: x - (u -
 * 1) while u < 2, u - x exact beyond), the first-order correction of fdlibm's s_log1pf. */
EXPRC_MATH_INLINE float exprc_log1pf(float x) {
    float u = 1.0f + x;
    float c = u < 2.0f ? x - (u - 1.0f) : 1.0f - (u - x);
    float k, f = exprc__log_splitf(u, &k);
    float hfsq = 0.5f * f * f;
    float tail = exprc__log_tailf(f, hfsq);
    float res = k * EXPRC__LN2_HIF - ((hfsq - (tail + (k * EXPRC__LN2_LOF + c / u))) - f);
    res = exprc__log_specialf(u, res);
    return x == 0.0f ? x : res; /* keeps the sign of -0 */
}

/* ---------------------------------------------------------------------------------------------
 * float32 sin, cos, tan
 * ------------------------------------------------------------------------------------------- */

/* 2/pi in 28-bit pieces: EXPRC__TWO_OVER_PI_i = C_i 2^(-28 (i + 1)) with C_i an integer. */
#define EXPRC__TWO_OVER_PI_0 0x1.45f306c000000p-1
#define EXPRC__TWO_OVER_PI_1 0x1.c9c882a000000p-29
#define EXPRC__TWO_OVER_PI_2 0x1.4fe13a8000000p-59
#define EXPRC__TWO_OVER_PI_3 0x1.f47d4d0000000p-86
#define EXPRC__TWO_OVER_PI_4 0x1.bb81b6c000000p-113
#define EXPRC__TWO_OVER_PI_5 0x1.4acc9e0000000p-143
#define EXPRC__TWO_OVER_PI_6 0x1.0e4107c000000p-170

/* Exact reduction of |x| (finite float) to r in about [-pi/4, pi/4] and the quadrant q (mod 4),
 * for the whole float range and without tables (a table read becomes a slow emulated gather):
 * x (2/pi) mod 4 = sum of x c_i mod 4 over the pieces c_i of 2/pi, and every product x c_i is
 * exact in double (24 + 28 bits).  The pieces whose products are multiples of 4 are skipped by
 * choosing the first of four consecutive pieces with three comparisons; the neglected tail is
 * below 2^-58.  The first two products are reduced mod 4 exactly, the quadrant is the nearest
 * integer to their sum, and the remainder is summed with an exact two-sum, so r carries an
 * absolute error of about 2^-56 (quadrants), far below what the worst-case float arguments
 * need.  The result is returned as rh + *rl. */
EXPRC_MATH_INLINE float exprc__reduce_pio2f(float ax, int32_t *q, float *rl) {
    int g1 = ax >= 0x1p53f, g2 = ax >= 0x1p81f, g3 = ax >= 0x1p109f;
    double c0 = g3 ? EXPRC__TWO_OVER_PI_3 : g2 ? EXPRC__TWO_OVER_PI_2
              : g1 ? EXPRC__TWO_OVER_PI_1 : EXPRC__TWO_OVER_PI_0;
    double c1 = g3 ? EXPRC__TWO_OVER_PI_4 : g2 ? EXPRC__TWO_OVER_PI_3
              : g1 ? EXPRC__TWO_OVER_PI_2 : EXPRC__TWO_OVER_PI_1;
    double c2 = g3 ? EXPRC__TWO_OVER_PI_5 : g2 ? EXPRC__TWO_OVER_PI_4
              : g1 ? EXPRC__TWO_OVER_PI_3 : EXPRC__TWO_OVER_PI_2;
    double c3 = g3 ? EXPRC__TWO_OVER_PI_6 : g2 ? EXPRC__TWO_OVER_PI_5
              : g1 ? EXPRC__TWO_OVER_PI_4 : EXPRC__TWO_OVER_PI_3;
    double xd = ax;
    double p0 = xd * c0, p1 = xd * c1, p2 = xd * c2, p3 = xd * c3;
    p0 -= 4.0 * floor(p0 * 0.25);
    p1 -= 4.0 * floor(p1 * 0.25);
    double s = (p0 + (p1 + p2)) + EXPRC__SHIFTER;
    double n = s - EXPRC__SHIFTER;
    *q = (int32_t)exprc__bits(s);
    double a = p0 - n;                       /* exact */
    double b = a + p1, bb = b - a;           /* two-sum: b + e = a + p1 exactly */
    double e = (a - (b - bb)) + (p1 - bb);
    double r = (b + (e + (p2 + p3))) * EXPRC__PIO2_HI;
    float rh = (float)r;
    *rl = (float)(r - (double)rh); /* r as a float pair: its rounding would cost 0.5 ulp */
    return rh;
}

/* sin r = r + r^3 S(r^2) and cos r = 1 - r^2/2 + r^4 C(r^2) on [-pi/4, pi/4], S and C
 * degree-3 minimax fits (relative errors 2^-32 and 2^-34).  cos adds 1 - r^2/2 with its
 * rounding error carried separately (fdlibm's __kernel_cosf). */
EXPRC_MATH_INLINE float exprc__sin_polyf(float r, float rl, float z) {
    float q = 0x1.6dbc44p-19f;
    q = -0x1.a013a2p-13f + z * q;
    q = 0x1.11110ep-7f + z * q;
    q = -0x1.555556p-3f + z * q;
    return r + ((rl - (0.5f * z) * rl) + (r * z) * q); /* sin(r + rl) = sin r + rl cos r */
}

EXPRC_MATH_INLINE float exprc__cos_polyf(float r, float rl, float z) {
    float q = -0x1.25238ep-22f;
    q = 0x1.a015c2p-16f + z * q;
    q = -0x1.6c16c0p-10f + z * q;
    q = 0x1.555556p-5f + z * q;
    float hz = 0.5f * z, w = 1.0f - hz;
    return w + (((1.0f - w) - hz) + ((z * z) * q - r * rl)); /* cos(r + rl) = cos r - rl sin r */
}

/* The reduction works on |x|; the sign is put back through the sign bit, which keeps -0.
 * inf and NaN give NaN (x - x). */
EXPRC_MATH_INLINE float exprc_sinf(float x) {
    uint32_t ux = exprc__bitsf(x), ax = ux & 0x7fffffffu;
    int32_t q;
    float rl, r = exprc__reduce_pio2f(exprc__from_bitsf(ax), &q, &rl), z = r * r;
    float v = (q & 1) ? exprc__cos_polyf(r, rl, z) : exprc__sin_polyf(r, rl, z);
    uint32_t sign = (ux & 0x80000000u) ^ ((uint32_t)(q & 2) << 30);
    float res = exprc__from_bitsf(exprc__bitsf(v) ^ sign);
    return ax >= 0x7f800000u ? x - x : res;
}

EXPRC_MATH_INLINE float exprc_cosf(float x) {
    uint32_t ax = exprc__bitsf(x) & 0x7fffffffu;
    int32_t q;
    float rl, r = exprc__reduce_pio2f(exprc__from_bitsf(ax), &q, &rl), z = r * r;
    float v = (q & 1) ? exprc__sin_polyf(r, rl, z) : exprc__cos_polyf(r, rl, z);
    uint32_t sign = (uint32_t)((q + 1) & 2) << 30;
    float res = exprc__from_bitsf(exprc__bitsf(v) ^ sign);
    return ax >= 0x7f800000u ? x - x : res;
}

/* tan r = r + r^3 U(r^2) on [-pi/4, pi/4], U a degree-7 minimax fit (relative error 2^-29),
 * kept as a float pair th + tl.  Odd quadrants give -1 / (th + tl) = v (1 + e) with v = -1 / th
 * and e = 1 + v th + v tl, whose first part is exact when the compiler fuses it (FMA). */
EXPRC_MATH_INLINE float exprc_tanf(float x) {
    uint32_t ux = exprc__bitsf(x), ax = ux & 0x7fffffffu;
    int32_t q;
    float rl, r = exprc__reduce_pio2f(exprc__from_bitsf(ax), &q, &rl), z = r * r;
    float u = 0x1.d5190ap-10f;
    u = -0x1.ef57cap-22f + z * u;
    u = 0x1.220b00p-8f + z * u;
    u = 0x1.1a1a42p-7f + z * u;
    u = 0x1.66fc30p-6f + z * u;
    u = 0x1.ba14d6p-5f + z * u;
    u = 0x1.11111ep-3f + z * u;
    u = 0x1.555556p-2f + z * u;
    float tail = rl + (rl * z + (r * z) * u);  /* tan'(r) = 1 + tan^2 r ~ 1 + z */
    float th = r + tail, tl = (r - th) + tail;
    float inv = -1.0f / th;
    float e = (1.0f + inv * th) + inv * tl;
    float v = (q & 1) ? inv + inv * e : th;
    float res = exprc__from_bitsf(exprc__bitsf(v) ^ (ux & 0x80000000u));
    return ax >= 0x7f800000u ? x - x : res;
}

/* ---------------------------------------------------------------------------------------------
 * float32 tanh
 * ------------------------------------------------------------------------------------------- */

/* tanh a = a + a^3 T(a^2) for a < 0.9 (T a degree-8 minimax fit, relative error 2^-33), and
 * 1 - 2 / (e^(2a) + 1) above, where the subtracted term is below 0.29 so that its rounding
 * errors shrink in the result.  Past 9.01 the result is 1 to the last bit; the clamp keeps inf
 * out. */
EXPRC_MATH_INLINE float exprc_tanhf(float x) {
    float a = fabsf(x);
    float z = a * a;
    float t = -0x1.0b3a2ap-14f;
    t = 0x1.98526ep-12f + z * t;
    t = -0x1.584f12p-10f + z * t;
    t = 0x1.ce9ee8p-9f + z * t;
    t = -0x1.21e23ap-7f + z * t;
    t = 0x1.66449cp-6f + z * t;
    t = -0x1.ba1b38p-5f + z * t;
    t = 0x1.111110p-3f + z * t;
    t = -0x1.555556p-2f + z * t;
    float small = a + (a * z) * t;
    float ac = a > 10.0f ? 10.0f : a;
    float big = 1.0f - 2.0f / (exprc__expf_core(2.0f * ac) + 1.0f);
    float res = a < 0.9f ? small : big;
    return copysignf(res, x);
}

#endif /* EXPRC_MATH_H */
