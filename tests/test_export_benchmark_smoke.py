"""benchmarks/export.py runs end to end on a tiny LeNet, so that the script cannot rot.

The benchmark is run as a command (two timed calls per system, batches of 1 and 3, a LeNet of
2 and 3 filters and 8 dense units) and its JSON report is read back: every system has its row
for every batch, the rows that can run here are timed and agree with exprc, the others say why
they were skipped, and the sizes are consistent with the network's parameters. No timing is
asserted.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.export_c_harness import have_compiler

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "export.py"
BATCHES = (1, 3)
FILTERS, DENSE = (2, 3), 8
SYSTEMS = ["exprc", "exprc, 1 thread", "C -O2", "C -O3 -march=native", "C -O2 + CBLAS",
           "ONNX Runtime", "ONNX Runtime, 1 thread"]

# exprc itself compiles C, and so does every C row: without a compiler there is nothing to run.
pytestmark = pytest.mark.skipif(not have_compiler(), reason="no C compiler")


def _parameter_count() -> int:
    """LeNet's parameters, counted from its definition: 5x5 convolutions, 2x2 pooling."""
    side = ((28 - 4) // 2 - 4) // 2
    conv0 = FILTERS[0] * 1 * 25 + FILTERS[0]
    conv1 = FILTERS[1] * FILTERS[0] * 25 + FILTERS[1]
    dense = FILTERS[1] * side * side * DENSE + DENSE
    return conv0 + conv1 + dense + DENSE * 10 + 10


def _onnxruntime_installed() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """(stdout, JSON report) of one tiny run of the benchmark."""
    out = tmp_path_factory.mktemp("export_bench")
    command = [sys.executable, str(SCRIPT), "--repeat", "2", "--warmup", "1",
               "--batches", ",".join(map(str, BATCHES)),
               "--filters", ",".join(map(str, FILTERS)), "--dense", str(DENSE),
               "--markdown", "--json", str(out / "report.json"), "--out", str(out / "work")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, json.loads((out / "report.json").read_text())


@pytest.fixture(scope="module")
def module():
    """benchmarks/export.py imported (its siblings import each other by plain name)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("bench_export", SCRIPT)
    loaded = importlib.util.module_from_spec(spec)
    sys.modules["bench_export"] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def _rows(report, batch):
    entry = next(b for b in report["batches"] if b["batch"] == batch)
    return {row["system"]: row for row in entry["rows"]}, entry["sizes"]


def _assert_timed_and_right(row):
    assert row["error"] == "", f"{row['system']}: {row['error']}"
    stats = row["stats"]
    assert stats["samples"] == 2 and 0 < stats["min"] <= stats["median"]
    assert "max |diff|" in row["note"] or row["system"] == "exprc"


@pytest.mark.parametrize("batch", BATCHES)
def test_every_system_has_a_row(bench, batch):
    rows, _ = _rows(bench[1], batch)
    assert list(rows) == SYSTEMS
    assert rows["exprc"]["threads"] >= 1 and rows["exprc, 1 thread"]["threads"] == 1


@pytest.mark.parametrize("batch", BATCHES)
def test_exprc_and_exported_c_rows_run_and_agree(bench, batch):
    rows, _ = _rows(bench[1], batch)
    for system in ("exprc", "exprc, 1 thread", "C -O2", "C -O3 -march=native"):
        _assert_timed_and_right(rows[system])
    blas = rows["C -O2 + CBLAS"]
    if blas["stats"] is None:
        assert blas["error"].startswith("skipped: no CBLAS found"), blas["error"]
    else:
        _assert_timed_and_right(blas)


@pytest.mark.parametrize("batch", BATCHES)
def test_onnx_runtime_rows_run_or_say_why_not(bench, batch):
    rows, sizes = _rows(bench[1], batch)
    for system in ("ONNX Runtime", "ONNX Runtime, 1 thread"):
        if _onnxruntime_installed():
            _assert_timed_and_right(rows[system])
        else:
            assert rows[system]["error"].startswith("skipped: onnxruntime is not installed")
    if _onnxruntime_installed():
        assert sizes["onnx_model"] >= 4 * _parameter_count()


@pytest.mark.parametrize("batch", BATCHES)
def test_sizes_follow_from_the_network(bench, batch):
    _, sizes = _rows(bench[1], batch)
    weights = 4 * _parameter_count()
    # Every float32 parameter is embedded once; a few scalar constants may come with them.
    assert weights <= sizes["weights"] < weights + 256
    assert sizes["c_source"] > sizes["weights"]
    assert sizes["c_program"] > sizes["weights"]
    # The dense layer's input (the second pooling's maps) is whole in the arena when it runs.
    assert sizes["arena"] >= 4 * batch * FILTERS[1] * 4 * 4


def test_text_and_markdown_tables_are_printed(bench):
    stdout, _ = bench
    assert "batch 1  LeNet 1x28x28 -> 2@5x5 -> pool 2 -> 3@5x5" in stdout
    assert "| system | threads | batch 1 | batch 3 |" in stdout
    assert "| C -O2 | 1 |" in stdout and "WRONG" not in stdout
    assert "| *other processes' load* |" in stdout


def test_the_load_of_other_processes_is_measured(module):
    # This process's own work is not counted as other processes' load.
    with module.OtherLoad() as load:
        end = time.perf_counter() + 0.3
        while time.perf_counter() < end:
            pass
    if load.cores is not None:  # None where /proc/stat is missing
        assert 0 <= load.cores < module.cpu_count()


def test_a_difference_above_the_tolerance_is_flagged_wrong(module):
    expected = np.linspace(0, 1, 12).reshape(3, 4)
    assert module.difference(expected + 5e-6, expected)[0] == ""
    assert module.difference(expected + 2e-5, expected)[0].startswith("WRONG")
    assert module.difference(np.where(expected > 0.5, np.nan, expected),
                             expected)[0].startswith("WRONG")
    assert module.difference(expected[:2], expected)[0].startswith("WRONG shape")
    row = module.checked_row("C -O2", None, expected - 1e-3, expected, "timed")
    assert row.error.startswith("WRONG") and "max |diff| 1.0e-03" in row.note


def test_without_a_working_cblas_the_row_is_skipped_saying_why(module, tmp_path, monkeypatch):
    # A "compiler" that always fails: no candidate links, and each is named in the reason.
    monkeypatch.setenv("EXPRC_BENCH_CBLAS", "-lnot_a_blas")
    with pytest.raises(module.Skipped, match=r"no CBLAS found: .*-lnot_a_blas.*-lopenblas"):
        module.find_cblas("false", tmp_path)
