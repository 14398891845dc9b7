"""ONNX export (:func:`exprc.export.onnx.to_onnx`): models run by ONNX Runtime give what exprc
gives.

Two ways in. :func:`check_function` compiles a function, exports it (the whole pipeline,
``prepare`` included) and runs the model on the same inputs as the function. :func:`check_graph`
writes a hand-built graph as it is, without rewrites, so that each rule is reached even where
the pipeline would rewrite its op away (a ``Shape`` of a fixed-size input, an in-place op, a
fused ``Composite``); the oracle is then the NumPy reference executor on that same graph.
Every model passes ``onnx.checker.check_model(full_check=True)`` (the export runs it; the
tests run it again, on files where the export writes one). The MNIST networks of
``examples/`` are compared on MNIST's test images when ``../shared/data/mnist.npz`` is there,
else on random images; the op registry's cases (``tests/registry``) are compared with their
NumPy references.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import exprc  # noqa: E402
import exprc.tensor as T  # noqa: E402
from exprc import nn  # noqa: E402
from exprc.export.graph import ExportError, ExportGraph, c_identifier  # noqa: E402
from exprc.export.onnx import graph_to_model, to_onnx  # noqa: E402
from exprc.export.onnx.rules import ONNX  # noqa: E402
from exprc.graph.ir import Constant, Op  # noqa: E402
from exprc.graph.traversal import toposort  # noqa: E402
from exprc.link.reference import ReferenceProgram  # noqa: E402
from exprc.tensor.math import elemwise_op  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"


# --------------------------------------------------------------------------- helpers
def session(model):
    options = ort.SessionOptions()
    options.log_severity_level = 3  # no warnings about initializers ORT folds away
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


def run_model(model, values):
    sess = session(model)
    feeds = {i.name: np.asarray(v) for i, v in zip(sess.get_inputs(), values)}
    return sess.run(None, feeds)


def assert_same(got, expected, rtol, atol):
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    if expected.dtype.kind == "f":
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, expected)


def tolerance(dtypes):
    return (2e-5, 1e-6) if "float32" in dtypes else (1e-12, 1e-13)


def written(model, directory):
    """The model after a round trip through a file in ``directory``, checked again."""
    path = Path(directory) / "model.onnx"
    path.write_bytes(model.SerializeToString())
    onnx.checker.check_model(str(path), full_check=True)
    return onnx.load(str(path))


def check_function(inputs, outputs, values, opset=17, rtol=None, atol=None, mode="REFERENCE"):
    """Compile, export and run; compare with the function. Returns the model."""
    f = exprc.function(inputs, outputs, mode=mode)
    model = to_onnx(f, None, opset, input_shapes=[np.shape(v) for v in values])
    onnx.checker.check_model(model, full_check=True)
    expected = f(*values)
    expected = expected if isinstance(expected, list) else [expected]
    got = run_model(model, values)
    dtypes = {np.asarray(e).dtype.name for e in expected}
    default = tolerance(dtypes)
    for g, e in zip(got, expected):
        assert_same(g, e, default[0] if rtol is None else rtol,
                    default[1] if atol is None else atol)
    return model


def raw_graph(inputs, outputs, values):
    """An ExportGraph of ``outputs`` exactly as built (no rewrites, nothing folded), with the
    reference executor's value of every variable."""
    nodes = toposort(outputs, inputs)
    inner = [v for n in nodes for v in n.outputs]
    with np.errstate(all="ignore"):
        computed = ReferenceProgram(inputs, inner)([np.asarray(v) for v in values])
    known = dict(zip(inner, computed))
    consts = {v: np.asarray(v.data) for n in nodes for v in n.inputs if isinstance(v, Constant)}
    shapes = {v: np.shape(x) for v, x in {**known, **consts}.items()}
    shapes.update({v: np.shape(x) for v, x in zip(inputs, values)})
    graph = ExportGraph(inputs=list(inputs), outputs=list(outputs),
                        input_names=[c_identifier(v.name, f"input{k}")
                                     for k, v in enumerate(inputs)],
                        output_names=[f"output{k}" for k in range(len(outputs))],
                        nodes=nodes, shapes=shapes, values=consts)
    return graph, [known[o] if o in known else dict(zip(inputs, values))[o] for o in outputs]


def check_graph(inputs, outputs, values, opset=17, rtol=None, atol=None):
    """Write the graph as built and run it; compare with the reference executor."""
    graph, expected = raw_graph(inputs, outputs, values)
    model = graph_to_model(graph, opset)
    onnx.checker.check_model(model, full_check=True)
    got = run_model(model, values)
    default = tolerance({np.asarray(e).dtype.name for e in expected})
    for g, e in zip(got, expected):
        assert_same(g, e, default[0] if rtol is None else rtol,
                    default[1] if atol is None else atol)
    return model


def op_types(model):
    return [node.op_type for node in model.graph.node]


RNG = np.random.default_rng(20)


def sample(dtype, shape, specials=True):
    """Values of ``dtype``: mixed magnitudes with the edge cases of the dtype among them."""
    size = int(np.prod(shape))
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        base = RNG.standard_normal(size) * 3
        edge = [0.0, -0.0, 0.5, -0.5, 1.5, -2.5, 2.0, np.nan, np.inf, -np.inf, 1e30, -7.0]
    elif dtype.kind == "b":
        return RNG.random(shape) < 0.5
    else:
        info = np.iinfo(dtype)
        base = RNG.integers(max(info.min, -100), min(info.max, 100), size, endpoint=True)
        edge = [0, 1, info.max, info.min, 7, -1 if info.min < 0 else 3, -7 if info.min else 9]
    values = base.astype(dtype)
    if specials:
        take = min(size, len(edge))
        values[RNG.choice(size, take, replace=False)] = [dtype.type(e) for e in edge[:take]]
    return values.reshape(shape)


# --------------------------------------------------------------------------- MNIST networks
def network(kind):
    if str(ROOT / "examples") not in sys.path:
        sys.path.insert(0, str(ROOT / "examples"))
    import mnist_lenet
    import mnist_mlp

    rng = np.random.default_rng(3)
    with exprc.config.change_flags(floatX="float32"):
        net = (mnist_lenet if kind == "lenet" else mnist_mlp).build_network()
        for param in nn.layers.get_all_params(net):
            value = param.get_value()
            # Random weights and non-zero biases: adding them is part of what is checked.
            param.set_value(rng.normal(0, 0.1, value.shape).astype(value.dtype))
            assert np.all(param.get_value() != 0) or value.ndim > 1
        x = nn.layers.get_all_layers(net)[0].input_var
        predict = exprc.function([x], nn.layers.get_output(net, deterministic=True))
    return predict


def images(kind, count):
    if MNIST.is_file():
        with np.load(MNIST) as data:
            found = data["x_test"][:count].astype("float32") / 255
    else:
        found = np.random.default_rng(0).random((count, 784), dtype=np.float32)
    return found.reshape((count, 1, 28, 28) if kind == "lenet" else (count, 784))


@pytest.mark.parametrize("kind", ["mlp", "lenet"])
def test_mnist_network_predictions_match_exprc(kind, tmp_path):
    predict = network(kind)
    batch = images(kind, 64)
    path = tmp_path / f"{kind}.onnx"
    model = to_onnx(predict, path, input_shapes=[batch.shape])
    onnx.checker.check_model(str(path), full_check=True)
    loaded = onnx.load(str(path))
    assert loaded.producer_name == "exprc" and loaded.producer_version == exprc.__version__
    assert "exprc" in loaded.doc_string
    assert {"Conv", "MaxPool"} <= set(op_types(model)) or kind == "mlp"
    # The weights travel as initializers, named after the shared variables.
    assert any("W" in init.name for init in loaded.graph.initializer)
    got = run_model(loaded, [batch])[0]
    expected = predict(batch)
    assert got.dtype == np.float32 and got.shape == (64, 10)
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()


@pytest.mark.skipif(not MNIST.is_file(), reason=f"MNIST not found at {MNIST}")
def test_mnist_test_set_predictions_match_exprc():
    """The acceptance check: the whole test set through the exported LeNet and MLP."""
    for kind in ("mlp", "lenet"):
        predict = network(kind)
        data = images(kind, 10000)
        batch = 1000
        model = to_onnx(predict, None, input_shapes=[(batch,) + data.shape[1:]])
        sess = session(model)
        name = sess.get_inputs()[0].name
        for start in range(0, len(data), batch):
            chunk = data[start:start + batch]
            got = sess.run(None, {name: chunk})[0]
            expected = predict(chunk)
            np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
            assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()


# --------------------------------------------------------------------------- scalar ops
FLOAT_UNARY = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "sin", "cos",
               "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
               "arccosh", "arctanh", "sigmoid", "softplus", "erf", "deg2rad", "rad2deg",
               "floor", "ceil", "trunc", "round_half_to_even", "round_half_away_from_zero",
               "reciprocal"]
#: Functions ONNX Runtime (1.2x) computes in float64 too; the others have float32 kernels only.
ORT_FLOAT64 = {"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "sin", "cos",
               "tanh", "sigmoid", "deg2rad", "rad2deg", "floor", "ceil", "trunc",
               "round_half_to_even", "round_half_away_from_zero", "reciprocal"}
INTS = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"]

SCALAR_CASES = [
    *[(name, ("float32",)) for name in FLOAT_UNARY],
    *[(name, ("float64",)) for name in sorted(ORT_FLOAT64)],
    *[(name, ("int16",)) for name in ("exp", "sqrt", "floor", "round_half_away_from_zero")],
    *[(name, (d, d)) for name in ("add", "sub", "mul") for d in ("float32", "int8", "uint64")],
    ("add", ("bool", "bool")), ("mul", ("bool", "bool")), ("add", ("int16", "float32")),
    ("mul", ("uint8", "int8")), ("true_div", ("float32", "float32")),
    ("true_div", ("int32", "int32")), ("true_div", ("int64", "float32")),
    *[(name, (d, d)) for name in ("int_div", "mod") for d in ["float32", "float64", *INTS]],
    ("int_div", ("bool", "bool")), ("mod", ("int8", "uint8")),
    *[("pow", (d, d)) for d in ("float32", "float64", "int8", "int32", "int64", "uint64")],
    *[("neg", (d,)) for d in ("float32", "int8", "uint16", "int64", "uint64")],
    *[(name, (d, d)) for name in ("maximum", "minimum")
      for d in ("float32", "float64", "int16", "uint16", "uint64", "int8", "bool")],
    *[("abs", (d,)) for d in ("float32", "int8", "bool", "uint32", "int64")],
    *[("sqr", (d,)) for d in ("float32", "int16", "bool")],
    *[("identity", (d,)) for d in ("float32", "int32", "bool")],
    *[("sgn", (d,)) for d in ("float32", "float64", "int8", "uint8")],
    *[(name, pair) for name in ("eq", "neq", "lt", "gt", "le", "ge")
      for pair in (("float32", "float32"), ("int64", "uint64"), ("uint64", "int8"),
                   ("bool", "bool"), ("int8", "float32"), ("uint16", "int16"))],
    *[(name, (d,)) for name in ("isnan", "isinf") for d in ("float32", "float64", "int32")],
    *[(name, ("bool", "bool")) for name in ("and_", "or_", "xor")],
    ("invert", ("bool",)),
    ("switch", ("float32", "int32", "float32")), ("switch", ("bool", "uint64", "uint64")),
    ("switch", ("int8", "bool", "bool")), ("switch", ("uint8", "int16", "uint16")),
    ("clip", ("float32", "float32", "float32")), ("clip", ("int16", "int16", "int16")),
    ("second", ("float32", "int8")), ("second", ("int64", "bool")),
]


def scalar_inputs(name, dtypes):
    """Symbolic inputs and values for a scalar op, broadcasting against each other."""
    shapes = [(3, 1, 5), (1, 4, 5), (3, 4, 1)][:len(dtypes)]
    values = []
    for dtype, shape in zip(dtypes, shapes):
        value = sample(dtype, shape)
        if name == "pow" and np.dtype(dtype).kind in "iu" and len(values) == 1:
            value = RNG.integers(0, 9, shape).astype(dtype)  # NumPy refuses negative powers
        values.append(value)
    inputs = [T.tensor(d, shape=(None,) * len(s), name=f"x{k}")
              for k, (d, s) in enumerate(zip(dtypes, shapes))]
    return inputs, values


@pytest.mark.parametrize("name, dtypes", SCALAR_CASES,
                         ids=[f"{n}-{'-'.join(d)}" for n, d in SCALAR_CASES])
def test_scalar_op_matches_reference(name, dtypes):
    inputs, values = scalar_inputs(name, dtypes)
    out = elemwise_op(name)(*inputs)
    check_graph(inputs, [out], values)


@pytest.mark.parametrize("name", ["tan", "arcsin", "sinh", "erf"])
def test_float64_functions_without_runtime_kernels_are_valid_onnx(name):
    """ONNX allows float64 for these; ONNX Runtime only computes float32. The model is still
    written and passes the checker."""
    inputs, values = scalar_inputs(name, ("float64",))
    graph, _ = raw_graph(inputs, [elemwise_op(name)(*inputs)], values)
    model = graph_to_model(graph, 17)
    onnx.checker.check_model(model, full_check=True)


@pytest.mark.parametrize("dtype", ["int16", "uint64", "int8", "uint32"])
@pytest.mark.parametrize("name", ["and_", "or_", "xor", "invert"])
def test_bitwise_ops_on_integers_need_opset_18(name, dtype):
    nin = 1 if name == "invert" else 2
    inputs, values = scalar_inputs(name, (dtype,) * nin)
    out = elemwise_op(name)(*inputs)
    check_graph(inputs, [out], values, opset=18)
    graph, _ = raw_graph(inputs, [out], values)
    with pytest.raises(ExportError, match="opset 18"):
        graph_to_model(graph, 17)


@pytest.mark.parametrize("name", ["arctan2", "erfc", "gamma", "gammaln", "psi", "tri_gamma",
                                  "erfinv", "erfcinv"])
def test_scalar_ops_onnx_cannot_compute_are_refused_by_name(name):
    nin = 2 if name == "arctan2" else 1
    inputs = [T.vector(f"x{k}", dtype="float32") for k in range(nin)]
    f = exprc.function(inputs, elemwise_op(name)(*inputs), mode="REFERENCE")
    with pytest.raises(ExportError, match=rf"Elemwise{{{name}}}.*{name}"):
        to_onnx(f, None, input_shapes=[(3,)] * nin)


FLOAT_SOURCES = np.array([np.nan, np.inf, -np.inf, -1.5, -0.5, 0.0, 0.7, 127.9, 128.5, 255.5,
                          -129.5, 300.7, 65535.9, 70000.2, -40000.0, 2.0 ** 31, -2.0 ** 31 - 4096,
                          2.0 ** 32 + 4096, 2.0 ** 40, -2.0 ** 40, 2.0 ** 63, 1.5 * 2.0 ** 63,
                          2.0 ** 64, -2.0 ** 63, 3.0 * 2.0 ** 64, 1e30])


@pytest.mark.parametrize("source", ["float32", "float64"])
@pytest.mark.parametrize("target", [*INTS, "bool", "float32", "float64"])
def test_casts_follow_exprcs_float_rule(source, target):
    x = T.vector("x", dtype=source)
    check_graph([x], [T.cast(x, target)], [FLOAT_SOURCES.astype(source)])


@pytest.mark.parametrize("source", [*INTS, "bool"])
@pytest.mark.parametrize("target", ["int8", "uint16", "int64", "uint64", "bool", "float32"])
def test_casts_between_integers_wrap_like_numpy(source, target):
    x = T.vector("x", dtype=source)
    check_graph([x], [T.cast(x, target)], [sample(source, (40,))])


def test_integer_division_by_zero_and_minus_one_does_not_trap():
    x, y = T.vector("x", dtype="int64"), T.vector("y", dtype="int64")
    low = np.iinfo("int64").min
    values = [np.array([low, low, 7, -7, 7, -7, 5, 0]), np.array([-1, 0, 0, 2, -2, -2, 1, 0])]
    check_graph([x, y], [T.int_div(x, y), T.mod(x, y)], values)


def test_float_floor_division_uses_numpys_divmod():
    x, y = T.vector("x", dtype="float64"), T.vector("y", dtype="float64")
    values = [np.array([1.0, -1.0, 7.5, -7.5, 1e300, 0.0, 3.0, np.inf, 5.0]),
              np.array([0.1, 0.1, -2.0, 2.0, 1e-300, -3.0, 0.0, 2.0, np.inf])]
    check_graph([x, y], [T.int_div(x, y), T.mod(x, y)], values, rtol=0, atol=0)


def test_expm1_and_log1p_stay_accurate_near_zero():
    x = T.vector("x", dtype="float64")
    tiny = np.array([1e-300, -1e-20, 1e-10, -3e-8, 1e-5, 0.0, 700.0, 800.0, -800.0, -1.0])
    check_graph([x], [T.expm1(x), T.log1p(x)], [tiny], rtol=4e-16, atol=0)


# --------------------------------------------------------------------------- elemwise family
def test_dimshuffle_transposes_drops_and_adds_axes():
    x = T.tensor("float32", shape=(None, 1, None, None), name="x")
    value = sample("float32", (2, 1, 3, 4))
    outs = [x.dimshuffle(3, 0, "x", 2), x.dimshuffle("x", 0, 2, 3), x.dimshuffle(2, 3, 1, 0),
            x.dimshuffle(0, 2, 3)]
    check_graph([x], outs, [value])


def test_composite_steps_are_written_out():
    from exprc.tensor.composite import compose

    x, y = T.matrix("x", dtype="float32"), T.matrix("y", dtype="int16")
    op = compose([x, y], [T.exp(x) * y + 2.5, T.maximum(x, 0.0) // T.cast(y, "float32"),
                          T.lt(y, 3)])
    values = [sample("float32", (3, 4)), sample("int16", (1, 4))]
    model = check_graph([x, y], op(x, y), values)
    assert "Exp" in op_types(model)


def test_composite_output_of_constants_has_the_broadcast_shape():
    from exprc.tensor.composite import Composite
    from exprc.tensor.scalar import SCALAR_OPS

    x = T.matrix("x", dtype="float64")
    op = Composite(1, [(SCALAR_OPS["add"], (("c", "float64", "1.5"), ("c", "float64", "2.0"))),
                       (SCALAR_OPS["mul"], (("i", 0), ("t", 0)))], [0, 1])
    check_graph([x], op(x), [sample("float64", (2, 3))])


def test_fused_and_in_place_graphs_export_too():
    """With fusion and in-place passes kept, Composite and InplaceElemwise reach the rules."""
    from exprc.export.graph import prepare

    x, y = T.matrix("x", dtype="float32"), T.matrix("y", dtype="float32")
    out = T.tanh(x * y + 1) - T.exp(-x)
    f = exprc.function([x, y], [out, T.dot(x, y.T) * 2.0 + 1.0], mode="REFERENCE")
    values = [sample("float32", (3, 4), specials=False), sample("float32", (3, 4), False)]
    for exclude, kind in (((), "Composite"), (("fusion",), "InplaceElemwise")):
        graph = prepare(f, [(3, 4), (3, 4)], exclude=exclude)
        assert kind in {type(n.op).__name__ for n in graph.nodes}
        model = graph_to_model(graph, 17)
        for got, expected in zip(run_model(model, values), f(*values)):
            assert_same(got, expected, 2e-5, 1e-6)


def test_in_place_elemwise():
    from exprc.tensor.elemwise import InplaceElemwise
    from exprc.tensor.scalar import SCALAR_OPS

    x, y = T.matrix("x", dtype="float32"), T.matrix("y", dtype="float32")
    out = InplaceElemwise(SCALAR_OPS["mul"], 0)(x, y)
    check_graph([x, y], [out], [sample("float32", (2, 3)), sample("float32", (1, 3))])


def test_sum_to_shape():
    from exprc.tensor.elemwise import SumToShape

    g = T.tensor("float32", shape=(None, None, None), name="g")
    out = SumToShape((1, None, 1))(g, T.constant(np.array([1, 3, 1])))
    check_graph([g], [out], [sample("float32", (2, 3, 4), specials=False)])


# --------------------------------------------------------------------------- shape family
def test_shape_reshape_specify_shape_and_gradient_filters():
    from exprc.gradient import zero_grad
    from exprc.tensor.shape import shape

    x = T.tensor("float64", shape=(None, None, None), name="x")
    value = sample("float64", (2, 3, 4))
    outs = [shape(x), x.reshape((6, 4)), x.reshape((4, -1, 2)),
            T.specify_shape(x, (2, None, 4)) * 2, zero_grad(x) + 1]
    check_graph([x], outs, [value])
    check_function([x], [x.reshape((x.shape[0], -1)), x.shape[1] * x], [value])


# --------------------------------------------------------------------------- products
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("float64", "float32"),
                                    ("int8", "int8"), ("int32", "int64"), ("uint16", "bool"),
                                    ("int64", "int64"), ("uint64", "uint8"),
                                    ("bool", "bool")])
def test_dot_and_batched_dot(dtypes):
    a, b = dtypes
    m, v = T.matrix("m", dtype=a), T.vector("v", dtype=b)
    n, w = T.matrix("n", dtype=b), T.vector("w", dtype=a)
    c3, d3 = T.tensor3("c", dtype=a), T.tensor3("d", dtype=b)
    def values_of(dtype, shape):  # integers at their extremes: products wrap around
        return sample(dtype, shape, specials=np.dtype(dtype).kind in "iu")

    values = [values_of(a, (3, 4)), values_of(b, (4,)), values_of(b, (4, 5)),
              values_of(a, (3,)), values_of(a, (2, 3, 4)), values_of(b, (2, 4, 2))]
    outs = [T.dot(m, v), T.dot(m, n), T.dot(w, m), T.dot(v, v), T.batched_dot(c3, d3)]
    check_graph([m, v, n, w, c3, d3], outs, values)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_blas_ops_with_their_alpha_and_beta(dtype):
    from exprc.tensor.blas import Gemm, Gemv, Ger

    z, x, y = (T.matrix(n, dtype=dtype) for n in "zxy")
    row = T.tensor(dtype, shape=(1, None), name="row")
    vec, u, w = (T.vector(n, dtype=dtype) for n in "vuw")
    alpha, beta = T.scalar("alpha", dtype=dtype), T.scalar("beta", dtype=dtype)
    one, half = T.constant(np.asarray(1, dtype)), T.constant(np.asarray(0.1, dtype))
    outs = [Gemm()(z, alpha, x, y, beta), Gemm()(row, one, x, y, one),
            Gemm()(row, half, x, y, one), Gemm()(z, one, x, y, half),
            Gemv()(u, alpha, x, vec, beta), Gemv()(u, one, x, vec, one),
            Ger()(z, alpha, u, w, beta), Ger()(z, one, u, w, one)]
    values = [sample(dtype, s, False) for s in ((3, 5), (3, 4), (4, 5))]
    values += [sample(dtype, (1, 5), False), sample(dtype, (4,), False),
               sample(dtype, (3,), False), sample(dtype, (5,), False),
               np.asarray(0.7, dtype), np.asarray(-1.3, dtype)]
    model = check_graph([z, x, y, row, vec, u, w, alpha, beta], outs, values)
    gemms = [n for n in model.graph.node if n.op_type == "Gemm"]
    # Gemm only where alpha is exact in float32 and beta is 1.
    assert len(gemms) == (2 if dtype == "float32" else 1)


def test_dense_layer_with_bias_goes_through_the_blas_pass():
    x = T.matrix("x", dtype="float32")
    W = exprc.shared(sample("float32", (6, 4), False), name="W")
    b = exprc.shared(sample("float32", (4,), False), name="b")
    model = check_function([x], [T.dot(x, W) + b], [sample("float32", (5, 6), False)],
                           mode="FAST_RUN")
    check_function([x], [0.5 * T.dot(x, W) - b, T.dot(x, W)], [sample("float32", (5, 6))])
    assert "Gemm" in op_types(model)
    assert any(i.name.startswith("_c_W") for i in model.graph.initializer)


# --------------------------------------------------------------------------- convolution
CONV_CASES = [
    dict(border_mode="valid"),
    dict(border_mode="full", subsample=(2, 1)),
    dict(border_mode="half", filter_dilation=(2, 1)),
    dict(border_mode=(1, 2), subsample=(2, 3), filter_flip=False),
    dict(border_mode=1, num_groups=2),
    dict(border_mode="half", num_groups=4, filter_flip=False, filter_dilation=(1, 2)),
]


@pytest.mark.parametrize("params", CONV_CASES, ids=str)
@pytest.mark.parametrize("constant_kernel", [True, False])
def test_conv2d(params, constant_kernel):
    x = T.tensor4("x", dtype="float32")
    groups = params.get("num_groups", 1)
    kernel = sample("float32", (4, 4 // groups, 3, 2), False)
    image = sample("float32", (2, 4, 7, 6), False)
    if constant_kernel:
        w = T.constant(kernel)
        check_graph([x], [T.nnet.conv2d(x, w, **params)], [image], rtol=1e-5, atol=1e-5)
    else:
        w = T.tensor4("w", dtype="float32")
        check_graph([x, w], [T.nnet.conv2d(x, w, **params)], [image, kernel], rtol=1e-5,
                    atol=1e-5)


@pytest.mark.parametrize("params", CONV_CASES, ids=str)
def test_conv2d_transpose(params):
    from exprc.tensor.nnet.conv import Conv2d, Conv2dGradInputs

    groups = params.get("num_groups", 1)
    image_shape = (2, 4, 7, 6)
    kernel = sample("float32", (4, 4 // groups, 3, 2), False)
    forward = Conv2d(**params)
    rows, cols = forward.output_sizes(image_shape[2:], kernel.shape[2:])
    gy = T.tensor4("gy", dtype="float32")
    w = T.tensor4("w", dtype="float32")
    out = Conv2dGradInputs(**params)(w, gy, np.asarray(image_shape[2:], dtype="int64"))
    check_graph([w, gy], [out], [kernel, sample("float32", (2, 4, rows, cols), False)],
                rtol=1e-5, atol=1e-5)


def test_convolution_gradient_wrt_filters_is_exempt():
    x, w = T.tensor4("x", dtype="float32"), T.tensor4("w", dtype="float32")
    cost = T.nnet.conv2d(x, w).sum()
    f = exprc.function([x, w], exprc.grad(cost, w), mode="REFERENCE")
    with pytest.raises(ExportError, match="Conv2dGradWeights.*training graphs"):
        to_onnx(f, None, input_shapes=[(1, 1, 5, 5), (1, 1, 3, 3)])


# --------------------------------------------------------------------------- pooling
POOL_CASES = [
    dict(ws=(2, 2)),
    dict(ws=(3, 2), stride=(1, 2)),
    dict(ws=(3, 3), stride=(2, 2), pad=(1, 2)),
    dict(ws=(2, 3), ignore_border=False),
    dict(ws=(3, 2), stride=(2, 3), ignore_border=False),
    dict(ws=(2, 2), stride=(3, 3), ignore_border=False),
    dict(ws=(4, 3), stride=(1, 1), ignore_border=False),
]


@pytest.mark.parametrize("mode", ["max", "sum", "average_inc_pad", "average_exc_pad"])
@pytest.mark.parametrize("params", POOL_CASES, ids=str)
def test_pool(params, mode):
    x = T.tensor4("x", dtype="float32")
    image = sample("float32", (2, 3, 7, 8), False) - 5  # negative values next to padding
    check_graph([x], [T.signal.pool.pool_2d(x, mode=mode, **params)], [image], rtol=1e-5)


def test_max_pool_propagates_nan_as_numpy():
    x = T.tensor4("x", dtype="float32")
    value = np.arange(32, dtype="float32").reshape(1, 2, 4, 4) - 9
    value[0, 0, 0, 1] = value[0, 1, 3, 3] = np.nan
    value[0, 0, 2, 0] = np.inf
    outs = [T.signal.pool.pool_2d(x, ws=(2, 2), mode=mode) for mode in ("max", "sum")]
    outs.append(T.signal.pool.pool_2d(x, ws=(3, 3), pad=(1, 1), stride=(1, 1)))
    check_graph([x], outs, [value])


@pytest.mark.parametrize("mode", ["max", "average_exc_pad"])
def test_pool_of_other_ranks_and_float64(mode):
    x2 = T.matrix("x2", dtype="float64")
    x5 = T.tensor("float32", shape=(None,) * 5, name="x5")
    outs = [T.signal.pool.pool_2d(x2, ws=(2, 3), ignore_border=False, mode=mode)]
    check_graph([x2], outs, [sample("float64", (5, 7), False)])
    check_graph([x5], [T.signal.pool.pool_2d(x5, ws=(2, 2), pad=(1, 1), mode=mode)],
                [sample("float32", (2, 1, 3, 4, 5), False)], rtol=1e-5)


# --------------------------------------------------------------------------- softmax
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_family(dtype):
    x = T.tensor3("x", dtype=dtype)
    logits, labels = T.matrix("logits", dtype=dtype), T.ivector("labels")
    outs = [T.nnet.softmax(x, axis=1), T.nnet.softmax(x), T.nnet.logsoftmax(x, axis=0),
            T.nnet.crossentropy_softmax_int_labels(logits, labels)]
    values = [sample(dtype, (2, 3, 4), False), sample(dtype, (5, 4), False),
              np.array([0, 3, -1, 2, 1], dtype="int32")]
    check_graph([x, logits, labels], outs, values)


# --------------------------------------------------------------------------- reductions
@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "int16", "uint16", "uint32",
                                   "int64", "uint64", "bool"])
def test_reductions(dtype):
    x = T.tensor(dtype, shape=(None, None, None), name="x")
    value = sample(dtype, (3, 4, 5))
    outs = [T.sum(x, axis=1), T.sum(x, axis=(0, 2)), T.prod(x, axis=2), T.max(x, axis=0),
            T.min(x, axis=(1, 2)), T.any(x, axis=1), T.all(x), T.argmax(x, axis=1),
            T.argmin(x, axis=(0, 2)), T.argmax(x), T.sum(x, axis=2, dtype="int8"),
            T.max(x, axis=2, keepdims=True)]
    if dtype == "bool":
        outs = outs[:3] + outs[5:8] + outs[9:11]
    check_graph([x], outs, [value], rtol=1e-5)


def test_reductions_over_empty_axes_and_no_axes():
    from exprc.tensor.reduction import Reduce

    x = T.tensor("float32", shape=(None, None), name="x")
    value = np.zeros((3, 0), dtype="float32")
    outs = [T.sum(x, axis=1), T.prod(x, axis=1), T.any(x, axis=1), T.all(x, axis=1),
            Reduce("add", (), "float64")(x)]
    check_graph([x], outs, [value])
    for out, message in ((T.max(x, axis=0), "Reduce.*max of an empty axis"),
                         (T.argmax(x, axis=0), "Argmax.*empty axis")):
        f = exprc.function([x], out, mode="REFERENCE")
        with pytest.raises(ExportError, match=message):
            to_onnx(f, None, input_shapes=[(0, 2)])


def test_max_and_argmax_follow_numpy_on_nan_and_ties():
    x = T.matrix("x", dtype="float64")
    value = np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 5.0, 5.0, -1.0], [0, 0, 0, 0]])
    check_graph([x], [T.max(x, axis=1), T.argmax(x, axis=1), T.argmin(x, axis=1),
                      T.min(x, axis=0)], [value])


# --------------------------------------------------------------------------- basic family
def test_join_split_and_alloc():
    x, y = T.matrix("x", dtype="float32"), T.matrix("y", dtype="int16")
    s = T.scalar("s", dtype="int8")
    values = [sample("float32", (2, 3)), sample("int16", (4, 3)), np.asarray(-3, "int8")]
    parts = T.split(x, [1, 0, 2], 3, axis=1)
    outs = [T.concatenate([x, y], axis=0), T.join(1, x, x, x), *parts,
            T.alloc(s, 2, 3, 4), T.alloc(x, 5, 2, 3)]
    check_graph([x, y, s], outs, values)
    check_function([x, y, s], outs, values)


@pytest.mark.parametrize("dtype", ["int64", "float64", "int8", "float32"])
def test_arange_and_eye_from_run_time_scalars(dtype):
    start, step = T.scalar("start", dtype="int32"), T.scalar("step", dtype="int32")
    fstart = T.scalar("fstart", dtype="float64")
    k = T.scalar("k", dtype="int64")
    from exprc.tensor.basic import ARange, Eye

    outs = [ARange(dtype)(start, start + 10, step), ARange(dtype)(fstart, 3.0, 0.25),
            Eye(dtype)(3, 5, k), Eye(dtype)(4, 2, k)]
    for k_value in (0, 2, -1):
        values = [np.asarray(-4, "int32"), np.asarray(3, "int32"), np.asarray(-1.5),
                  np.asarray(k_value)]
        check_graph([start, step, fstart, k], outs, values)


# --------------------------------------------------------------------------- indexing
def test_basic_indexing():
    x = T.tensor("float32", shape=(None,) * 4, name="x")
    i = T.scalar("i", dtype="int64")
    value = sample("float32", (5, 4, 6, 3))
    outs = [x[1:4], x[::-1, 2], x[-1, :, ::2, None], x[None, ..., -2], x[:, -3:0:-1, 1:5:3],
            x[i], x[:, i, None, 1], x[..., i], x[10:], x[-10:2, ::-2], x[3, 2, 1, 0]]
    check_graph([x, i], outs, [value, np.asarray(-2)])
    check_function([x, i], outs, [value, np.asarray(2)])


def test_advanced_indexing():
    x = T.tensor("float64", shape=(None,) * 3, name="x")
    idx = T.lvector("idx")
    grid = T.lmatrix("grid")
    value = sample("float64", (5, 4, 6))
    mask = np.array([True, False, True, True])
    outs = [x[idx], x[:, idx], x[1:, :, idx], x[idx, :, 0], x[0, :, idx], x[grid],
            x[:, grid, ::2], x[None, idx], x[idx, 2], x[..., idx, 1:3], x[idx, ..., 2],
            x[:, mask], x[[0, 4, 4], [1, 2, 3]], x[[[0], [1]], :, [2, 3]],
            x[np.ones((5, 4), bool)], x[1, idx, :2]]
    values = [value, np.array([3, 0, -1, 3]), np.array([[0, 1], [-2, 3]])]
    check_graph([x, idx, grid], outs, values)
    # Advanced entries apart: NumPy moves the block of indexed axes to the front.
    x4 = T.tensor("float32", shape=(None,) * 4, name="x4")
    outs = [x4[:, 0, :, idx], x4[:, idx, :, 1], x4[1:, grid, None, 2], x4[:, idx, 1],
            x4[None, :, idx, ..., 0]]
    check_graph([x4, idx, grid], outs, [sample("float32", (3, 5, 4, 6)), values[1], values[2]])


def test_constant_indices_out_of_range_are_refused():
    x = T.matrix("x")
    for out in (x[[0, 7]], x[:, [[1], [-9]]], x[[0, 1], [5, 0]],
                T.set_subtensor(x[[4, 0], 1], 0.0)):
        f = exprc.function([x], out, mode="REFERENCE")
        # exprc's own check (sizes are known once shapes are given) or the export's.
        with pytest.raises(exprc.errors.ExprcError, match="Subtensor.*out of range"):
            to_onnx(f, None, input_shapes=[(3, 4)])


def test_the_rules_check_constant_indices_too():
    """Graphs whose static types do not say the sizes reach the rules' own checks."""
    x = T.matrix("x")
    for out, out_shape in ((x[[0, 7]], (2, 4)), (x[[0, 1], [5, 0]], (2,))):
        node = out.owner
        index = list(node.inputs[1:])
        graph = ExportGraph(inputs=[x], outputs=[out], input_names=["x"],
                            output_names=["y"], nodes=[node],
                            shapes={x: (3, 4), out: out_shape,
                                    **{v: v.data.shape for v in index}},
                            values={v: v.data for v in index})
        with pytest.raises(ExportError, match="AdvancedSubtensor.*out of range"):
            graph_to_model(graph)


def test_advanced_indexing_with_two_run_time_arrays_is_refused():
    x = T.matrix("x")
    i, j = T.lvector("i"), T.lvector("j")
    f = exprc.function([x, i, j], x[i, j], mode="REFERENCE")
    with pytest.raises(ExportError, match="AdvancedSubtensor.*several index arrays"):
        to_onnx(f, None, input_shapes=[(3, 4), (2,), (2,)])


def test_set_and_inc_subtensor():
    x = T.tensor("float32", shape=(None,) * 3, name="x")
    y = T.tensor("float32", shape=(None,) * 2, name="y")
    z = T.vector("z", dtype="int8")
    value = sample("float32", (4, 5, 3))
    outs = [T.set_subtensor(x[1:3, :, 0], y[:2]), T.inc_subtensor(x[::-2, 1], y[:2, :3]),
            T.inc_subtensor(x[..., 1], z[:1]), T.set_subtensor(x[2, 1:4], y[:3, :3]),
            T.set_subtensor(x[5:], 1.0),
            T.inc_subtensor(x[[0, 0, 3], 1], y[:3, :3]),  # np.add.at: repeated positions add
            T.inc_subtensor(x[[0, 0, 3], 1], y[:3, :3], ignore_duplicates=True),
            T.set_subtensor(x[[1, 2, 1], :, [0, 2, 0]], y[:3, :5]),
            T.set_subtensor(x[:, np.array([True, False, True, True, False])], 0.5)]
    values = [value, sample("float32", (4, 5)), np.array([3], "int8")]
    check_graph([x, y, z], outs, values, opset=16)
    graph, _ = raw_graph([x, y, z], outs[5:6], values)
    with pytest.raises(ExportError, match="opset 16"):
        graph_to_model(graph, 15)


def test_inc_subtensor_at_run_time_positions():
    x = T.tensor("float64", shape=(None,) * 3, name="x")
    y = T.tensor("float64", shape=(None,) * 3, name="y")
    idx = T.lvector("idx")
    outs = [T.inc_subtensor(x[idx], y), T.inc_subtensor(x[:, idx], y.dimshuffle(1, 0, 2))]
    values = [sample("float64", (4, 4, 2)), sample("float64", (3, 4, 2)),
              np.array([1, -1, 1])]
    check_graph([x, y, idx], outs, values, opset=16)
    graph, _ = raw_graph([x, y, idx], [T.set_subtensor(x[idx], y)], values)
    with pytest.raises(ExportError, match="AdvancedIncSubtensor.*repeated positions"):
        graph_to_model(graph, 17)


# --------------------------------------------------------------------------- extra ops
def test_cumsum_one_hot_and_repeat():
    x = T.tensor("int16", shape=(None, None), name="x")
    f = T.matrix("f", dtype="float32")
    labels = T.vector("labels", dtype="uint8")
    outs = [T.cumsum(x, axis=0), T.cumsum(x, axis=-1), T.cumsum(f, axis=1),
            T.extra_ops.cumsum(T.cast(x, "bool"), axis=1), T.to_one_hot(labels, 5),
            T.to_one_hot(labels, 6, dtype="int64"), T.repeat(f, [1, 0, 3], axis=1),
            T.repeat(x, 2, axis=0)]
    values = [sample("int16", (3, 3)), sample("float32", (4, 3)),
              np.array([0, 4, 2, 2, 1], "uint8")]
    check_graph([x, f, labels], outs, values)


def test_reverse_cumsum_and_refused_cumprod():
    from exprc.tensor.extra_ops import CumOp

    x = T.matrix("x", dtype="float64")
    check_graph([x], [CumOp(1, "add", reverse=True)(x)], [sample("float64", (3, 4))])
    f = exprc.function([x], T.cumprod(x, axis=0), mode="REFERENCE")
    with pytest.raises(ExportError, match="CumOp.*cumulative product"):
        to_onnx(f, None, input_shapes=[(2, 2)])


def test_runtime_checks():
    from exprc.tensor.extra_ops import RuntimeCheck

    x = T.vector("x", dtype="float32")
    ok = T.scalar("ok", dtype="bool")
    check_graph([x], [RuntimeCheck("bincount_negative")(x, T.constant(True)) + 1],
                [sample("float32", (3,))])
    graph, _ = raw_graph([x, ok], [RuntimeCheck("bincount_negative")(x, ok)],
                         [sample("float32", (3,)), np.asarray(True)])
    with pytest.raises(ExportError, match="RuntimeCheck.*cannot raise an error"):
        graph_to_model(graph)


# --------------------------------------------------------------------------- sorting
@pytest.mark.parametrize("dtype", ["float32", "int64", "uint8", "uint16", "uint64", "bool",
                                   "int16"])
def test_sort_argsort_and_permute_are_stable(dtype):
    from exprc.tensor.sort import Permute

    x = T.tensor(dtype, shape=(None, None), name="x")
    perm = T.lmatrix("perm")
    value = RNG.integers(0, 3, (4, 7)).astype(dtype)  # many ties
    if dtype == "float32":
        value[0, 2] = value[1, 1] = np.nan
        value[2, 3] = np.inf
    permutation = np.argsort(RNG.random((4, 7)), axis=1)
    outs = [T.sort(x, axis=1), T.argsort(x, axis=1), T.sort(x, axis=0), T.argsort(x, axis=0),
            Permute(1)(x, perm)]
    check_graph([x, perm], outs, [value, permutation])


# --------------------------------------------------------------------------- errors
def test_a_function_with_updates_is_refused():
    x = T.vector("x", dtype="float32")
    count = exprc.shared(np.float32(0), name="count")
    f = exprc.function([x], x * 2, updates=[(count, count + 1)], mode="REFERENCE")
    with pytest.raises(ExportError, match="updates.*count"):
        to_onnx(f, None, input_shapes=[(3,)])


def test_random_numbers_are_refused():
    with exprc.config.change_flags(floatX="float32"):
        layer = nn.layers.InputLayer((None, 4), name="input")
        layer = nn.layers.DropoutLayer(layer, p=0.5)
        x = nn.layers.get_all_layers(layer)[0].input_var
        f = exprc.function([x], nn.layers.get_output(layer), mode="REFERENCE")
        with pytest.raises(ExportError, match="Random.*random numbers.*deterministic=True"):
            to_onnx(f, None, input_shapes=[(2, 4)])
        # The same network, deterministic, exports.
        g = exprc.function([x], nn.layers.get_output(layer, deterministic=True))
        check = to_onnx(g, None, input_shapes=[(2, 4)])
        assert op_types(check) == ["Identity"]


def test_an_unknown_size_needs_input_shapes():
    x = T.matrix("images", dtype="float32")
    f = exprc.function([x], T.nnet.softmax(x), mode="REFERENCE")
    with pytest.raises(ExportError, match="input 'images' has an unknown size on axis 0"):
        to_onnx(f, None)
    model = to_onnx(f, None, input_shapes={"images": (2, 3)})
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [2, 3]


def test_an_exempt_op_is_refused_with_its_reason():
    x = T.matrix("x")
    f = exprc.function([x], T.nlinalg.matrix_inverse(x) + 1, mode="REFERENCE")
    with pytest.raises(ExportError, match="MatrixInverse.*linear algebra"):
        to_onnx(f, None, input_shapes=[(3, 3)])


def test_an_op_written_in_python_is_refused():
    @exprc.as_op(itypes=[T.dvector], otypes=[T.dvector],
                 infer_shape=lambda node, shapes: [shapes[0]])
    def double(v):
        return 2 * v

    x = T.dvector("x")
    f = exprc.function([x], double(x) + 1, mode="REFERENCE")
    with pytest.raises(ExportError, match="no ONNX rule.*Python"):
        to_onnx(f, None, input_shapes=[(3,)])


def test_opsets_and_arguments_are_checked():
    x = T.vector("x", dtype="float32")
    f = exprc.function([x], x + 1, mode="REFERENCE")
    for opset in (12, 22):
        with pytest.raises(exprc.errors.ExprcValueError, match="opset.*13 to 21"):
            to_onnx(f, None, opset, input_shapes=[(2,)])
    with pytest.raises(exprc.errors.ExprcTypeError, match="opset must be an int"):
        to_onnx(f, None, "17", input_shapes=[(2,)])
    with pytest.raises(exprc.errors.ExprcTypeError, match="path"):
        to_onnx(f, 17, input_shapes=[(2,)])
    with pytest.raises(exprc.errors.ExprcTypeError, match="compiled function"):
        to_onnx(x + 1, None)


@pytest.mark.parametrize("opset", [13, 15, 17, 18, 21])
def test_every_supported_opset_runs(opset, tmp_path):
    predict = network("mlp")
    batch = images("mlp", 8)
    path = tmp_path / "mlp.onnx"
    model = to_onnx(predict, str(path), opset, input_shapes=[batch.shape])
    assert model.opset_import[0].version == opset
    x = T.tensor3("x", dtype="float64")
    i, j = T.vector("i", dtype="int8"), T.vector("j", dtype="uint16")
    # Before opset 14, Add/Sub/Mul/Div take no 8- or 16-bit integers.
    check_function([x, i, j], [T.max(x, axis=(0, 2)), T.prod(x, axis=1), T.int_div(i, i),
                               j * j - j, T.sum(i, dtype="int8")],
                   [sample("float64", (2, 3, 4)), sample("int8", (9,)), sample("uint16", (9,))],
                   opset=opset)
    np.testing.assert_allclose(run_model(written(model, tmp_path), [batch])[0], predict(batch),
                               atol=1e-5, rtol=0)


def test_without_onnx_the_export_says_what_to_install(monkeypatch):
    x = T.vector("x", dtype="float32")
    f = exprc.function([x], x + 1, mode="REFERENCE")
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ExportError, match=r"pip install 'exprc\[export\]'"):
        to_onnx(f, None, input_shapes=[(2,)])


def test_the_rules_import_no_onnx():
    import subprocess

    code = ("import sys; sys.modules['onnx'] = None; sys.modules['onnxruntime'] = None\n"
            "import exprc.export.onnx, exprc.export.onnx.rules\n"
            "print(len(exprc.export.onnx.rules.ONNX.exempted()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 0


# --------------------------------------------------------------------------- names and outputs
HOSTILE = ['x"; DROP TABLE\n--', "données\u2028ÿ", "'", "int", "input0", "a b\tc", ""]


def test_hostile_names_become_valid_onnx_names(tmp_path):
    inputs = [T.vector(name, dtype="float32") for name in HOSTILE]
    outs = [v * (k + 1) for k, v in enumerate(inputs)]
    for k, out in enumerate(outs):
        out.name = HOSTILE[-1 - k]
    f = exprc.function(inputs, outs, mode="REFERENCE")
    values = [np.full(2, k, dtype="float32") for k in range(len(inputs))]
    model = written(to_onnx(f, tmp_path / "names.onnx", input_shapes=[(2,)] * len(inputs)),
                    tmp_path)
    names = [i.name for i in model.graph.input] + [o.name for o in model.graph.output]
    assert len(set(names)) == len(names)
    for name in names:
        assert name.isascii() and name.replace("_", "a").isalnum() and not name[0].isdigit()
    # The names users gave travel in the documentation strings, as typed.
    assert [i.doc_string for i in model.graph.input] == \
        [n or f"input {k}" for k, n in enumerate(HOSTILE)]
    for got, expected in zip(run_model(model, values), f(*values)):
        assert_same(got, expected, 0, 0)


def test_an_output_may_share_its_name_with_an_input():
    x = T.vector("x", dtype="float32")
    y = x + 1
    y.name = "x"
    model = check_function([x], [y, x], [np.arange(3, dtype="float32")])
    names = [i.name for i in model.graph.input] + [o.name for o in model.graph.output]
    assert len(set(names)) == 3


def test_outputs_that_are_inputs_constants_or_repeated():
    x = T.vector("x", dtype="float32")
    W = exprc.shared(np.arange(4, dtype="float32").reshape(2, 2), name="W")
    y = T.exp(x)
    model = check_function([x], [x, W, y, y, T.constant(np.float32(3))],
                           [np.arange(3, dtype="float32")])
    assert op_types(model).count("Identity") == 4  # all but the first y, renamed in place


# --------------------------------------------------------------------------- the table
def test_every_op_has_an_onnx_rule_or_a_reason():
    from exprc.tensor.families import FAMILIES, family_of

    ops = sorted(Op.ALL_OPS, key=lambda c: (c.__module__, c.__name__))
    missing = [c.__name__ for c in ONNX.uncovered(ops)]
    assert not missing, f"ops without an ONNX rule or reason: {missing}"
    misplaced = [c.__name__ for c in ops if ONNX.origin(c) is not None and ONNX.origin(c) !=
                 f"exprc.export.onnx.rules.{family_of(c)}"]
    assert not misplaced
    assert all(family in FAMILIES for family in map(family_of, ops))
    for reason in ONNX.exempted().values():
        assert len(reason) > 20


# --------------------------------------------------------------------------- the op registry
#: Operators ONNX Runtime has float32 kernels for only: a float64 model using them is valid
#: ONNX (the checker passes) that ONNX Runtime refuses to load.
ORT_FLOAT32_ONLY = ("Conv", "ConvTranspose", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh",
                    "Asinh", "Acosh", "Atanh", "Softplus", "Erf")


def _registry_modules():
    from tests.registry import load_all

    by_module: dict[str, list] = {}
    for case in load_all():
        by_module.setdefault(case.module.rpartition(".")[2].removeprefix("cases_"), []).append(case)
    return by_module


REGISTRY = _registry_modules()


@pytest.mark.parametrize("family", sorted(REGISTRY))
def test_registry_cases_match_numpy(family):
    """Every case of the op registry (NumPy references written independently of exprc) that
    exports: the model's results are NumPy's. A case is left out only when the export refuses
    it with a reason, or when ONNX Runtime lacks a float64 kernel of a standard operator."""
    failures, exported = [], 0
    for case in REGISTRY[family]:
        symbols = case.symbols()
        try:
            outputs = case.build(*symbols)
        except Exception:  # a case that builds only from its own symbols' static types
            continue
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        values = [np.asarray(v) for v in case.sample(0)]
        f = exprc.function(symbols, outputs, on_unused_input="ignore", mode="REFERENCE")
        try:
            model = to_onnx(f, None, input_shapes=[v.shape for v in values])
        except ExportError as exc:
            assert "internal error" not in str(exc), (case.name, str(exc))
            continue
        try:
            sess = session(model)
        except Exception as exc:
            assert any(f"implementation for {op}(" in str(exc) for op in ORT_FLOAT32_ONLY), \
                (case.name, str(exc))
            continue
        got = sess.run(None, {i.name: v for i, v in zip(sess.get_inputs(), values)})
        with np.errstate(all="ignore"):
            expected = case.reference(*values)
        expected = expected if isinstance(expected, (list, tuple)) else [expected]
        exported += 1
        for g, e in zip(got, expected):
            try:
                assert_same(g, np.asarray(e), max(case.rtol, 1e-5), max(case.atol, 1e-6))
            except AssertionError as exc:
                failures.append(f"{case.name}: {exc}")
    assert not failures, "\n".join(failures)
    if family in ("elemwise", "reduction", "subtensor", "basic", "shape", "softmax"):
        assert exported >= 10


def test_command_line_writes_a_checked_model(tmp_path):
    import pickle

    from exprc.export.__main__ import main

    x = T.matrix("x", dtype="float32")
    W = exprc.shared(np.arange(12, dtype="float32").reshape(4, 3) / 10, name="W")
    f = exprc.function([x], T.nnet.softmax(T.dot(x, W)))
    model = tmp_path / "model.pkl"
    model.write_bytes(pickle.dumps(f))
    out = tmp_path / "model.onnx"
    assert main(["onnx", str(model), str(out), "--input-shape", "2,4", "--opset", "18"]) == 0
    loaded = onnx.load(str(out))
    onnx.checker.check_model(loaded, full_check=True)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    value = np.linspace(-1, 1, 8, dtype="float32").reshape(2, 4)
    got = session.run(None, {session.get_inputs()[0].name: value})[0]
    np.testing.assert_allclose(got, f(value), atol=1e-6)
    assert main(["onnx", str(model), str(out), "--opset", "99", "--input-shape", "2,4"]) == 1
