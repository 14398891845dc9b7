"""Theano 1.0's names of ``theano.tensor``, ``theano.tensor.extra_ops`` and
``theano.tensor.nnet`` resolve through ``exprc.compat.install_theano()`` and compute what
Theano computed (compared with NumPy)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures("theano_installed")


TENSOR_NAMES = """tril triu tri diag diagonal nonzero nonzero_values flatnonzero roll mgrid ogrid
allclose isclose gamma gammaln psi tri_gamma erfinv erfcinv choose ptp largest smallest
inverse_permutation bitwise_and bitwise_or bitwise_xor bitwise_not iround floor_div ceil_intdiv
round_half_to_even round_half_away_from_zero second as_tensor power get_vector_length
batched_tensordot searchsorted bincount unique compress fill_diagonal fill_diagonal_offset
ravel_multi_index unravel_index cumsum cumprod diff repeat tile sort argsort swapaxes clip
""".split()
EXTRA_OPS_NAMES = """bartlett bincount compress cpu_contiguous CpuContiguous cumprod cumsum diff
fill_diagonal fill_diagonal_offset ravel_multi_index repeat searchsorted SearchsortedOp squeeze
to_one_hot Unique unique unravel_index""".split()
NNET_NAMES = """softmax softmax_with_bias logsoftmax sigmoid relu elu softplus
crossentropy_softmax_1hot crossentropy_softmax_1hot_with_bias
crossentropy_softmax_argmax_1hot_with_bias crossentropy_categorical_1hot
categorical_crossentropy h_softmax conv2d conv3d conv2d_transpose images2neibs neibs2images
confusion_matrix""".split()


def test_names_resolve():
    import theano.tensor as T
    import theano.tensor.extra_ops as extra_ops
    import theano.tensor.nnet as nnet
    from theano.tensor.nnet import abstract_conv, neighbours
    from theano.tensor.nnet import nnet as nnet_module

    assert [n for n in TENSOR_NAMES if not hasattr(T, n)] == []
    assert [n for n in EXTRA_OPS_NAMES if not hasattr(extra_ops, n)] == []
    assert [n for n in NNET_NAMES if not hasattr(nnet, n)] == []
    assert neighbours.images2neibs is nnet.images2neibs
    assert nnet_module.softmax_with_bias is nnet.softmax_with_bias
    for name in ("AbstractConv2d", "AbstractConv2d_gradInputs", "AbstractConv2d_gradWeights",
                 "conv2d_grad_wrt_inputs", "conv2d_grad_wrt_weights", "conv3d"):
        assert hasattr(abstract_conv, name), name


def test_tensor_aliases_compute_what_theano_did():
    import theano
    import theano.tensor as T

    a, b = T.ivectors("a", "b")
    f = theano.function([a, b], [T.bitwise_and(a, b), T.bitwise_xor(a, b), T.bitwise_not(a),
                                 T.ceil_intdiv(a, b), T.floor_div(a, b)])
    av, bv = np.array([7, -7, 6], "int32"), np.array([2, 2, 3], "int32")
    got = f(av, bv)
    want = [av & bv, av ^ bv, ~av, -(-av // bv), av // bv]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    x = T.dvector("x")
    np.testing.assert_array_equal(T.iround(x).eval({x: [0.5, 1.5, -2.5]}), [0, 2, -2])
    assert T.iround(x).dtype == "int64"
    np.testing.assert_array_equal(T.round_half_away_from_zero(x).eval({x: [0.5, -2.5]}),
                                  [1.0, -3.0])
    assert T.get_vector_length(T.shape(T.dmatrix())) == 2
    with pytest.raises(ValueError, match="get_vector_length"):
        T.get_vector_length(x)


def test_batched_tensordot():
    import theano.tensor as T

    rng = np.random.default_rng(0)
    xv, yv = rng.normal(size=(3, 4, 2, 5)), rng.normal(size=(3, 5, 4, 6))
    x, y = T.dtensor4("x"), T.dtensor4("y")
    got = T.batched_tensordot(x, y, axes=[[1, 3], [2, 1]]).eval({x: xv, y: yv})
    np.testing.assert_allclose(got, np.einsum("bixk,bkiy->bxy", xv, yv))
    got = T.batched_tensordot(x, y, axes=1).eval({x: xv, y: yv})
    np.testing.assert_allclose(got, np.einsum("bijk,bkmn->bijmn", xv, yv))


def test_extra_ops_classes():
    import theano
    import theano.tensor as T
    from theano.tensor.extra_ops import SearchsortedOp, Unique, cpu_contiguous

    y = T.matrix()
    outs = Unique(True, True, False)(y)
    g = theano.function([y], outs)
    values, index, inverse = g(np.array([[1, 1, 1.0], [2, 3, 3.0]]))
    np.testing.assert_array_equal(values, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(index, [0, 3, 4])
    np.testing.assert_array_equal(inverse, [0, 0, 0, 1, 2, 2])  # flattened, as Theano's
    x = T.dvector()
    np.testing.assert_array_equal(SearchsortedOp("right")(x, [2.0]).eval({x: [1.0, 2.0, 3.0]}),
                                  [2])
    assert cpu_contiguous(x) is x


def test_nnet_confusion_matrix_and_crossentropy_categorical_1hot():
    import theano.tensor as T

    actual, pred = T.lvectors("actual", "pred")
    conf, order = T.nnet.confusion_matrix(actual, pred)
    av, pv = np.array([3, 1, 3, 7, 1]), np.array([3, 3, 1, 7, 1])
    labels = np.unique(np.concatenate([av, pv]))
    want = np.array([[np.sum((av == i) & (pv == j)) for j in labels] for i in labels])
    np.testing.assert_array_equal(conf.eval({actual: av, pred: pv}), want)
    np.testing.assert_array_equal(order.eval({actual: av, pred: pv}), labels)
    p = T.dmatrix("p")
    probs = np.array([[0.2, 0.8], [0.6, 0.4]])
    np.testing.assert_allclose(
        T.nnet.crossentropy_categorical_1hot(p, actual).eval({p: probs, actual: [1, 0]}),
        -np.log([0.8, 0.6]))


def test_abstract_conv_gradients_match_exprc_grad():
    import theano
    import theano.tensor as T
    from theano.tensor.nnet import abstract_conv

    rng = np.random.default_rng(1)
    xv, wv = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 2))
    x, w, g = T.dtensor4("x"), T.dtensor4("w"), T.dtensor4("g")
    params = {"border_mode": "half", "subsample": (2, 1)}
    y = T.nnet.conv2d(x, w, **params)
    gv = rng.normal(size=theano.function([x, w], y)(xv, wv).shape)
    gx, gw = theano.function([x, w, g], T.grad(T.sum(y * g), [x, w]))(xv, wv, gv)
    wrt_inputs = abstract_conv.conv2d_grad_wrt_inputs(g, w, (2, 3, 7, 6), **params)
    wrt_weights = abstract_conv.conv2d_grad_wrt_weights(x, g, (4, 3, 3, 2), **params)
    np.testing.assert_allclose(wrt_inputs.eval({g: gv, w: wv}), gx)
    np.testing.assert_allclose(wrt_weights.eval({g: gv, x: xv}), gw)
    op = abstract_conv.AbstractConv2d_gradInputs(imshp=(2, 3, 7, 6), kshp=(4, 3, 3, 2),
                                                 **params)
    np.testing.assert_allclose(op(w, g).eval({g: gv, w: wv}), gx)
    op = abstract_conv.AbstractConv2d_gradWeights(**params)
    np.testing.assert_allclose(op(x, g, (3, 2)).eval({g: gv, x: xv}), gw)
    forward = abstract_conv.AbstractConv2d(**params)(x, w)
    np.testing.assert_allclose(forward.eval({x: xv, w: wv}), y.eval({x: xv, w: wv}))
    with pytest.raises(NotImplementedError, match="unshared"):
        abstract_conv.AbstractConv2d_gradWeights(unshared=True)
    with pytest.raises(ValueError, match="shape"):
        abstract_conv.AbstractConv2d_gradWeights()(x, g)


def test_theano_doc_examples():
    import theano
    import theano.tensor as T
    from theano.tensor.nnet.neighbours import images2neibs, neibs2images

    t = T.arange(9).reshape((3, 3))
    np.testing.assert_array_equal(t[(t > 4).nonzero()].eval(), [5, 6, 7, 8])
    a = T.mgrid[0:5, 0:3]
    np.testing.assert_array_equal(a[0].eval(), np.mgrid[0:5, 0:3][0])
    b = T.ogrid[0:5, 0:3]
    np.testing.assert_array_equal(b[1].eval(), [[0, 1, 2]])
    np.testing.assert_array_equal(T.extra_ops.searchsorted([1, 2, 3, 4, 5], [-10, 10, 2, 3])
                                  .eval(), [0, 5, 1, 2])
    images = T.tensor4("images")
    neibs = images2neibs(images, neib_shape=(5, 5))
    im_val = np.arange(100.0).reshape((1, 1, 10, 10))
    neibs_val = theano.function([images], neibs)(im_val)
    assert neibs_val.shape == (4, 25)
    im_new = neibs2images(neibs, (5, 5), im_val.shape)
    np.testing.assert_array_equal(theano.function([images], im_new)(im_val), im_val)


def test_topk_advanced_indexing_and_divmod_names():
    import theano
    import theano.tensor as T
    x = T.dmatrix("x")
    values = np.random.default_rng(5).standard_normal((3, 6))
    top, where = theano.function([x], T.topk_and_argtopk(x, 3))(values)
    np.testing.assert_allclose(top, -np.sort(-values, axis=1)[:, :3])
    np.testing.assert_allclose(np.take_along_axis(values, where, axis=1), top)
    lowest = theano.function([x], T.topk(x, -2, axis=0))(values)
    np.testing.assert_allclose(lowest, np.sort(values, axis=0)[:2])
    rows = T.lvector("rows")
    added = theano.function([x, rows], T.advanced_inc_subtensor1(x, 1.0, rows))
    expected = np.zeros((3, 6))
    np.add.at(expected, [0, 0, 2], 1.0)
    np.testing.assert_allclose(added(np.zeros((3, 6)), [0, 0, 2]), expected)
    picked = theano.function([x, rows], T.advanced_subtensor1(x, rows))(values, [2, 0])
    np.testing.assert_allclose(picked, values[[2, 0]])
    a, b = T.lvector("a"), T.lvector("b")
    q, r = theano.function([a, b], T.divmod(a, b))([7, -7], [2, 2])
    np.testing.assert_array_equal([q, r], [[3, -4], [1, 1]])
    assert "float32" in T.float_dtypes and T.complex_dtypes == ()
    with pytest.raises(ValueError, match="kth"):
        T.topk(x, 0)
