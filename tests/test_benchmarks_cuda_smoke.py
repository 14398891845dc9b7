"""The GPU benchmark script (benchmarks/gpu.py) runs at tiny sizes without a GPU.

exprc runs on the CUDA emulator (``--emulate``) and the PyTorch peers are left out, so the
times mean nothing: the point is that the script keeps working as the backend changes, that
it gives every row it should, and that every exprc result it times is checked against NumPy
(a result that differs is flagged, not hidden).
"""

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from tests.cuda_harness import have_compilers

# The benchmark modules import each other by plain name, as they do when run as scripts.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import gpu as bench_cuda
import run as bench_run
import workloads as wl

pytestmark = pytest.mark.skipif(not have_compilers(), reason="the emulator needs a C++ compiler")

# Even sides after each convolution, so that the 2x2 pooling covers every element.
TINY = ["--emulate", "--size-log2", "10", "--w3-sizes", "12,8,8,3", "--w3-batch", "5",
        "--w4-batches", "4", "--w4-shape", "2,14,3,4,3,6,5", "--w5-size", "7",
        "--repeat", "2", "--seconds", "0.05", "--peers", "none"]

EXPECTED_ROWS = {
    "W1": [("exprc", bench_cuda.HOST), ("exprc", bench_cuda.DEVICE)],
    "W3": [("exprc", bench_cuda.HOST), ("exprc", bench_cuda.FETCHED)],
    "W4": [("exprc", bench_cuda.HOST), ("exprc", bench_cuda.FETCHED)],
    "W5": [("exprc", bench_cuda.HOST), ("exprc trust_input", bench_cuda.HOST),
           ("exprc", bench_cuda.FETCHED), ("exprc", bench_cuda.DEVICE)],
}


def run_tiny(*extra):
    with warnings.catch_warnings():
        # Ops whose CUDA rule is not written yet run on the CPU; the rows' notes name them.
        from exprc.link.cuda.program import CudaFallbackWarning

        warnings.simplefilter("ignore", CudaFallbackWarning)
        return bench_cuda.main(TINY + list(extra))


def test_emulated_run_gives_every_row_checked_against_numpy(tmp_path, capsys):
    out = tmp_path / "gpu.json"
    results = run_tiny("--markdown", "--json", str(out))
    printed = capsys.readouterr().out

    assert [r.key for r in results] == ["W1", "W5", "W3", "W4"]
    for result in results:
        assert [(r.system, r.data) for r in result.rows] == EXPECTED_ROWS[result.key]
        for row in result.rows:
            assert row.stats is not None, f"{result.key} {row.system}: {row.error}"
            assert row.error == "", f"{result.key} {row.system} {row.data}: {row.error}"
            assert row.stats.median > 0 and row.build_s > 0
    # W1's floors (the emulator's copies) are measured, and the table reads against them.
    w1 = results[0]
    assert set(w1.floors) == {bench_cuda.HOST, bench_cuda.DEVICE}
    assert all(s > 0 for s, _ in w1.floors.values())
    assert "emulator" in printed and "W1  a*x + b*y + c, 2**10 float32" in printed
    assert "| W4 LeNet step 2x14x14" in printed and "WRONG" not in printed

    saved = json.loads(out.read_text())
    assert [w["key"] for w in saved["workloads"]] == ["W1", "W5", "W3", "W4"]
    assert saved["workloads"][0]["traffic_bytes"] == 3 * 4 * 2 ** 10
    assert all(row["stats"]["median"] > 0 for w in saved["workloads"] for row in w["rows"])


def _off(value):
    return np.asarray(value) + 0.5


def test_a_result_that_differs_from_numpy_is_flagged(monkeypatch):
    # The same run against references that are off: every exprc row must be marked WRONG,
    # which shows that each one's result is compared with its reference. The steps' references
    # are off in their gradients only, so the steps are checked by more than their cost.
    def gradients_off(reference):
        def wrong(data):
            value = reference(data).copy()
            value[1:] *= 1.5
            return value

        return wrong

    monkeypatch.setattr(wl, "w1_numpy", lambda d, real=wl.w1_numpy: _off(real(d)))
    monkeypatch.setattr(wl, "w5_numpy", lambda x, real=wl.w5_numpy: _off(real(x)))
    monkeypatch.setattr(bench_cuda, "mlp_reference", gradients_off(bench_cuda.mlp_reference))
    monkeypatch.setattr(bench_cuda, "lenet_reference",
                        gradients_off(bench_cuda.lenet_reference))
    results = run_tiny()
    rows = [(result.key, row) for result in results for row in result.rows]
    assert len(rows) == sum(len(v) for v in EXPECTED_ROWS.values())
    for key, row in rows:
        assert row.error.startswith("WRONG"), f"{key} {row.system} {row.data}: {row.error!r}"
    assert "WRONG" in bench_cuda.markdown(results, "test")


def test_mlp_reference_gradients_match_finite_differences():
    # The reference the W3 rows are checked against: its gradients (recovered from the
    # hand-written step's update) against central differences of the cost in float64.
    data = wl.MLPData.random([6, 5, 4], batch=7, seed=3)
    reference = bench_cuda.mlp_reference(data)

    def cost(params):
        probe = wl.MLPData([(W.copy(), b.copy()) for W, b in params], data.X.astype(np.float64),
                           data.labels)
        return float(wl.mlp_train_numpy(probe)())  # the cost before the step's update

    params = [(W.astype(np.float64), b.astype(np.float64)) for W, b in data.params]
    numeric, eps = [], 1e-6
    for i, (W, b) in enumerate(params):
        for which, array in enumerate((W, b)):
            grad = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                values = []
                for sign in (1, -1):
                    shifted = [(w.copy(), c.copy()) for w, c in params]
                    shifted[i][which][index] += sign * eps
                    values.append(cost(shifted))
                grad[index] = (values[0] - values[1]) / (2 * eps)
            numeric.append(grad.ravel())
    assert reference[0] == pytest.approx(cost(params), rel=1e-12)
    np.testing.assert_allclose(reference[1:], np.concatenate(numeric), rtol=1e-4, atol=1e-7)


def test_run_py_device_cuda_runs_the_gpu_script(capsys):
    assert bench_run.parse_args([]).device == "cpu"
    assert bench_run.parse_args(["--device", "cpu", "--only", "W1"]).only == "W1"
    with warnings.catch_warnings():
        from exprc.link.cuda.program import CudaFallbackWarning

        warnings.simplefilter("ignore", CudaFallbackWarning)
        results = bench_run.main(["--device", "cuda", *TINY, "--only", "W5"])
    assert [r.key for r in results] == ["W5"]
    assert all(row.error == "" for row in results[0].rows)
    assert "W5  call overhead of f(x) = x + 1, 7 float64" in capsys.readouterr().out


def test_pytorch_rows_on_the_cpu():
    # PyTorch's code paths, on its CPU device where there is no GPU (skipped without torch).
    pytest.importorskip("torch")
    args = bench_cuda.parse_args(TINY[:-1] + ["pytorch"])
    systems = bench_cuda.make_systems(args, torch_device="cpu")
    results = bench_cuda.run(args, systems)
    for result in results:
        torch_rows = [r for r in result.rows if r.system == "PyTorch eager"]
        assert torch_rows, result.key
        for row in torch_rows:
            assert row.stats is not None and row.error == "", f"{result.key}: {row.error}"
