"""The softmax family of ``T.nnet``: values at extreme logits, errors, and the composed
categorical_crossentropy."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError, ExprcTypeError
from tests.registry.cases_softmax import np_logsoftmax, np_softmax

BIG = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]])


@pytest.mark.parametrize("mode", ["REFERENCE", "FAST_RUN"])
def test_softmax_and_logsoftmax_are_finite_for_huge_logits(mode):
    x = T.dmatrix("x")
    f = exprc.function([x], [T.nnet.softmax(x), T.nnet.logsoftmax(x)], mode=mode)
    sm, lsm = f(BIG)
    np.testing.assert_allclose(sm, np_softmax(BIG))
    np.testing.assert_allclose(lsm, np_logsoftmax(BIG))
    assert np.isfinite(lsm).all()


def test_softmax_of_rows_of_minus_inf_matches_numpy_division():
    x = np.array([[-np.inf, 0.0], [-np.inf, -np.inf]])
    got = T.nnet.softmax(x).eval()
    np.testing.assert_array_equal(got[0], [0.0, 1.0])
    assert np.isnan(got[1]).all()  # 0 / 0, as the unshifted formula


def test_fused_crossentropy_rejects_out_of_range_labels_naming_them():
    z, y = T.dmatrix("z"), T.lvector("y")
    f = exprc.function([z, y], T.nnet.crossentropy_softmax_int_labels(z, y))
    np.testing.assert_allclose(f(BIG, [0, -1]), [0.0, np.log(3.0)])
    with pytest.raises(IndexError, match="label 3 of row 1"):
        f(BIG, [0, 3])


def test_fused_crossentropy_checks_its_inputs():
    with pytest.raises(ExprcTypeError, match="integer vector"):
        T.nnet.crossentropy_softmax_int_labels(T.dmatrix(), T.dvector())
    with pytest.raises(ExprcShapeError, match="3 labels for 2 rows"):
        T.nnet.crossentropy_softmax_int_labels(T.tensor("float64", shape=(2, 4)),
                                               T.tensor("int64", shape=(3,)))
    with pytest.raises(ExprcTypeError, match="float32 or float64"):
        T.nnet.softmax(T.lmatrix())
    with pytest.raises(ExprcShapeError, match="axis 2 is out of range"):
        T.nnet.softmax(T.dmatrix(), axis=2)


def test_categorical_crossentropy_rejects_mismatched_ranks():
    with pytest.raises(ExprcTypeError, match="integer labels"):
        T.nnet.categorical_crossentropy(T.dmatrix(), T.dtensor3())
