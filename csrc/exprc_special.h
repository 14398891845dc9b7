/* Special functions of the elementwise ops gamma, gammaln, psi, tri_gamma, erfinv and erfcinv.
 *
 *     double exprc_gamma(double x)       Gamma(x), the C library's tgamma
 *     double exprc_gammaln(double x)     log|Gamma(x)|, the C library's lgamma (reentrant)
 *     double exprc_psi(double x)         the digamma function, d/dx log Gamma(x)
 *     double exprc_tri_gamma(double x)   the trigamma function, d/dx psi(x)
 *     double exprc_erfinv(double x)      the inverse of erf on [-1, 1]
 *     double exprc_erfcinv(double y)     the inverse of erfc on [0, 2]
 *
 * Every function works in double precision; float32 kernels convert, call and round once.
 * The NumPy reference executor follows the same steps in Python
 * (exprc/link/reference/special.py), so the two agree to a few ulp; tests/registry checks
 * both against references computed another way.
 *
 * Special values: psi has poles at 0 and the negative integers (psi(+0) = -inf,
 * psi(-0) = +inf, NaN at a negative integer, NaN at -inf); tri_gamma is +inf at every pole and
 * NaN at -inf; erfinv is +-inf at +-1 and NaN outside [-1, 1]; erfcinv is +inf at 0, -inf at 2
 * and NaN outside [0, 2]; NaN gives NaN everywhere.
 *
 * Methods.
 * - psi, x > 0: the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 12, then the asymptotic
 *   series log x - 1/(2x) - sum B_2k / (2k x^2k) (seven terms: below 3e-18 at x = 12). Near
 *   its positive root x0 = 1.4616..., where that sum cancels, a Taylor series about x0 keeps
 *   the relative accuracy: c_n = (-1)^(n+1) zeta(n + 1, x0), computed to 60 digits.
 * - tri_gamma, x > 0: the recurrence psi1(x) = psi1(x + 1) + 1/x^2 (all terms positive) and
 *   the series 1/x + 1/(2x^2) + sum B_2k / x^(2k+1).
 * - x < 0 (not an integer): the reflection formulas psi(x) = psi(1 - x) - pi / tan(pi r) and
 *   psi1(x) = pi^2 / sin^2(pi r) - psi1(1 - x), with r = x - rint(x) (exact, |r| <= 1/2), so
 *   that tan and sin see a small argument.
 * - erfinv, erfcinv: one core solving erf(t) = x for t >= 0 given both x and 1 - x exactly
 *   (erfcinv passes its argument as 1 - x, which keeps the tiny tails accurate): an initial
 *   guess within 0.2% (Winitzki's closed form) and three Halley steps on erf(t) - x, written
 *   as (1 - x) - erfc(t) in the tails; where 1 - x < 1e-300, Newton steps on
 *   log(erfc(t) / (1 - x)), since exp(-t^2) is no longer a normal number there.
 */
#ifndef EXPRC_SPECIAL_H
#define EXPRC_SPECIAL_H

#include <math.h>

#ifdef __CUDACC__
#define EXPRC_SPECIAL static __device__ __forceinline__
#define EXPRC_SPECIAL_TABLE static __device__ const
#else
#define EXPRC_SPECIAL static inline
#define EXPRC_SPECIAL_TABLE static const
#endif

#define EXPRC__SPECIAL_PI 3.141592653589793238462643383279502884
/* 2 / sqrt(pi): the derivative of erf at 0. */
#define EXPRC__TWO_OVER_SQRT_PI 1.128379167095512573896158903121545172

EXPRC_SPECIAL double exprc_gamma(double x) { return tgamma(x); }

EXPRC_SPECIAL double exprc_gammaln(double x)
{
#if defined(__GLIBC__) && !defined(__CUDACC__) && defined(_DEFAULT_SOURCE)
    /* lgamma stores the sign in the global signgam: the reentrant form is safe in threads.
     * glibc declares it only beyond strict ISO C (an exported program compiled with
     * -std=c99 uses lgamma). */
    int sign;
    return lgamma_r(x, &sign);
#else
    return lgamma(x);
#endif
}

/* psi's positive root, as hi + lo, and the Taylor coefficients of psi about it. */
#define EXPRC__PSI_ROOT_HI 0x1.762d86356be3fp+0
#define EXPRC__PSI_ROOT_LO 0x1.b86a722197829p-54
#define EXPRC__PSI_ROOT_TERMS 18
EXPRC_SPECIAL_TABLE double exprc__psi_root_coeffs[EXPRC__PSI_ROOT_TERMS] = {
    0.9676722454476212, -0.4427631689835921, 0.258499760955651, -0.16394270544240652,
    0.10782405069126237, -0.07219956125645471, 0.04880428816414311, -0.03316112647484736,
    0.022597648232218104, -0.01542476590494896, 0.010538791616612175, -0.007204534386356869,
    0.004926781395729853, -0.003369801655439328, 0.002305126326734928, -0.0015769367714301972,
    0.0010788252019162967, -0.0007380709389960052,
};

/* psi(x) for x > 0. */
EXPRC_SPECIAL double exprc__psi_positive(double x)
{
    double d = (x - EXPRC__PSI_ROOT_HI) - EXPRC__PSI_ROOT_LO;
    if (fabs(d) < 0.15) {
        double p = exprc__psi_root_coeffs[EXPRC__PSI_ROOT_TERMS - 1];
        for (int k = EXPRC__PSI_ROOT_TERMS - 2; k >= 0; --k) p = p * d + exprc__psi_root_coeffs[k];
        return p * d;
    }
    double shift = 0.0;
    while (x < 12.0) {
        shift -= 1.0 / x;
        x += 1.0;
    }
    double z = 1.0 / (x * x);
    /* B_2k / (2k) for k = 1..7, in Horner form in z. */
    double series = z * (1.0 / 12 - z * (1.0 / 120 - z * (1.0 / 252 - z * (1.0 / 240 - z * (
        1.0 / 132 - z * (691.0 / 32760 - z * (1.0 / 12)))))));
    return shift + (log(x) - 0.5 / x - series);
}

EXPRC_SPECIAL double exprc_psi(double x)
{
    if (isnan(x)) return x;
    if (x == 0.0) return copysign(INFINITY, -x);
    if (x > 0.0) return isinf(x) ? x : exprc__psi_positive(x);
    if (isinf(x) || x == rint(x)) return NAN;
    double r = x - rint(x);
    return exprc__psi_positive(1.0 - x) - EXPRC__SPECIAL_PI / tan(EXPRC__SPECIAL_PI * r);
}

/* trigamma(x) for x > 0. */
EXPRC_SPECIAL double exprc__tri_gamma_positive(double x)
{
    double shift = 0.0;
    while (x < 12.0) {
        shift += 1.0 / (x * x);
        x += 1.0;
    }
    double y = 1.0 / x, z = y * y;
    /* 1/x + 1/(2x^2) + sum over k = 1..7 of B_2k / x^(2k+1). */
    double series = y * (1.0 + y * 0.5 + z * (1.0 / 6 - z * (1.0 / 30 - z * (1.0 / 42 - z * (
        1.0 / 30 - z * (5.0 / 66 - z * (691.0 / 2730 - z * (7.0 / 6))))))));
    return shift + series;
}

EXPRC_SPECIAL double exprc_tri_gamma(double x)
{
    if (isnan(x)) return x;
    if (x > 0.0) return isinf(x) ? 0.0 : exprc__tri_gamma_positive(x);
    if (isinf(x)) return NAN;
    if (x == rint(x)) return INFINITY;
    double s = sin(EXPRC__SPECIAL_PI * (x - rint(x)));
    return EXPRC__SPECIAL_PI * EXPRC__SPECIAL_PI / (s * s) - exprc__tri_gamma_positive(1.0 - x);
}

/* The t >= 0 with erf(t) = x, given x in [0, 1) and omx = 1 - x, both exact. */
EXPRC_SPECIAL double exprc__erfinv_core(double x, double omx)
{
    /* Winitzki's approximation, within 0.2% everywhere, from w = -log(1 - x^2). */
    const double a = 0.147;
    double w = -log(omx * (2.0 - omx));
    double b = 2.0 / (EXPRC__SPECIAL_PI * a) - 0.5 * w;
    double t = sqrt(sqrt(b * b + w / a) - b);
    if (omx < 1e-300) {
        /* exp(-t^2) is subnormal here: Newton on g(t) = log(erfc(t) / omx), whose slope is
         * -(2t + 1/t) to a relative 1/(2t^4) < 1e-6, so each step gains six digits. */
        for (int i = 0; i < 3; ++i) {
            /* erfc(t) is 0 past t = 27.3: the smallest subnormal stands in for it there. */
            double e = fmax(erfc(t), 0x1p-1074);
            t += log(e / omx) / (2.0 * t + 1.0 / t);
        }
        return t;
    }
    for (int i = 0; i < 3; ++i) {
        /* Halley's method on f(t) = erf(t) - x: f'' = -2t f', so the step is f / (f' + t f). */
        double f = omx < 0.5 ? omx - erfc(t) : erf(t) - x;
        double slope = EXPRC__TWO_OVER_SQRT_PI * exp(-t * t);
        t -= f / (slope + t * f);
    }
    return t;
}

EXPRC_SPECIAL double exprc_erfinv(double x)
{
    if (isnan(x) || fabs(x) > 1.0) return NAN;
    if (fabs(x) == 1.0) return copysign(INFINITY, x);
    double t = exprc__erfinv_core(fabs(x), 1.0 - fabs(x));
    return copysign(t, x);
}

EXPRC_SPECIAL double exprc_erfcinv(double y)
{
    if (isnan(y) || y < 0.0 || y > 2.0) return NAN;
    if (y == 0.0) return INFINITY;
    if (y == 2.0) return -INFINITY;
    if (y <= 1.0) return exprc__erfinv_core(1.0 - y, y);
    return -exprc__erfinv_core(y - 1.0, 2.0 - y);
}

#endif /* EXPRC_SPECIAL_H */
