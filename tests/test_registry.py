"""Registry-driven tests: every op against NumPy, every gradient by finite differences, and
the completeness of the per-concern tables."""

import numpy as np
import pytest

import exprc
from exprc.gradient import verify_grad
from tests.registry import load_all

CASES = load_all()
GRAD_CASES = [c for c in CASES if c.grad is True]


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def run_case(case, mode, seed=0):
    symbols = case.symbols()
    outputs = _as_list(case.build(*symbols))
    f = exprc.function(symbols, outputs, mode=mode, on_unused_input="ignore")
    values = case.sample(seed)
    got = f(*values)
    expected = _as_list(case.reference(*[v.copy() for v in values]))
    return outputs, got, expected


@pytest.mark.parametrize("mode", ["REFERENCE", "FAST_RUN"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_forward(case, mode):
    """Every case equals NumPy in shape, dtype and values, without rewrites (the reference
    executor) and after the whole rewrite pipeline."""
    outputs, got, expected = run_case(case, mode)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        e = np.asarray(e)
        assert g.shape == e.shape, f"{case}: shape {g.shape} != NumPy's {e.shape}"
        assert g.dtype == e.dtype, f"{case}: dtype {g.dtype} != NumPy's {e.dtype}"
        if e.dtype.kind == "b":
            np.testing.assert_array_equal(g, e)
        else:
            np.testing.assert_allclose(g, e, rtol=case.rtol, atol=case.atol, equal_nan=True,
                                       err_msg=str(case))


@pytest.mark.parametrize("case", GRAD_CASES, ids=str)
def test_gradient(case):
    values = case.sample(1)
    wrt = [i for i, a in enumerate(case.args) if a.is_float and a.differentiable]
    assert wrt, f"{case} is marked differentiable but has no float input"

    def fun(*free):
        full = [exprc.tensor.constant(v) for v in values]
        for i, var in zip(wrt, free):
            full[i] = var
        out = case.build(*full)
        return out

    verify_grad(fun, [values[i].astype("float64") for i in wrt], rng=np.random.default_rng(2))
