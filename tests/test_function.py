"""``function()``, ``In``/``Out`` and shared variables: the semantics users rely on.

The graphs here are elementwise on purpose, so that these tests exercise the compile layer and
not the op families.
"""

import warnings

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc import In, Out
from exprc.compile.function import MissingInputError
from exprc.errors import ExprcShapeError, ExprcTypeError, UnusedInputError


@pytest.fixture
def float32_floatx():
    old = exprc.config.floatX
    exprc.config.floatX = "float32"
    yield
    exprc.config.floatX = old


# ------------------------------------------------------------------ updates
def test_updates_are_computed_from_old_values_swap():
    a = exprc.shared(np.array([1.0, 2.0]), name="a")
    b = exprc.shared(np.array([3.0, 4.0]), name="b")
    swap = exprc.function([], [], updates=[(a, b), (b, a)])
    assert swap() == []
    np.testing.assert_array_equal(a.get_value(), [3.0, 4.0])
    np.testing.assert_array_equal(b.get_value(), [1.0, 2.0])
    swap()
    np.testing.assert_array_equal(a.get_value(), [1.0, 2.0])


def test_outputs_see_values_before_the_update():
    x = T.dvector("x")
    acc = exprc.shared(np.zeros(2), name="acc")
    f = exprc.function([x], acc * 1, updates={acc: acc + x})
    np.testing.assert_array_equal(f([1.0, 2.0]), [0.0, 0.0])
    np.testing.assert_array_equal(f([1.0, 2.0]), [1.0, 2.0])
    np.testing.assert_array_equal(acc.get_value(), [2.0, 4.0])


def test_update_errors_name_the_culprit():
    x = T.dvector("x")
    s = exprc.shared(np.zeros(2), name="s")
    with pytest.raises(ExprcTypeError, match="x is not a shared variable"):
        exprc.function([x], x * 1, updates=[(x, x + 1)])
    with pytest.raises(ExprcTypeError, match="update for s .*float32.*astype"):
        exprc.function([x], x * 1, updates=[(s, x.astype("float32"))])
    with pytest.raises(ExprcTypeError, match="s is updated twice"):
        exprc.function([x], x * 1, updates=[(s, x), (s, x * 2)])
    with pytest.raises(ExprcTypeError, match="update for s"):
        exprc.function([x], x * 1, updates=[(s, T.dmatrix("m"))])


def test_update_of_a_shared_variable_with_static_shape_is_checked():
    x = T.dvector("x")
    s = exprc.shared(np.zeros(2), shape=(2,), name="s")
    f = exprc.function([x], [], updates=[(s, x)])
    f([1.0, 2.0])
    np.testing.assert_array_equal(s.get_value(), [1.0, 2.0])
    with pytest.raises(ExprcShapeError, match="\\(3,\\)"):
        f([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(s.get_value(), [1.0, 2.0])  # a failed call changes nothing


def test_default_updates_and_no_default_updates():
    s = exprc.shared(np.zeros(2), name="s")
    s.default_update = s + 1
    f = exprc.function([], s * 1)
    f()
    np.testing.assert_array_equal(f(), [1.0, 1.0])
    np.testing.assert_array_equal(s.get_value(), [2.0, 2.0])
    for skip in (True, [s]):
        g = exprc.function([], s * 1, no_default_updates=skip)
        g()
        np.testing.assert_array_equal(s.get_value(), [2.0, 2.0])
    # An explicit update replaces the default one.
    exprc.function([], s * 1, updates=[(s, s * 0)])()
    np.testing.assert_array_equal(s.get_value(), [0.0, 0.0])


# ------------------------------------------------------------------ givens
def test_givens_replace_inputs_shared_and_intermediates():
    x, y = T.dvector("x"), T.dvector("y")
    f = exprc.function([x], y + 1, givens=[(y, x * 3)])
    np.testing.assert_array_equal(f([1.0, 2.0]), [4.0, 7.0])
    s = exprc.shared(np.zeros(2), name="s")
    g = exprc.function([x], s * x, givens={s: x})
    np.testing.assert_array_equal(g([3.0, 4.0]), [9.0, 16.0])
    z = T.exp(x)
    h = exprc.function([y], z * 2, givens={z: y})
    np.testing.assert_array_equal(h([1.0, 2.0]), [2.0, 4.0])
    k = exprc.function([x], x + y, givens={y: np.array([1.0, 2.0])})
    np.testing.assert_array_equal(k([1.0, 1.0]), [2.0, 3.0])


def test_givens_of_another_type_is_an_error():
    x = T.dvector("x")
    with pytest.raises(ExprcTypeError, match="givens replacement for x .*float32"):
        exprc.function([x], x * 1, givens={x: T.fvector("f")})
    with pytest.raises(ExprcTypeError, match="givens replacement for x"):
        exprc.function([x], x * 1, givens={x: T.dmatrix("m")})
    with pytest.raises(ExprcTypeError, match="givens"):
        exprc.function([x], x * 1, givens=[(x,)])


# ------------------------------------------------------------------ inputs
def test_on_unused_input():
    x, y = T.dvector("x"), T.dvector("y")
    with pytest.raises(UnusedInputError, match="input 'x' \\(argument 0\\)"):
        exprc.function([x, y], y * 2)
    with pytest.warns(UserWarning, match="input 'x'"):
        exprc.function([x, y], y * 2, on_unused_input="warn")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = exprc.function([x, y], y * 2, on_unused_input="ignore")
    np.testing.assert_array_equal(f([1.0], [2.0]), [4.0])
    with pytest.raises(ExprcTypeError, match="on_unused_input .*'bogus'"):
        exprc.function([x], x * 1, on_unused_input="bogus")


def test_missing_input_names_the_variable():
    x, y = T.dvector("x"), T.dvector("y_missing")
    with pytest.raises(MissingInputError, match="y_missing of type TensorType\\(float64"):
        exprc.function([x], x + y)


def test_bad_input_lists():
    x = T.dvector("x")
    s = exprc.shared(np.zeros(2), name="s")
    with pytest.raises(ExprcTypeError, match="must be a list"):
        exprc.function(x, x * 1)
    with pytest.raises(ExprcTypeError, match="shared variable s cannot be an explicit input"):
        exprc.function([s], s * 1)
    with pytest.raises(ExprcTypeError, match="constant"):
        exprc.function([T.constant(2.0)], x * 1)
    with pytest.raises(ExprcTypeError, match="same variable as input 0"):
        exprc.function([x, x], x * 1)


def test_an_intermediate_input_cuts_the_graph_there():
    # As in Theano: the value of y is passed; how y is computed from x is not evaluated.
    x = T.dvector("x")
    y = x + 1
    f = exprc.function([y], [y * 2, y])
    out, passed = f([1.0, 5.0])
    np.testing.assert_array_equal(out, [2.0, 10.0])
    np.testing.assert_array_equal(passed, [1.0, 5.0])
    np.testing.assert_array_equal((y * 3).eval({y: np.array([2.0])}), [6.0])
    with pytest.raises(MissingInputError, match="x"):
        exprc.function([y], y + x)
    with pytest.raises(ExprcTypeError, match="both an input"):
        exprc.function([y], y * 2, givens={y: x})
    # In() of an intermediate, with a default; a givens value reading the cut input.
    g = exprc.function([In(y, value=np.array([1.0, 2.0]), name="yy")], y * 2)
    np.testing.assert_array_equal(g(), [2.0, 4.0])
    np.testing.assert_array_equal(g(yy=[3.0]), [6.0])
    h = exprc.function([y], x * 3, givens={x: y - 1})
    np.testing.assert_array_equal(h([2.0, 3.0]), [3.0, 6.0])


def test_allow_input_downcast_integers():
    i = T.ivector("i")
    f = exprc.function([i], i + 1)
    with pytest.raises(ExprcTypeError, match="input 'i' .*int64.*int32.*allow_input_downcast"):
        f(np.array([1, 2], dtype="int64"))
    # Lossless conversions need no permission: Python ints that fit, and narrower ints.
    np.testing.assert_array_equal(f([1, 2]), [2, 3])
    assert f(np.array([1, 2], dtype="int16")).dtype == np.int32
    b = T.bvector("b")
    with pytest.raises(ExprcTypeError, match="input 'b' .*int8"):
        exprc.function([b], b * 1)([300])  # does not fit in int8
    with pytest.raises(ExprcTypeError, match="float64"):
        f([1.5])
    g = exprc.function([i], i + 1, allow_input_downcast=True)
    out = g(np.array([1, 2], dtype="int64"))
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [2, 3])


def test_allow_input_downcast_floats():
    v = T.fvector("v")
    f = exprc.function([v], v * 2)
    with pytest.raises(ExprcTypeError, match="input 'v' .*float64.*float32"):
        f(np.array([1.0, 2.0]))
    assert f(np.array([1.0], dtype="float32")).dtype == np.float32
    g = exprc.function([v], v * 2, allow_input_downcast=True)
    assert g(np.array([1.5])).dtype == np.float32
    h = exprc.function([In(v, allow_downcast=True)], v * 2)
    np.testing.assert_array_equal(h(np.array([1.5])), np.float32([3.0]))


def test_python_floats_are_cast_to_floatx(float32_floatx):
    s, v = T.scalar("s"), T.vector("v")
    assert s.dtype == v.dtype == "float32"
    f = exprc.function([s, v], s * v)
    out = f(0.1, [0.5, 0.25])
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np.float32(0.1) * np.float32([0.5, 0.25]))


def test_number_of_arguments_and_keywords():
    x, y = T.dvector("x"), T.dvector("y")
    f = exprc.function([x, y], x + y)
    with pytest.raises(ExprcTypeError, match="takes 2 input\\(s\\), got 3"):
        f([1.0], [2.0], [3.0])
    with pytest.raises(ExprcTypeError, match="missing input 'y' \\(argument 1\\)"):
        f([1.0])
    with pytest.raises(ExprcTypeError, match="no input named 'z'"):
        f([1.0], z=[2.0])
    with pytest.raises(ExprcTypeError, match="given twice"):
        f([1.0], [2.0], x=[2.0])
    np.testing.assert_array_equal(f(y=[1.0], x=[2.0]), [3.0])


def test_wrong_rank_dtype_and_static_shape_name_the_input():
    m = T.tensor("float64", shape=(None, 3), name="m")
    f = exprc.function([m], m * 1, name="scale")
    with pytest.raises(ExprcTypeError, match="input 'm' \\(argument 0\\) of function 'scale' "
                                             "must have 2 dimension"):
        f(np.ones(3))
    with pytest.raises(ExprcShapeError, match="input 'm' .*size 3 on axis 1.*\\(2, 2\\)"):
        f(np.ones((2, 2)))
    with pytest.raises(ExprcTypeError, match="input 'm' .*must be numeric"):
        f("abc")
    k = T.lmatrix("k")
    with pytest.raises(ExprcTypeError, match="input 'k' .*float64.*int64"):
        exprc.function([k], k * 1)(np.ones((2, 3)))


# ------------------------------------------------------------------ In and Out
def test_in_default_values_and_keywords():
    x, y = T.dvector("x"), T.dvector("y")
    f = exprc.function([x, In(y, value=np.array([10.0]), name="yy")], x + y)
    np.testing.assert_array_equal(f([1.0]), [11.0])
    np.testing.assert_array_equal(f([1.0], [2.0]), [3.0])
    np.testing.assert_array_equal(f([1.0], yy=[5.0]), [6.0])
    np.testing.assert_array_equal(f(yy=[5.0], x=[2.0]), [7.0])


def test_in_update_is_internal_state():
    x, acc = T.dvector("x"), T.dvector("acc")
    f = exprc.function([x, In(acc, value=np.zeros(2), update=acc + x, name="acc")], acc * 1)
    np.testing.assert_array_equal(f([1.0, 2.0]), [0.0, 0.0])
    np.testing.assert_array_equal(f([1.0, 2.0]), [1.0, 2.0])
    np.testing.assert_array_equal(f["acc"], [2.0, 4.0])
    np.testing.assert_array_equal(f[acc], [2.0, 4.0])
    f["acc"] = [5.0, 5.0]
    np.testing.assert_array_equal(f([0.0, 0.0]), [5.0, 5.0])
    with pytest.raises(ExprcTypeError, match="no input"):
        f["nothing"]
    with pytest.raises(ExprcTypeError, match="needs an initial value"):
        In(acc, update=acc + 1)


def test_in_update_of_another_type_is_an_error():
    x, acc = T.dvector("x"), T.dvector("acc")
    with pytest.raises(ExprcTypeError, match="In update of acc .*float32"):
        exprc.function([x, In(acc, value=np.zeros(2), update=(acc + x).astype("float32"))],
                       acc * 1)


def test_in_update_triggers_default_updates_of_the_shared_variables_it_reads():
    acc = T.dvector("acc")
    step = exprc.shared(np.ones(2), name="step")
    step.default_update = step + 1
    f = exprc.function([In(acc, value=np.zeros(2), update=acc + step, name="acc")], [])
    f()
    f()
    np.testing.assert_array_equal(f["acc"], [3.0, 3.0])
    np.testing.assert_array_equal(step.get_value(), [3.0, 3.0])


def test_single_and_list_outputs():
    x = T.dvector("x")
    single = exprc.function([x], x * 2)
    assert isinstance(single([1.0]), np.ndarray)
    listed = exprc.function([x], [x * 2])
    assert isinstance(listed([1.0]), list) and len(listed([1.0])) == 1
    both = exprc.function([x], (x * 2, x + 1))
    twice, plus = both([1.0])
    np.testing.assert_array_equal(twice, [2.0])
    np.testing.assert_array_equal(plus, [2.0])


def test_out_borrow_may_return_internal_storage():
    s = exprc.shared(np.ones(3), name="s")
    # The NumPy executor hands the shared value itself over when borrowing is allowed...
    borrowed = exprc.function([], Out(s, borrow=True), mode="REFERENCE")()
    assert np.shares_memory(borrowed, s.get_value(borrow=True))
    # ...the compiled function always returns a fresh buffer, which borrowing also allows.
    compiled = exprc.function([], Out(s, borrow=True))()
    np.testing.assert_array_equal(compiled, np.ones(3))
    copied = exprc.function([], s)()
    assert not np.shares_memory(copied, s.get_value(borrow=True))


# ------------------------------------------------------------------ aliasing
def test_outputs_never_alias_inputs_shared_values_or_each_other():
    x = T.dvector("x")
    s = exprc.shared(np.ones(2), name="s")
    value = np.array([1.0, 2.0])
    out_x, out_s, out_x_again = exprc.function([x], [x, s, x])(value)
    assert not np.shares_memory(out_x, value)
    assert not np.shares_memory(out_s, s.get_value(borrow=True))
    assert not np.shares_memory(out_x, out_x_again)
    out_x[0] = out_s[0] = 100.0
    np.testing.assert_array_equal(value, [1.0, 2.0])
    np.testing.assert_array_equal(s.get_value(), [1.0, 1.0])
    const = exprc.function([], T.constant(np.arange(3.0)))()
    const[0] = 5.0  # a constant's storage is read-only, so the result must be a copy


def test_updated_shared_value_does_not_alias_the_output():
    s = exprc.shared(np.zeros(2), name="s")
    out = exprc.function([], s + 1, updates=[(s, s + 1)])()
    out[0] = 100.0
    np.testing.assert_array_equal(s.get_value(), [1.0, 1.0])


# ------------------------------------------------------------------ shared variables
def test_shared_value_copy_semantics():
    value = np.zeros(2)
    copied = exprc.shared(value, name="copied")
    borrowed = exprc.shared(value, name="borrowed", borrow=True)
    value[0] = 1.0
    np.testing.assert_array_equal(copied.get_value(), [0.0, 0.0])
    np.testing.assert_array_equal(borrowed.get_value(), [1.0, 0.0])

    got = copied.get_value()
    got[1] = 7.0
    np.testing.assert_array_equal(copied.get_value(), [0.0, 0.0])
    copied.get_value(borrow=True)[1] = 7.0
    np.testing.assert_array_equal(copied.get_value(), [0.0, 7.0])

    new = np.ones(3)
    copied.set_value(new)
    new[0] = 5.0
    np.testing.assert_array_equal(copied.get_value(), [1.0, 1.0, 1.0])
    copied.set_value(new, borrow=True)
    new[1] = 5.0
    np.testing.assert_array_equal(copied.get_value(), [5.0, 5.0, 1.0])


def test_shared_types_and_set_value_checks():
    assert exprc.shared(1.5).type == T.TensorType("float64", shape=())
    assert exprc.shared(3).type == T.TensorType("int64", shape=())
    assert exprc.shared(np.zeros((2, 3), "float32")).type == T.TensorType("float32",
                                                                          shape=(None, None))
    w = exprc.shared(np.zeros(2), name="w")
    with pytest.raises(ExprcTypeError, match="shared variable 'w' must have 1 dimension"):
        w.set_value(np.ones((2, 2)))
    w.set_value(np.ones(4, dtype="float32"))  # a safe cast is fine
    assert w.get_value().dtype == np.float64
    i = exprc.shared(np.zeros(2, dtype="int32"), name="i")
    with pytest.raises(ExprcTypeError, match="shared variable 'i' has dtype float64"):
        i.set_value(np.ones(2))
    with pytest.raises(ExprcTypeError, match="strict"):
        exprc.shared([1.0], strict=True)


def test_shared_variable_used_by_two_functions():
    s = exprc.shared(np.float64(0.0), name="s")
    inc = exprc.function([], [], updates=[(s, s + 1)])
    read = exprc.function([], s * 1)
    inc()
    inc()
    assert read() == 2.0
    s.set_value(10.0)
    assert read() == 10.0


# ------------------------------------------------------------------ eval and modes
def test_variable_eval():
    x, y = T.dvector("x"), T.dvector("y")
    np.testing.assert_array_equal((x * 2).eval({x: [1.0, 2.0]}), [2.0, 4.0])
    np.testing.assert_array_equal((x + y).eval({x: [1.0], y: [2.0]}), [3.0])
    s = exprc.shared(np.ones(2))
    np.testing.assert_array_equal((s * 3).eval(), [3.0, 3.0])
    with pytest.raises(MissingInputError, match="y"):
        (x + y).eval({x: [1.0]})


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE", "REFERENCE",
                                  exprc.Mode("reference", "none")])
def test_modes_give_the_same_result(mode):
    x = T.dvector("x")
    f = exprc.function([x], T.exp(x) * 2 - x, mode=mode)
    np.testing.assert_allclose(f([0.0, 1.0]), [2.0, 2 * np.e - 1])


def test_unknown_mode_is_an_error():
    x = T.dvector("x")
    with pytest.raises(exprc.errors.ExprcError, match="unknown mode 'FAST'"):
        exprc.function([x], x * 1, mode="FAST")
