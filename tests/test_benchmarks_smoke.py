"""The benchmark workloads (benchmarks/) run on exprc at tiny sizes and agree with NumPy.

Only exprc and NumPy run here (no peers, no timing assertions): the point is that the
benchmark code keeps working as exprc changes, and that each workload computes what its
NumPy version computes.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

# The benchmark modules import each other by plain name, as they do when run as scripts.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import compile_time
import report
import run as bench_run
import timing
import workloads as wl

import exprc

TINY_MLP = [12, 8, 8, 3]
# Even sides after each convolution, so that the 2x2 pooling covers every element.
TINY_LENET = wl.LeNetShape(batch=4, channels=2, image=14, filters=(3, 4), kernel=3, hidden=6,
                           classes=5)
TINY_LSTM = wl.LSTMShape(steps=5, batch=3, n_in=4, hidden=6)
needs_scan = pytest.mark.skipif(not hasattr(exprc, "scan"), reason="exprc has no scan yet")


@pytest.mark.parametrize("numpy_fn, exprc_fn", [(wl.w1_numpy, wl.w1_exprc),
                                                (wl.w2_numpy, wl.w2_exprc)])
def test_elementwise_workloads_match_numpy(numpy_fn, exprc_fn):
    data = wl.ElementwiseData.random(1000)
    out = exprc_fn(data)()
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, numpy_fn(data), rtol=1e-5, atol=1e-6)


def test_mlp_step_matches_handwritten_numpy_over_two_steps():
    data = wl.MLPData.random(TINY_MLP, batch=5)
    exprc_step, numpy_step = wl.mlp_train_exprc(data), wl.mlp_train_numpy(data)
    # The second cost differs from the first only if both applied the same SGD update.
    first, second = exprc_step(), exprc_step()
    np.testing.assert_allclose(first, numpy_step(), rtol=1e-5)
    np.testing.assert_allclose(second, numpy_step(), rtol=1e-5)
    assert not np.isclose(first, second, rtol=1e-7)


def test_mlp_step_cost_starts_near_log_of_the_class_count():
    # Glorot weights and zero biases give near-uniform predictions at the start.
    data = wl.MLPData.random(wl.mlp_sizes(1, width=16, n_in=20, n_out=10), batch=64)
    assert abs(float(wl.mlp_train_numpy(data)()) - np.log(10)) < 0.5


def test_step_gemm_flops_of_w3():
    batch, layers = 128, [(784, 256), (256, 256), (256, 10)]
    forward = sum(batch * a * b for a, b in layers)
    input_gradients = sum(batch * a * b for a, b in layers[1:])
    expected = 2 * (2 * forward + input_gradients)
    products = wl.step_gemms(wl.mlp_sizes(2), batch)
    assert len(products) == 8
    assert sum(g.flops for g in products) == expected


def test_numpy_convolution_matches_the_definition():
    # The reference convolution against its definition written as loops: a true convolution
    # (the filters flipped), as Theano's conv2d computes it.
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 2))
    expected = np.zeros((2, 4, 4, 4))
    for n, o, i, j in np.ndindex(*expected.shape):
        for c, a, b in np.ndindex(3, 3, 2):
            expected[n, o, i, j] += x[n, c, i + a, j + b] * w[o, c, 2 - a, 1 - b]
    np.testing.assert_allclose(wl.conv2d_numpy(x, w), expected, rtol=1e-12)


def test_numpy_lenet_gradients_match_finite_differences():
    # The reference's hand-written backward pass against central differences of its cost, in
    # float64, at one entry of every parameter.
    data = wl.LeNetData.random(TINY_LENET)
    params = [p.astype(np.float64) for p in data.params]
    X = data.X.astype(np.float64)
    _, grads = wl.lenet_cost_and_grads_numpy(params, X, data.labels)
    rng, eps = np.random.default_rng(2), 1e-6
    for param, grad in zip(params, grads):
        index = tuple(rng.integers(0, size) for size in param.shape)
        saved, costs = param[index], []
        for delta in (eps, -eps):
            param[index] = saved + delta
            costs.append(wl.lenet_cost_and_grads_numpy(params, X, data.labels)[0])
        param[index] = saved
        np.testing.assert_allclose(grad[index], (costs[0] - costs[1]) / (2 * eps),
                                   rtol=1e-5, atol=1e-9)


def test_lenet_step_matches_handwritten_numpy_over_two_steps():
    data = wl.LeNetData.random(TINY_LENET)
    exprc_step, numpy_step = wl.lenet_train_exprc(data), wl.lenet_train_numpy(data)
    first, second = exprc_step(), exprc_step()
    np.testing.assert_allclose(first, numpy_step(), rtol=1e-5)
    np.testing.assert_allclose(second, numpy_step(), rtol=1e-5)
    assert not np.isclose(first, second, rtol=1e-7)


def test_lenet_gemm_flops():
    # Forward products: 2 * n * o * c*k*k * positions per convolution, n * a * b per dense
    # layer; the filter gradients cost the same again, the input gradients too except for
    # the first convolution's (its input is the data).
    n = 128
    conv1, conv2 = n * 20 * 25 * 24 ** 2, n * 50 * 500 * 8 ** 2
    dense = n * 800 * 500 + n * 500 * 10
    expected = 2 * (2 * conv1 + 3 * conv2 + 3 * dense)
    products = wl.lenet_gemms(wl.LeNetShape())
    assert len(products) == 11
    assert sum(g.flops for g in products) == expected


def test_call_overhead_workload():
    x = np.arange(10, dtype=np.float64)
    for trust_input in (False, True):
        np.testing.assert_array_equal(wl.w5_exprc(x, trust_input=trust_input)(), x + 1)


def test_compile_time_child_reports_its_parts():
    result = compile_time._exprc_child(depth=1, width=8, batch=4)
    assert result["nodes"] > 0
    assert 0 < result["function_s"] <= result["first_result_s"]
    assert result["import_s"] >= 0


def test_driver_runs_and_writes_json(tmp_path, capsys):
    out = tmp_path / "results.json"
    bench_run.main(["--only", "W1,W5", "--peers", "none", "--repeat", "2",
                    "--size-log2", "10", "--json", str(out), "--markdown"])
    printed = capsys.readouterr().out
    assert "| W1 " in printed and "| W5 " in printed
    workloads = json.loads(out.read_text())["workloads"]
    timed = [w for w in workloads if "rows" in w]
    assert [w["key"] for w in timed] == ["W1", "W5"]
    for workload in timed:
        for row in workload["rows"]:
            assert row["stats"] is not None and row["error"] == "", row


def test_mlp_bench_checks_against_numpy():
    result = bench_run.bench_mlp(repeat=1, peers=[], batch=4, sizes=TINY_MLP, peak_n=64)
    assert [r.system for r in result.rows] == ["exprc", "NumPy"]
    assert all(r.error == "" and r.stats is not None for r in result.rows)
    assert result.floor_s > 0


def test_lenet_bench_checks_against_numpy():
    result = bench_run.bench_lenet(repeat=1, peers=[], shape=TINY_LENET, peak_n=64)
    assert result.key == "W4"
    assert [r.system for r in result.rows] == ["exprc", "NumPy"]
    assert all(r.error == "" and r.stats is not None for r in result.rows)
    assert result.floor_s > 0


def test_numpy_lstm_gradients_match_finite_differences():
    # The reference's backpropagation through time against central differences of its cost, in
    # float64, at a few entries of every parameter.
    data = wl.LSTMData.random(TINY_LSTM)
    params = [p.astype(np.float64) for p in data.params]
    X = data.X.astype(np.float64)
    _, grads = wl.lstm_cost_and_grads_numpy(params, X)
    rng, eps = np.random.default_rng(3), 1e-6
    for param, grad in zip(params, grads):
        for _ in range(3):
            index = tuple(rng.integers(0, size) for size in param.shape)
            saved, costs = param[index], []
            for delta in (eps, -eps):
                param[index] = saved + delta
                costs.append(wl.lstm_cost_and_grads_numpy(params, X)[0])
            param[index] = saved
            np.testing.assert_allclose(grad[index], (costs[0] - costs[1]) / (2 * eps),
                                       rtol=1e-6, atol=1e-10)


def test_lstm_check_reads_the_gradients_back_from_the_update():
    data = wl.LSTMData.random(TINY_LSTM)
    step = wl.lstm_train_numpy(data)
    check = wl.lstm_check(step(), data.params, step.params())
    # A gradient read back from the update carries its parameter's float32 rounding divided by
    # the learning rate: a few 1e-6 at these sizes (parameters up to 0.4).
    np.testing.assert_allclose(check, wl.lstm_reference(data), rtol=1e-3, atol=1e-5)


@needs_scan
def test_lstm_step_matches_handwritten_numpy_over_two_steps():
    data = wl.LSTMData.random(TINY_LSTM)
    exprc_step, numpy_step = wl.lstm_train_exprc(data), wl.lstm_train_numpy(data)
    first = exprc_step()
    np.testing.assert_allclose(wl.lstm_check(first, data.params, exprc_step.params()),
                               wl.lstm_reference(data), rtol=1e-3, atol=1e-5)
    second = exprc_step()
    np.testing.assert_allclose(first, numpy_step(), rtol=1e-5)
    np.testing.assert_allclose(second, numpy_step(), rtol=1e-5)
    assert not np.isclose(first, second, rtol=1e-7)


def test_lstm_gemm_flops():
    # Per step: two forward products (batch x n_in x 4h, batch x h x 4h), the same two as
    # weight gradients, and the gradient to the previous step (batch x 4h x h).
    s = wl.LSTMShape()
    per_step = 2 * s.batch * 4 * s.hidden * (2 * s.n_in + 3 * s.hidden)
    products = wl.lstm_gemms(s)
    assert len(products) == 5 * s.steps
    assert sum(g.flops for g in products) == s.steps * per_step


def test_lstm_bench_checks_against_numpy():
    result = bench_run.bench_lstm(repeat=1, peers=[], shape=TINY_LSTM)
    assert result.key == "W8"
    assert [r.system for r in result.rows] == ["exprc", "NumPy"]
    numpy_row = result.row("NumPy")
    assert numpy_row.error == "" and numpy_row.stats is not None
    exprc_row = result.row("exprc")
    if hasattr(exprc, "scan"):
        assert exprc_row.error == "" and exprc_row.stats is not None, exprc_row
    else:
        assert exprc_row.error.startswith("skipped") and exprc_row.stats is None
    assert result.floor_s > 0


@needs_scan
def test_lstm_compile_time_child_reports_its_parts():
    result = compile_time._exprc_lstm_child(TINY_LSTM)
    assert result["nodes"] > 0
    assert 0 < result["function_s"] <= result["first_result_s"]


TINY_TUTORIAL = wl.TutorialShape(n_in=12, hidden=7, classes=4, batch=5, batches=3, steps=4,
                                 l1=0.001)


def test_tutorial_step_matches_handwritten_numpy_over_two_calls():
    # Two calls of four steps each over three stored minibatches: the second call starts
    # where the first stopped, from the parameters the first left.
    data = wl.TutorialData.random(TINY_TUTORIAL)
    exprc_run, numpy_run = wl.tutorial_train_exprc(data), wl.tutorial_train_numpy(data)
    for _ in range(2):
        np.testing.assert_allclose(exprc_run(), numpy_run(), rtol=1e-12)
    for mine, reference in zip(exprc_run.params(), numpy_run.params()):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-15)
    assert not np.allclose(exprc_run.params()[0], data.params[0])


def test_numpy_tutorial_gradients_match_finite_differences():
    shape = wl.TutorialShape(n_in=6, hidden=5, classes=3, batch=4, l1=0.01, l2=0.1)
    data = wl.TutorialData.random(shape)
    rng, eps = np.random.default_rng(4), 1e-6
    params = [p + rng.uniform(-0.3, 0.3, p.shape) for p in data.params]  # no zero weights
    x, y = data.X[:shape.batch], data.labels[:shape.batch]
    _, grads = wl.tutorial_cost_and_grads_numpy(params, x, y, shape)
    for param, grad in zip(params, grads):
        index = tuple(rng.integers(0, size) for size in param.shape)
        saved, costs = param[index], []
        for delta in (eps, -eps):
            param[index] = saved + delta
            costs.append(wl.tutorial_cost_and_grads_numpy(params, x, y, shape)[0])
        param[index] = saved
        np.testing.assert_allclose(grad[index], (costs[0] - costs[1]) / (2 * eps),
                                   rtol=1e-5, atol=1e-9)


def test_tutorial_gemm_flops():
    # Forward 20x784x500 and 20x500x10, the same again as weight gradients, and the hidden
    # layer's input gradient 20x10x500.
    products = wl.tutorial_gemms(wl.TutorialShape())
    assert len(products) == 5
    assert sum(g.flops for g in products) == 2 * 20 * (2 * 784 * 500 + 3 * 500 * 10)


def test_tutorial_bench_under_load_and_one_thread():
    conditions = bench_run.Conditions(loads=(0, 1), threads=("all", "1"))
    result = bench_run.bench_tutorial(repeat=1, peers=[], shape=TINY_TUTORIAL,
                                      conditions=conditions)
    assert result.key == "W10"
    assert [(r.system, r.load) for r in result.rows] == [
        ("exprc", 0), ("exprc", 1), ("exprc 1 thread", 0), ("exprc 1 thread", 1),
        ("NumPy", 0), ("NumPy", 1)]
    assert all(r.error == "" and r.stats is not None for r in result.rows), result.rows
    text = report.text_table(result)
    assert "quiet:" in text and "loaded (1 busy):" in text
    table = report.markdown([result], "test machine")
    assert "| W10 " in table and ", quiet |" in table and ", loaded (1 busy) |" in table
    assert "| exprc | exprc 1 thread | NumPy |" in table


def test_exprc_threads_puts_both_pools_back():
    from exprc.link.c import blas
    wl.w5_exprc(np.zeros(3))()  # loads the runtime library and OpenBLAS
    before = blas.get_num_threads()
    with bench_run.exprc_threads(1):
        assert blas.get_num_threads() == 1
    assert blas.get_num_threads() == before


def test_background_load_runs_its_processes_and_stops_them():
    import os
    import time as clock

    def busy_children():
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
        found = []
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():  # parent pid
                found.append((pid, fields[0]))
        return found

    if not os.path.isdir("/proc"):
        pytest.skip("needs /proc")
    with timing.background_load(2, deadline_s=30):
        clock.sleep(0.2)
        children = busy_children()
        assert len(children) == 2 and all(state == "R" for _, state in children), children
    assert busy_children() == []
    with pytest.raises(KeyboardInterrupt), timing.background_load(1, deadline_s=30):
        raise KeyboardInterrupt
    assert busy_children() == []
