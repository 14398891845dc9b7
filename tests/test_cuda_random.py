"""The random family on the CUDA backend (emulated device): the same Philox4x32-10 stream as
the C backend and the NumPy reference, so the same seed gives the same bits (floats included:
every transform rounds as the C runtime does) and the state advances the same way; parameters
on the device or constant, broadcast; empty samples; and the errors for parameters outside a
distribution's domain."""

from __future__ import annotations

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.tensor.random import (
    RandomBinomial,
    RandomChoice,
    RandomIntegers,
    RandomNormal,
    RandomPermutation,
    RandomUniform,
    advance,
)
from exprc.tensor.shared_randomstreams import RandomStreams
from tests.cuda_harness import cuda_function, have_compilers

pytestmark = pytest.mark.skipif(not have_compilers(), reason="no C++ compiler for the emulator")

RANDOM_OPS = ("RandomUniform", "RandomNormal", "RandomIntegers", "RandomBinomial",
              "RandomChoice", "RandomPermutation")


def _all_random_nodes_on_device(f) -> None:
    places = {where for what, where in f.placement() if any(n in what for n in RANDOM_OPS)}
    assert places == {"cuda"}, f.placement()


def _distributions(srng: RandomStreams, dtype: str):
    """One sample of each kind, with a parameter that is an input (on the device), broadcast
    parameters, and sizes that fill several blocks of threads."""
    low = T.vector("low", dtype=dtype)
    return [low], [
        srng.uniform((20, 41), low=low, high=3.0, dtype=dtype),
        srng.uniform((7,), dtype=dtype),
        srng.normal((3, 2001), avg=low[:3].dimshuffle(0, "x"), std=2.0, dtype=dtype),
        srng.normal((5,), std=low[4:9], dtype=dtype),  # odd: half a Box-Muller pair
        srng.binomial((7, 301), n=3, p=0.25),
        srng.binomial((5, 2001), p=0.3, dtype=dtype),
        srng.binomial((9,), n=[1, 5, 0, 2, 9, 3, 3, 3, 3], p=0.5, dtype=dtype),
        srng.binomial((4, 41), n=2, p=(low + 1) / 2),
        srng.random_integers((6, 7), low=-3, high=10),
        srng.random_integers((41,), low=-(2**62), high=T.cast(low * 100, "int64")),
        srng.choice((5, 4), a=9),
        srng.choice((3,), a=9, replace=False),
        srng.choice((20,), a=4, p=[0.1, 0.0, 0.6, 0.3]),
        srng.choice((3,), a=5, replace=False, p=[0.1, 0.4, 0.0, 0.2, 0.3]),
        srng.permutation((2, 3), n=6, dtype="int32"),
    ]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_seed_same_bits_as_the_c_backend(dtype):
    """Two calls (the second reads the state the first left on the device) give exactly what
    the C backend gives."""
    inputs, outputs = _distributions(RandomStreams(seed=42), dtype)
    f = cuda_function(inputs, outputs)
    _all_random_nodes_on_device(f)
    c_inputs, c_outputs = _distributions(RandomStreams(seed=42), dtype)
    g = exprc.function(c_inputs, c_outputs, mode="FAST_RUN")
    low = np.linspace(0.25, 1, 41).astype(dtype)
    for _ in range(2):
        for got, want in zip(f(low), g(low)):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)


def _state(counter: tuple[int, int, int, int]) -> np.ndarray:
    return np.array((0x243F6A88, 0x85A308D3) + counter, dtype=np.uint32)


def test_new_states_and_samples_of_explicit_states_match_the_reference():
    """Each op's new state is the counter advanced by the blocks it read (here across the
    carry out of the low 64 bits), and its sample is the reference's, bit for bit."""
    state = T.vector("state", dtype="uint32")
    lo = T.dmatrix("lo")
    hi = T.dmatrix("hi")
    n = T.lvector("n")
    nodes = [
        RandomUniform("float64")(state, [3, 5], lo, hi),
        RandomUniform("float32")(state, [13], np.float32(-1), np.float32(1)),
        RandomNormal("float64")(state, [3, 5], lo, T.abs(hi)),
        RandomNormal("float32")(state, [7], np.float32(0), np.float32(1)),
        RandomIntegers()(state, [9], np.int64(-(2**63)), np.int64(2**63 - 1)),
        RandomBinomial("int16")(state, [2, 3], n.dimshuffle("x", 0), 0.7),
        RandomChoice(replace=False)(state, [4], 6),
        RandomPermutation("uint8")(state, [2], 5),
    ]
    outputs = [v for node in nodes for v in node]
    f = cuda_function([state, lo, hi, n], outputs)
    _all_random_nodes_on_device(f)
    reference = exprc.function([state, lo, hi, n], outputs, mode="REFERENCE")
    rng = np.random.default_rng(3)
    low = rng.standard_normal((3, 5))
    args = [_state((0xFFFFFFFE, 0xFFFFFFFF, 7, 0)), low, low + rng.uniform(0, 2, (3, 5)),
            np.array([0, 4, 31])]
    got, want = f(*args), reference(*args)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape, k
        np.testing.assert_array_equal(g, w)
    # The new state of the first node, from the counter: 15 draws of two words each.
    np.testing.assert_array_equal(got[0], advance(args[0], 8))
    assert got[0][2:4].tolist() == [6, 0] and got[0][4] == 8  # the carry reached ctr2


def test_empty_samples_keep_the_state():
    state = T.vector("state", dtype="uint32")
    size = T.tensor(dtype="int64", shape=(2,), name="size")
    outputs = [*RandomUniform("float32")(state, size, np.float32(0), np.float32(1)),
               *RandomPermutation()(state, [3], 0), *RandomChoice()(state, [0], 0)]
    f = cuda_function([state, size], outputs)
    start = _state((5, 0, 0, 0))
    new, sample, perm_state, perm, choice_state, choice = f(start, np.array([4, 0]))
    assert sample.shape == (4, 0) and perm.shape == (3, 0) and choice.shape == (0,)
    for s in (new, perm_state, choice_state):
        np.testing.assert_array_equal(s, start)


def test_parameters_outside_the_domain_are_errors():
    """Checked on the host for constants, on the device (read back) for inputs."""
    x = T.dvector("x")
    srng = RandomStreams(seed=1)
    cases = [
        (srng.uniform((3,), low=x, high=0.0), "high - low must be finite and >= 0"),
        (srng.normal((3,), std=x - 2.5), "std must be >= 0"),
        (srng.random_integers((3,), low=T.cast(x, "int64"), high=0), "low must be <= high"),
        (srng.binomial((3,), n=2, p=x), "p must lie in"),
        (srng.uniform((2,), low=2.0, high=1.0) + x[:2], "high - low must be finite"),
        (srng.binomial((2,), n=-1, p=0.5) + x[:2], "n must be >= 0"),
        (srng.choice((2,), a=3, p=[0.5, 0.2, 0.2]) + x[:2], "p must sum to 1"),
        (srng.permutation((2,), n=T.cast(x[0], "int64") - 5)[0, 0] + x[0], "n must be >= 0"),
    ]
    for out, message in cases:
        f = cuda_function([x], out)
        _all_random_nodes_on_device(f)
        with pytest.raises(ValueError, match=message):
            f(np.array([1.0, 2.0, 3.0]))
    # The same parameters inside the domain are fine.
    ok = cuda_function([x], [srng.uniform((3,), low=-x, high=0.0), srng.normal((3,), std=x)])
    low_sample, normal_sample = ok(np.array([1.0, 2.0, 3.0]))
    assert np.all((low_sample >= [-1, -2, -3]) & (low_sample <= 0))
    assert np.all(np.isfinite(normal_sample))
