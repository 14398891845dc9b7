"""Randomised graphs built from the public API agree with NumPy.

Each example draws a few input arrays, then grows an expression step by step: every step
applies one API function to terms built so far, and computes the same thing with NumPy on the
input values, so the NumPy side is an independent oracle for the whole graph. Compiled in
REFERENCE mode, every term of the graph must have NumPy's shape, dtype and values. Values stay
in safe domains (logarithms of ``abs(x) + 1``, divisions by ``abs(x) + 1``) so that no NaN or
overflow hides a difference.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import exprc
import exprc.tensor as T

SETTINGS = settings(derandomize=True, max_examples=200, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

# (exprc function, NumPy function) pairs.
UNARY = {
    "neg": (T.neg, np.negative),
    "abs": (T.abs, np.abs),
    "tanh": (T.tanh, np.tanh),
    "sin": (T.sin, np.sin),
    "sigmoid": (T.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
    "sqr": (T.sqr, np.square),
    "exp_tanh": (lambda a: T.exp(T.tanh(a)), lambda a: np.exp(np.tanh(a))),
    "log_abs1": (lambda a: T.log(T.abs(a) + 1), lambda a: np.log(np.abs(a) + 1)),
    "sqrt_abs": (lambda a: T.sqrt(T.abs(a)), lambda a: np.sqrt(np.abs(a))),
}
BINARY = {
    "add": (T.add, np.add),
    "sub": (T.sub, np.subtract),
    "mul": (T.mul, np.multiply),
    "maximum": (T.maximum, np.maximum),
    "minimum": (T.minimum, np.minimum),
    "safe_div": (lambda a, b: a / (T.abs(b) + 1), lambda a, b: a / (np.abs(b) + 1)),
    "switch_lt": (lambda a, b: T.switch(T.lt(a, b), a, b),
                  lambda a, b: np.where(np.less(a, b), a, b)),
    "switch_ge0": (lambda a, b: T.switch(T.ge(a, 0), a * 2, b),
                   lambda a, b: np.where(np.greater_equal(a, 0), a * 2, b)),
}
REDUCTIONS = {
    "sum": (T.sum, np.sum),
    "mean": (T.mean, np.mean),
    "max": (T.max, np.max),
    "min": (T.min, np.min),
    "prod": (T.prod, np.prod),
}


class Term:
    """A symbolic expression together with NumPy's value of it."""

    def __init__(self, sym, value):
        self.sym = sym
        self.value = np.asarray(value)

    @property
    def shape(self):
        return self.value.shape


# ------------------------------------------------------------------------- inputs
@st.composite
def input_terms(draw):
    """One to three symbolic inputs of rank 0-3 with their values; some static sizes known,
    a few sizes 0."""
    terms = []
    for k in range(draw(st.integers(1, 3))):
        shape = tuple(draw(st.lists(st.sampled_from([1, 2, 3, 0, 1, 2, 3]), max_size=3)))
        dtype = draw(st.sampled_from(["float64", "float64", "float32", "int64"]))
        static = tuple(draw(st.sampled_from([None, size])) for size in shape)
        seed = draw(st.integers(0, 2**16))
        rng = np.random.default_rng(seed)
        if dtype == "int64":
            value = rng.integers(-3, 4, shape)
        else:
            value = rng.uniform(-2, 2, shape).astype(dtype)
        terms.append(Term(T.tensor(dtype, shape=static, name=f"x{k}"), value))
    return terms


# ------------------------------------------------------------------------- steps
def unary_step(draw, pool):
    a = draw(st.sampled_from(pool))
    sym_fn, np_fn = UNARY[draw(st.sampled_from(sorted(UNARY)))]
    return Term(sym_fn(a.sym), np_fn(a.value))


def binary_step(draw, pool):
    a, b = draw(st.sampled_from(pool)), draw(st.sampled_from(pool))
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        b = a  # these two do not broadcast; combine a with itself instead
    sym_fn, np_fn = BINARY[draw(st.sampled_from(sorted(BINARY)))]
    return Term(sym_fn(a.sym, b.sym), np_fn(a.value, b.value))


def reduction_step(draw, pool):
    a = draw(st.sampled_from(pool))
    axis = draw(axes(a.value.ndim))
    keepdims = draw(st.booleans())
    # max and min of nothing are errors and the mean of nothing is NaN with a warning, so an
    # empty array is only summed or multiplied.
    names = ["prod", "sum"] if a.value.size == 0 else sorted(REDUCTIONS)
    sym_fn, np_fn = REDUCTIONS[draw(st.sampled_from(names))]
    return Term(sym_fn(a.sym, axis=axis, keepdims=keepdims),
                np_fn(a.value, axis=axis, keepdims=keepdims))


def axes(ndim):
    """None, one axis (possibly negative) or a tuple of distinct axes of an ndim-d array."""
    if ndim == 0:
        return st.just(None)
    one = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)
    return st.one_of(st.just(None), one, several.map(tuple))


def dot_step(draw, pool):
    vectors_and_matrices = [t for t in pool if t.value.ndim in (1, 2)]
    if not vectors_and_matrices:
        return unary_step(draw, pool)
    a = draw(st.sampled_from(vectors_and_matrices))
    partners = [t for t in vectors_and_matrices if t.shape[0] == a.shape[-1]]
    b = draw(st.sampled_from(partners)) if partners else None
    if b is None:
        return Term(T.dot(a.sym, a.sym.T), np.dot(a.value, a.value.T))
    return Term(T.dot(a.sym, b.sym), np.dot(a.value, b.value))


def dimshuffle_step(draw, pool):
    a = draw(st.sampled_from(pool))
    perm = draw(st.permutations(range(a.value.ndim)))
    if draw(st.booleans()):
        return Term(a.sym.transpose(perm), np.transpose(a.value, perm))
    where = draw(st.integers(0, len(perm)))
    pattern = list(perm[:where]) + ["x"] + list(perm[where:])
    return Term(a.sym.dimshuffle(*pattern),
                np.expand_dims(np.transpose(a.value, perm), where))


def reshape_step(draw, pool):
    a = draw(st.sampled_from(pool))
    size = a.value.size
    divisors = [d for d in range(1, max(size, 1) + 1) if size % d == 0]
    first = draw(st.sampled_from(divisors))
    shape = draw(st.sampled_from([(size,), (first, size // first), (first, -1),
                                  (1, size, 1)]))
    return Term(a.sym.reshape(shape), a.value.reshape(shape))


def slice_step(draw, pool):
    a = draw(st.sampled_from([t for t in pool if t.value.ndim > 0] or pool))
    if a.value.ndim == 0:
        return unary_step(draw, pool)
    n = a.shape[0]
    if n > 0 and draw(st.booleans()):
        k = draw(st.integers(-n, n - 1))
        return Term(a.sym[k], a.value[k])
    axis = draw(st.integers(0, a.value.ndim - 1))
    n = a.shape[axis]
    start = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
    stop = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
    step = draw(st.sampled_from([None, 1, 2, -1, -2]))
    index = (slice(None),) * axis + (slice(start, stop, step),)
    return Term(a.sym[index], a.value[index])


def concatenate_step(draw, pool):
    a = draw(st.sampled_from([t for t in pool if t.value.ndim > 0] or pool))
    if a.value.ndim == 0:
        return unary_step(draw, pool)
    axis = draw(st.integers(-a.value.ndim, a.value.ndim - 1))
    others = [t for t in pool if t is not a and t.value.ndim == a.value.ndim
              and _same_except(t.shape, a.shape, axis)]
    if others:
        b = draw(st.sampled_from(others))
    else:  # a reversed along the axis: a partner that always fits and differs from a
        flip = (slice(None),) * (axis % a.value.ndim) + (slice(None, None, -1),)
        b = Term(a.sym[flip], a.value[flip])
    return Term(T.concatenate([a.sym, b.sym], axis=axis),
                np.concatenate([a.value, b.value], axis=axis))


def _same_except(shape_a, shape_b, axis):
    axis %= len(shape_a)
    return all(p == q for k, (p, q) in enumerate(zip(shape_a, shape_b)) if k != axis)


STEPS = [unary_step, binary_step, reduction_step, dot_step, dimshuffle_step, reshape_step,
         slice_step, concatenate_step]


@st.composite
def expressions(draw):
    """The input terms and the terms computed by a random graph of 1 to 6 steps."""
    inputs = draw(input_terms())
    pool = list(inputs)
    for _ in range(draw(st.integers(1, 6))):
        step = draw(st.sampled_from(STEPS))
        pool.append(step(draw, pool))
    return inputs, pool[len(inputs):]


@SETTINGS
@given(expressions())
def test_random_graph_matches_numpy(example):
    inputs, terms = example
    # Every intermediate term is an output too, so a step whose result is later reduced away
    # is still checked.
    f = exprc.function([t.sym for t in inputs], [t.sym for t in terms], mode="REFERENCE",
                       on_unused_input="ignore")
    for k, (got, term) in enumerate(zip(f(*[t.value for t in inputs]), terms)):
        expected = term.value
        where = f"term {k} ({term.sym})"
        assert got.shape == expected.shape, where
        assert got.dtype == expected.dtype, f"{where}: dtype {got.dtype}, NumPy's {expected.dtype}"
        tol = 1e-4 if got.dtype == np.float32 else 1e-9
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * max(1.0, _scale(expected)),
                                   equal_nan=True, err_msg=where)


def _scale(values):
    """The largest finite magnitude in ``values`` (0 if none), to scale the absolute tolerance."""
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max()) if finite.size else 0.0


def _assert_same(got, expected, where):
    assert got.shape == expected.shape, where
    assert got.dtype == expected.dtype, f"{where}: dtype {got.dtype}, expected {expected.dtype}"
    tol = 1e-4 if got.dtype == np.float32 else 1e-9
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * max(1.0, _scale(expected)),
                               equal_nan=True, err_msg=where)


@SETTINGS
@given(expressions())
def test_rewrite_pipeline_preserves_results(example):
    """The same graph, and its gradient, compiled with every rewrite (FAST_RUN) and with none
    (REFERENCE), give the same numbers; no rewrite is rejected for a type mismatch."""
    inputs, terms = example
    symbols = [t.sym for t in inputs]
    outputs = [terms[-1].sym]
    floats = [s for s in symbols if s.dtype.startswith("float")]
    if outputs[0].dtype.startswith("float") and floats:
        outputs += exprc.grad(T.sum(outputs[0] * 1.5), floats, disconnected_inputs="ignore")
    values = [t.value for t in inputs]
    reference = exprc.function(symbols, outputs, mode="REFERENCE", on_unused_input="ignore")
    optimized = exprc.function(symbols, outputs, mode="FAST_RUN", on_unused_input="ignore")
    assert not optimized.rewrite_log.rejected, optimized.rewrite_log.rejected
    for k, (got, expected) in enumerate(zip(optimized(*values), reference(*values))):
        _assert_same(got, expected, f"output {k} of {outputs[0]}")


# Names a user may give, chosen to break generated source if they ever reached it unescaped.
HOSTILE_NAMES = st.sampled_from([
    'x"); system("touch PWNED"); ("', "*/ int pwned; /*", "a\\\nb", "??/ ??' ??=", "%n%s%p",
    "\u00fcnic\u00f6de \u2603", "nul\x00byte", "' OR 1=1 --", "$(touch PWNED)", "",
]) | st.text(max_size=24)


@settings(derandomize=True, max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(expressions(), st.lists(HOSTILE_NAMES, min_size=3, max_size=3), HOSTILE_NAMES,
       st.sampled_from(["native", "cffi"]))
def test_random_graphs_with_hostile_names_from_many_threads(example, names, function_name,
                                                             call_path):
    """Random graphs whose inputs and function carry hostile names, compiled to C and called
    from several threads at once (on the native call path or the cffi one), give the reference
    executor's numbers in every thread."""
    import threading

    inputs, terms = example
    for term, name in zip(inputs, names):
        term.sym.name = name
    symbols, outputs = [t.sym for t in inputs], [t.sym for t in terms]
    values = [t.value for t in inputs]
    expected = exprc.function(symbols, outputs, mode="REFERENCE",
                              on_unused_input="ignore")(*values)
    compiled = exprc.function(symbols, outputs, mode="FAST_RUN", name=function_name,
                              on_unused_input="ignore")
    if call_path == "cffi":
        compiled._native = compiled.program.native = None
    failures = []

    def work():
        try:
            for _ in range(5):
                for k, (got, want) in enumerate(zip(compiled(*values), expected)):
                    _assert_same(got, want, f"output {k}")
        except AssertionError as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[0]
