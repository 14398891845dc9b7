"""Registry cases of random number generation (RandomStreams' counter-based generator).

Each case feeds a fixed state (key and counter) as an ordinary input and compares the new
state and the sample with NumPy: the words come from :func:`exprc.tensor.random.philox4x32`
(checked against Random123's known answers in tests/test_random.py) and the transforms are
written here again with NumPy's own functions (``np.log``, ``np.cos``), so float results agree
to rounding only.
"""

import math

import numpy as np

from exprc.tensor.random import (
    RandomBinomial,
    RandomChoice,
    RandomIntegers,
    RandomNormal,
    RandomPermutation,
    RandomUniform,
    philox4x32,
)
from tests.registry import Arg, Case, add

KEY = (0x243F6A88, 0x85A308D3)
#: A counter whose low 64 bits are about to wrap, so the carry into the high half is exercised.
COUNTER = (0xFFFFFFFE, 0xFFFFFFFF, 7, 0)


def _state_arg() -> Arg:
    return Arg((6,), "uint32", static=(6,), gen=lambda rng: np.array(KEY + COUNTER))


def _blocks(count: int) -> np.ndarray:
    """The first ``count`` blocks after COUNTER, as a (count, 4) uint32 array."""
    start = sum(c << (32 * i) for i, c in enumerate(COUNTER))
    ctrs = [[((start + b) >> (32 * i)) & 0xFFFFFFFF for i in range(4)] for b in range(count)]
    return philox4x32(np.array(ctrs, dtype=np.uint32).reshape(count, 4), KEY)


def _words(count: int) -> np.ndarray:
    return _blocks(-(-count // 4)).reshape(-1)[:count]


def _new_state(words: int) -> np.ndarray:
    value = sum(c << (32 * i) for i, c in enumerate(COUNTER)) + -(-words // 4)
    return np.array(KEY + tuple((value >> (32 * i)) & 0xFFFFFFFF for i in range(4)),
                    dtype=np.uint32)


def _u53(words: np.ndarray) -> np.ndarray:
    bits = (words[0::2].astype(np.uint64) >> np.uint64(5)) * np.uint64(1 << 26) \
        + (words[1::2].astype(np.uint64) >> np.uint64(6))
    return bits.astype(np.float64) / 2.0 ** 53


def np_uniform(size, dtype):
    def reference(state, low, high):
        n = math.prod(size)
        if dtype == "float32":
            words = _words(n)
            u = ((words >> np.uint32(8)).astype(np.float32) / np.float32(2 ** 24))
        else:
            words = _words(2 * n)
            u = _u53(words)
        return [_new_state(len(words)), low + (high - low) * u.reshape(size)]
    return reference


def np_normal(size, dtype):
    def reference(state, avg, std):
        pairs = -(-math.prod(size) // 2)
        if dtype == "float32":
            words = _words(2 * pairs).astype(np.float64)
            u1, u2 = (words[0::2] + 1) / 2.0 ** 32, words[1::2] / 2.0 ** 32
        else:
            words = _words(4 * pairs)
            u = _u53(words)
            u1, u2 = u[0::2] + 2.0 ** -53, u[1::2]
        r = np.sqrt(-2 * np.log(u1))
        z = np.column_stack([r * np.cos(2 * np.pi * u2), r * np.sin(2 * np.pi * u2)])
        z = z.reshape(-1)[:math.prod(size)].astype(dtype).reshape(size)
        return [_new_state(len(words)), avg + std * z]
    return reference


def np_integers(size):
    def reference(state, low, high):
        count = math.prod(size)
        words = _blocks(count).astype(object)  # Python integers: exact at any width
        r = words[:, 0] + words[:, 1] * 2 ** 32 + words[:, 2] * 2 ** 64 + words[:, 3] * 2 ** 96
        lo = np.broadcast_to(low, size).reshape(-1).astype(object)
        hi = np.broadcast_to(high, size).reshape(-1).astype(object)
        sample = lo + r * (hi - lo + 1) // 2 ** 128
        return [_new_state(4 * count), sample.astype(np.int64).reshape(size)]
    return reference


def np_binomial(size, dtype):
    def reference(state, n, p):
        count, trials = math.prod(size), int(n.max())
        u = _words(count * trials).reshape(count, trials) / 2.0 ** 32
        n, p = np.broadcast_to(n, size).reshape(-1, 1), np.broadcast_to(p, size).reshape(-1, 1)
        hits = ((u < p) & (np.arange(trials) < n)).sum(axis=1)
        return [_new_state(count * trials), hits.reshape(size).astype(dtype)]
    return reference


def np_choice_uniform(size):
    def reference(state, a):
        u = _u53(_words(2 * math.prod(size)))
        return [_new_state(2 * math.prod(size)), np.floor(u * a).astype(np.int64).reshape(size)]
    return reference


def np_choice_weighted(size):
    def reference(state, a, p):
        u = _u53(_words(2 * math.prod(size)))
        cdf = np.cumsum(p)
        picks = [int(np.argmax(cdf > t)) for t in u * cdf[-1]]
        return [_new_state(2 * len(u)), np.array(picks, dtype=np.int64).reshape(size)]
    return reference


def np_permutation(rows, n):
    def reference(state, length):
        u = _u53(_words(2 * rows * n)).reshape(rows, n)
        out = []
        for r in range(rows):
            perm = list(range(n))
            for i in range(n - 1):
                j = i + min(int(u[r, i] * (n - i)), n - i - 1)
                perm[i], perm[j] = perm[j], perm[i]
            out.append(perm)
        return [_new_state(2 * rows * n), np.array(out, dtype=np.int32)]
    return reference


def _op_case(name, op, size, reference, params, grad="a random sample", **kw):
    def build(state, *values):
        return op(state, size, *values)
    return Case(f"random/{name}", build, reference, [_state_arg(), *params], grad=grad, **kw)


def _sample_only(name, op, size, reference, params, **kw):
    """A case of the sample alone, whose gradient w.r.t. the parameters is checked."""
    def build(state, *values):
        return op(state, size, *values)[1]
    return Case(f"random/{name}", build, lambda *a: reference(*a)[1],
                [_state_arg(), *params], **kw)


add(
    _op_case("uniform/float64", RandomUniform("float64"), (3, 5), np_uniform((3, 5), "float64"),
             [Arg((1, 5)), Arg((), low=3, high=4)], rtol=1e-12),
    _op_case("uniform/float32", RandomUniform("float32"), (7,), np_uniform((7,), "float32"),
             [Arg((), "float32"), Arg((7,), "float32", low=3, high=4)], rtol=1e-6),
    _op_case("uniform/0d_and_empty", RandomUniform("float64"), (0, 2),
             np_uniform((0, 2), "float64"), [Arg(()), Arg(())]),
    _sample_only("uniform/grad", RandomUniform("float64"), (2, 3),
                 np_uniform((2, 3), "float64"), [Arg((3,)), Arg((2, 1), low=3, high=4)],
                 rtol=1e-12),
    _op_case("normal/float64", RandomNormal("float64"), (2, 3), np_normal((2, 3), "float64"),
             [Arg((3,)), Arg((), low=0.5, high=2)], rtol=1e-10, atol=1e-12),
    _op_case("normal/float32/odd", RandomNormal("float32"), (5,), np_normal((5,), "float32"),
             [Arg((), "float32"), Arg((), "float32", low=0.5, high=2)], rtol=1e-5, atol=1e-6),
    _sample_only("normal/grad", RandomNormal("float64"), (4,), np_normal((4,), "float64"),
                 [Arg((4,)), Arg((), low=0.5, high=2)], rtol=1e-10, atol=1e-12),
    _op_case("integers", RandomIntegers(), (3, 4), np_integers((3, 4)),
             [Arg((3, 1), "int64", low=-9, high=0), Arg((4,), "int64", low=0, high=9)]),
    _op_case("integers/whole_int64_range", RandomIntegers(), (5,), np_integers((5,)),
             [Arg((), "int64", gen=lambda rng: np.array(-2 ** 63)),
              Arg((), "int64", gen=lambda rng: np.array(2 ** 63 - 1))]),
    _op_case("binomial", RandomBinomial("int64"), (3, 4), np_binomial((3, 4), "int64"),
             [Arg((3, 1), "int64", low=0, high=6), Arg((4,), low=0, high=1)]),
    _op_case("binomial/float32_mask", RandomBinomial("float32"), (5,),
             np_binomial((5,), "float32"),
             [Arg((), "int64", gen=lambda rng: np.array(1)), Arg((), low=0.3, high=0.7)]),
    _op_case("choice/uniform", RandomChoice(True, False, "int64"), (2, 3),
             np_choice_uniform((2, 3)), [Arg((), "int64", gen=lambda rng: np.array(7))]),
    _op_case("choice/weighted", RandomChoice(True, True, "int64"), (6,),
             np_choice_weighted((6,)),
             [Arg((), "int64", gen=lambda rng: np.array(4)),
              Arg((4,), gen=lambda rng: (lambda w: w / w.sum())(rng.uniform(0.1, 1, 4)))]),
    _op_case("permutation", RandomPermutation("int32"), (3,), np_permutation(3, 5),
             [Arg((), "int64", gen=lambda rng: np.array(5))]),
)
