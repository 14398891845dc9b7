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
 * Accuracy (measured by tests/test_c_math.py, table in docs/c_math.md): the float32 functions
 * evaluate in double precision internally and round once at the end, so they are within about
 * 1 ulp of the correctly rounded result over the whole domain, including the huge arguments of
 * sin, cos and tan.  The float64 functions are within a few ulp.  exprc_sin, exprc_cos,
 * exprc_tan and exprc_pow (float64 only) call libm: a branch-free reduction of huge float64
 * arguments needs a 2 KiB-entry table, and pow needs a double-double logarithm; their float32
 * versions are vectorized.
 *
 * Special values follow C99 Annex F, as NumPy does: NaN propagates, exp(-inf) = 0,
 * log(0) = -inf, log(-1) = NaN, tanh(+-inf) = +-1, signed zeros are kept by the odd functions,
 * results overflow to inf and underflow gradually through the subnormals.
 *
 * Techniques: range reduction (Cody-Waite with a split constant, or an exact table-driven
 * Payne-Hanek reduction for float32 sin/cos/tan) followed by a polynomial on the reduced
 * interval.  Polynomials are truncated Taylor series (exact rational coefficients, folded by the
 * compiler) except for erfc, which uses Chebyshev fits of x*exp(x^2)*erfc(x).
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

EXPRC_MATH_INLINE float exprc_expf(float xf) {
    /* exp(89) overflows float32 and exp(-104) rounds to 0, so one scale factor suffices. */
    double x = xf;
    x = x > 89.0 ? 89.0 : x;
    x = x < -104.0 ? -104.0 : x;
    int64_t n;
    double r = exprc__reduce_ln2(x, &n);
    return (float)((1.0 + exprc__expm1_poly_f(r)) * exprc__pow2i(n));
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

EXPRC_MATH_INLINE double exprc__exp2_poly_f(double r) {
    double q = 1.321548679014431e-06;
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

EXPRC_MATH_INLINE float exprc_exp2f(float xf) {
    double x = xf;
    x = x > 129.0 ? 129.0 : x;
    x = x < -151.0 ? -151.0 : x;
    double t = x + EXPRC__SHIFTER;
    int64_t n = (int64_t)(exprc__bits(t) - exprc__bits(EXPRC__SHIFTER));
    double r = x - (t - EXPRC__SHIFTER);
    return (float)(exprc__exp2_poly_f(r) * exprc__pow2i(n));
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

EXPRC_MATH_INLINE float exprc_expm1f(float x) { return (float)exprc__expm1_f(x); }

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

EXPRC_MATH_INLINE double exprc__logf_core(double x) {
    double k, s, f;
    exprc__log_split(x, &k, &s, &f);
    return exprc__log_special(x, k * EXPRC__LN2_HI + (exprc__log_m_f(f, s) + k * EXPRC__LN2_LO));
}

EXPRC_MATH_INLINE float exprc_logf(float x) { return (float)exprc__logf_core(x); }

EXPRC_MATH_INLINE double exprc_log2(double x) {
    double k, s, f;
    exprc__log_split(x, &k, &s, &f);
    return exprc__log_special(x, k + exprc__log_m(f, s) * EXPRC__INV_LN2);
}

EXPRC_MATH_INLINE float exprc_log2f(float x) {
    double k, s, f, xd = x;
    exprc__log_split(xd, &k, &s, &f);
    return (float)exprc__log_special(xd, k + exprc__log_m_f(f, s) * EXPRC__INV_LN2);
}

EXPRC_MATH_INLINE double exprc_log10(double x) {
    double k, s, f;
    exprc__log_split(x, &k, &s, &f);
    double lm = exprc__log_m(f, s);
    return exprc__log_special(
        x, k * EXPRC__LOG10_2_HI + (lm * EXPRC__INV_LN10 + k * EXPRC__LOG10_2_LO));
}

EXPRC_MATH_INLINE float exprc_log10f(float x) {
    double k, s, f, xd = x;
    exprc__log_split(xd, &k, &s, &f);
    double lm = exprc__log_m_f(f, s);
    return (float)exprc__log_special(
        xd, k * EXPRC__LOG10_2_HI + (lm * EXPRC__INV_LN10 + k * EXPRC__LOG10_2_LO));
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
EXPRC_MATH_INLINE float exprc_log1pf(float x) { return (float)exprc__log1p_core(x, 0); }

static const double exprc__two_over_pi_f[256 * 4] = {
    0x1.45f306c000000p-150, 0x1.c9c882a000000p-178, 0x1.4fe13aa000000p-208, 0x1.e8fa9a6000000p-236,
    0x1.45f306c000000p-150, 0x1.c9c882a000000p-178, 0x1.4fe13aa000000p-208, 0x1.e8fa9a6000000p-236,
    0x1.45f306c000000p-149, 0x1.c9c882a000000p-177, 0x1.4fe13aa000000p-207, 0x1.e8fa9a6000000p-235,
    0x1.45f306c000000p-148, 0x1.c9c882a000000p-176, 0x1.4fe13aa000000p-206, 0x1.e8fa9a6000000p-234,
    0x1.45f306c000000p-147, 0x1.c9c882a000000p-175, 0x1.4fe13aa000000p-205, 0x1.e8fa9a6000000p-233,
    0x1.45f306c000000p-146, 0x1.c9c882a000000p-174, 0x1.4fe13aa000000p-204, 0x1.e8fa9a6000000p-232,
    0x1.45f306c000000p-145, 0x1.c9c882a000000p-173, 0x1.4fe13aa000000p-203, 0x1.e8fa9a6000000p-231,
    0x1.45f306c000000p-144, 0x1.c9c882a000000p-172, 0x1.4fe13aa000000p-202, 0x1.e8fa9a6000000p-230,
    0x1.45f306c000000p-143, 0x1.c9c882a000000p-171, 0x1.4fe13aa000000p-201, 0x1.e8fa9a6000000p-229,
    0x1.45f306c000000p-142, 0x1.c9c882a000000p-170, 0x1.4fe13aa000000p-200, 0x1.e8fa9a6000000p-228,
    0x1.45f306c000000p-141, 0x1.c9c882a000000p-169, 0x1.4fe13aa000000p-199, 0x1.e8fa9a6000000p-227,
    0x1.45f306c000000p-140, 0x1.c9c882a000000p-168, 0x1.4fe13aa000000p-198, 0x1.e8fa9a6000000p-226,
    0x1.45f306c000000p-139, 0x1.c9c882a000000p-167, 0x1.4fe13aa000000p-197, 0x1.e8fa9a6000000p-225,
    0x1.45f306c000000p-138, 0x1.c9c882a000000p-166, 0x1.4fe13aa000000p-196, 0x1.e8fa9a6000000p-224,
    0x1.45f306c000000p-137, 0x1.c9c882a000000p-165, 0x1.4fe13aa000000p-195, 0x1.e8fa9a6000000p-223,
    0x1.45f306c000000p-136, 0x1.c9c882a000000p-164, 0x1.4fe13aa000000p-194, 0x1.e8fa9a6000000p-222,
    0x1.45f306c000000p-135, 0x1.c9c882a000000p-163, 0x1.4fe13aa000000p-193, 0x1.e8fa9a6000000p-221,
    0x1.45f306c000000p-134, 0x1.c9c882a000000p-162, 0x1.4fe13aa000000p-192, 0x1.e8fa9a6000000p-220,
    0x1.45f306c000000p-133, 0x1.c9c882a000000p-161, 0x1.4fe13aa000000p-191, 0x1.e8fa9a6000000p-219,
    0x1.45f306c000000p-132, 0x1.c9c882a000000p-160, 0x1.4fe13aa000000p-190, 0x1.e8fa9a6000000p-218,
    0x1.45f306c000000p-131, 0x1.c9c882a000000p-159, 0x1.4fe13aa000000p-189, 0x1.e8fa9a6000000p-217,
    0x1.45f306c000000p-130, 0x1.c9c882a000000p-158, 0x1.4fe13aa000000p-188, 0x1.e8fa9a6000000p-216,
    0x1.45f306c000000p-129, 0x1.c9c882a000000p-157, 0x1.4fe13aa000000p-187, 0x1.e8fa9a6000000p-215,
    0x1.45f306c000000p-128, 0x1.c9c882a000000p-156, 0x1.4fe13aa000000p-186, 0x1.e8fa9a6000000p-214,
    0x1.45f306c000000p-127, 0x1.c9c882a000000p-155, 0x1.4fe13aa000000p-185, 0x1.e8fa9a6000000p-213,
    0x1.45f306c000000p-126, 0x1.c9c882a000000p-154, 0x1.4fe13aa000000p-184, 0x1.e8fa9a6000000p-212,
    0x1.45f306c000000p-125, 0x1.c9c882a000000p-153, 0x1.4fe13aa000000p-183, 0x1.e8fa9a6000000p-211,
    0x1.45f306c000000p-124, 0x1.c9c882a000000p-152, 0x1.4fe13aa000000p-182, 0x1.e8fa9a6000000p-210,
    0x1.45f306c000000p-123, 0x1.c9c882a000000p-151, 0x1.4fe13aa000000p-181, 0x1.e8fa9a6000000p-209,
    0x1.45f306c000000p-122, 0x1.c9c882a000000p-150, 0x1.4fe13aa000000p-180, 0x1.e8fa9a6000000p-208,
    0x1.45f306c000000p-121, 0x1.c9c882a000000p-149, 0x1.4fe13aa000000p-179, 0x1.e8fa9a6000000p-207,
    0x1.45f306c000000p-120, 0x1.c9c882a000000p-148, 0x1.4fe13aa000000p-178, 0x1.e8fa9a6000000p-206,
    0x1.45f306c000000p-119, 0x1.c9c882a000000p-147, 0x1.4fe13aa000000p-177, 0x1.e8fa9a6000000p-205,
    0x1.45f306c000000p-118, 0x1.c9c882a000000p-146, 0x1.4fe13aa000000p-176, 0x1.e8fa9a6000000p-204,
    0x1.45f306c000000p-117, 0x1.c9c882a000000p-145, 0x1.4fe13aa000000p-175, 0x1.e8fa9a6000000p-203,
    0x1.45f306c000000p-116, 0x1.c9c882a000000p-144, 0x1.4fe13aa000000p-174, 0x1.e8fa9a6000000p-202,
    0x1.45f306c000000p-115, 0x1.c9c882a000000p-143, 0x1.4fe13aa000000p-173, 0x1.e8fa9a6000000p-201,
    0x1.45f306c000000p-114, 0x1.c9c882a000000p-142, 0x1.4fe13aa000000p-172, 0x1.e8fa9a6000000p-200,
    0x1.45f306c000000p-113, 0x1.c9c882a000000p-141, 0x1.4fe13aa000000p-171, 0x1.e8fa9a6000000p-199,
    0x1.45f306c000000p-112, 0x1.c9c882a000000p-140, 0x1.4fe13aa000000p-170, 0x1.e8fa9a6000000p-198,
    0x1.45f306c000000p-111, 0x1.c9c882a000000p-139, 0x1.4fe13aa000000p-169, 0x1.e8fa9a6000000p-197,
    0x1.45f306c000000p-110, 0x1.c9c882a000000p-138, 0x1.4fe13aa000000p-168, 0x1.e8fa9a6000000p-196,
    0x1.45f306c000000p-109, 0x1.c9c882a000000p-137, 0x1.4fe13aa000000p-167, 0x1.e8fa9a6000000p-195,
    0x1.45f306c000000p-108, 0x1.c9c882a000000p-136, 0x1.4fe13aa000000p-166, 0x1.e8fa9a6000000p-194,
    0x1.45f306c000000p-107, 0x1.c9c882a000000p-135, 0x1.4fe13aa000000p-165, 0x1.e8fa9a6000000p-193,
    0x1.45f306c000000p-106, 0x1.c9c882a000000p-134, 0x1.4fe13aa000000p-164, 0x1.e8fa9a6000000p-192,
    0x1.45f306c000000p-105, 0x1.c9c882a000000p-133, 0x1.4fe13aa000000p-163, 0x1.e8fa9a6000000p-191,
    0x1.45f306c000000p-104, 0x1.c9c882a000000p-132, 0x1.4fe13aa000000p-162, 0x1.e8fa9a6000000p-190,
    0x1.45f306c000000p-103, 0x1.c9c882a000000p-131, 0x1.4fe13aa000000p-161, 0x1.e8fa9a6000000p-189,
    0x1.45f306c000000p-102, 0x1.c9c882a000000p-130, 0x1.4fe13aa000000p-160, 0x1.e8fa9a6000000p-188,
    0x1.45f306c000000p-101, 0x1.c9c882a000000p-129, 0x1.4fe13aa000000p-159, 0x1.e8fa9a6000000p-187,
    0x1.45f306c000000p-100, 0x1.c9c882a000000p-128, 0x1.4fe13aa000000p-158, 0x1.e8fa9a6000000p-186,
    0x1.45f306c000000p-99, 0x1.c9c882a000000p-127, 0x1.4fe13aa000000p-157, 0x1.e8fa9a6000000p-185,
    0x1.45f306c000000p-98, 0x1.c9c882a000000p-126, 0x1.4fe13aa000000p-156, 0x1.e8fa9a6000000p-184,
    0x1.45f306c000000p-97, 0x1.c9c882a000000p-125, 0x1.4fe13aa000000p-155, 0x1.e8fa9a6000000p-183,
    0x1.45f306c000000p-96, 0x1.c9c882a000000p-124, 0x1.4fe13aa000000p-154, 0x1.e8fa9a6000000p-182,
    0x1.45f306c000000p-95, 0x1.c9c882a000000p-123, 0x1.4fe13aa000000p-153, 0x1.e8fa9a6000000p-181,
    0x1.45f306c000000p-94, 0x1.c9c882a000000p-122, 0x1.4fe13aa000000p-152, 0x1.e8fa9a6000000p-180,
    0x1.45f306c000000p-93, 0x1.c9c882a000000p-121, 0x1.4fe13aa000000p-151, 0x1.e8fa9a6000000p-179,
    0x1.45f306c000000p-92, 0x1.c9c882a000000p-120, 0x1.4fe13aa000000p-150, 0x1.e8fa9a6000000p-178,
    0x1.45f306c000000p-91, 0x1.c9c882a000000p-119, 0x1.4fe13aa000000p-149, 0x1.e8fa9a6000000p-177,
    0x1.45f306c000000p-90, 0x1.c9c882a000000p-118, 0x1.4fe13aa000000p-148, 0x1.e8fa9a6000000p-176,
    0x1.45f306c000000p-89, 0x1.c9c882a000000p-117, 0x1.4fe13aa000000p-147, 0x1.e8fa9a6000000p-175,
    0x1.45f306c000000p-88, 0x1.c9c882a000000p-116, 0x1.4fe13aa000000p-146, 0x1.e8fa9a6000000p-174,
    0x1.45f306c000000p-87, 0x1.c9c882a000000p-115, 0x1.4fe13aa000000p-145, 0x1.e8fa9a6000000p-173,
    0x1.45f306c000000p-86, 0x1.c9c882a000000p-114, 0x1.4fe13aa000000p-144, 0x1.e8fa9a6000000p-172,
    0x1.45f306c000000p-85, 0x1.c9c882a000000p-113, 0x1.4fe13aa000000p-143, 0x1.e8fa9a6000000p-171,
    0x1.45f306c000000p-84, 0x1.c9c882a000000p-112, 0x1.4fe13aa000000p-142, 0x1.e8fa9a6000000p-170,
    0x1.45f306c000000p-83, 0x1.c9c882a000000p-111, 0x1.4fe13aa000000p-141, 0x1.e8fa9a6000000p-169,
    0x1.45f306c000000p-82, 0x1.c9c882a000000p-110, 0x1.4fe13aa000000p-140, 0x1.e8fa9a6000000p-168,
    0x1.45f306c000000p-81, 0x1.c9c882a000000p-109, 0x1.4fe13aa000000p-139, 0x1.e8fa9a6000000p-167,
    0x1.45f306c000000p-80, 0x1.c9c882a000000p-108, 0x1.4fe13aa000000p-138, 0x1.e8fa9a6000000p-166,
    0x1.45f306c000000p-79, 0x1.c9c882a000000p-107, 0x1.4fe13aa000000p-137, 0x1.e8fa9a6000000p-165,
    0x1.45f306c000000p-78, 0x1.c9c882a000000p-106, 0x1.4fe13aa000000p-136, 0x1.e8fa9a6000000p-164,
    0x1.45f306c000000p-77, 0x1.c9c882a000000p-105, 0x1.4fe13aa000000p-135, 0x1.e8fa9a6000000p-163,
    0x1.45f306c000000p-76, 0x1.c9c882a000000p-104, 0x1.4fe13aa000000p-134, 0x1.e8fa9a6000000p-162,
    0x1.45f306c000000p-75, 0x1.c9c882a000000p-103, 0x1.4fe13aa000000p-133, 0x1.e8fa9a6000000p-161,
    0x1.45f306c000000p-74, 0x1.c9c882a000000p-102, 0x1.4fe13aa000000p-132, 0x1.e8fa9a6000000p-160,
    0x1.45f306c000000p-73, 0x1.c9c882a000000p-101, 0x1.4fe13aa000000p-131, 0x1.e8fa9a6000000p-159,
    0x1.45f306c000000p-72, 0x1.c9c882a000000p-100, 0x1.4fe13aa000000p-130, 0x1.e8fa9a6000000p-158,
    0x1.45f306c000000p-71, 0x1.c9c882a000000p-99, 0x1.4fe13aa000000p-129, 0x1.e8fa9a6000000p-157,
    0x1.45f306c000000p-70, 0x1.c9c882a000000p-98, 0x1.4fe13aa000000p-128, 0x1.e8fa9a6000000p-156,
    0x1.45f306c000000p-69, 0x1.c9c882a000000p-97, 0x1.4fe13aa000000p-127, 0x1.e8fa9a6000000p-155,
    0x1.45f306c000000p-68, 0x1.c9c882a000000p-96, 0x1.4fe13aa000000p-126, 0x1.e8fa9a6000000p-154,
    0x1.45f306c000000p-67, 0x1.c9c882a000000p-95, 0x1.4fe13aa000000p-125, 0x1.e8fa9a6000000p-153,
    0x1.45f306c000000p-66, 0x1.c9c882a000000p-94, 0x1.4fe13aa000000p-124, 0x1.e8fa9a6000000p-152,
    0x1.45f306c000000p-65, 0x1.c9c882a000000p-93, 0x1.4fe13aa000000p-123, 0x1.e8fa9a6000000p-151,
    0x1.45f306c000000p-64, 0x1.c9c882a000000p-92, 0x1.4fe13aa000000p-122, 0x1.e8fa9a6000000p-150,
    0x1.45f306c000000p-63, 0x1.c9c882a000000p-91, 0x1.4fe13aa000000p-121, 0x1.e8fa9a6000000p-149,
    0x1.45f306c000000p-62, 0x1.c9c882a000000p-90, 0x1.4fe13aa000000p-120, 0x1.e8fa9a6000000p-148,
    0x1.45f306c000000p-61, 0x1.c9c882a000000p-89, 0x1.4fe13aa000000p-119, 0x1.e8fa9a6000000p-147,
    0x1.45f306c000000p-60, 0x1.c9c882a000000p-88, 0x1.4fe13aa000000p-118, 0x1.e8fa9a6000000p-146,
    0x1.45f306c000000p-59, 0x1.c9c882a000000p-87, 0x1.4fe13aa000000p-117, 0x1.e8fa9a6000000p-145,
    0x1.45f306c000000p-58, 0x1.c9c882a000000p-86, 0x1.4fe13aa000000p-116, 0x1.e8fa9a6000000p-144,
    0x1.45f306c000000p-57, 0x1.c9c882a000000p-85, 0x1.4fe13aa000000p-115, 0x1.e8fa9a6000000p-143,
    0x1.45f306c000000p-56, 0x1.c9c882a000000p-84, 0x1.4fe13aa000000p-114, 0x1.e8fa9a6000000p-142,
    0x1.45f306c000000p-55, 0x1.c9c882a000000p-83, 0x1.4fe13aa000000p-113, 0x1.e8fa9a6000000p-141,
    0x1.45f306c000000p-54, 0x1.c9c882a000000p-82, 0x1.4fe13aa000000p-112, 0x1.e8fa9a6000000p-140,
    0x1.45f306c000000p-53, 0x1.c9c882a000000p-81, 0x1.4fe13aa000000p-111, 0x1.e8fa9a6000000p-139,
    0x1.45f306c000000p-52, 0x1.c9c882a000000p-80, 0x1.4fe13aa000000p-110, 0x1.e8fa9a6000000p-138,
    0x1.45f306c000000p-51, 0x1.c9c882a000000p-79, 0x1.4fe13aa000000p-109, 0x1.e8fa9a6000000p-137,
    0x1.45f306c000000p-50, 0x1.c9c882a000000p-78, 0x1.4fe13aa000000p-108, 0x1.e8fa9a6000000p-136,
    0x1.45f306c000000p-49, 0x1.c9c882a000000p-77, 0x1.4fe13aa000000p-107, 0x1.e8fa9a6000000p-135,
    0x1.45f306c000000p-48, 0x1.c9c882a000000p-76, 0x1.4fe13aa000000p-106, 0x1.e8fa9a6000000p-134,
    0x1.45f306c000000p-47, 0x1.c9c882a000000p-75, 0x1.4fe13aa000000p-105, 0x1.e8fa9a6000000p-133,
    0x1.45f306c000000p-46, 0x1.c9c882a000000p-74, 0x1.4fe13aa000000p-104, 0x1.e8fa9a6000000p-132,
    0x1.45f306c000000p-45, 0x1.c9c882a000000p-73, 0x1.4fe13aa000000p-103, 0x1.e8fa9a6000000p-131,
    0x1.45f306c000000p-44, 0x1.c9c882a000000p-72, 0x1.4fe13aa000000p-102, 0x1.e8fa9a6000000p-130,
    0x1.45f306c000000p-43, 0x1.c9c882a000000p-71, 0x1.4fe13aa000000p-101, 0x1.e8fa9a6000000p-129,
    0x1.45f306c000000p-42, 0x1.c9c882a000000p-70, 0x1.4fe13aa000000p-100, 0x1.e8fa9a6000000p-128,
    0x1.45f306c000000p-41, 0x1.c9c882a000000p-69, 0x1.4fe13aa000000p-99, 0x1.e8fa9a6000000p-127,
    0x1.45f306c000000p-40, 0x1.c9c882a000000p-68, 0x1.4fe13aa000000p-98, 0x1.e8fa9a6000000p-126,
    0x1.45f306c000000p-39, 0x1.c9c882a000000p-67, 0x1.4fe13aa000000p-97, 0x1.e8fa9a6000000p-125,
    0x1.45f306c000000p-38, 0x1.c9c882a000000p-66, 0x1.4fe13aa000000p-96, 0x1.e8fa9a6000000p-124,
    0x1.45f306c000000p-37, 0x1.c9c882a000000p-65, 0x1.4fe13aa000000p-95, 0x1.e8fa9a6000000p-123,
    0x1.45f306c000000p-36, 0x1.c9c882a000000p-64, 0x1.4fe13aa000000p-94, 0x1.e8fa9a6000000p-122,
    0x1.45f306c000000p-35, 0x1.c9c882a000000p-63, 0x1.4fe13aa000000p-93, 0x1.e8fa9a6000000p-121,
    0x1.45f306c000000p-34, 0x1.c9c882a000000p-62, 0x1.4fe13aa000000p-92, 0x1.e8fa9a6000000p-120,
    0x1.45f306c000000p-33, 0x1.c9c882a000000p-61, 0x1.4fe13aa000000p-91, 0x1.e8fa9a6000000p-119,
    0x1.45f306c000000p-32, 0x1.c9c882a000000p-60, 0x1.4fe13aa000000p-90, 0x1.e8fa9a6000000p-118,
    0x1.45f306c000000p-31, 0x1.c9c882a000000p-59, 0x1.4fe13aa000000p-89, 0x1.e8fa9a6000000p-117,
    0x1.45f306c000000p-30, 0x1.c9c882a000000p-58, 0x1.4fe13aa000000p-88, 0x1.e8fa9a6000000p-116,
    0x1.45f306c000000p-29, 0x1.c9c882a000000p-57, 0x1.4fe13aa000000p-87, 0x1.e8fa9a6000000p-115,
    0x1.45f306c000000p-28, 0x1.c9c882a000000p-56, 0x1.4fe13aa000000p-86, 0x1.e8fa9a6000000p-114,
    0x1.45f306c000000p-27, 0x1.c9c882a000000p-55, 0x1.4fe13aa000000p-85, 0x1.e8fa9a6000000p-113,
    0x1.45f306c000000p-26, 0x1.c9c882a000000p-54, 0x1.4fe13aa000000p-84, 0x1.e8fa9a6000000p-112,
    0x1.45f306c000000p-25, 0x1.c9c882a000000p-53, 0x1.4fe13aa000000p-83, 0x1.e8fa9a6000000p-111,
    0x1.45f306c000000p-24, 0x1.c9c882a000000p-52, 0x1.4fe13aa000000p-82, 0x1.e8fa9a6000000p-110,
    0x1.45f306c000000p-23, 0x1.c9c882a000000p-51, 0x1.4fe13aa000000p-81, 0x1.e8fa9a6000000p-109,
    0x1.45f306c000000p-22, 0x1.c9c882a000000p-50, 0x1.4fe13aa000000p-80, 0x1.e8fa9a6000000p-108,
    0x1.45f306c000000p-21, 0x1.c9c882a000000p-49, 0x1.4fe13aa000000p-79, 0x1.e8fa9a6000000p-107,
    0x1.45f306c000000p-20, 0x1.c9c882a000000p-48, 0x1.4fe13aa000000p-78, 0x1.e8fa9a6000000p-106,
    0x1.45f306c000000p-19, 0x1.c9c882a000000p-47, 0x1.4fe13aa000000p-77, 0x1.e8fa9a6000000p-105,
    0x1.45f306c000000p-18, 0x1.c9c882a000000p-46, 0x1.4fe13aa000000p-76, 0x1.e8fa9a6000000p-104,
    0x1.45f306c000000p-17, 0x1.c9c882a000000p-45, 0x1.4fe13aa000000p-75, 0x1.e8fa9a6000000p-103,
    0x1.45f306c000000p-16, 0x1.c9c882a000000p-44, 0x1.4fe13aa000000p-74, 0x1.e8fa9a6000000p-102,
    0x1.45f306c000000p-15, 0x1.c9c882a000000p-43, 0x1.4fe13aa000000p-73, 0x1.e8fa9a6000000p-101,
    0x1.45f306c000000p-14, 0x1.c9c882a000000p-42, 0x1.4fe13aa000000p-72, 0x1.e8fa9a6000000p-100,
    0x1.45f306c000000p-13, 0x1.c9c882a000000p-41, 0x1.4fe13aa000000p-71, 0x1.e8fa9a6000000p-99,
    0x1.45f306c000000p-12, 0x1.c9c882a000000p-40, 0x1.4fe13aa000000p-70, 0x1.e8fa9a6000000p-98,
    0x1.45f306c000000p-11, 0x1.c9c882a000000p-39, 0x1.4fe13aa000000p-69, 0x1.e8fa9a6000000p-97,
    0x1.45f306c000000p-10, 0x1.c9c882a000000p-38, 0x1.4fe13aa000000p-68, 0x1.e8fa9a6000000p-96,
    0x1.45f306c000000p-9, 0x1.c9c882a000000p-37, 0x1.4fe13aa000000p-67, 0x1.e8fa9a6000000p-95,
    0x1.45f306c000000p-8, 0x1.c9c882a000000p-36, 0x1.4fe13aa000000p-66, 0x1.e8fa9a6000000p-94,
    0x1.45f306c000000p-7, 0x1.c9c882a000000p-35, 0x1.4fe13aa000000p-65, 0x1.e8fa9a6000000p-93,
    0x1.45f306c000000p-6, 0x1.c9c882a000000p-34, 0x1.4fe13aa000000p-64, 0x1.e8fa9a6000000p-92,
    0x1.45f306c000000p-5, 0x1.c9c882a000000p-33, 0x1.4fe13aa000000p-63, 0x1.e8fa9a6000000p-91,
    0x1.45f306c000000p-4, 0x1.c9c882a000000p-32, 0x1.4fe13aa000000p-62, 0x1.e8fa9a6000000p-90,
    0x1.45f306c000000p-3, 0x1.c9c882a000000p-31, 0x1.4fe13aa000000p-61, 0x1.e8fa9a6000000p-89,
    0x1.45f306c000000p-2, 0x1.c9c882a000000p-30, 0x1.4fe13aa000000p-60, 0x1.e8fa9a6000000p-88,
    0x1.45f306c000000p-1, 0x1.c9c882a000000p-29, 0x1.4fe13aa000000p-59, 0x1.e8fa9a6000000p-87,
    0x1.45f306c000000p+0, 0x1.c9c882a000000p-28, 0x1.4fe13aa000000p-58, 0x1.e8fa9a6000000p-86,
    0x1.45f306c000000p+1, 0x1.c9c882a000000p-27, 0x1.4fe13aa000000p-57, 0x1.e8fa9a6000000p-85,
    0x1.17cc1b6000000p+0, 0x1.27220a8000000p-28, 0x1.4fe13aa000000p-56, 0x1.e8fa9a6000000p-84,
    0x1.17cc1b6000000p+1, 0x1.27220a8000000p-27, 0x1.4fe13aa000000p-55, 0x1.e8fa9a6000000p-83,
    0x1.7cc1b72000000p-2, 0x1.c882a52000000p-32, 0x1.f84eafa000000p-60, 0x1.f534ddc000000p-91,
    0x1.7cc1b72000000p-1, 0x1.c882a52000000p-31, 0x1.f84eafa000000p-59, 0x1.f534ddc000000p-90,
    0x1.7cc1b72000000p+0, 0x1.c882a52000000p-30, 0x1.f84eafa000000p-58, 0x1.f534ddc000000p-89,
    0x1.7cc1b72000000p+1, 0x1.c882a52000000p-29, 0x1.f84eafa000000p-57, 0x1.f534ddc000000p-88,
    0x1.f306dc8000000p+0, 0x1.c882a52000000p-28, 0x1.f84eafa000000p-56, 0x1.f534ddc000000p-87,
    0x1.f306dc8000000p+1, 0x1.c882a52000000p-27, 0x1.f84eafa000000p-55, 0x1.f534ddc000000p-86,
    0x1.e60db92000000p+1, 0x1.91054a6000000p-27, 0x1.f09d5f4000000p-55, 0x1.f534ddc000000p-85,
    0x1.cc1b726000000p+1, 0x1.220a94e000000p-27, 0x1.e13abe8000000p-55, 0x1.f534ddc000000p-84,
    0x1.9836e4e000000p+1, 0x1.1054a7e000000p-29, 0x1.09d5f46000000p-57, 0x1.d4d3770000000p-85,
    0x1.306dc9c000000p+1, 0x1.1054a7e000000p-28, 0x1.09d5f46000000p-56, 0x1.d4d3770000000p-84,
    0x1.836e4e4000000p-1, 0x1.054a7f0000000p-31, 0x1.3abe8fa000000p-60, 0x1.34ddc0c000000p-89,
    0x1.836e4e4000000p+0, 0x1.054a7f0000000p-30, 0x1.3abe8fa000000p-59, 0x1.34ddc0c000000p-88,
    0x1.836e4e4000000p+1, 0x1.054a7f0000000p-29, 0x1.3abe8fa000000p-58, 0x1.34ddc0c000000p-87,
    0x1.06dc9c8000000p+1, 0x1.054a7f0000000p-28, 0x1.3abe8fa000000p-57, 0x1.34ddc0c000000p-86,
    0x1.b727220000000p-4, 0x1.529fc26000000p-33, 0x1.57d1f52000000p-61, 0x1.4ddc0da000000p-89,
    0x1.b727220000000p-3, 0x1.529fc26000000p-32, 0x1.57d1f52000000p-60, 0x1.4ddc0da000000p-88,
    0x1.b727220000000p-2, 0x1.529fc26000000p-31, 0x1.57d1f52000000p-59, 0x1.4ddc0da000000p-87,
    0x1.b727220000000p-1, 0x1.529fc26000000p-30, 0x1.57d1f52000000p-58, 0x1.4ddc0da000000p-86,
    0x1.b727220000000p+0, 0x1.529fc26000000p-29, 0x1.57d1f52000000p-57, 0x1.4ddc0da000000p-85,
    0x1.b727220000000p+1, 0x1.529fc26000000p-28, 0x1.57d1f52000000p-56, 0x1.4ddc0da000000p-84,
    0x1.6e4e440000000p+1, 0x1.529fc26000000p-27, 0x1.57d1f52000000p-55, 0x1.4ddc0da000000p-83,
    0x1.b939104000000p+0, 0x1.4a7f09c000000p-28, 0x1.5f47d4c000000p-56, 0x1.377036c000000p-84,
    0x1.b939104000000p+1, 0x1.4a7f09c000000p-27, 0x1.5f47d4c000000p-55, 0x1.377036c000000p-83,
    0x1.727220a000000p+1, 0x1.29fc274000000p-28, 0x1.7d1f534000000p-56, 0x1.bb81b6c000000p-85,
    0x1.c9c882a000000p+0, 0x1.4fe13aa000000p-30, 0x1.e8fa9a6000000p-58, 0x1.dc0db62000000p-87,
    0x1.c9c882a000000p+1, 0x1.4fe13aa000000p-29, 0x1.e8fa9a6000000p-57, 0x1.dc0db62000000p-86,
    0x1.9391054000000p+1, 0x1.4fe13aa000000p-28, 0x1.e8fa9a6000000p-56, 0x1.dc0db62000000p-85,
    0x1.27220a8000000p+1, 0x1.4fe13aa000000p-27, 0x1.e8fa9a6000000p-55, 0x1.dc0db62000000p-84,
    0x1.391054a000000p-1, 0x1.fc2757c000000p-31, 0x1.1f534dc000000p-59, 0x1.c0db628000000p-87,
    0x1.391054a000000p+0, 0x1.fc2757c000000p-30, 0x1.1f534dc000000p-58, 0x1.c0db628000000p-86,
    0x1.391054a000000p+1, 0x1.fc2757c000000p-29, 0x1.1f534dc000000p-57, 0x1.c0db628000000p-85,
    0x1.c882a52000000p-1, 0x1.f84eafa000000p-29, 0x1.f534ddc000000p-60, 0x1.b6c52b2000000p-93,
    0x1.c882a52000000p+0, 0x1.f84eafa000000p-28, 0x1.f534ddc000000p-59, 0x1.b6c52b2000000p-92,
    0x1.c882a52000000p+1, 0x1.f84eafa000000p-27, 0x1.f534ddc000000p-58, 0x1.b6c52b2000000p-91,
    0x1.91054a6000000p+1, 0x1.f09d5f4000000p-27, 0x1.f534ddc000000p-57, 0x1.b6c52b2000000p-90,
    0x1.220a94e000000p+1, 0x1.e13abe8000000p-27, 0x1.f534ddc000000p-56, 0x1.b6c52b2000000p-89,
    0x1.1054a7e000000p-1, 0x1.09d5f46000000p-29, 0x1.d4d3770000000p-57, 0x1.b6c52b2000000p-88,
    0x1.1054a7e000000p+0, 0x1.09d5f46000000p-28, 0x1.d4d3770000000p-56, 0x1.b6c52b2000000p-87,
    0x1.1054a7e000000p+1, 0x1.09d5f46000000p-27, 0x1.d4d3770000000p-55, 0x1.b6c52b2000000p-86,
    0x1.054a7f0000000p-2, 0x1.3abe8fa000000p-31, 0x1.34ddc0c000000p-60, 0x1.b629598000000p-88,
    0x1.054a7f0000000p-1, 0x1.3abe8fa000000p-30, 0x1.34ddc0c000000p-59, 0x1.b629598000000p-87,
    0x1.054a7f0000000p+0, 0x1.3abe8fa000000p-29, 0x1.34ddc0c000000p-58, 0x1.b629598000000p-86,
    0x1.054a7f0000000p+1, 0x1.3abe8fa000000p-28, 0x1.34ddc0c000000p-57, 0x1.b629598000000p-85,
    0x1.529fc26000000p-4, 0x1.57d1f52000000p-32, 0x1.4ddc0da000000p-60, 0x1.6295992000000p-88,
    0x1.529fc26000000p-3, 0x1.57d1f52000000p-31, 0x1.4ddc0da000000p-59, 0x1.6295992000000p-87,
    0x1.529fc26000000p-2, 0x1.57d1f52000000p-30, 0x1.4ddc0da000000p-58, 0x1.6295992000000p-86,
    0x1.529fc26000000p-1, 0x1.57d1f52000000p-29, 0x1.4ddc0da000000p-57, 0x1.6295992000000p-85,
    0x1.529fc26000000p+0, 0x1.57d1f52000000p-28, 0x1.4ddc0da000000p-56, 0x1.6295992000000p-84,
    0x1.529fc26000000p+1, 0x1.57d1f52000000p-27, 0x1.4ddc0da000000p-55, 0x1.6295992000000p-83,
    0x1.4a7f09c000000p+0, 0x1.5f47d4c000000p-28, 0x1.377036c000000p-56, 0x1.8a5664e000000p-84,
    0x1.4a7f09c000000p+1, 0x1.5f47d4c000000p-27, 0x1.377036c000000p-55, 0x1.8a5664e000000p-83,
    0x1.29fc274000000p+0, 0x1.7d1f534000000p-28, 0x1.bb81b6c000000p-57, 0x1.4acc9e2000000p-87,
    0x1.29fc274000000p+1, 0x1.7d1f534000000p-27, 0x1.bb81b6c000000p-56, 0x1.4acc9e2000000p-86,
    0x1.4fe13aa000000p-1, 0x1.e8fa9a6000000p-29, 0x1.dc0db62000000p-58, 0x1.2b32788000000p-87,
    0x1.4fe13aa000000p+0, 0x1.e8fa9a6000000p-28, 0x1.dc0db62000000p-57, 0x1.2b32788000000p-86,
    0x1.4fe13aa000000p+1, 0x1.e8fa9a6000000p-27, 0x1.dc0db62000000p-56, 0x1.2b32788000000p-85,
    0x1.3f84eae000000p+0, 0x1.a3ea69a000000p-28, 0x1.b81b6c4000000p-56, 0x1.2b32788000000p-84,
    0x1.3f84eae000000p+1, 0x1.a3ea69a000000p-27, 0x1.b81b6c4000000p-55, 0x1.2b32788000000p-83,
    0x1.fc2757c000000p-1, 0x1.1f534dc000000p-29, 0x1.c0db628000000p-57, 0x1.5993c42000000p-85,
    0x1.fc2757c000000p+0, 0x1.1f534dc000000p-28, 0x1.c0db628000000p-56, 0x1.5993c42000000p-84,
    0x1.fc2757c000000p+1, 0x1.1f534dc000000p-27, 0x1.c0db628000000p-55, 0x1.5993c42000000p-83,
    0x1.f84eafa000000p+1, 0x1.f534ddc000000p-30, 0x1.b6c52b2000000p-63, 0x1.2788720000000p-91,
    0x1.f09d5f4000000p+1, 0x1.f534ddc000000p-29, 0x1.b6c52b2000000p-62, 0x1.2788720000000p-90,
    0x1.e13abe8000000p+1, 0x1.f534ddc000000p-28, 0x1.b6c52b2000000p-61, 0x1.2788720000000p-89,
    0x1.c2757d0000000p+1, 0x1.f534ddc000000p-27, 0x1.b6c52b2000000p-60, 0x1.2788720000000p-88,
    0x1.84eafa2000000p+1, 0x1.ea69bb8000000p-27, 0x1.b6c52b2000000p-59, 0x1.2788720000000p-87,
    0x1.09d5f46000000p+1, 0x1.d4d3770000000p-27, 0x1.b6c52b2000000p-58, 0x1.2788720000000p-86,
    0x1.3abe8fa000000p-3, 0x1.34ddc0c000000p-32, 0x1.b629598000000p-60, 0x1.3c43904000000p-88,
    0x1.3abe8fa000000p-2, 0x1.34ddc0c000000p-31, 0x1.b629598000000p-59, 0x1.3c43904000000p-87,
    0x1.3abe8fa000000p-1, 0x1.34ddc0c000000p-30, 0x1.b629598000000p-58, 0x1.3c43904000000p-86,
    0x1.3abe8fa000000p+0, 0x1.34ddc0c000000p-29, 0x1.b629598000000p-57, 0x1.3c43904000000p-85,
    0x1.3abe8fa000000p+1, 0x1.34ddc0c000000p-28, 0x1.b629598000000p-56, 0x1.3c43904000000p-84,
    0x1.d5f47d4000000p-1, 0x1.a6ee06c000000p-30, 0x1.b14acc8000000p-58, 0x1.e21c820000000p-86,
    0x1.d5f47d4000000p+0, 0x1.a6ee06c000000p-29, 0x1.b14acc8000000p-57, 0x1.e21c820000000p-85,
    0x1.d5f47d4000000p+1, 0x1.a6ee06c000000p-28, 0x1.b14acc8000000p-56, 0x1.e21c820000000p-84,
    0x1.abe8fa8000000p+1, 0x1.a6ee06c000000p-27, 0x1.b14acc8000000p-55, 0x1.e21c820000000p-83,
    0x1.57d1f52000000p+1, 0x1.4ddc0da000000p-27, 0x1.6295992000000p-55, 0x1.c439040000000p-83,
    0x1.5f47d4c000000p+0, 0x1.377036c000000p-28, 0x1.8a5664e000000p-56, 0x1.10e4106000000p-84,
    0x1.5f47d4c000000p+1, 0x1.377036c000000p-27, 0x1.8a5664e000000p-55, 0x1.10e4106000000p-83,
    0x1.7d1f534000000p+0, 0x1.bb81b6c000000p-29, 0x1.4acc9e2000000p-59, 0x1.c820ff2000000p-91,
    0x1.7d1f534000000p+1, 0x1.bb81b6c000000p-28, 0x1.4acc9e2000000p-58, 0x1.c820ff2000000p-90,
    0x1.f47d4d2000000p+0, 0x1.77036d8000000p-28, 0x1.4acc9e2000000p-57, 0x1.c820ff2000000p-89,
    0x1.f47d4d2000000p+1, 0x1.77036d8000000p-27, 0x1.4acc9e2000000p-56, 0x1.c820ff2000000p-88,
    0x1.e8fa9a6000000p+1, 0x1.dc0db62000000p-28, 0x1.2b32788000000p-57, 0x1.c820ff2000000p-87,
    0x1.d1f534c000000p+1, 0x1.dc0db62000000p-27, 0x1.2b32788000000p-56, 0x1.c820ff2000000p-86,
    0x1.a3ea69a000000p+1, 0x1.b81b6c4000000p-27, 0x1.2b32788000000p-55, 0x1.c820ff2000000p-85,
    0x1.47d4d36000000p+1, 0x1.7036d8a000000p-27, 0x1.5993c42000000p-57, 0x1.9041fe4000000p-85,
    0x1.1f534dc000000p+0, 0x1.c0db628000000p-28, 0x1.5993c42000000p-56, 0x1.9041fe4000000p-84,
    0x1.1f534dc000000p+1, 0x1.c0db628000000p-27, 0x1.5993c42000000p-55, 0x1.9041fe4000000p-83,
    0x1.f534ddc000000p-2, 0x1.b6c52b2000000p-35, 0x1.2788720000000p-63, 0x1.07f9458000000p-92,
    0x1.f534ddc000000p-1, 0x1.b6c52b2000000p-34, 0x1.2788720000000p-62, 0x1.07f9458000000p-91,
    0x1.f534ddc000000p+0, 0x1.b6c52b2000000p-33, 0x1.2788720000000p-61, 0x1.07f9458000000p-90,
    0x1.f534ddc000000p+1, 0x1.b6c52b2000000p-32, 0x1.2788720000000p-60, 0x1.07f9458000000p-89,
    0x1.ea69bb8000000p+1, 0x1.b6c52b2000000p-31, 0x1.2788720000000p-59, 0x1.07f9458000000p-88,
    0x1.d4d3770000000p+1, 0x1.b6c52b2000000p-30, 0x1.2788720000000p-58, 0x1.07f9458000000p-87,
    0x1.a9a6ee0000000p+1, 0x1.b6c52b2000000p-29, 0x1.2788720000000p-57, 0x1.07f9458000000p-86,
    0x1.534ddc0000000p+1, 0x1.b6c52b2000000p-28, 0x1.2788720000000p-56, 0x1.07f9458000000p-85,
    0x1.4d37702000000p+0, 0x1.6d8a566000000p-28, 0x1.3c43904000000p-58, 0x1.fe5163a000000p-90,
    0x1.4d37702000000p+1, 0x1.6d8a566000000p-27, 0x1.3c43904000000p-57, 0x1.fe5163a000000p-89,
    0x1.34ddc0c000000p+0, 0x1.b629598000000p-28, 0x1.3c43904000000p-56, 0x1.fe5163a000000p-88,
    0x1.34ddc0c000000p+1, 0x1.b629598000000p-27, 0x1.3c43904000000p-55, 0x1.fe5163a000000p-87,
};

/* Reduce |x| (float32) to r in [-pi/4, pi/4] (as a double) and the quadrant q (mod 4). */
EXPRC_MATH_INLINE double exprc__reduce_pio2_f(uint32_t ax, int64_t *q) {
    uint32_t e = ax >> 23;
    double mant = (double)((ax & 0x7fffffu) | (e ? 0x800000u : 0u));
    /* Flat indices (not a row pointer) so that the loads become gathers. */
    int64_t row = 4 * (int64_t)(e & 255u);
    double p0 = mant * exprc__two_over_pi_f[row];
    p0 -= 4.0 * floor(p0 * 0.25);            /* only x * 2/pi mod 4 matters; exact */
    double p1 = mant * exprc__two_over_pi_f[row + 1];
    double p2 = mant * exprc__two_over_pi_f[row + 2];
    double p3 = mant * exprc__two_over_pi_f[row + 3];
    double s = (p0 + p1) + EXPRC__SHIFTER;   /* nearest integer: the quadrant */
    double n = s - EXPRC__SHIFTER;
    *q = (int64_t)(exprc__bits(s) - exprc__bits(EXPRC__SHIFTER));
    double r = ((p0 - n) + p1) + (p2 + p3);  /* p0 - n is exact */
    return r * EXPRC__PIO2_HI;
}

/* sin and cos on [-pi/4, pi/4] by Taylor series to r^13 and r^14 (relative error < 2^-40). */
EXPRC_MATH_INLINE double exprc__sin_poly_f(double r) {
    double z = r * r;
    double q = -1.0 / 1307674368000.0;
    q = 1.0 / 6227020800.0 + z * q;
    q = -1.0 / 39916800.0 + z * q;
    q = 1.0 / 362880.0 + z * q;
    q = -1.0 / 5040.0 + z * q;
    q = 1.0 / 120.0 + z * q;
    q = -1.0 / 6.0 + z * q;
    return r + (r * z) * q;
}

EXPRC_MATH_INLINE double exprc__cos_poly_f(double r) {
    double z = r * r;
    double q = 1.0 / 20922789888000.0;
    q = -1.0 / 87178291200.0 + z * q;
    q = 1.0 / 479001600.0 + z * q;
    q = -1.0 / 3628800.0 + z * q;
    q = 1.0 / 40320.0 + z * q;
    q = -1.0 / 720.0 + z * q;
    q = 1.0 / 24.0 + z * q;
    q = -0.5 + z * q;
    return 1.0 + z * q;
}

/* The reduction works on |x|; the sign is put back through the sign bit, which keeps -0.
 * inf and NaN give NaN (x - x). */
EXPRC_MATH_INLINE float exprc_sinf(float x) {
    uint32_t ux = exprc__bitsf(x), ax = ux & 0x7fffffffu;
    int64_t q;
    double r = exprc__reduce_pio2_f(ax, &q);
    double v = (q & 1) ? exprc__cos_poly_f(r) : exprc__sin_poly_f(r);
    float res = (float)v;
    uint32_t sign = (ux & 0x80000000u) ^ ((uint32_t)(q & 2) << 30);
    res = exprc__from_bitsf(exprc__bitsf(res) ^ sign);
    return ax >= 0x7f800000u ? x - x : res;
}

EXPRC_MATH_INLINE float exprc_cosf(float x) {
    uint32_t ax = exprc__bitsf(x) & 0x7fffffffu;
    int64_t q;
    double r = exprc__reduce_pio2_f(ax, &q);
    double v = (q & 1) ? exprc__sin_poly_f(r) : exprc__cos_poly_f(r);
    v = ((q + 1) & 2) ? -v : v;
    return ax >= 0x7f800000u ? x - x : (float)v;
}

EXPRC_MATH_INLINE float exprc_tanf(float x) {
    uint32_t ux = exprc__bitsf(x), ax = ux & 0x7fffffffu;
    int64_t q;
    double r = exprc__reduce_pio2_f(ax, &q);
    double s = exprc__sin_poly_f(r), c = exprc__cos_poly_f(r);
    double v = (q & 1) ? -c / s : s / c;
    float res = exprc__from_bitsf(exprc__bitsf((float)v) ^ (ux & 0x80000000u));
    return ax >= 0x7f800000u ? x - x : res;
}

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

EXPRC_MATH_INLINE float exprc_tanhf(float xf) {
    double a = fabs((double)xf);
    a = a > 10.0 ? 10.0 : a;
    double e = exprc__expm1_f(2.0 * a);
    return (float)copysign(e / (e + 2.0), (double)xf);
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

#endif /* EXPRC_MATH_H */
