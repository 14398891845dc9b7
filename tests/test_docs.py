"""The documentation: the Sphinx site builds without a warning, the tutorial's code runs, and
the notebook ``examples/tutorial.ipynb`` executes.

The site is ``docs/`` (``docs/conf.py``), built as ``python -m sphinx -W --keep-going -b html
docs <outdir>``; its tests are skipped when Sphinx or MyST is not installed (the ``test`` and
``docs`` extras install them). The notebook trains on a subset of MNIST, read from
``../shared/data/mnist.npz`` relative to the repository root as the other real-data tests do,
and is skipped when that file is absent or nbclient and ipykernel are not installed.
"""

import importlib.util
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exprc.datasets import MNIST_ENV

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TUTORIAL = DOCS / "tutorial.md"
NOTEBOOK = ROOT / "examples" / "tutorial.ipynb"
MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"

BUILD_TIMEOUT_S = 300
NOTEBOOK_CELL_TIMEOUT_S = 300


def missing(*modules):
    """The names of ``modules`` that cannot be imported."""
    return [name for name in modules if importlib.util.find_spec(name) is None]


needs_sphinx = pytest.mark.skipif(
    bool(missing("sphinx", "myst_parser")),
    reason=f"the docs need {' and '.join(missing('sphinx', 'myst_parser'))} "
           "(pip install -e '.[docs]')")
needs_nbclient = pytest.mark.skipif(
    bool(missing("nbclient", "nbformat", "ipykernel")),
    reason=f"executing the notebook needs {', '.join(missing('nbclient', 'nbformat', 'ipykernel'))}"
           " (pip install -e '.[test]')")
needs_mnist = pytest.mark.skipif(not MNIST.is_file(),
                                 reason=f"MNIST not found at {MNIST} (see exprc.datasets)")


# ----------------------------------------------------------------------------- the site
@needs_sphinx
def test_sphinx_site_builds_without_warnings(tmp_path):
    """The whole site, API reference and Markdown pages, with warnings as errors."""
    out = tmp_path / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
               "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                            timeout=BUILD_TIMEOUT_S)
    assert result.returncode == 0, (
        f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}\n{result.stdout}")
    print(f"site built in {time.perf_counter() - start:.1f} s")
    # Every Markdown page of docs/ is in the site, and the API reference documents the API.
    for page in DOCS.glob("*.md"):
        assert (out / f"{page.stem}.html").is_file(), f"{page.name} is not in the site"
    reference = (out / "api" / "exprc.html").read_text()
    for name in ("function", "grad", "shared", "scan", "In", "Out", "Mode", "OpFromGraph"):
        assert f'id="exprc.{name}"' in reference, f"exprc.{name} is not documented"
    assert 'id="exprc.tensor.dot"' in (out / "api" / "tensor.html").read_text()
    assert 'id="exprc.nn.layers.dense.DenseLayer"' in (out / "api" / "nn.html").read_text()


# ---------------------------------------------------------------------- the tutorial page
def tutorial_blocks():
    """The ``python`` code blocks of docs/tutorial.md, in order."""
    return re.findall(r"^```python\n(.*?)^```", TUTORIAL.read_text(), re.S | re.M)


def test_tutorial_code_blocks_run(capsys):
    """Every code block of the tutorial runs, in order, in one namespace, as the page says."""
    blocks = tutorial_blocks()
    assert len(blocks) > 15
    namespace = {"__name__": "tutorial"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{TUTORIAL.name}, code block {i + 1}", "exec"), namespace)
    printed = capsys.readouterr().out
    # A few of the values the page shows in its comments.
    for shown in ("28.4", "[0 1 1 0]", "19.0", "float32"):
        assert shown in printed


# ---------------------------------------------------------------------------- the notebook
def test_notebook_is_committed_without_outputs():
    notebook = json.loads(NOTEBOOK.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, (
                "clear the outputs of examples/tutorial.ipynb before committing it")


@needs_nbclient
@needs_mnist
def test_notebook_executes(tmp_path, monkeypatch):
    """examples/tutorial.ipynb runs from top to bottom in a kernel of this Python."""
    import nbformat
    from nbclient import NotebookClient

    # A kernel spec of its own, so that the kernel is this interpreter even where a
    # "python3" kernel of another environment is installed.
    spec = tmp_path / "jupyter" / "kernels" / "exprc-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "exprc test", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv(MNIST_ENV, str(MNIST))
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, kernel_name="exprc-test", timeout=NOTEBOOK_CELL_TIMEOUT_S,
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on an error
    print(f"notebook executed in {time.perf_counter() - start:.1f} s")

    text = "\n".join(output.get("text", "") for cell in notebook.cells
                     if cell.cell_type == "code" for output in cell.outputs)
    assert not [output for cell in notebook.cells if cell.cell_type == "code"
                for output in cell.outputs if output.output_type == "error"]
    assert "valid accuracy" in text and "Gemm" in text, text[-2000:]
    final_accuracy = float(re.findall(r"valid accuracy ([\d.]+)%", text)[-1])
    assert final_accuracy > 85, text[-2000:]
    assert "saliency:  (4, 784)" in text
