"""The special functions of the reference executor: gamma, gammaln, psi, tri_gamma, erfinv and
erfcinv on one Python float each.

They take the steps of ``csrc/exprc_special.h`` (whose comment explains the methods) in the
same order, so the reference and the C backend agree to a few ulp. ``gamma`` and ``gammaln``
call the C library's ``tgamma`` and ``lgamma``, as the C backend does: Python's own
``math.gamma`` and ``math.lgamma`` differ from them by up to 8 ulp, and ``math.lgamma`` by far
more near its roots (-2.457...).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math

__all__ = ["erfcinv", "erfinv", "gamma", "gammaln", "psi", "tri_gamma"]


def _libm_function(name: str, fallback):
    """The C library's ``double name(double)``, or ``fallback`` where none can be loaded."""
    for library in (ctypes.util.find_library("m"), None):
        try:
            function = getattr(ctypes.CDLL(library), name)
        except (OSError, AttributeError, TypeError):
            continue
        function.restype = ctypes.c_double
        function.argtypes = [ctypes.c_double]
        return function
    return fallback


def _math_gamma(x: float) -> float:
    try:
        return math.gamma(x)
    except ValueError:  # the poles: C99 gives +-inf at +-0 and NaN at the negative integers
        return math.copysign(math.inf, x) if x == 0 else math.nan
    except OverflowError:
        return math.inf


def _math_lgamma(x: float) -> float:
    try:
        return math.lgamma(x)
    except ValueError:  # the poles, where C99's lgamma is +inf
        return math.inf


gamma = _libm_function("tgamma", _math_gamma)
gammaln = _libm_function("lgamma", _math_lgamma)

_PSI_ROOT_HI = float.fromhex("0x1.762d86356be3fp+0")
_PSI_ROOT_LO = float.fromhex("0x1.b86a722197829p-54")
_PSI_ROOT_COEFFS = (
    0.9676722454476212, -0.4427631689835921, 0.258499760955651, -0.16394270544240652,
    0.10782405069126237, -0.07219956125645471, 0.04880428816414311, -0.03316112647484736,
    0.022597648232218104, -0.01542476590494896, 0.010538791616612175, -0.007204534386356869,
    0.004926781395729853, -0.003369801655439328, 0.002305126326734928, -0.0015769367714301972,
    0.0010788252019162967, -0.0007380709389960052,
)


def _psi_positive(x: float) -> float:
    d = (x - _PSI_ROOT_HI) - _PSI_ROOT_LO
    if abs(d) < 0.15:
        p = _PSI_ROOT_COEFFS[-1]
        for c in reversed(_PSI_ROOT_COEFFS[:-1]):
            p = p * d + c
        return p * d
    shift = 0.0
    while x < 12.0:
        shift -= 1.0 / x
        x += 1.0
    z = 1.0 / (x * x)
    series = z * (1.0 / 12 - z * (1.0 / 120 - z * (1.0 / 252 - z * (1.0 / 240 - z * (
        1.0 / 132 - z * (691.0 / 32760 - z * (1.0 / 12)))))))
    return shift + (math.log(x) - 0.5 / x - series)


def psi(x: float) -> float:
    """The digamma function."""
    if math.isnan(x):
        return x
    if x == 0.0:
        return math.copysign(math.inf, -x)
    if x > 0.0:
        return x if math.isinf(x) else _psi_positive(x)
    if math.isinf(x) or x == round(x):
        return math.nan
    r = x - round(x)  # round() ties to even, as C's rint
    return _psi_positive(1.0 - x) - math.pi / math.tan(math.pi * r)


def _tri_gamma_positive(x: float) -> float:
    shift = 0.0
    while x < 12.0:
        shift += 1.0 / (x * x)
        x += 1.0
    y = 1.0 / x
    z = y * y
    series = y * (1.0 + y * 0.5 + z * (1.0 / 6 - z * (1.0 / 30 - z * (1.0 / 42 - z * (
        1.0 / 30 - z * (5.0 / 66 - z * (691.0 / 2730 - z * (7.0 / 6))))))))
    return shift + series


def tri_gamma(x: float) -> float:
    """The trigamma function, the derivative of :func:`psi`."""
    if math.isnan(x):
        return x
    if x > 0.0:
        return 0.0 if math.isinf(x) else _tri_gamma_positive(x)
    if math.isinf(x):
        return math.nan
    if x == round(x):
        return math.inf
    s = math.sin(math.pi * (x - round(x)))
    return math.pi * math.pi / (s * s) - _tri_gamma_positive(1.0 - x)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SMALLEST_SUBNORMAL = 5e-324


def _erfinv_core(x: float, omx: float) -> float:
    a = 0.147
    w = -math.log(omx * (2.0 - omx))
    b = 2.0 / (math.pi * a) - 0.5 * w
    t = math.sqrt(math.sqrt(b * b + w / a) - b)
    if omx < 1e-300:
        for _ in range(3):
            e = max(math.erfc(t), _SMALLEST_SUBNORMAL)
            t += math.log(e / omx) / (2.0 * t + 1.0 / t)
        return t
    for _ in range(3):
        f = omx - math.erfc(t) if omx < 0.5 else math.erf(t) - x
        slope = _TWO_OVER_SQRT_PI * math.exp(-t * t)
        t -= f / (slope + t * f)
    return t


def erfinv(x: float) -> float:
    """The inverse of ``erf`` on [-1, 1] (NaN outside, +-inf at +-1)."""
    if math.isnan(x) or abs(x) > 1.0:
        return math.nan
    if abs(x) == 1.0:
        return math.copysign(math.inf, x)
    return math.copysign(_erfinv_core(abs(x), 1.0 - abs(x)), x)


def erfcinv(y: float) -> float:
    """The inverse of ``erfc`` on [0, 2] (NaN outside, +inf at 0, -inf at 2)."""
    if math.isnan(y) or y < 0.0 or y > 2.0:
        return math.nan
    if y == 0.0:
        return math.inf
    if y == 2.0:
        return -math.inf
    if y <= 1.0:
        return _erfinv_core(1.0 - y, y)
    return -_erfinv_core(y - 1.0, 2.0 - y)
