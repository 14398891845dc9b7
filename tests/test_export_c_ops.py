"""Standalone C export of the construction, indexing, reduction, softmax, sort and extra ops.

Each test puts several ops into one function (one compile each, to keep the module fast),
exports it with :func:`exprc.export.c.to_c`, compiles it with ``-std=c99 -Wall -Wextra
-Werror`` and compares every output with the compiled exprc function's (float32 within 1e-5),
over strided and transposed inputs, negative axes and indices, several dtypes and NaNs. Run-time
index errors must stop the program with a non-zero status and the op's message.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import exprc
import exprc.export.c
import exprc.tensor as T
from exprc.export.c.program import EXPORT_C
from exprc.export.graph import ExportError, ExportGraph, prepare
from exprc.graph.ir import Apply
from exprc.tensor.basic import ARange
from exprc.tensor.extra_ops import CumOp, LinearRecurrence, RepeatSum
from exprc.tensor.selection import choose
from exprc.tensor.sort import permute
from exprc.tensor.type import TensorType
from tests.export_c_harness import have_compiler, run_exported

ARM32 = ("arm-linux-gnueabihf-gcc", "qemu-arm")

pytestmark = pytest.mark.skipif(not have_compiler(), reason="no C compiler")

RNG = np.random.default_rng(20261207)


def _normal(shape, dtype="float32"):
    return RNG.standard_normal(shape).astype(dtype)


def _compare(got, want, label):
    want = np.asarray(want)
    assert got.shape == want.shape, f"{label}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{label}: dtype {got.dtype} != {want.dtype}"
    if want.dtype.kind == "f":
        rtol = 1e-5 if want.dtype == np.float32 else 1e-10
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, equal_nan=True,
                                   err_msg=label)
    else:
        np.testing.assert_array_equal(got, want, err_msg=label)


def _check(f, inputs, directory, labels=None):
    """The exported program's outputs equal ``f``'s; returns them."""
    with np.errstate(all="ignore"):
        expected = f(*inputs)
    expected = expected if isinstance(expected, list) else [expected]
    got = run_exported(f, inputs, directory)
    assert len(got) == len(expected)
    for k, (g, w) in enumerate(zip(got, expected)):
        _compare(g, w, labels[k] if labels else f"output {k}")
    return got


# --------------------------------------------------------------------------- reductions
def test_reductions_over_axes_dtypes_and_nans(tmp_path):
    x = T.tensor("float32", shape=(None, None, None), name="x")
    d = T.matrix("d", dtype="float64")
    i8 = T.matrix("i8", dtype="int8")
    u8 = T.vector("u8", dtype="uint8")
    b = T.matrix("b", dtype="bool")
    xt = x.dimshuffle(2, 0, 1)  # a transposed view: no axis is contiguous in order
    outs = {
        "sum axis 0": x.sum(axis=0), "sum axis -1": x.sum(axis=-1),
        "sum (0, 2)": x.sum(axis=(0, 2)), "sum all": x.sum(),
        "sum transposed (1, 2)": xt.sum(axis=(1, 2)), "sum strided": x[:, ::2, ::-1].sum(axis=1),
        "prod axis 1": (x * 0.5 + 1).prod(axis=1), "max axis 1 (NaN)": x.max(axis=1),
        "min (0, 2) (NaN)": x.min(axis=(0, 2)), "max all": x.max(), "keepdims": x.max(
            axis=1, keepdims=True), "argmax axis 2": T.argmax(x, axis=2),
        "argmin (0, 1)": T.argmin(x, axis=(0, 1)), "argmax transposed": T.argmax(xt, axis=0),
        "argmax all": T.argmax(x), "mean float64": d.mean(axis=0), "sum float64 long": d.sum(),
        "int8 sum wraps to int64": i8.sum(axis=1), "int8 prod": i8.prod(axis=0),
        "uint8 sum": u8.sum(), "uint8 max": u8.max(), "int8 min": i8.min(axis=1),
        "mean of ints": i8.mean(), "sum acc float64": x.sum(axis=1, acc_dtype="float64"),
        "any": b.any(axis=0), "all": b.all(axis=1), "any of floats": T.any(x, axis=2),
        "sum of bools": b.sum(axis=1), "max of bools": b.max(axis=0),
        "argmax with ties": T.argmax(i8 // 64, axis=1), "argmin with ties": T.argmin(u8 // 50),
        "argmax of bools": T.argmax(b, axis=0),
    }
    f = exprc.function([x, d, i8, u8, b], list(outs.values()))
    xv = _normal((4, 6, 5))
    xv[1, 2, 3] = np.nan
    xv[3, 0, :] = np.nan
    xv[2, 4, 1] = np.inf
    inputs = [xv, RNG.standard_normal((3000, 3)) * 1e3,
              RNG.integers(-128, 128, (7, 9)).astype("int8"),
              RNG.integers(0, 256, 300).astype("uint8"), RNG.random((5, 4)) > 0.5]
    got = _check(f, inputs, tmp_path, list(outs))
    # Independent of exprc: NaN wins max and argmax (the first NaN), as in NumPy.
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(got[7], np.max(xv, axis=1))
    np.testing.assert_array_equal(got[11], np.argmax(xv, axis=2))
    np.testing.assert_array_equal(got[-3], np.argmax(inputs[2] // 64, axis=1))


def test_empty_reduced_axis_of_max_is_refused_with_the_reason(tmp_path):
    x = T.matrix("x", dtype="float32")
    f = exprc.function([x], x.max(axis=1))
    with pytest.raises(ExportError, match="max of an empty axis"):
        run_exported(f, [np.zeros((3, 0), "float32")], tmp_path)


# --------------------------------------------------------------------------- softmax
def test_softmax_logsoftmax_along_any_axis_and_crossentropy(tmp_path):
    x = T.tensor("float32", shape=(None, None, None), name="x")
    z = T.matrix("z", dtype="float64")
    labels = T.vector("labels", dtype="int32")
    outs = [T.nnet.softmax(x, axis=0), T.nnet.softmax(x, axis=1), T.nnet.softmax(x),
            T.nnet.logsoftmax(x, axis=-2), T.nnet.logsoftmax(x.dimshuffle(2, 1, 0), axis=0),
            T.nnet.softmax(z), T.nnet.logsoftmax(z, axis=0),
            T.nnet.crossentropy_softmax_int_labels(z, labels),
            T.nnet.crossentropy_softmax_int_labels(T.cast(z[:, ::-1], "float32"), labels),
            T.nnet.softmax(T.cast(z, "float32") * 1000.0, axis=0)]
    f = exprc.function([x, z, labels], outs)
    xv = _normal((3, 4, 5))
    xv[0, 1, 2] = np.inf  # an infinite maximum: NaN where exp(inf - inf) meets it
    xv[2, 3, :] = -np.inf
    xv[1, 0, 4] = np.nan
    zv = RNG.standard_normal((6, 4)) * 30
    got = _check(f, [xv, zv, np.array([0, 3, -1, -4, 2, 1], "int32")], tmp_path)
    # Independent of exprc: rows sum to one, and the loss is -log(softmax) at the label.
    np.testing.assert_allclose(got[5].sum(axis=1), 1.0, rtol=1e-12)
    reference = zv - zv.max(axis=1, keepdims=True)
    reference -= np.log(np.exp(reference).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(got[7], -reference[np.arange(6), [0, 3, 3, 0, 2, 1]],
                               rtol=1e-12)


# --------------------------------------------------------------------------- sort
def test_sort_argsort_permute_stable_with_nans_last(tmp_path):
    x = T.matrix("x", dtype="float32")
    i = T.matrix("i", dtype="int16")
    d = T.vector("d", dtype="float64")
    p = T.matrix("p", dtype="int64")
    outs = [T.sort(x), T.sort(x, axis=0), T.argsort(x), T.argsort(x.T, axis=1),
            T.sort(x, axis=None), T.argsort(x[::-1, 1:]), T.sort(i, axis=0),
            T.argsort(i), T.sort(d), T.argsort(d), permute(x, p, axis=1),
            permute(i.T, p.T, axis=0)]
    f = exprc.function([x, i, d, p], outs)
    xv = RNG.integers(-3, 4, (6, 40)).astype("float32")  # many ties: stability shows
    xv[RNG.random((6, 40)) < 0.1] = np.nan
    xv[2, :5] = np.inf
    iv = RNG.integers(-5, 5, (6, 40)).astype("int16")
    dv = RNG.standard_normal(1000)
    dv[::97] = np.nan
    pv = np.stack([RNG.permutation(40) for _ in range(6)])
    got = _check(f, [xv, iv, dv, pv], tmp_path)
    np.testing.assert_array_equal(got[2], np.argsort(xv, axis=1, kind="stable"))
    np.testing.assert_array_equal(got[9], np.argsort(dv, kind="stable"))


def test_permute_that_is_not_a_permutation_fails(tmp_path):
    x = T.vector("x", dtype="float32")
    p = T.vector("p", dtype="int32")
    f = exprc.function([x, p], permute(x, p, axis=0))
    with pytest.raises(RuntimeError, match=r"\(4\).*perm is not a permutation"):
        run_exported(f, [_normal(4), np.array([0, 1, 1, 3], "int32")], tmp_path)


# --------------------------------------------------------------------------- extra ops
def test_cumulative_repeats_one_hot_searchsorted_and_checks(tmp_path):
    x = T.matrix("x", dtype="float32")
    i = T.matrix("i", dtype="int32")
    y = T.vector("y", dtype="int64")
    s = T.vector("s", dtype="float32")
    v = T.matrix("v", dtype="float64")
    a = T.vector("a", dtype="int8")
    outs = [T.cumsum(x, axis=0), T.cumprod(x.T, axis=-1), T.cumsum(x), T.cumsum(i, axis=1),
            T.cumprod(a), CumOp(1, "add", reverse=True)(x), CumOp(0, "mul", reverse=True)(i),
            LinearRecurrence(1)(x, x.T[::-1].T), LinearRecurrence(0, reverse=True)(v, v),
            T.extra_ops.repeat(x, 3, axis=1), T.extra_ops.repeat(x, [2, 0, 1, 3], axis=0),
            T.extra_ops.repeat(a, 2), RepeatSum(0)(x, [2, 2, 0], [3, 5]),
            T.extra_ops.to_one_hot(y, 6), T.extra_ops.to_one_hot(y, 6, dtype="int32"),
            T.searchsorted(s, v), T.searchsorted(s, v, side="right"),
            T.searchsorted(s[::-1], x, sorter=T.argsort(s[::-1])),
            choose(y % 3, [y, y * 10, y * 100]), T.extra_ops.diff(x, n=2, axis=0)]
    f = exprc.function([x, i, y, s, v, a], outs)
    sv = np.sort(RNG.integers(-4, 5, 12).astype("float32"))
    sv[-2:] = np.nan  # NaNs sort last: searchsorted finds numbers before them
    vv = RNG.integers(-6, 7, (3, 5)).astype("float64")
    vv[0, 0] = np.nan
    _check(f, [_normal((4, 5)), RNG.integers(-9, 9, (4, 5)).astype("int32"),
               np.array([0, 5, 2, 2, 1], "int64"), sv, vv,
               np.array([3, -7, 100, 5, 2], "int8")], tmp_path)


def test_label_and_choice_out_of_range_fail_with_their_messages(tmp_path):
    y = T.vector("y", dtype="int64")
    f = exprc.function([y], T.extra_ops.to_one_hot(y, 3))
    with pytest.raises(RuntimeError, match=r"\(3\).*label is out of range for 3 classes"):
        run_exported(f, [np.array([0, 3], "int64")], tmp_path / "onehot")
    g = exprc.function([y], choose(y, [y, y * 2]))
    with pytest.raises(RuntimeError, match=r"\(4\).*choose: an entry of a is out of range"):
        run_exported(g, [np.array([0, 2], "int64")], tmp_path / "choose")


# --------------------------------------------------------------------------- basic
def test_join_split_alloc_eye(tmp_path):
    x = T.matrix("x", dtype="float32")
    n = T.matrix("n", dtype="int16")
    v = T.vector("v", dtype="float32")
    k = T.lscalar("k")
    halves = T.split(x, [2, 3], 2, axis=1)
    outs = [T.concatenate([x, x[::-1] * 2, x[:1]], axis=0),
            T.concatenate([x.T, n.T], axis=1),  # float32 with int16: float32
            T.stack([v, v + 1, v[::-1]], axis=1), halves[0], halves[1] * 3,
            T.alloc(v, 3, 4), T.alloc(v[0], 2, 3) + x[:2, :3], T.zeros_like(x) + v[:, None],
            T.tile(x[:2], (2, 3)), T.eye(4, 6, k) * x[0, 0],
            T.eye(5, 3, k, dtype="int8")]
    f = exprc.function([x, n, v, k], outs)
    inputs = [_normal((4, 5)), RNG.integers(-9, 9, (4, 5)).astype("int16"), _normal(4),
              np.array(-2, "int64")]
    _check(f, inputs, tmp_path / "a")
    inputs[3] = np.array(3, "int64")
    _check(f, inputs, tmp_path / "b")


def test_arange_with_bounds_read_at_run_time(tmp_path, monkeypatch):
    """The public API gives ARange a static length only when its bounds are constants (and
    the range is then computed at export). The rule still reads bounds at run time; it is
    checked here on a graph made by hand (the length static, the bounds inputs) against
    NumPy's values."""
    k, stop, step = (T.lscalar(name) for name in ("k", "stop", "step"))
    t, u = T.scalar("t", dtype="float32"), T.scalar("u", dtype="float64")
    by_k = Apply(ARange("int64"), [k, stop, step], [TensorType("int64", shape=(4,))()])
    floats = Apply(ARange("float32"), [t, u, t], [TensorType("float32", shape=(9,))()])
    inputs = [k, stop, step, t, u]
    graph = ExportGraph(inputs=inputs, outputs=[by_k.outputs[0], floats.outputs[0]],
                        input_names=["k", "stop", "step", "t", "u"],
                        output_names=["by_k", "floats"], nodes=[by_k, floats],
                        shapes={**{v: () for v in inputs}, by_k.outputs[0]: (4,),
                                floats.outputs[0]: (9,)}, values={})
    monkeypatch.setattr(exprc.export.c, "prepare", lambda *args, **kwargs: graph)
    f = exprc.function(inputs, [k + stop + step, t + u])  # stands in: prepare is replaced
    values = [np.array(v, "int64") for v in (7, -5, -3)] + [np.array(0.3, "float32"),
                                                           np.array(2.8)]
    got = run_exported(f, values, tmp_path)
    _compare(got[0], np.arange(7, -5, -3), "integer range")
    start = np.float32(0.3).item()
    _compare(got[1], np.arange(start, 2.8, start, dtype="float32"), "float32 range")


# --------------------------------------------------------------------------- indexing
def test_basic_indexing_views_and_run_time_indices(tmp_path):
    x = T.tensor("float32", shape=(None, None, None), name="x")
    m = T.matrix("m", dtype="int32")
    k = T.lscalar("k")
    j = T.scalar("j", dtype="uint8")
    outs = [x[1], x[-1, ::-2], x[:, None, 1:3, -1], x[..., 0], x[::2, ..., None],
            x[1:1], x.dimshuffle(2, 0, 1)[3:0:-1, 1], x[k], x[:, k, 1:], x[..., k],
            x.dimshuffle(2, 1, 0)[k, ::2], m[j], m[-1, k], x[k, j, ::-1] * 2]
    f = exprc.function([x, m, k, j], outs)
    inputs = [_normal((3, 4, 5)), RNG.integers(-9, 9, (6, 3)).astype("int32"),
              np.array(-2, "int64"), np.array(2, "uint8")]
    _check(f, inputs, tmp_path / "a")
    inputs[2] = np.array(1, "int64")
    _check(f, inputs, tmp_path / "b")


def test_set_and_inc_subtensor(tmp_path):
    x = T.matrix("x", dtype="float32")
    i = T.matrix("i", dtype="int64")
    y = T.vector("y", dtype="float32")
    k = T.lscalar("k")
    outs = [T.set_subtensor(x[1:3], y), T.inc_subtensor(x[:, ::-2], 1.5),
            T.set_subtensor(x[k], y), T.inc_subtensor(x[:, k], y[:4]),
            T.inc_subtensor(x.T[1:, k], y[1:5]), T.set_subtensor(x[k:k + 2, 1:], 7.0),
            T.inc_subtensor(i[-1, k], 2 ** 62), T.set_subtensor(i[1:, ::2], 3),
            T.inc_subtensor((x * 2)[0], y)]  # the last may overwrite x * 2 in place
    f = exprc.function([x, i, y, k], outs)
    inputs = [_normal((4, 5)), RNG.integers(2 ** 62, 2 ** 63 - 1, (4, 5)).astype("int64"),
              _normal(5), np.array(-3, "int64")]
    _check(f, inputs, tmp_path)


def test_advanced_indexing_reads_and_writes(tmp_path):
    x = T.tensor("float32", shape=(None, None, None), name="x")
    a = T.vector("a", dtype="int32")
    b = T.matrix("b", dtype="int64")
    y = T.vector("y", dtype="float32")
    c = T.vector("c", dtype="uint16")
    k = T.lscalar("k")
    mask = np.array([True, False, True, True])
    embedding = exprc.shared(_normal((7, 3)), name="embedding")
    outs = [x[a], x[:, a], x[b], x[a, :, a[::-1]], x[:, 1, a],  # separated: block first
            x[a, k], x[1:, c, ::-1], x[..., a[:2]], x[mask, 2], x.dimshuffle(1, 0, 2)[a, 1:],
            T.set_subtensor(x[a], 0.0), T.inc_subtensor(x[a, 2, 1], y[:5]),
            T.set_subtensor(x[a, 0], y[:5, None]),
            T.inc_subtensor(x[:, a, 0], 1.0, ignore_duplicates=True),
            T.inc_subtensor(x[b], 2.0), T.set_subtensor(x[x > 0], 0.0),
            T.inc_subtensor(x[1][x[1] > 0.5], y[:3]), T.set_subtensor(x[:, mask], -1.0),
            x[[0, -1, 2]], embedding[a], embedding[b].sum(axis=-1)]  # lookups in a weight
    f = exprc.function([x, a, b, y, c, k], outs)
    inputs = [_normal((4, 4, 5)), np.array([0, -1, 2, 0, 3], "int32"),
              np.array([[1, 1], [-4, 3]], "int64"), _normal(6), np.array([3, 0, 2], "uint16"),
              np.array(-1, "int64")]
    xv = inputs[0]
    xv[1] = [[0.9, -1, 0.7, -1, -1], [-1, -1, -1, 1.2, -1], [-1] * 5, [-1] * 5]
    got = _check(f, inputs, tmp_path)
    # Independent of exprc: repeated positions accumulate (np.add.at) unless told not to.
    expected = xv.copy()
    np.add.at(expected, (inputs[1], 2, 1), inputs[3][:5])
    np.testing.assert_allclose(got[11], expected, rtol=1e-6)


def test_index_out_of_range_stops_with_the_message(tmp_path):
    x = T.matrix("x", dtype="float32")
    k = T.lscalar("k")
    a = T.vector("a", dtype="int32")
    f = exprc.function([x, k], x[k] * 2)
    with pytest.raises(RuntimeError, match=r"\(3\).*index out of range for axis 0 of size 4"):
        run_exported(f, [_normal((4, 3)), np.array(-5, "int64")], tmp_path / "scalar")
    g = exprc.function([x, a], T.inc_subtensor(x[:, a], 1.0))
    with pytest.raises(RuntimeError, match=r"\(3\).*index out of range for axis 1 of size 3"):
        run_exported(g, [_normal((4, 3)), np.array([0, 3], "int32")], tmp_path / "array")
    labels = T.vector("labels", dtype="int64")
    h = exprc.function([x, labels], T.nnet.crossentropy_softmax_int_labels(x, labels))
    with pytest.raises(RuntimeError, match=r"\(3\).*label is out of range for 3 classes"):
        run_exported(h, [_normal((2, 3)), np.array([1, -4], "int64")], tmp_path / "labels")


# --------------------------------------------------------------------------- a small network
def _dense(x, W, b):
    """``x @ W + b`` as a broadcast product summed over the inner axis (exported by this
    module's rules alone, without the matrix product's)."""
    return (x.dimshuffle(0, 1, "x") * W.dimshuffle("x", 0, 1)).sum(axis=1) + b


def test_mlp_with_softmax_and_argmax(tmp_path):
    x = T.matrix("x", dtype="float32")
    y = T.vector("y", dtype="int64")
    W1 = exprc.shared(_normal((20, 16)) * 0.3, name="W1")
    b1 = exprc.shared(_normal(16) * 0.1, name="b1")
    W2 = exprc.shared(_normal((16, 10)) * 0.3, name="W2")
    b2 = exprc.shared(_normal(10) * 0.1, name="b2")
    hidden = T.maximum(_dense(x, W1, b1), 0)
    scores = _dense(hidden, W2, b2)
    probabilities = T.nnet.softmax(scores)
    loss = T.nnet.categorical_crossentropy(probabilities, y)
    f = exprc.function([x, y], [probabilities, T.argmax(probabilities, axis=1),
                                loss.mean(), T.max(probabilities, axis=1)])
    inputs = [_normal((8, 20)), RNG.integers(0, 10, 8).astype("int64")]
    got = _check(f, inputs, tmp_path)
    np.testing.assert_array_equal(got[1], np.argmax(got[0], axis=1))


def test_mlp_with_matrix_products(tmp_path):
    """The same network with ``dot``, when the products' rules are there."""
    x = T.matrix("x", dtype="float32")
    W = exprc.shared(_normal((12, 5)), name="W")
    b = exprc.shared(_normal(5), name="b")
    scores = T.dot(T.tanh(x), W) + b
    f = exprc.function([x], [T.nnet.softmax(scores), T.argmax(scores, axis=-1)])
    graph = prepare(f, [(6, 12)])
    missing = [str(n.op) for n in graph.nodes if EXPORT_C.find(n.op) is None]
    if missing:
        pytest.skip(f"no standalone C rule yet for {missing}")
    _check(f, [_normal((6, 12))], tmp_path)


# --------------------------------------------------------------------------- 32-bit targets
@pytest.mark.skipif(not all(shutil.which(tool) for tool in ARM32),
                    reason="needs arm-linux-gnueabihf-gcc and qemu-arm (apt-get install "
                           "gcc-arm-linux-gnueabihf qemu-user)")
def test_runs_on_32_bit_arm(tmp_path):
    """ptrdiff_t is 32 bits there: int64 indices, sizes and sums must still come out right."""
    x = T.matrix("x", dtype="float32")
    a = T.vector("a", dtype="int64")
    i = T.vector("i", dtype="int64")
    k = T.lscalar("k")
    outs = [x[k], x[:, a], T.inc_subtensor(x[a, 1], 1.0), T.sort(x, axis=0), T.argsort(i),
            i.sum(), T.cumsum(i), T.argmax(x, axis=1), T.nnet.softmax(x), x.sum(axis=0),
            T.searchsorted(T.sort(i), a), T.extra_ops.to_one_hot(a % 4, 4),
            T.set_subtensor(x[x > 0], 0.0)]
    f = exprc.function([x, a, i, k], outs)
    inputs = [_normal((5, 4)), np.array([3, -1, 0, 3], "int64"),
              np.array([2 ** 62, -2 ** 40, 2 ** 62, 7, -(2 ** 63)], "int64"),
              np.array(-5, "int64")]
    with np.errstate(all="ignore"):
        expected = f(*inputs)
    got = run_exported(f, inputs, tmp_path, cc=ARM32[0], extra_flags=("-static",),
                       runner=(ARM32[1],))
    for k, (g, w) in enumerate(zip(got, expected)):
        _compare(g, w, f"output {k}")
