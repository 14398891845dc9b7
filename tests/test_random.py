"""RandomStreams and its counter-based generator: known answers, reproducibility across
functions, calls and backends, distributions, symbolic sizes, gradients and errors."""

import math

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.tensor.random import RandomBinomial, philox4x32
from exprc.tensor.shared_randomstreams import RandomStreams

MODES = ["REFERENCE", "FAST_RUN"]

# Random123's kat_vectors for philox4x32-10: counter (4 words), key (2 words), result.
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("counter,key,expected", KAT)
def test_philox_known_answers(counter, key, expected):
    np.testing.assert_array_equal(philox4x32(counter, key), np.array(expected, np.uint32))
    batch = philox4x32(np.array([counter, counter]), key)
    np.testing.assert_array_equal(batch[1], np.array(expected, np.uint32))


def test_compiled_words_follow_the_known_answers():
    """The C generator's first words under key 0 at counter 0 are the first known answer:
    a binomial with one trial per element and p = 2**-32 * w tells word w's value."""
    state = exprc.shared(np.zeros(6, np.uint32), shape=(6,))
    p = T.dvector("p")
    _, hits = RandomBinomial("int8")(state, [4], 1, p)
    f = exprc.function([p], hits, no_default_updates=True)
    words = np.array(KAT[0][2], dtype=np.float64)
    # Each trial succeeds iff word * 2**-32 < p: just above and just below each word.
    np.testing.assert_array_equal(f((words + 0.5) / 2 ** 32), np.ones(4, np.int8))
    np.testing.assert_array_equal(f((words - 0.5) / 2 ** 32), np.zeros(4, np.int8))


def _all_distributions(srng, dtype):
    """One sample of each kind, with broadcast parameters and sizes that fill several blocks
    (large enough for the multithreaded paths of the C runtime)."""
    low = T.vector("low", dtype=dtype)
    return [low], [
        srng.uniform((50, 401), low=low, high=3.0, dtype=dtype),
        srng.normal((3, 20001), avg=low[:3].dimshuffle(0, "x"), std=2.0, dtype=dtype),
        srng.binomial((7, 3001), n=3, p=0.25),
        srng.binomial((5, 20001), p=0.3, dtype=dtype),
        srng.binomial((9,), n=[1, 5, 0, 2, 9, 3, 3, 3, 3], p=0.5, dtype=dtype),
        srng.choice((5, 4), a=9),
        srng.choice((3,), a=9, replace=False),
        srng.choice((20,), a=4, p=[0.1, 0.0, 0.6, 0.3]),
        srng.choice((3,), a=5, replace=False, p=[0.1, 0.4, 0.0, 0.2, 0.3]),
        srng.permutation((2, 3), n=6, dtype="int32"),
    ]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_seed_same_bits_on_every_backend(dtype):
    low = np.linspace(-1, 1, 401).astype(dtype)
    results = {}
    for mode in MODES:
        srng = RandomStreams(seed=42)
        inputs, outputs = _all_distributions(srng, dtype)
        f = exprc.function(inputs, outputs, mode=mode)
        results[mode] = [f(low), f(low)]
    for call in range(2):
        for ref, fast in zip(results["REFERENCE"][call], results["FAST_RUN"][call]):
            assert ref.dtype == fast.dtype and ref.shape == fast.shape
            np.testing.assert_array_equal(ref, fast)


def test_two_functions_and_a_reseed_repeat_the_numbers():
    srng = RandomStreams(seed=7)
    u = srng.uniform((4,))
    f, g = exprc.function([], u), exprc.function([], u)
    first = f()
    assert not np.array_equal(first, f()), "successive calls must differ"
    assert not np.array_equal(first, g()), "functions share the stream's state"
    srng.seed(7)
    np.testing.assert_array_equal(g(), first)
    other = RandomStreams(seed=7)
    np.testing.assert_array_equal(exprc.function([], other.uniform((4,)))(), first)
    srng.seed(8)
    assert not np.array_equal(f(), first)


def test_ops_of_one_stream_differ_and_no_default_updates_freezes():
    srng = RandomStreams(seed=1)
    a, b = srng.uniform((6,)), srng.uniform((6,))
    f = exprc.function([], [a, b])
    x, y = f()
    assert not np.array_equal(x, y)
    frozen = exprc.function([], a, no_default_updates=True)
    np.testing.assert_array_equal(frozen(), frozen())


def test_explicit_state_updates_list():
    srng = RandomStreams(seed=3)
    u = srng.uniform((2,))
    f = exprc.function([], u, no_default_updates=True, updates=srng.updates())
    assert not np.array_equal(f(), f())


def _ks_statistic(sample, cdf):
    x = np.sort(np.asarray(sample, dtype=np.float64).ravel())
    n = len(x)
    c = cdf(x)
    return max(np.max(np.arange(1, n + 1) / n - c), np.max(c - np.arange(n) / n))


# The 0.1% critical value of the one-sample KS statistic is about 1.95 / sqrt(n).
KS_LIMIT = 1.95


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_uniform_and_normal_distributions(mode, dtype):
    srng = RandomStreams(seed=2024)
    n = 20000
    u = srng.uniform((n,), low=-2.0, high=3.0, dtype=dtype)
    z = srng.normal((n,), avg=1.0, std=2.0, dtype=dtype)
    a, b = exprc.function([], [u, z], mode=mode)()
    assert a.min() >= -2 and a.max() < 3
    # mean within 4 standard errors; variance likewise (var of s^2 ~ 2 sigma^4 / n normal)
    assert abs(a.mean() - 0.5) < 4 * math.sqrt(25 / 12 / n)
    assert abs(b.mean() - 1.0) < 4 * 2 / math.sqrt(n)
    assert abs(b.var() - 4.0) < 4 * math.sqrt(2 * 16 / n)
    assert _ks_statistic(a, lambda x: (x + 2) / 5) < KS_LIMIT / math.sqrt(n)
    normal_cdf = np.vectorize(lambda x: 0.5 * (1 + math.erf((x - 1) / (2 * math.sqrt(2)))))
    assert _ks_statistic(b, normal_cdf) < KS_LIMIT / math.sqrt(n)


def _chi_square(counts, expected):
    return float(((counts - expected) ** 2 / expected).sum())


# 0.1% critical values of chi-square by degrees of freedom.
CHI2_LIMIT = {3: 16.27, 5: 20.52, 23: 49.73}


@pytest.mark.parametrize("mode", MODES)
def test_discrete_distributions(mode):
    srng = RandomStreams(seed=99)
    b = srng.binomial((5000,), n=5, p=0.3)
    c = srng.choice((6000,), a=4, p=[0.1, 0.2, 0.3, 0.4])
    w = srng.choice((3000,), a=6)
    perms = srng.permutation((2400,), n=4)
    b, c, w, perms = exprc.function([], [b, c, w, perms], mode=mode)()
    assert abs(b.mean() - 1.5) < 4 * math.sqrt(5 * 0.3 * 0.7 / 5000)
    assert abs(b.var() - 1.05) < 0.1
    binom = np.array([math.comb(5, k) * 0.3 ** k * 0.7 ** (5 - k) for k in range(6)])
    counts = np.bincount(b, minlength=6)
    # Pool the rare 4 and 5 successes so every expected count is large.
    counts = np.append(counts[:4], counts[4:].sum())
    expected = 5000 * np.append(binom[:4], binom[4:].sum())
    assert _chi_square(counts, expected) < CHI2_LIMIT[3] + 4  # 4 degrees of freedom
    assert _chi_square(np.bincount(c, minlength=4), 600.0 * np.arange(1, 5)) < CHI2_LIMIT[3]
    assert _chi_square(np.bincount(w, minlength=6), np.full(6, 500.0)) < CHI2_LIMIT[5]
    codes = np.array([int("".join(map(str, p))) for p in perms])
    assert all(sorted(p) == [0, 1, 2, 3] for p in perms.tolist())
    _, counts = np.unique(codes, return_counts=True)
    assert len(counts) == 24 and _chi_square(counts, np.full(24, 100.0)) < CHI2_LIMIT[23]


@pytest.mark.parametrize("mode", MODES)
def test_choice_without_replacement(mode):
    srng = RandomStreams(seed=5)
    plain = srng.choice((2, 5), a=10, replace=False)
    weighted = srng.choice((3,), a=5, replace=False, p=np.array([0, 1, 1, 0, 1]) / 3)
    values = srng.choice((4,), a=np.array([10.0, 20.0, 30.0, 40.0]), replace=False)
    f = exprc.function([], [plain, weighted, values], mode=mode)
    firsts = []
    for _ in range(200):
        x, y, v = f()
        assert sorted(set(x.ravel().tolist())) == sorted(x.ravel().tolist())
        assert sorted(y.tolist()) == [1, 2, 4]
        assert sorted(v.tolist()) == [10.0, 20.0, 30.0, 40.0]
        firsts.append(int(x[0, 0]))
    assert len(set(firsts)) == 10


def test_weighted_choice_without_replacement_favours_heavy_items():
    """First picks of Efraimidis-Spirakis follow p; with p = (0.7, 0.2, 0.1)."""
    srng = RandomStreams(seed=11)
    pick = srng.choice((1,), a=3, replace=False, p=[0.7, 0.2, 0.1])
    f = exprc.function([], pick)
    counts = np.bincount([int(f()[0]) for _ in range(1500)], minlength=3)
    assert _chi_square(counts, 1500 * np.array([0.7, 0.2, 0.1])) < 13.8  # 2 dof, 0.1%


@pytest.mark.parametrize("mode", MODES)
def test_random_integers_cover_both_ends_with_broadcast_bounds(mode):
    srng = RandomStreams(seed=3)
    low = T.lvector("low")
    f = exprc.function([low], srng.random_integers((4000, 2), low=low, high=[2, 9],
                                                   dtype="int32"), mode=mode)
    sample = f(np.array([-1, 7]))
    assert sample.dtype == np.int32 and sample.shape == (4000, 2)
    for column, (lo, hi) in enumerate([(-1, 2), (7, 9)]):
        counts = np.bincount(sample[:, column] - lo, minlength=hi - lo + 1)
        assert len(counts) == hi - lo + 1  # nothing outside [lo, hi]
        expected = np.full(hi - lo + 1, 4000 / (hi - lo + 1))
        assert _chi_square(counts, expected) < 20  # p ~ 2e-4 at 3 degrees of freedom


@pytest.mark.parametrize("mode", MODES)
def test_symbolic_size_and_ndim(mode):
    srng = RandomStreams(seed=0)
    x = T.matrix("x")
    size = T.lvector("size")
    u = srng.uniform(x.shape)
    v = srng.normal(size, ndim=2)
    w = srng.uniform(low=T.zeros((3, 1)), high=T.ones((4,)))
    assert u.ndim == 2 and v.ndim == 2 and w.type.shape == (3, 4)
    a, b, c = exprc.function([x, size], [u, v, w], mode=mode)(np.ones((2, 5)), [3, 2])
    assert a.shape == (2, 5) and b.shape == (3, 2) and c.shape == (3, 4)
    with pytest.raises(exprc.errors.ExprcTypeError, match="ndim"):
        srng.normal(size)


def test_dropout_training_step_runs_natively():
    rng = np.random.default_rng(0)
    x = T.matrix("x", dtype="float32")
    w = exprc.shared(rng.normal(size=(6, 3)).astype("float32"), name="w")
    srng = RandomStreams(seed=123)
    mask = srng.binomial(x.shape, p=0.5, dtype=x.dtype)
    hidden = (x * mask).dot(w)
    cost = (hidden ** 2).mean()
    gw = exprc.grad(cost, w)
    data = rng.normal(size=(8, 6)).astype("float32")
    finals = {}
    for mode in MODES:
        w.set_value(np.ones((6, 3), np.float32))
        srng.seed(123)
        train = exprc.function([x], [cost, mask], updates=[(w, w - 0.1 * gw)], mode=mode)
        if mode == "FAST_RUN":
            assert all(where == "c" for _, where in train.placement())
        masks = [train(data)[1] for _ in range(3)]
        assert all(set(np.unique(m).tolist()) <= {0.0, 1.0} for m in masks)
        assert not np.array_equal(masks[0], masks[1])
        finals[mode] = (masks, w.get_value())
    for a, b in zip(finals["REFERENCE"][0], finals["FAST_RUN"][0]):
        np.testing.assert_array_equal(a, b)
    # Independently: the first update with the first mask.
    m = finals["REFERENCE"][0][0].astype(np.float64)
    h = (data * m) @ np.ones((6, 3))
    expected = 1 - 0.1 * ((data * m).T @ (2 * h / h.size))
    w.set_value(np.ones((6, 3), np.float32))
    srng.seed(123)
    exprc.function([x], cost, updates=[(w, w - 0.1 * gw)])(data)
    np.testing.assert_allclose(w.get_value(), expected, rtol=1e-5)


def test_reparameterised_gradients():
    srng = RandomStreams(seed=4)
    low, high = T.dvector("low"), T.dscalar("high")
    avg, std = T.dscalar("avg"), T.dvector("std")
    u = srng.uniform((3, 2), low=low, high=high, dtype="float64")
    z = srng.normal((3, 2), avg=avg, std=std, dtype="float64")
    grads = exprc.grad(u.sum() + z.sum(), [low, high, avg, std])
    f = exprc.function([low, high, avg, std], [u, z] + grads, no_default_updates=True)
    lo, hi, mu, sd = np.array([0.0, 1.0]), 5.0, 0.5, np.array([2.0, 3.0])
    uv, zv, g_low, g_high, g_avg, g_std = f(lo, hi, mu, sd)
    unit = (uv - lo) / (hi - lo)
    np.testing.assert_allclose(g_low, (1 - unit).sum(axis=0))
    np.testing.assert_allclose(g_high, unit.sum())
    assert g_avg == 6.0
    np.testing.assert_allclose(g_std, ((zv - mu) / sd).sum(axis=0))
    with pytest.raises(exprc.gradient.NullGradError, match="discrete"):
        p = T.dscalar("p")
        exprc.grad(srng.binomial((2,), p=p, dtype="float64").sum(), p)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("build,arg,message", [
    (lambda s, v: s.binomial((3,), p=v), 1.5, "p must lie in"),
    (lambda s, v: s.binomial((3,), n=v), -1, "n must be >= 0"),
    # Every trial is drawn, so a huge n would run for hours: refused instead.
    (lambda s, v: s.binomial((3,), n=v), 2 ** 40, "trials are too many"),
    (lambda s, v: s.choice((4,), a=v, replace=False), 3, "without replacement"),
    (lambda s, v: s.choice((2,), a=2, p=T.stack([v, v])), -1.0, "p must be finite"),
    (lambda s, v: s.uniform(T.stack([v, 2])), -2, "negative size"),
    (lambda s, v: s.permutation(n=v), -3, "n must be >= 0"),
    (lambda s, v: s.random_integers((3,), low=v, high=1), 5, "low must be <= high"),
    (lambda s, v: s.random_integers(T.stack([v, 2]), low=[[0, 2 ** 62]], high=[[4, 0]]), 1,
     "low must be <= high, got low = 4611686018427387904 > high = 0"),
    (lambda s, v: s.uniform((3,), low=v, high=1.0, dtype="float64"), 5.0,
     "high - low must be finite and >= 0, got low = 5, high = 1"),
    (lambda s, v: s.uniform((2, 3), low=T.stack([0.0, v]).dimshuffle(0, "x"), high=1.0,
                            dtype="float64"), 2.0, "high - low must be finite and >= 0"),
    (lambda s, v: s.uniform((3,), low=-1e308, high=v, dtype="float64"), 1e308,
     "high - low must be finite"),
    (lambda s, v: s.uniform((3,), low=0.0, high=v, dtype="float64"), float("nan"),
     "high - low must be finite"),
    (lambda s, v: s.normal((3,), std=v, dtype="float64"), -1.0, "std must be >= 0, got -1"),
    (lambda s, v: s.normal((2, 2), std=T.stack([1.0, v]), dtype="float64"), -0.5,
     "std must be >= 0, got -0.5"),
    (lambda s, v: s.choice((2,), a=3, p=T.stack([v, v, v])), 0.5, "p must sum to 1"),
    (lambda s, v: s.choice((2,), a=3, replace=False, p=T.stack([v, v, v])), 0.3,
     "p must sum to 1"),
])
def test_bad_arguments_raise_value_errors_naming_the_op(mode, build, arg, message):
    srng = RandomStreams(seed=0)
    dtype = "float64" if isinstance(arg, float) else "int64"
    v = T.scalar("v", dtype=dtype)
    f = exprc.function([v], build(srng, v), mode=mode)
    with pytest.raises(ValueError, match=message) as info:
        f(arg)
    assert "Random" in str(info.value)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("population", [2 ** 62, 2 ** 61 + 1])
def test_choice_from_a_population_too_large_for_memory_raises(mode, population):
    """A shuffle needs the population in memory: its byte size overflows 64 bits here (a
    wrapped malloc size once wrote past the buffer)."""
    srng = RandomStreams(seed=0)
    a = T.lscalar("a")
    f = exprc.function([a], srng.choice((1,), a=a, replace=False), mode=mode)
    with pytest.raises((ValueError, MemoryError)):
        f(population)
    assert f(5).shape == (1,) and 0 <= f(5)[0] < 5


def test_parameters_that_do_not_broadcast_to_the_size():
    srng = RandomStreams(seed=0)
    with pytest.raises(exprc.errors.ExprcShapeError, match="does not broadcast"):
        srng.uniform((3, 4), low=np.zeros(5))
    low = T.dvector("low")
    for mode in MODES:
        f = exprc.function([low], srng.uniform((3, 4), low=low, dtype="float64"), mode=mode)
        with pytest.raises(ValueError, match="does not broadcast"):
            f(np.zeros(5))


def test_seed_must_be_a_valid_integer():
    with pytest.raises(exprc.errors.ExprcTypeError, match="seed"):
        RandomStreams(seed=-1)
    assert RandomStreams().default_seed != RandomStreams().default_seed


# --------------------------------------------------------------------------- integer ranges
#: Ranges whose span high - low + 1 does not fit in int64 (up to 2**64), or only just.
WIDE_RANGES = [(-2 ** 62, 2 ** 62), (0, 2 ** 63 - 1), (-2 ** 63, 2 ** 63 - 1), (-2 ** 63, -1),
               (-2 ** 63, 0), (-1, 2 ** 63 - 1), (2 ** 63 - 2, 2 ** 63 - 1)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("low,high", WIDE_RANGES)
def test_random_integers_cover_ranges_as_wide_as_int64(mode, low, high):
    """The span was computed in int64 and then as a float: (-2**62, 2**62) always gave 2**62
    and (0, 2**63 - 1) gave -2**63. Draws are uniform over [low, high]: each quarter of the
    range holds a quarter of them (chi-square) and the extremes come close to the ends."""
    n = 4000
    srng = RandomStreams(seed=17)
    sample = exprc.function([], srng.random_integers((n,), low, high), mode=mode)()
    assert sample.dtype == np.int64
    values = [int(v) for v in sample]
    assert all(low <= v <= high for v in values)
    span = high - low + 1
    if span <= 4:
        counts = np.bincount([v - low for v in values], minlength=span)
        assert len(counts) == span and _chi_square(counts, np.full(span, n / span)) < 16.27
        return
    quarters = np.bincount([(v - low) * 4 // span for v in values], minlength=4)
    assert _chi_square(quarters, np.full(4, n / 4)) < CHI2_LIMIT[3]
    # The smallest of n uniform draws exceeds low + span * 10 / n with probability e**-10.
    assert min(values) - low < span * 10 // n and high - max(values) < span * 10 // n
    assert len(set(values)) == n  # spans of 2**62 and more: no repeats in practice


@pytest.mark.parametrize("mode", MODES)
def test_random_integers_of_the_whole_int64_range_fill_both_halves(mode):
    srng = RandomStreams(seed=23)
    low, high = T.lscalar("low"), T.lscalar("high")
    f = exprc.function([low, high], srng.random_integers((2000,), low, high), mode=mode)
    sample = f(-2 ** 63, 2 ** 63 - 1)
    negative = int((sample < 0).sum())
    assert abs(negative - 1000) < 4 * math.sqrt(500)  # 4 standard deviations
    np.testing.assert_array_equal(f(7, 7), np.full(2000, 7))
    np.testing.assert_array_equal(f(-2 ** 63, -2 ** 63), np.full(2000, -2 ** 63))


def test_random_integers_are_the_same_on_every_backend():
    low, high = T.lvector("low"), T.lvector("high")
    results = []
    for mode in MODES:
        srng = RandomStreams(seed=5)
        f = exprc.function([low, high], srng.random_integers((3, 4), low, high), mode=mode)
        results.append(f(np.array([-2 ** 63, -5, 0, 2 ** 40]),
                         np.array([2 ** 63 - 1, 5, 2 ** 63 - 1, 2 ** 40 + 1])))
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("mode", MODES)
def test_choice_probabilities_summing_to_one_within_tolerance_are_accepted(mode):
    """NumPy's rule: the sum may differ from 1 by sqrt(eps) of float64."""
    srng = RandomStreams(seed=8)
    p = T.dvector("p")
    f = exprc.function([p], srng.choice((200,), a=3, p=p), mode=mode)
    sample = f(np.array([0.2, 0.3, 0.5 + 1e-9]))
    assert set(sample.tolist()) <= {0, 1, 2}
    with pytest.raises(ValueError, match="p must sum to 1"):
        f(np.array([0.2, 0.3, 0.5 + 1e-7]))
    with pytest.raises(ValueError, match="p must sum to 1"):
        f(np.array([0.2, 0.3, 0.4]))
