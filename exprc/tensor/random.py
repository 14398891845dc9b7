"""Random number generation with a counter-based generator, the ops behind ``RandomStreams``.

Every sample comes from Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1,
2, 3", SC 2011): a keyed bijection of 128-bit counters. The same key and counter give the same
128 bits on every backend, so a seed gives the same numbers in the NumPy reference, in C and
(later) in CUDA, whatever the number of threads.

A random op takes a *state* input, a uint32 vector of six words ``(key0, key1, ctr0, ctr1,
ctr2, ctr3)`` (``ctr0`` the least significant word of the 128-bit counter), and returns
``(new_state, sample)``. A call that uses ``B`` blocks of 128 bits reads the blocks at
counters ``ctr, ctr + 1, ..., ctr + B - 1`` and returns the state with the counter advanced by
``B``, so successive calls never reuse a counter. The 32-bit words of those blocks form one
stream, word ``w`` being word ``w % 4`` of block ``w // 4``; each op documents which words an
element reads (:func:`words_used`), and the NumPy reference (:mod:`exprc.link.reference.random`)
and the C runtime (``csrc/exprc_random.c``) read exactly the same ones.

The sample's shape is the ``size`` input (an integer vector of static length); the
distribution's parameters are padded with leading axes to the sample's rank when the node is
built and must broadcast to it. Parameters outside a distribution's domain (``high < low``,
a negative ``std``, probabilities that do not sum to 1, ...) raise a ``ValueError`` naming the
op and the parameter when the function runs, on every backend, as NumPy's generators do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.graph.ir import Apply, Op
from exprc.tensor.basic import _static_sizes
from exprc.tensor.elemwise import pad_left
from exprc.tensor.params import choice_param
from exprc.tensor.shape import as_shape_vector, format_shape, static_int_values
from exprc.tensor.type import FLOAT_DTYPES, INTEGER_DTYPES, TensorType
from exprc.tensor.variable import as_tensor_variable

__all__ = ["P_SUM_TOLERANCE", "STATE_TYPE", "RandomBinomial", "RandomChoice", "RandomIntegers",
           "RandomNormal", "RandomPermutation", "RandomUniform", "advance", "initial_state",
           "philox4x32", "stream_words", "words_used"]

#: The type of a random state: key (2 words) and 128-bit counter (4 words).
STATE_TYPE = TensorType("uint32", shape=(6,))

#: Output dtypes a binomial sample may have (counts are stored converted, as ``astype`` does).
NUMERIC_DTYPES = INTEGER_DTYPES + FLOAT_DTYPES

#: How far from 1 the probabilities of a weighted choice may sum (NumPy's ``sqrt(eps)`` of
#: float64, ``2**-26``); the sum is taken left to right in float64.
P_SUM_TOLERANCE = 2.0 ** -26

_MASK32 = 0xFFFFFFFF
# Philox4x32 multipliers and Weyl key increments (Random123's PHILOX_M4x32_* and PHILOX_W32_*).
_M0, _M1 = 0xD2511F53, 0xCD9E8D57
_W0, _W1 = 0x9E3779B9, 0xBB67AE85


# --------------------------------------------------------------------------- Philox in NumPy
def philox4x32(counters: Any, key: Any, rounds: int = 10) -> np.ndarray:
    """Philox4x32 of each row of ``counters`` under ``key``, in NumPy integer arithmetic.

    Parameters
    ----------
    counters : array-like of uint32, shape (n, 4) or (4,)
        128-bit counters, least significant word first.
    key : pair of ints
        The 64-bit key as two 32-bit words.
    rounds : int
        Number of rounds (10 for Philox4x32-10).

    Returns
    -------
    ndarray of uint32, the shape of ``counters``

    Examples
    --------
    >>> [hex(w) for w in philox4x32([0, 0, 0, 0], (0, 0))]
    ['0x6627e8d5', '0xe169c58d', '0xbc57ac4c', '0x9b00dbd8']
    """
    ctr = np.asarray(counters, dtype=np.uint32)
    c = [ctr[..., i].astype(np.uint64) for i in range(4)]
    k0, k1 = int(key[0]) & _MASK32, int(key[1]) & _MASK32
    for r in range(rounds):
        if r:
            k0, k1 = (k0 + _W0) & _MASK32, (k1 + _W1) & _MASK32
        p0 = c[0] * np.uint64(_M0)
        p1 = c[2] * np.uint64(_M1)
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ np.uint64(k0), p1 & np.uint64(_MASK32),
             (p0 >> np.uint64(32)) ^ c[3] ^ np.uint64(k1), p0 & np.uint64(_MASK32)]
    return np.stack([x.astype(np.uint32) for x in c], axis=-1)


def _counter_int(state: np.ndarray) -> int:
    return sum(int(state[2 + i]) << (32 * i) for i in range(4))


def _counter_words(value: int) -> list[int]:
    value %= 1 << 128
    return [(value >> (32 * i)) & _MASK32 for i in range(4)]


def advance(state: Any, blocks: int) -> np.ndarray:
    """``state`` with its 128-bit counter advanced by ``blocks`` (wrapping at 2**128)."""
    state = np.asarray(state, dtype=np.uint32)
    return np.array(list(state[:2]) + _counter_words(_counter_int(state) + int(blocks)),
                    dtype=np.uint32)


def stream_words(state: Any, count: int) -> np.ndarray:
    """The first ``count`` 32-bit words of the stream that ``state`` starts (see the module
    docstring), as a uint32 vector."""
    state = np.asarray(state, dtype=np.uint32)
    blocks = -(-int(count) // 4)
    if blocks == 0:
        return np.zeros(0, dtype=np.uint32)
    start = _counter_int(state)
    low = np.uint64(start & ((1 << 64) - 1)) + np.arange(blocks, dtype=np.uint64)
    # A carry out of the low 64 bits happens at most once in a call (blocks < 2**64).
    carry = (low < np.uint64(start & ((1 << 64) - 1))).astype(np.uint64)
    high = np.uint64(start >> 64) + carry
    counters = np.stack([low & np.uint64(_MASK32), low >> np.uint64(32),
                         high & np.uint64(_MASK32), high >> np.uint64(32)], axis=-1)
    return philox4x32(counters.astype(np.uint32), state[:2]).reshape(-1)[:count]


def initial_state(seed: int, stream: int) -> np.ndarray:
    """The state of stream number ``stream`` of a generator seeded with ``seed``: the key is
    the first 64 bits of Philox4x32-10 of counter ``(stream, 0, 0, 0)`` under the seed (so keys
    of different streams are unrelated), the counter is zero."""
    block = philox4x32([int(stream) & _MASK32, int(stream) >> 32, 0, 0],
                       (seed & _MASK32, seed >> 32))
    return np.array([block[0], block[1], 0, 0, 0, 0], dtype=np.uint32)


def words_used(op: Op, count: int, extra: int = 0) -> int:
    """How many stream words a node of ``op`` reads for a sample of ``count`` elements.

    ``extra`` is the op's run-time parameter that the count depends on: the largest ``n`` of a
    binomial, the population ``a`` of a weighted choice without replacement, the length ``n``
    of the permutations.
    """
    if isinstance(op, RandomUniform):
        return count * (1 if op.dtype == "float32" else 2)
    if isinstance(op, RandomIntegers):
        return 4 * count
    if isinstance(op, RandomNormal):
        return -(-count // 2) * (2 if op.dtype == "float32" else 4)
    if isinstance(op, RandomBinomial):
        return count * extra
    if isinstance(op, RandomChoice):
        return 2 * (extra if op.weighted and not op.replace else count)
    if isinstance(op, RandomPermutation):
        return 2 * count * extra
    raise TypeError(f"not a random op: {op}")


# --------------------------------------------------------------------------- the ops
class RandomOp(Op):
    """A random op: inputs ``(state, size, *parameters)``, outputs ``(new_state, sample)``."""

    abstract = True
    __props__ = ("dtype",)
    #: For each parameter: its name and the dtype it must have (None: the op's dtype).
    PARAMS: tuple = ()
    #: Dtypes the sample may have.
    DTYPES: tuple = FLOAT_DTYPES

    def __init__(self, dtype: str = "float64"):
        if dtype not in self.DTYPES:
            raise ExprcTypeError(f"{type(self).__name__}: dtype must be one of "
                                 f"{', '.join(self.DTYPES)}; got {dtype!r}")
        self.dtype = choice_param(type(self).__name__, "dtype", dtype, self.DTYPES)

    def make_node(self, state: Any, size: Any, *params: Any) -> Apply:
        state = _state_input(self, state)
        size = as_shape_vector(size, "size", self)
        if len(params) != len(self.PARAMS):
            raise build_error(ExprcTypeError, self, f"takes {len(self.PARAMS)} parameters "
                              f"({', '.join(n for n, _ in self.PARAMS)}), got {len(params)}")
        ndim = size.type.shape[0]
        shape = _static_sizes(size, self, "size")
        inputs = []
        for (name, dtype), value in zip(self.PARAMS, params):
            value = as_tensor_variable(value)
            want = dtype or self.dtype
            if value.dtype != want:
                raise build_error(ExprcTypeError, self, f"{name} {value} must be of dtype "
                                  f"{want}, got {value.type}")
            inputs.append(self._pad(name, value, ndim, shape))
        return Apply(self, [state, size, *inputs],
                     [state.type(), TensorType(self.dtype,
                                               shape=self.sample_shape(shape, inputs))()])

    def _pad(self, name: str, value: Any, ndim: int, shape: list) -> Any:
        if value.ndim > ndim:
            raise build_error(ExprcShapeError, self, f"{name} {value} of type {value.type} "
                              f"has more dimensions than the size ({ndim})")
        value = pad_left(value, ndim)
        for axis, (have, want) in enumerate(zip(value.type.shape, shape)):
            if None not in (have, want) and have not in (1, want):
                raise build_error(ExprcShapeError, self, f"{name} of static shape "
                                  f"{format_shape(value.type.shape)} does not broadcast to "
                                  f"the size {format_shape(shape)} (axis {axis})")
        return value

    def sample_shape(self, shape: list, params: list) -> tuple:
        """The static shape of the sample for a size whose static entries are ``shape``."""
        return tuple(shape)


def _state_input(op: Op, state: Any):
    state = as_tensor_variable(state)
    if state.dtype != "uint32" or state.ndim != 1 or state.type.shape[0] not in (None, 6):
        raise build_error(ExprcTypeError, op, f"the state {state} must be a uint32 vector of "
                          f"6 words (key, counter), got {state.type}")
    return state


class RandomUniform(RandomOp):
    """Uniform floats in ``[low, high)``: ``low + (high - low) * u``, with ``u`` from 24 bits
    (float32, one word per element) or 53 bits (float64, two words per element) of the
    stream. Rounding may give ``high`` itself when ``high - low`` is not a power of two.
    ``high - low`` (in the sample's dtype) must be finite and >= 0."""

    PARAMS = (("low", None), ("high", None))
    # The parameters are padded to the sample's rank when the node is built.
    gradient_in_output_shape = True


class RandomNormal(RandomOp):
    """Normal floats ``avg + std * z``, ``z`` by the Box-Muller transform.

    Pair ``j`` of elements ``(2j, 2j+1)`` reads words ``2j, 2j+1`` (float32: ``u1`` and ``u2``
    from 32 bits each) or ``4j..4j+3`` (float64: 53 bits each); ``r = sqrt(-2 log u1)`` with
    ``u1`` in (0, 1], and the elements are ``r cos(2 pi u2)``, ``r sin(2 pi u2)``. ``log``,
    ``cos`` and ``sin`` are polynomials evaluated in double precision with the same operations
    in NumPy and C (see ``csrc/exprc_random.c``), so every backend gives the same bits.
    ``std`` must be >= 0 (a NaN gives NaN samples, as in NumPy).
    """

    PARAMS = (("avg", None), ("std", None))
    gradient_in_output_shape = True  # parameters padded as in RandomUniform


class RandomIntegers(RandomOp):
    """Integers drawn uniformly from ``[low, high]``, both ends included, over the whole int64
    range (``low <= high`` required).

    Element ``i`` reads the block of words ``4i .. 4i+3`` as a 128-bit integer
    ``r = w0 + w1 2**32 + w2 2**64 + w3 2**96`` and is ``low + floor(r * span / 2**128)``,
    with ``span = high - low + 1`` (up to ``2**64``): unsigned 64-bit arithmetic in C, Python
    integers in the reference, exact in both. Each value is drawn by ``floor`` or ``ceil`` of
    ``2**128 / span`` values of ``r``, so its probability is ``1 / span`` within a relative
    ``2**-64``.
    """

    PARAMS = (("low", "int64"), ("high", "int64"))
    DTYPES = ("int64",)

    def __init__(self, dtype: str = "int64"):
        super().__init__(dtype)


class RandomBinomial(RandomOp):
    """Binomial counts: the number of successes among ``n`` Bernoulli trials of probability
    ``p``, counted exactly by drawing each trial (element ``i`` reads words ``i*N .. i*N+n_i``,
    ``N`` the largest ``n``; a trial succeeds when ``word * 2**-32 < p``). The cost is
    proportional to ``n``, which suits dropout masks and small counts."""

    PARAMS = (("n", "int64"), ("p", "float64"))
    DTYPES = NUMERIC_DTYPES


class RandomChoice(RandomOp):
    """Indices drawn from ``range(a)``, with or without replacement, uniformly or with
    probabilities ``p``, which must be finite, >= 0 and sum to 1 within
    :data:`P_SUM_TOLERANCE` (as NumPy requires; what remains is normalised away).

    - with replacement, uniform: ``floor(u * a)``, ``u`` from 53 bits (two words per element);
    - with replacement, weighted: the first index whose cumulative sum of ``p`` exceeds
      ``u * sum(p)`` (sums in double, left to right);
    - without replacement, uniform: the first ``k`` steps of a Fisher-Yates shuffle of
      ``range(a)``, step ``i`` swapping ``i`` with ``i + floor(u_i * (a - i))``;
    - without replacement, weighted (Efraimidis-Spirakis): each index gets the key
      ``log(u_i) / p_i`` (``u_i`` in (0, 1], two words per index), and the ``k`` largest keys
      give the sample in decreasing order (ties: the smaller index first).
    """

    __props__ = ("replace", "weighted", "dtype")
    DTYPES = INTEGER_DTYPES

    def __init__(self, replace: bool = True, weighted: bool = False, dtype: str = "int64"):
        super().__init__(dtype)
        self.replace = bool(replace)
        self.weighted = bool(weighted)
        self.PARAMS = (("a", "int64"),) + ((("p", "float64"),) if self.weighted else ())

    def _pad(self, name: str, value: Any, ndim: int, shape: list) -> Any:
        if name == "a" and value.ndim != 0:
            raise build_error(ExprcShapeError, self, f"a {value} must be a 0-d population "
                              f"size, got {value.type}")
        if name == "p" and value.ndim != 1:
            raise build_error(ExprcShapeError, self, f"p {value} must be a vector of "
                              f"probabilities, got {value.type}")
        return value


class RandomPermutation(RandomOp):
    """Permutations of ``range(n)``, one per element of ``size`` (the sample has shape
    ``size + (n,)``): each is a Fisher-Yates shuffle whose step ``i`` swaps ``i`` with
    ``i + floor(u * (n - i))``; permutation ``r`` reads words ``2*r*n .. 2*r*n + 2n``."""

    PARAMS = (("n", "int64"),)
    DTYPES = INTEGER_DTYPES

    def __init__(self, dtype: str = "int64"):
        super().__init__(dtype)

    def _pad(self, name: str, value: Any, ndim: int, shape: list) -> Any:
        if value.ndim != 0:
            raise build_error(ExprcShapeError, self, f"n {value} must be 0-d, got {value.type}")
        return value

    def sample_shape(self, shape: list, params: list) -> tuple:
        return tuple(shape) + tuple(static_int_values(params[0]))
