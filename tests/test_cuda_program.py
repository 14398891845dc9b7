"""The CUDA program on the emulated device: elementwise kernels and reductions against NumPy
(every layout path), placement, in-place safety, shared variables that stay in device memory,
what happens without a GPU, and whole training steps against the C backend."""

from __future__ import annotations

import pickle
import sys
import warnings

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.link.cuda import using_device
from exprc.link.cuda.program import CudaFallbackWarning, launch_geometry
from tests.cuda_harness import CUDA_MODE, cuda_function, emulated_device, have_compilers

pytestmark = pytest.mark.skipif(not have_compilers(), reason="no C++ compiler for the emulator")

RNG = np.random.default_rng(7)


def _places(f) -> set[str]:
    return {where for _, where in f.placement()}


# --------------------------------------------------------------------------- elementwise
def test_elementwise_paths_flat_repeated_strided_and_broadcast():
    x = T.matrix("x", dtype="float32")
    y = T.matrix("y", dtype="float32")
    s = T.scalar("s", dtype="float32")
    outs = [x * s + y,                 # flat, with a repeated (0-d) input
            T.exp(x.T) - y.T,          # transposed views: strided
            x[::2, 1:] * 2 + 1,        # sliced: strided
            x + y[0:1, :],             # a row broadcast along axis 0
            T.maximum(x, y[:, 0:1])]   # a column broadcast along axis 1
    f = cuda_function([x, y, s], outs)
    assert "cuda" in _places(f)
    xv = RNG.standard_normal((6, 5)).astype("float32")
    yv = RNG.standard_normal((6, 5)).astype("float32")
    sv = np.float32(1.5)
    got = f(xv, yv, sv)
    want = [xv * sv + yv, np.exp(xv.T) - yv.T, xv[::2, 1:] * 2 + 1, xv + yv[0:1, :],
            np.maximum(xv, yv[:, 0:1])]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["bool", "int8", "int32", "int64", "uint16", "float64"])
def test_elementwise_dtypes(dtype):
    x = T.tensor(dtype, shape=(None, None, None), name="x")
    y = T.tensor(dtype, shape=(None, None, None), name="y")
    f = cuda_function([x, y], [T.maximum(x, y), T.eq(x, y), x.dimshuffle(2, 0, 1)])
    if dtype == "bool":
        xv, yv = RNG.random((3, 4, 5)) < 0.5, RNG.random((3, 4, 5)) < 0.5
    else:
        xv = RNG.integers(0, 9, (3, 4, 5)).astype(dtype)
        yv = RNG.integers(0, 9, (3, 4, 5)).astype(dtype)
    got = f(xv, yv)
    np.testing.assert_array_equal(got[0], np.maximum(xv, yv))
    np.testing.assert_array_equal(got[1], xv == yv)
    np.testing.assert_array_equal(got[2], xv.transpose(2, 0, 1))


def test_empty_and_zero_dimensional_values():
    x = T.matrix("x")
    s = T.scalar("s")
    f = cuda_function([x, s], [x * 2, s + 1, x.sum(axis=0), x.sum()])
    got = f(np.zeros((0, 3)), np.float64(2.0))
    assert got[0].shape == (0, 3)
    assert float(got[1]) == 3.0
    np.testing.assert_array_equal(got[2], np.zeros(3))
    assert float(got[3]) == 0.0


def test_shape_mismatch_is_a_clear_error():
    x, y = T.vector("x"), T.vector("y")
    f = cuda_function([x, y], x + y)
    with pytest.raises(exprc.errors.ExprcShapeError, match="broadcast"):
        f(np.ones(3), np.ones(4))


# --------------------------------------------------------------------------- reductions
@pytest.mark.parametrize("axis", [None, 0, 1, 2, (0, 2), (1, 2), (0, 1)])
def test_sum_max_prod_over_axes(axis):
    x = T.tensor3("x")
    f = cuda_function([x], [x.sum(axis=axis), x.max(axis=axis), x.prod(axis=axis),
                            x.dimshuffle(2, 1, 0).sum(axis=axis)])
    xv = RNG.uniform(0.5, 1.5, (7, 40, 33))
    got = f(xv)
    np.testing.assert_allclose(got[0], xv.sum(axis=axis), rtol=1e-12)
    np.testing.assert_allclose(got[1], xv.max(axis=axis))
    np.testing.assert_allclose(got[2], xv.prod(axis=axis), rtol=1e-12)
    np.testing.assert_allclose(got[3], xv.transpose(2, 1, 0).sum(axis=axis), rtol=1e-12)


def test_long_reductions_split_across_blocks_and_logical_ones():
    x = T.vector("x", dtype="float32")
    b = T.matrix("b", dtype="bool")
    f = cuda_function([x, b], [x.sum(), T.max(x), T.any(b, axis=1), T.all(b, axis=0)])
    xv = RNG.standard_normal(300_001).astype("float32")
    bv = RNG.random((9, 70)) < 0.9
    got = f(xv, bv)
    np.testing.assert_allclose(got[0], xv.sum(dtype="float64"), rtol=1e-4)
    assert got[1] == xv.max()
    np.testing.assert_array_equal(got[2], bv.any(axis=1))
    np.testing.assert_array_equal(got[3], bv.all(axis=0))


def test_nan_propagates_through_max_and_empty_max_is_refused():
    x = T.matrix("x")
    f = cuda_function([x], T.max(x, axis=1))
    xv = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(f(xv), [np.nan, 6.0])
    with pytest.raises(ValueError, match="empty"):
        f(np.zeros((2, 0)))


# --------------------------------------------------------------------------- products
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_products_with_transposed_and_vector_operands(dtype):
    a, b = T.matrix("a", dtype=dtype), T.matrix("b", dtype=dtype)
    v = T.vector("v", dtype=dtype)
    outs = [T.dot(a, b), T.dot(a.T, a), T.dot(a, v[:a.shape[1]]), T.dot(v[:a.shape[0]], a),
            T.dot(b[:, ::2].T, b[:, ::2])]
    f = cuda_function([a, b, v], outs)
    av = RNG.standard_normal((5, 4)).astype(dtype)
    bv = RNG.standard_normal((4, 6)).astype(dtype)
    vv = RNG.standard_normal(5).astype(dtype)
    want = [av @ bv, av.T @ av, av @ vv[:4], vv[:5] @ av, bv[:, ::2].T @ bv[:, ::2]]
    tol = 1e-5 if dtype == "float32" else 1e-12
    for g, w in zip(f(av, bv, vv), want):
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


# --------------------------------------------------------------------------- shared values
def test_shared_values_stay_on_the_device_and_come_back_on_read():
    w = exprc.shared(np.arange(6.0).reshape(2, 3), name="w")
    step = cuda_function([], w.sum(), updates=[(w, w * 2)])
    assert float(step()) == 15.0
    assert w.container._value is None  # the new value is only in device memory
    assert float(step()) == 30.0
    np.testing.assert_array_equal(w.get_value(), np.arange(6.0).reshape(2, 3) * 4)
    w.set_value(np.ones((2, 3)))  # a new host value replaces the device copy
    assert float(step()) == 6.0
    loaded = pickle.loads(pickle.dumps(w))  # saved as NumPy: loads without any GPU
    np.testing.assert_array_equal(loaded.get_value(), np.full((2, 3), 2.0))


def test_in_place_ops_never_overwrite_shared_or_caller_values():
    w = exprc.shared(np.ones(5), name="w")
    x = T.vector("x")
    f = cuda_function([x], [-(x * w), -w, (x + 1) * 3])
    xv = np.arange(5.0)
    for _ in range(2):
        got = f(xv)
        np.testing.assert_array_equal(got[0], -(xv * 1.0))
        np.testing.assert_array_equal(got[1], -np.ones(5))
        np.testing.assert_array_equal(got[2], (xv + 1) * 3)
    np.testing.assert_array_equal(w.get_value(), np.ones(5))
    np.testing.assert_array_equal(xv, np.arange(5.0))


def test_results_never_alias_each_other():
    x = T.vector("x")
    f = cuda_function([x], [x, x, x * 1])
    got = f(np.ones(3))
    got[0][0] = 5
    assert got[1][0] == 1 and got[2][0] == 1


# --------------------------------------------------------------------------- placement
def test_shape_arithmetic_runs_on_the_host_and_ops_without_rules_fall_back():
    from exprc.tensor.nlinalg import matrix_inverse

    x = T.matrix("x")
    with pytest.warns(CudaFallbackWarning, match="MatrixInverse"):
        f = cuda_function([x], [matrix_inverse(x * 2) + 1, T.alloc(0.0, x.shape[0] + 1)])
    places = dict(f.placement())
    assert any("Shape" in node and where == "host" for node, where in places.items())
    assert any("MatrixInverse" in node and where == "cpu (transfer)"
               for node, where in places.items())
    assert any(where == "cuda" for where in places.values())
    xv = RNG.standard_normal((4, 4)) + 4 * np.eye(4)
    got = f(xv)
    np.testing.assert_allclose(got[0], np.linalg.inv(xv * 2) + 1, rtol=1e-10)
    np.testing.assert_array_equal(got[1], np.zeros(5))


def test_launch_geometry_fills_the_device_without_idle_blocks():
    device = emulated_device()
    assert launch_geometry(device, 10) == (1, 256)
    assert launch_geometry(device, 10**9) == (device.multiprocessors * 8, 256)
    assert launch_geometry(device, 0)[0] == 1


# --------------------------------------------------------------------------- no GPU here
def test_device_flag_without_cuda_falls_back_to_the_cpu_and_says_why_once(monkeypatch):
    from exprc.compile import mode as mode_module
    from exprc.link.cuda import driver

    monkeypatch.setattr(driver, "cuda_unavailable_reason", lambda: "no NVIDIA driver (test)")

    def refuse(ordinal=0):
        raise driver.CudaUnavailable("no NVIDIA driver (test)")

    monkeypatch.setattr(driver, "cuda_device", refuse)
    monkeypatch.setattr(mode_module, "_told_unavailable", [])
    x = T.vector("x")
    with exprc.config.change_flags(device="cuda"):
        with pytest.warns(mode_module.CudaUnavailableWarning, match="no NVIDIA driver"):
            f = exprc.function([x], x * 2)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # said once only
            g = exprc.function([x], x * 3)
    assert _places(f) == {"c"} and _places(g) == {"c"}
    np.testing.assert_array_equal(f(np.ones(2)), [2.0, 2.0])
    with pytest.raises(driver.CudaUnavailable, match="no NVIDIA driver"):
        exprc.function([x], x * 2, mode=CUDA_MODE)


def test_unknown_device_flag_is_refused():
    with pytest.raises(Exception, match="device"):
        exprc.config.device = "tpu"


# --------------------------------------------------------------------------- training
def _mlp(mode, device=None, fallbacks=None):
    sys.path.insert(0, "benchmarks")
    try:
        import workloads as W
    finally:
        sys.path.remove("benchmarks")
    data = W.MLPData.random([20, 16, 5], batch=8, seed=3)
    inputs, cost, updates = W.mlp_train_graph(data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CudaFallbackWarning)
        if device is None:
            f = exprc.function(inputs, cost, updates=updates, mode=mode)
        else:
            with using_device(device):
                f = exprc.function(inputs, cost, updates=updates, mode=mode)
    if fallbacks is not None:
        fallbacks.extend(str(w.message) for w in caught)
    costs = [float(f(data.X, data.labels)) for _ in range(3)]
    return costs, [p.get_value() for p, _ in updates], f


def test_mlp_training_steps_match_the_c_backend():
    reference_costs, reference_params, _ = _mlp("FAST_RUN")
    fallbacks: list[str] = []
    costs, params, f = _mlp(CUDA_MODE, emulated_device(), fallbacks)
    np.testing.assert_allclose(costs, reference_costs, rtol=1e-5)
    for got, want in zip(params, reference_params):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert "cuda" in _places(f)


def test_a_function_saved_from_the_gpu_loads_and_runs_on_a_machine_without_one(monkeypatch):
    from exprc.compile.mode import CudaUnavailableWarning
    from exprc.link.cuda import driver

    w = exprc.shared(np.ones(3), name="w")
    x = T.vector("x")
    f = cuda_function([x], (x * w).sum(), updates=[(w, w + x)])
    assert float(f(np.arange(3.0))) == 3.0
    saved = pickle.dumps(f)

    def refuse(ordinal=0):
        raise driver.CudaUnavailable("no NVIDIA driver (test)")

    monkeypatch.setattr(driver, "cuda_device", refuse)
    with pytest.warns(CudaUnavailableWarning, match="compiled for a GPU"):
        g = pickle.loads(saved)  # outside using_device: no GPU here
    assert _places(g) == {"c"}
    assert float(g(np.arange(3.0))) == float((np.arange(3.0) * (1 + np.arange(3.0))).sum())
    with using_device(emulated_device()):  # and back onto a (emulated) GPU
        h = pickle.loads(saved)
    assert "cuda" in _places(h)


@pytest.mark.parametrize("example", ["mnist_mlp", "mnist_lenet"])
def test_the_mnist_examples_run_wholly_on_the_gpu_and_train_as_on_the_cpu(example):
    """The examples' networks (dropout, Adam, the evaluation functions) need no op on the CPU,
    and a training step gives the C backend's losses: same initial weights, same dropout
    masks (the same random streams)."""
    from tests.test_mnist_models import import_examples

    module, common = import_examples(example, "_common")
    from exprc import nn

    rng = np.random.default_rng(0)
    shape = (16, 1, 28, 28) if example == "mnist_lenet" else (16, 784)
    x = rng.standard_normal(shape).astype(exprc.config.floatX)
    y = rng.integers(0, 10, 16).astype("int32")

    def train(device_flag):
        nn.random.set_rng(np.random.RandomState(5))
        with exprc.config.change_flags(device=device_flag), \
                using_device(emulated_device()):
            model = common.compile_classifier(module.build_network())
        return model, [float(model.train_step(x, y)) for _ in range(2)]

    cpu_model, cpu_losses = train("cpu")
    gpu_model, gpu_losses = train("cuda")
    for f in (gpu_model.train_step, gpu_model.scores, gpu_model.predict):
        assert {where for _, where in f.placement()} <= {"cuda", "host"}, f.name
    np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=2e-4)
    np.testing.assert_allclose(gpu_model.predict(x), cpu_model.predict(x), rtol=2e-3,
                               atol=1e-5)


def test_writes_never_take_over_a_shared_value_that_reuses_a_freed_buffers_id():
    # The temporaries of the sum are freed before the writes run, and a shared value's device
    # copy made later can get a freed buffer's Python id: a write must still copy it.
    w = exprc.shared(np.zeros((3, 4)), name="w")
    base = T.constant(np.zeros((3, 4)))
    a = T.matrix("a")
    s = T.exp(a).sum() + T.exp(a * 2).sum() + T.exp(a * 3).sum()
    f = cuda_function([a], [T.inc_subtensor(w[0], s), T.set_subtensor(w[1:], s),
                            T.inc_subtensor(base[0], s)])
    for _ in range(3):
        got = f(np.zeros((3, 4)))
        # s = 3 * 12 (exp(0) over 12 elements, three times)
        assert got[0].sum() == 4 * 36.0 and got[1].sum() == 8 * 36.0 and got[2].sum() == 4 * 36.0
    np.testing.assert_array_equal(w.get_value(), np.zeros((3, 4)))


def test_a_collection_inside_an_allocation_does_not_deadlock():
    import gc

    from exprc.link.cuda.device import DeviceArray

    device = emulated_device()
    kept = [DeviceArray.empty(device, (10,), "float64") for _ in range(50)]
    del kept  # cached blocks, so allocations pop from the cache under its lock
    threshold = gc.get_threshold()
    gc.set_threshold(5)
    try:
        for _ in range(2000):  # cycles freed by collections that run inside allocate()
            array = DeviceArray.empty(device, (10,), "float64")
            cycle = [array]
            cycle.append(cycle)
            del array, cycle
    finally:
        gc.set_threshold(*threshold)


def test_arguments_in_the_other_byte_order_are_read_by_value():
    x = T.vector("x")
    labels = T.ivector("labels")
    p = T.matrix("p")
    f = cuda_function([x, p, labels], [x * 2, T.nnet.categorical_crossentropy(p, labels)])
    pv = np.full((2, 3), 1 / 3)
    got = f(np.arange(4.0).astype(">f8"), pv.astype(">f8"), np.array([0, 2], dtype=">i4"))
    np.testing.assert_array_equal(got[0], [0.0, 2.0, 4.0, 6.0])
    np.testing.assert_allclose(got[1], [np.log(3.0)] * 2, rtol=1e-12)


def test_run_time_errors_name_the_node_and_the_users_line():
    a, b = T.matrix("a"), T.matrix("b")
    f = cuda_function([a, b], T.dot(a, b) + 1)
    with pytest.raises(ValueError, match=r"(?s)not aligned.*while computing.*graph built at"):
        f(np.ones((3, 4)), np.ones((5, 6)))
