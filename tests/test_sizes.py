"""Size arithmetic (``exprc.tensor.sizes``) and the size formulas written with it.

Each helper and each formula (``conv_output_size``, ``pooled_size``) is called with ints, with
None and with int64 scalar expressions; the ints are checked against Python's own arithmetic
or against counting the windows one by one, and the expressions, evaluated, against the ints.
"""

import itertools
import operator

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.graph.ir import Constant
from exprc.tensor import sizes as S
from exprc.tensor.nnet.conv import Conv2d, conv_output_size
from exprc.tensor.signal.pool import Pool, pooled_size
from tests.registry.cases_conv import _pads
from tests.registry.cases_pool import _windows_along

HELPERS = [(S.add, operator.add), (S.sub, operator.sub), (S.mul, operator.mul),
           (S.floordiv, operator.floordiv), (S.maximum, max), (S.minimum, min)]
OPERANDS = [-7, -3, -1, 0, 1, 2, 5, 9]


def _evaluate(outputs, inputs, values, mode="REFERENCE"):
    """The values of int64 scalar ``outputs`` for each tuple of ``values`` of ``inputs``."""
    f = exprc.function(inputs, outputs, mode=mode, on_unused_input="ignore")
    return [[int(v) for v in f(*args)] for args in values]


# --------------------------------------------------------------------------- the helpers
@pytest.mark.parametrize("helper, python", HELPERS, ids=lambda h: getattr(h, "__name__", ""))
def test_helpers_on_ints_are_python_arithmetic(helper, python):
    for a, b in itertools.product(OPERANDS, OPERANDS):
        if helper is S.floordiv and b == 0:
            continue
        result = helper(a, b)
        assert type(result) is int and result == python(a, b), (a, b)
    assert helper(np.int64(7), 2) == python(7, 2)


@pytest.mark.parametrize("helper, python", HELPERS, ids=lambda h: getattr(h, "__name__", ""))
def test_an_unknown_operand_makes_the_result_unknown(helper, python):
    a = T.lscalar("a")
    for known in (3, a, S.const(3)):
        assert helper(None, known) is None
        assert helper(known, None) is None
    assert helper(None, None) is None


@pytest.mark.parametrize("mode", ["REFERENCE", "FAST_RUN"])
@pytest.mark.parametrize("helper, python", HELPERS, ids=lambda h: getattr(h, "__name__", ""))
def test_helpers_on_expressions_evaluate_to_python_arithmetic(helper, python, mode):
    a, b = T.lscalar("a"), T.lscalar("b")
    divisors = [v for v in OPERANDS if v != 0]
    # Symbolic with symbolic, and each side with a Python int.
    outputs = [helper(a, b)] + [helper(a, k) for k in divisors] + [helper(k, b) for k in OPERANDS]
    assert all(o.dtype == "int64" and o.ndim == 0 for o in outputs)
    pairs = [(x, y) for x, y in itertools.product(OPERANDS, divisors)]
    for (x, y), got in zip(pairs, _evaluate(outputs, [a, b], pairs, mode)):
        expected = [python(x, y)] + [python(x, k) for k in divisors] + \
                   [python(k, y) for k in OPERANDS]
        assert got == expected, (x, y)


@pytest.mark.parametrize("helper, python", HELPERS, ids=lambda h: getattr(h, "__name__", ""))
def test_constant_operands_fold_to_a_constant(helper, python):
    for x, y in itertools.product(OPERANDS, [-2, 1, 3]):
        for a, b in ((S.const(x), S.const(y)), (S.const(x), y), (x, S.const(y))):
            result = helper(a, b)
            assert isinstance(result, Constant) and result.dtype == "int64"
            assert result.data == python(x, y), (x, y)


def test_identities_need_no_node():
    n = T.lscalar("n")
    size = T.matrix("x").shape[0]
    assert S.add(n, 0) is n and S.add(0, n) is n
    assert S.sub(n, 0) is n and S.sub(n, n).data == 0
    assert S.mul(n, 1) is n and S.mul(1, n) is n and S.mul(n, 0).data == 0
    assert S.floordiv(n, 1) is n
    assert S.maximum(n, n) is n and S.minimum(n, n) is n
    # max(size, 0) is the size; max(n, 0) of a scalar that may be negative is not.
    assert S.maximum(size, 0) is size and S.maximum(0, size) is size
    assert S.maximum(n, 0) is not n


def test_other_integer_scalars_become_int64():
    n = T.iscalar("n")
    result = S.add(n, 1)
    assert result.dtype == "int64"
    assert _evaluate([result], [n], [(np.int32(6),)]) == [[7]]
    assert S.as_size(5).data == 5 and S.as_size(S.const(5)).dtype == "int64"


def test_the_rewriting_helpers_are_the_tensor_ones():
    from exprc.rewriting.shape_rules import sizes as rewriting_sizes

    for name in ("add", "sub", "mul", "floordiv", "maximum", "minimum", "const", "as_size",
                 "value_of", "same_size", "known_nonnegative"):
        assert getattr(rewriting_sizes, name) is getattr(S, name), name


# --------------------------------------------------------------------------- conv sizes
CONV_PADS = ["valid", "full", "half", 0, 1, 3]
CONV_GRID = list(itertools.product(CONV_PADS, [1, 2, 3], [1, 2, 3]))  # pad, stride, dilation
CONV_SIZES = list(itertools.product(range(12), range(1, 6)))  # size, k


def _counted_conv_outputs(size, k, pad, stride, dilation):
    """Output positions i with the dilated filter at i * stride inside the padded input."""
    span = (k - 1) * dilation + 1
    padded = size + 2 * _pads(pad, (k, k), (dilation, dilation))[0]
    return sum(1 for i in range(padded + 1) if i * stride + span <= padded)


@pytest.mark.parametrize("pad, stride, dilation", CONV_GRID)
def test_conv_output_size_on_ints_counts_the_filter_positions(pad, stride, dilation):
    for size, k in CONV_SIZES:
        got = conv_output_size(size, k, pad, stride, dilation)
        counted = _counted_conv_outputs(size, k, pad, stride, dilation)
        assert type(got) is int
        # A filter larger than the padded input has no position: the formula says < 1.
        assert got == counted if counted else got < 1, (size, k)


def test_conv_output_size_with_an_unknown_operand_is_unknown():
    for pad, stride, dilation in CONV_GRID:
        assert conv_output_size(None, 3, pad, stride, dilation) is None
        assert conv_output_size(5, None, pad, stride, dilation) is None
        assert conv_output_size(None, T.lscalar(), pad, stride, dilation) is None


def test_conv_output_size_on_expressions_equals_the_ints():
    size, k = T.lscalar("size"), T.lscalar("k")
    outputs, params = [], []
    for pad, stride, dilation in CONV_GRID:
        outputs += [conv_output_size(size, k, pad, stride, dilation),
                    conv_output_size(size, 3, pad, stride, dilation),
                    conv_output_size(7, k, pad, stride, dilation)]
        params.append((pad, stride, dilation))
    for (n, kk), got in zip(CONV_SIZES, _evaluate(outputs, [size, k], CONV_SIZES)):
        expected = [conv_output_size(a, b, *p) for p in params
                    for a, b in ((n, kk), (n, 3), (7, kk))]
        assert got == expected, (n, kk)


def test_conv_output_size_of_constants_is_a_constant():
    for (pad, stride, dilation), (n, k) in itertools.product(CONV_GRID, [(0, 1), (9, 4)]):
        got = conv_output_size(S.const(n), S.const(k), pad, stride, dilation)
        assert isinstance(got, Constant)
        assert got.data == conv_output_size(n, k, pad, stride, dilation)


def test_conv_ops_give_the_same_sizes_in_every_kind():
    op = Conv2d((2, 1), (2, 3), filter_dilation=(1, 2))
    rows, cols = T.lscalar("rows"), T.lscalar("cols")
    ints = op.output_sizes((9, 8), (3, 2))
    assert op.output_sizes((None, 8), (3, None)) == [None, None]
    assert op.output_sizes((9, None), (3, 2)) == [ints[0], None]
    symbolic = op.output_sizes((rows, cols), (3, 2))
    assert _evaluate(symbolic, [rows, cols], [(9, 8)]) == [ints]


# --------------------------------------------------------------------------- pool sizes
POOL_GRID = [(ws, stride, pad, ignore_border)
             for ws, stride, pad, ignore_border in itertools.product(
                 range(1, 6), range(1, 7), range(4), [True, False])
             if pad < ws and (ignore_border or pad == 0)]
POOL_SIZES = range(16)


def _counted_windows(n, ws, stride, pad, ignore_border):
    """Windows counted one by one: with ``ignore_border``, each start i * stride whose window
    ends inside the padded axis; without, each start inside the axis as long as the windows
    before it left elements uncovered."""
    if ignore_border:
        return sum(1 for i in range(n + 2 * pad + 1) if i * stride + ws <= n + 2 * pad)
    return sum(1 for i in range(n + 1)
               if i * stride < n and (i == 0 or (i - 1) * stride + ws < n))


@pytest.mark.parametrize("ws, stride, pad, ignore_border", POOL_GRID)
def test_pooled_size_on_ints_counts_the_windows(ws, stride, pad, ignore_border):
    for n in POOL_SIZES:
        got = pooled_size(n, ws, stride, pad, ignore_border)
        assert type(got) is int
        # Theano's documented rule, and (but for an empty axis without ignore_border, which
        # Theano's rule gives one window when the windows overlap) the windows one by one.
        assert got == _windows_along(n, ws, stride, pad, ignore_border)[0], n
        if n or ignore_border:
            assert got == _counted_windows(n, ws, stride, pad, ignore_border), n
    assert pooled_size(None, ws, stride, pad, ignore_border) is None


def test_pooled_size_on_expressions_equals_the_ints():
    n = T.lscalar("n")
    outputs = [pooled_size(n, *params) for params in POOL_GRID]
    values = [(v,) for v in POOL_SIZES]
    for (v,), got in zip(values, _evaluate(outputs, [n], values)):
        assert got == [pooled_size(v, *params) for params in POOL_GRID], v


def test_pooled_size_of_constants_is_a_constant():
    for params, v in itertools.product(POOL_GRID, [0, 1, 7]):
        got = pooled_size(S.const(v), *params)
        assert isinstance(got, Constant) and got.data == pooled_size(v, *params)


def test_pool_ops_give_the_same_sizes_in_every_kind():
    op = Pool((3, 2), ignore_border=False, stride=(2, 1))
    rows, cols = T.lscalar("rows"), T.lscalar("cols")
    ints = op.output_sizes(7, 1)
    assert op.output_sizes(None, None) == (None, None)
    assert op.output_sizes(7, None) == (ints[0], None)
    symbolic = op.output_sizes(rows, cols)
    assert _evaluate(list(symbolic), [rows, cols], [(7, 1)]) == [list(ints)]
