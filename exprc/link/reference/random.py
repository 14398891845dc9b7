"""Reference rules of random number generation (RandomStreams' counter-based generator).

Each rule reads the words of the Philox stream that its op documents
(:mod:`exprc.tensor.random`) and turns them into samples with the same floating-point
operations, in the same order, as ``csrc/exprc_random.c``: every backend gives the same bits.
``log``, ``cos`` and ``sin`` are therefore not NumPy's (whose SIMD versions may differ from the
C library in the last bit) but the polynomials below, evaluated with one rounding per operation
(the C side is compiled without contracting ``a * b + c`` into a fused multiply-add).
"""

from __future__ import annotations

import math

import numpy as np

from exprc.errors import ExprcShapeError
from exprc.link.reference.table import REFERENCE
from exprc.tensor.random import (
    P_SUM_TOLERANCE,
    RandomBinomial,
    RandomChoice,
    RandomIntegers,
    RandomNormal,
    RandomPermutation,
    RandomUniform,
    advance,
    stream_words,
    words_used,
)

# Written as hex literals, identical to the constants of csrc/exprc_random.c.
_LN2 = float.fromhex("0x1.62e42fefa39efp-1")
_SQRT_HALF = float.fromhex("0x1.6a09e667f3bcdp-1")
_HALF_PI = float.fromhex("0x1.921fb54442d18p+0")
#: 1 / (2k + 1) for k = 11 .. 0: the series of atanh, log(m) = 2 atanh((m - 1) / (m + 1)).
_LOG_COEFFS = [1.0 / (2 * k + 1) for k in range(11, -1, -1)]
#: (-1)^k / (2k + 1)! and (-1)^k / (2k)! for k = 11 .. 0: Taylor series of sin and cos.
_SIN_COEFFS = [(-1) ** k / math.factorial(2 * k + 1) for k in range(11, -1, -1)]
_COS_COEFFS = [(-1) ** k / math.factorial(2 * k) for k in range(11, -1, -1)]


def _horner(coeffs: list, x: np.ndarray) -> np.ndarray:
    acc = np.full_like(x, coeffs[0])
    for c in coeffs[1:]:
        acc = acc * x + c
    return acc


def portable_log(u: np.ndarray) -> np.ndarray:
    """``log(u)`` for positive finite float64 ``u``, within a few ulp, bit for bit as in C."""
    m, e = np.frexp(u)
    low = m < _SQRT_HALF
    m = np.where(low, m * 2.0, m)
    e = (e - low).astype(np.float64)
    s = (m - 1.0) / (m + 1.0)
    return e * _LN2 + (2.0 * s) * _horner(_LOG_COEFFS, s * s)


def portable_cos_sin(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``cos(2 pi u)`` and ``sin(2 pi u)`` for float64 ``u`` in [0, 1), bit for bit as in C:
    the quadrant comes exactly from ``4u``, the rest by Taylor series on [0, pi/2)."""
    quarter = u * 4.0
    q = np.floor(quarter)
    x = (quarter - q) * _HALF_PI
    x2 = x * x
    c = _horner(_COS_COEFFS, x2)
    s = x * _horner(_SIN_COEFFS, x2)
    q = q.astype(np.int64)
    cos = np.select([q == 0, q == 1, q == 2], [c, -s, -c], s)
    sin = np.select([q == 0, q == 1, q == 2], [s, c, -s], -c)
    return cos, sin


def uniform24(words: np.ndarray) -> np.ndarray:
    """float32 in [0, 1) from the top 24 bits of each word."""
    return ((words >> np.uint32(8)).astype(np.float64) * 2.0 ** -24).astype(np.float32)


def uniform53(words: np.ndarray) -> np.ndarray:
    """float64 in [0, 1) from pairs of words (27 bits of the first, 26 of the second)."""
    a = (words[0::2] >> np.uint32(5)).astype(np.float64)
    b = (words[1::2] >> np.uint32(6)).astype(np.float64)
    return (a * 67108864.0 + b) * 2.0 ** -53


def _sample_count(size: np.ndarray, op) -> tuple:
    shape = tuple(int(s) for s in size)
    if any(s < 0 for s in shape):
        raise ValueError(f"{op}: negative size in {shape}")
    return shape, math.prod(shape)


def _broadcast(op, name: str, value: np.ndarray, shape: tuple) -> np.ndarray:
    try:
        return np.broadcast_to(value, shape)
    except ValueError:
        raise ExprcShapeError(f"{op}: {name} of shape {value.shape} does not broadcast to the "
                              f"size {shape}") from None


def _check_state(op, state: np.ndarray) -> None:
    if state.shape != (6,):
        raise ValueError(f"{op}: the state must hold 6 words, got shape {state.shape}")


def _begin(op, state: np.ndarray, size: np.ndarray, **params: np.ndarray) -> tuple:
    """Check the state and the size; broadcast each parameter to the sample's shape (in
    keyword order, names for messages). Returns ``(shape, count, *params)``."""
    _check_state(op, state)
    shape, count = _sample_count(size, op)
    return (shape, count, *(_broadcast(op, k, v, shape) for k, v in params.items()))


def _first_bad(bad: np.ndarray, *values: np.ndarray) -> list | None:
    """The elements of ``values`` at the first position where ``bad`` holds, or None."""
    if not bad.any():
        return None
    at = np.unravel_index(int(np.argmax(bad)), bad.shape)
    return [v[at] for v in values]


@REFERENCE.register(RandomUniform)
def uniform(node, state, size, low, high):
    op = node.op
    shape, n, low, high = _begin(op, state, size, low=low, high=high)
    with np.errstate(all="ignore"):
        span = high - low
        bad = _first_bad(~(np.isfinite(span) & (span >= 0)), low, high)
    if bad is not None:
        raise ValueError(f"{op}: high - low must be finite and >= 0, got low = {bad[0]:g}, "
                         f"high = {bad[1]:g}")
    used = words_used(op, n)
    words = stream_words(state, used)
    u = uniform24(words) if op.dtype == "float32" else uniform53(words)
    sample = low + (high - low) * u.reshape(shape)
    return [advance(state, -(-used // 4)), sample.astype(op.dtype)]


def standard_normal(words: np.ndarray, n: int, dtype: str) -> np.ndarray:
    """``n`` standard normal values of ``dtype`` from the words :class:`RandomNormal` reads."""
    if dtype == "float32":
        u1 = (words[0::2].astype(np.float64) + 1.0) * 2.0 ** -32
        u2 = words[1::2].astype(np.float64) * 2.0 ** -32
    else:
        u = uniform53(words)
        u1, u2 = u[0::2] + 2.0 ** -53, u[1::2]
    r = np.sqrt(-2.0 * portable_log(u1))
    cos, sin = portable_cos_sin(u2)
    z = np.stack([r * cos, r * sin], axis=-1).reshape(-1)[:n]
    return z.astype(dtype)


@REFERENCE.register(RandomNormal)
def normal(node, state, size, avg, std):
    op = node.op
    shape, n, avg, std = _begin(op, state, size, avg=avg, std=std)
    with np.errstate(invalid="ignore"):
        bad = _first_bad(std < 0, std)
    if bad is not None:
        raise ValueError(f"{op}: std must be >= 0, got {bad[0]:g}")
    used = words_used(op, n)
    z = standard_normal(stream_words(state, used), n, op.dtype).reshape(shape)
    return [advance(state, -(-used // 4)), (avg + std * z).astype(op.dtype)]


@REFERENCE.register(RandomIntegers)
def integers(node, state, size, low, high):
    op = node.op
    shape, n, low, high = _begin(op, state, size, low=low, high=high)
    bad = _first_bad(low > high, low, high)
    if bad is not None:
        raise ValueError(f"{op}: low must be <= high, got low = {bad[0]} > high = {bad[1]}")
    # Python integers: the span reaches 2**64 and the product 2**192.
    w = stream_words(state, 4 * n).reshape(n, 4).astype(object)
    r = w[:, 0] + (w[:, 1] << 32) + (w[:, 2] << 64) + (w[:, 3] << 96)
    low, high = low.reshape(-1).astype(object), high.reshape(-1).astype(object)
    sample = low + ((r * (high - low + 1)) >> 128)
    return [advance(state, n), sample.astype(np.int64).reshape(shape)]


#: Most trials one binomial op draws in a call (csrc/exprc_random.c has the same bound).
BINOMIAL_MAX_WORDS = 1 << 27


@REFERENCE.register(RandomBinomial)
def binomial(node, state, size, n, p):
    op = node.op
    shape, count, n, p = _begin(op, state, size, n=n, p=p)
    n, p = n.reshape(-1), p.reshape(-1)
    if (n < 0).any():
        raise ValueError(f"{op}: n must be >= 0, got {int(n.min())}")
    if not ((p >= 0) & (p <= 1)).all():
        raise ValueError(f"{op}: p must lie in [0, 1], got {p[~((p >= 0) & (p <= 1))][0]}")
    trials = int(n.max()) if count else 0
    if count * trials > BINOMIAL_MAX_WORDS:  # every trial is drawn: the work grows with n
        raise ValueError(f"{op}: {count} samples of up to {trials} trials are too many (at most "
                         f"{BINOMIAL_MAX_WORDS} trials in all per call)")
    used = words_used(op, count, trials)
    u = stream_words(state, used).reshape(count, trials).astype(np.float64) * 2.0 ** -32
    success = (u < p[:, None]) & (np.arange(trials)[None, :] < n[:, None])
    sample = success.sum(axis=1).reshape(shape).astype(op.dtype)
    return [advance(state, -(-used // 4)), sample]


def _choice_check(op, a: int, k: int, p) -> None:
    if a < 0 or (a == 0 and k > 0):
        raise ValueError(f"{op}: a must be greater than 0 unless no samples are taken, "
                         f"got {a}")
    if p is not None:
        if p.shape != (a,):
            raise ValueError(f"{op}: p has {p.shape[0]} entries for a population of {a}")
        if not (np.isfinite(p) & (p >= 0)).all() or (k > 0 and not p.sum() > 0):
            raise ValueError(f"{op}: p must be finite, >= 0 and not all 0")
        total = float(np.cumsum(p)[-1]) if a else 1.0  # left to right, as in C
        if abs(total - 1.0) > P_SUM_TOLERANCE:
            raise ValueError(f"{op}: p must sum to 1, got a sum of {total!r}")
    available = a if p is None else int((p > 0).sum())
    if not op.replace and k > available:
        raise ValueError(f"{op}: cannot take {k} samples without replacement from "
                         f"{available} candidates")


def _fisher_yates(rows: int, n: int, k: int, u: np.ndarray) -> np.ndarray:
    """The first ``k`` entries of ``rows`` partial shuffles of ``range(n)``; step ``i`` of row
    ``r`` uses ``u[r, i]``."""
    perm = np.tile(np.arange(n, dtype=np.int64), (rows, 1))
    r = np.arange(rows)
    for i in range(min(k, n - 1)):
        j = i + np.minimum((u[:, i] * float(n - i)).astype(np.int64), n - i - 1)
        perm[r, i], perm[r, j] = perm[r, j], perm[r, i].copy()
    return perm[:, :k]


@REFERENCE.register(RandomChoice)
def choice(node, state, size, a, p=None):
    op = node.op
    _check_state(op, state)
    shape, k = _sample_count(size, op)
    a = int(a)
    _choice_check(op, a, k, p)
    used = words_used(op, k, a)
    u = uniform53(stream_words(state, used))
    if op.replace and p is None:
        index = np.minimum((u * float(a)).astype(np.int64), a - 1)
    elif op.replace:
        cdf = np.cumsum(p)
        index = np.searchsorted(cdf, u * cdf[-1], side="right")
        index = np.minimum(index, np.flatnonzero(p > 0)[-1] if k else 0)
    elif p is None:
        index = _fisher_yates(1, a, k, u[None, :])[0]
    else:
        with np.errstate(divide="ignore"):
            keys = np.where(p > 0, portable_log(u + 2.0 ** -53) / p, -np.inf)
        index = np.argsort(-keys, kind="stable")[:k]
    return [advance(state, -(-used // 4)), index.reshape(shape).astype(op.dtype)]


@REFERENCE.register(RandomPermutation)
def permutation(node, state, size, n):
    op = node.op
    _check_state(op, state)
    shape, rows = _sample_count(size, op)
    n = int(n)
    if n < 0:
        raise ValueError(f"{op}: n must be >= 0, got {n}")
    used = words_used(op, rows, n)
    u = uniform53(stream_words(state, used)).reshape(rows, n)
    perm = _fisher_yates(rows, n, n, u)
    return [advance(state, -(-used // 4)), perm.reshape(shape + (n,)).astype(op.dtype)]
