"""The CUDA rules of the softmax family on the emulated device: Softmax and LogSoftmax over
every axis and layout (both kernels), the fused cross-entropy with labels checked on the host
and on the device, and the gradients of a classifier's loss against the reference executor.

Values are checked against NumPy formulas written here."""

from __future__ import annotations

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError
from tests.cuda_harness import cuda_function, have_compilers

pytestmark = pytest.mark.skipif(not have_compilers(), reason="no C++ compiler for the emulator")

RNG = np.random.default_rng(11)


def np_softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    e = np.exp(x - np.where(np.isinf(m), 0, m))
    return e / e.sum(axis=axis, keepdims=True)


def np_logsoftmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    shifted = x - np.where(np.isinf(m), 0, m)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_crossentropy(z, y):
    return -np_logsoftmax(z.astype(np.float64), 1)[np.arange(len(y)), y.astype(np.int64)]


def places(f, op_name: str) -> set[str]:
    """Where the nodes of op class ``op_name`` run."""
    return {where for description, where in f.placement()
            if description.split(": ", 1)[1].split("{")[0] == op_name}


def test_softmax_and_logsoftmax_every_axis_and_layout():
    x = T.matrix("x", dtype="float32")
    t = T.tensor3("t", dtype="float64")
    outs = [T.nnet.softmax(x), T.nnet.logsoftmax(x),              # rows kernel
            T.nnet.softmax(x, axis=0), T.nnet.logsoftmax(x, axis=0),  # columns kernel
            T.nnet.softmax(x.T),                                   # transposed input
            T.nnet.softmax(t, axis=1), T.nnet.logsoftmax(t, axis=0),
            T.nnet.softmax(t[:, ::2, ::-1], axis=-1),             # sliced, reversed
            T.nnet.logsoftmax(t.dimshuffle(2, 0, 1), axis=1)]
    f = cuda_function([x, t], outs)
    assert places(f, "Softmax") == {"cuda"} and places(f, "LogSoftmax") == {"cuda"}
    xv = RNG.standard_normal((7, 300)).astype("float32") * 5  # rows longer than a block
    tv = RNG.standard_normal((3, 5, 4))
    got = f(xv, tv)
    want = [np_softmax(xv), np_logsoftmax(xv), np_softmax(xv, 0), np_logsoftmax(xv, 0),
            np_softmax(xv.T), np_softmax(tv, 1), np_logsoftmax(tv, 0),
            np_softmax(tv[:, ::2, ::-1]), np_logsoftmax(tv.transpose(2, 0, 1), 1)]
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape, k
        np.testing.assert_allclose(g, w, rtol=2e-5 if g.dtype == np.float32 else 1e-12,
                                   atol=1e-7 if g.dtype == np.float32 else 1e-15,
                                   err_msg=f"output {k}")


def test_softmax_stability_and_special_values():
    x = T.matrix("x")
    f = cuda_function([x], [T.nnet.softmax(x), T.nnet.logsoftmax(x),
                            T.nnet.softmax(x, axis=0)])
    xv = np.array([[1000.0, 0.0, -1000.0],       # no overflow
                   [-np.inf, 0.0, 1.0],           # a zero probability, a -inf log
                   [np.inf, 0.0, 1.0],            # an infinite maximum is not shifted
                   [-np.inf, -np.inf, -np.inf],   # nothing to normalise: NaN
                   [np.nan, 0.0, 1.0]])
    with np.errstate(all="ignore"):
        want = [np_softmax(xv), np_logsoftmax(xv), np_softmax(xv, 0)]
    for g, w in zip(f(xv), want):
        np.testing.assert_allclose(g, w, rtol=1e-12, equal_nan=True)
    # The row of 1000 and -1000 is exactly one-hot in double precision.
    assert f(xv)[0][0, 0] == 1.0


def test_softmax_empty_axes():
    x = T.matrix("x", dtype="float32")
    f = cuda_function([x], [T.nnet.softmax(x), T.nnet.logsoftmax(x, axis=0)])
    for shape in [(0, 4), (3, 0)]:
        got = f(np.zeros(shape, "float32"))
        assert [g.shape for g in got] == [shape, shape]


def test_crossentropy_labels_on_the_host():
    z32 = T.matrix("z32", dtype="float32")
    z64 = T.matrix("z64")
    y32 = T.ivector("y32")
    y8 = T.vector("y8", dtype="uint8")
    y64 = T.lvector("y64")
    outs = [T.nnet.crossentropy_softmax_int_labels(z32, y32),
            T.nnet.crossentropy_softmax_int_labels(z64, y8),
            T.nnet.crossentropy_softmax_int_labels(z64.T[:, ::-1], y64),  # strided logits
            T.nnet.crossentropy_softmax_int_labels(z64, y64)]
    f = cuda_function([z32, z64, y32, y8, y64], outs)
    assert places(f, "CrossentropySoftmaxIntLabels") == {"cuda"}
    z32v = (RNG.standard_normal((6, 40)) * 30).astype("float32")
    z64v = RNG.standard_normal((5, 5)) * 300
    y32v = RNG.integers(-40, 40, 6).astype("int32")  # negative labels count from the end
    y8v = RNG.integers(0, 5, 5).astype("uint8")
    y64v = np.array([0, -1, 4, -5, 2])
    got = f(z32v, z64v, y32v, y8v, y64v)
    np.testing.assert_allclose(got[0], np_crossentropy(z32v, y32v), rtol=3e-5, atol=1e-6)
    assert got[0].dtype == np.float32
    np.testing.assert_allclose(got[1], np_crossentropy(z64v, y8v), rtol=1e-12)
    np.testing.assert_allclose(got[2], np_crossentropy(z64v.T[:, ::-1], y64v), rtol=1e-12)
    np.testing.assert_allclose(got[3], np_crossentropy(z64v, y64v), rtol=1e-12)

    bad = y64v.copy()
    bad[3] = 5
    with pytest.raises(IndexError, match=r"CrossentropySoftmaxIntLabels.*label 5 of row 3 "
                                         r"is out of range for 5 classes"):
        f(z32v, z64v, y32v, y8v, bad)
    with pytest.raises(ExprcShapeError, match="4 labels for 5 rows"):
        f(z32v, z64v, y32v, y8v, y64v[:4])


def test_crossentropy_labels_on_the_device_and_empty_inputs():
    z = T.matrix("z")
    w = T.matrix("w")
    labels = T.cast(w[:, 0], "int64")  # computed on the device
    f = cuda_function([z, w], T.nnet.crossentropy_softmax_int_labels(z, labels))
    assert places(f, "CrossentropySoftmaxIntLabels") == {"cuda"}
    assert places(f, "Elemwise") == {"cuda"}
    zv = RNG.standard_normal((4, 3))
    yv = np.array([2, 0, -3, 1])
    wv = np.stack([yv.astype(float), np.zeros(4)], axis=1)
    np.testing.assert_allclose(f(zv, wv), np_crossentropy(zv, yv), rtol=1e-12)
    wv[2, 0] = -4
    with pytest.raises(IndexError, match="label -4 of row 2 is out of range for 3 classes"):
        f(zv, wv)
    assert f(np.zeros((0, 3)), np.zeros((0, 2))).shape == (0,)
    with pytest.raises(IndexError, match="out of range for 0 classes"):
        f(np.zeros((2, 0)), np.zeros((2, 2)))


def test_classifier_gradients_match_the_reference():
    """The loss of a softmax classifier and its gradients (Softmax, the fused cross-entropy,
    AdvancedIncSubtensor over [arange(n), labels]) on the device and in the reference."""
    x = T.matrix("x", dtype="float32")
    y = T.ivector("y")
    W = T.matrix("W", dtype="float32")
    b = T.vector("b", dtype="float32")
    p = T.nnet.softmax(T.dot(x, W) + b)
    loss = T.nnet.categorical_crossentropy(p, y).mean()
    logsoftmax_term = T.nnet.logsoftmax(x, axis=0)[1:, 2].sum()
    outs = [loss, *exprc.grad(loss, [W, b]), exprc.grad(logsoftmax_term, x)]
    f = cuda_function([x, y, W, b], outs)
    for op_name in ("CrossentropySoftmaxIntLabels", "Softmax", "AdvancedIncSubtensor"):
        assert places(f, op_name) == {"cuda"}, op_name
    reference = exprc.function([x, y, W, b], outs, mode="REFERENCE")
    values = [RNG.standard_normal((9, 6)).astype("float32"),
              RNG.integers(0, 4, 9).astype("int32"),
              RNG.standard_normal((6, 4)).astype("float32"),
              RNG.standard_normal(4).astype("float32")]
    for g, r in zip(f(*values), reference(*values)):
        assert g.dtype == r.dtype and g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=2e-5, atol=1e-6)
