"""exprc.nn.init: shapes, dtypes, ranges and statistics of every initializer, and Lasagne's
fan-in / fan-out rules, with a fixed seed."""

import numpy as np
import pytest

import exprc
from exprc.nn import init
from exprc.nn.random import get_rng, set_rng


@pytest.fixture(autouse=True)
def seeded():
    previous = get_rng()
    set_rng(np.random.RandomState(42))
    yield
    set_rng(previous)


def _check(sample, shape):
    assert sample.shape == shape
    assert sample.dtype == np.dtype(exprc.config.floatX)


def test_constant():
    sample = init.Constant(0.25)((3, 4))
    _check(sample, (3, 4))
    assert np.all(sample == 0.25)
    assert np.all(init.Constant()((5,)) == 0)


def test_normal():
    sample = init.Normal(std=0.5, mean=2.0)((200, 100))
    _check(sample, (200, 100))
    assert abs(sample.mean() - 2.0) < 0.01 and abs(sample.std() - 0.5) < 0.01
    assert abs(init.Normal()((200, 100)).std() - 0.01) < 0.0005   # Lasagne's default std


@pytest.mark.parametrize("kwargs, low, high", [
    ({}, -0.01, 0.01),
    ({"range": 0.3}, -0.3, 0.3),
    ({"range": (1.0, 3.0)}, 1.0, 3.0),
    ({"std": 2.0, "mean": 1.0}, 1.0 - 2.0 * np.sqrt(3), 1.0 + 2.0 * np.sqrt(3)),
])
def test_uniform(kwargs, low, high):
    sample = init.Uniform(**kwargs)((200, 100))
    _check(sample, (200, 100))
    assert sample.min() >= low and sample.max() <= high
    # The extremes of 20000 draws come within 0.1% of the interval's ends.
    width = high - low
    assert sample.min() < low + 1e-3 * width and sample.max() > high - 1e-3 * width
    assert abs(sample.std() - width / np.sqrt(12)) < 0.01 * width


def _glorot_std(shape, gain=1.0):
    fan_sum = (shape[0] + shape[1]) * int(np.prod(shape[2:]))
    return gain * np.sqrt(2.0 / fan_sum)


def _he_std(shape, gain=1.0):
    fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
    return gain * np.sqrt(1.0 / fan_in)


@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, "relu"])
def test_glorot_and_he_statistics(shape, gain):
    g = np.sqrt(2) if gain == "relu" else gain
    for cls, std, uniform in [(init.GlorotNormal, _glorot_std(shape, g), False),
                              (init.GlorotUniform, _glorot_std(shape, g), True),
                              (init.HeNormal, _he_std(shape, g), False),
                              (init.HeUniform, _he_std(shape, g), True)]:
        sample = cls(gain=gain)(shape)
        _check(sample, shape)
        assert abs(sample.std() - std) < 0.02 * std, cls
        assert abs(sample.mean()) < 0.02 * std, cls
        if uniform:
            assert np.abs(sample).max() <= np.sqrt(3) * std, cls


def test_glorot_he_c01b_fans():
    shape = (16, 3, 3, 32)     # (channels, rows, columns, filters)
    sample = init.GlorotNormal(c01b=True)(shape)
    assert abs(sample.std() - np.sqrt(2.0 / ((16 + 32) * 9))) < 0.03 * sample.std()
    sample = init.HeNormal(c01b=True)(shape)
    assert abs(sample.std() - np.sqrt(1.0 / (16 * 9))) < 0.03 * sample.std()
    with pytest.raises(RuntimeError, match="length 4"):
        init.GlorotUniform(c01b=True)((3, 3))
    with pytest.raises(RuntimeError, match=">= 2"):
        init.HeNormal()((5,))


@pytest.mark.parametrize("shape", [(20, 30), (30, 20), (8, 3, 2, 2)])
def test_orthogonal(shape):
    sample = init.Orthogonal(gain=2.0)(shape)
    _check(sample, shape)
    flat = sample.reshape(shape[0], -1) / 2.0
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-10)
    relu = init.Orthogonal("relu")((10, 10))
    np.testing.assert_allclose(relu @ relu.T, 2 * np.eye(10), atol=1e-10)
    with pytest.raises(RuntimeError):
        init.Orthogonal()((5,))


def test_sparse():
    sample = init.Sparse(sparsity=0.2, std=1.0)((50, 30))
    _check(sample, (50, 30))
    assert np.all((sample != 0).sum(axis=0) == 10)


def test_fixed_seed_reproduces():
    set_rng(np.random.RandomState(7))
    first = init.GlorotUniform()((4, 5))
    set_rng(np.random.RandomState(7))
    np.testing.assert_array_equal(init.GlorotUniform()((4, 5)), first)
