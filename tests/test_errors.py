"""Errors point at the user's code and name the culprit."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError, ExprcTypeError

THIS_FILE = __file__.rsplit("/", 1)[-1]


def test_broadcast_error_names_op_inputs_shapes_and_user_line():
    a = T.TensorType("float64", shape=(3, 4))("a")
    b = T.TensorType("float64", shape=(5,))("b")
    with pytest.raises(ExprcShapeError) as info:
        a + b
    message = str(info.value)
    assert "Elemwise{add}" in message
    assert "(3, 4)" in message and "(5,)" in message and "'b'" in message
    assert f"{THIS_FILE}:" in message  # the user's line, not exprc's


def test_bitwise_on_floats_is_a_type_error():
    with pytest.raises(ExprcTypeError, match="integer or bool"):
        T.dmatrix("x") & T.dmatrix("y")


def test_subtracting_bools_is_rejected_like_numpy():
    with pytest.raises(ExprcTypeError, match="bool"):
        T.tensor("bool", shape=(None,)) - T.tensor("bool", shape=(None,))


def test_python_scalar_that_does_not_fit_the_tensor_dtype():
    with pytest.raises(ExprcTypeError, match="int8"):
        T.bvector("x") + 1000


def test_truth_value_of_a_symbol_is_an_error():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="switch"):
        if x > 0:
            pass


def test_unsupported_dtype_names_the_supported_ones():
    with pytest.raises(ExprcTypeError, match="float16 is not supported"):
        T.tensor("float16", shape=(None,))


def test_runtime_broadcast_error_names_node_shapes_and_user_line():
    x, y = T.dvector("x"), T.dvector("y")
    z = x * y
    f = exprc.function([x, y], z, mode="REFERENCE")
    with pytest.raises(ValueError) as info:
        f(np.ones(3), np.ones(4))
    message = str(info.value)
    assert "Elemwise{mul}" in message and "float64[3]" in message and "float64[4]" in message
    assert f"{THIS_FILE}:" in message


def test_dimshuffle_errors():
    x = T.TensorType("float64", shape=(3, None))("x")
    with pytest.raises(ExprcShapeError, match="cannot drop axis 0"):
        T.DimShuffle((1,))(x)
    with pytest.raises(ExprcShapeError, match="invalid pattern"):
        T.DimShuffle((0, 0))(x)


def test_config_rejects_unknown_flags_and_bad_values():
    with pytest.raises(AttributeError, match="floatX"):
        exprc.config.floatx = "float32"
    with pytest.raises(ValueError, match="float32 or float64"):
        exprc.config.floatX = "float16"
    from exprc.configuration import Config

    with pytest.raises(ValueError, match="unknown flag"):
        Config("flaotX=float32")
    assert Config("floatX=float32").floatX == "float32"


def test_bool_arithmetic_follows_numpy():
    m = T.tensor("bool", shape=(None,), name="m")
    mv = np.array([True, False, True])
    np.testing.assert_array_equal((1 - m).eval({m: mv}), 1 - mv)
    assert (1 - m).dtype == "int64" and (1.0 - m).dtype == "float64"
    assert (m // m).dtype == "int8" and (m ** m).dtype == "int8"
    assert (T.bvector() / 2).dtype == "float64"  # as NumPy's true division


def test_eval_cache_is_not_shared_with_clones():
    from exprc.graph.traversal import clone_replace

    x = T.dvector("x")
    s1, s2 = exprc.shared(np.ones(2)), exprc.shared(np.full(2, 100.0))
    y = x + s1
    np.testing.assert_array_equal(y.eval({x: np.zeros(2)}), [1.0, 1.0])
    (y2,) = clone_replace([y], {s1: s2})
    np.testing.assert_array_equal(y2.eval({x: np.zeros(2)}), [100.0, 100.0])
