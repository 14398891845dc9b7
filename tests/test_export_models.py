"""The MNIST networks of ``examples/`` exported as standalone C: the same predictions as exprc.

The networks get random weights with non-zero biases (training is the examples' business; what
is checked here is that the exported program computes what exprc computes). The images are
MNIST's test images when ``../shared/data/mnist.npz`` is there, else random images.
``examples/export_lenet.py`` runs the same check on the whole test set of a trained LeNet.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import exprc
from exprc import nn
from tests.export_c_harness import build_exported, have_compiler, run_program

pytestmark = pytest.mark.skipif(not have_compiler(), reason="no C compiler")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"


def _network(kind: str):
    sys.path.insert(0, str(EXAMPLES))
    try:
        import mnist_lenet
        import mnist_mlp
    finally:
        sys.path.remove(str(EXAMPLES))
    rng = np.random.default_rng(3)
    with exprc.config.change_flags(floatX="float32"):
        network = (mnist_lenet if kind == "lenet" else mnist_mlp).build_network()
        for param in nn.layers.get_all_params(network):
            value = param.get_value()
            if value.ndim == 1:  # biases: non-zero, so that adding them is checked
                param.set_value(rng.normal(0, 0.1, value.shape).astype(value.dtype))
        x = nn.layers.get_all_layers(network)[0].input_var
        predict = exprc.function([x], nn.layers.get_output(network, deterministic=True))
    return predict


def _images(kind: str, count: int) -> np.ndarray:
    if MNIST.is_file():
        with np.load(MNIST) as data:  # stored as pixel * 256 in uint8, as exprc.datasets says
            images = data["x_test"][:count].astype("float32") / np.float32(256)
    else:
        images = np.random.default_rng(0).random((count, 784), dtype=np.float32)
    return images.reshape((count, 1, 28, 28) if kind == "lenet" else (count, 784))


def _predictions(exe, files, images, batch):
    results = []
    for start in range(0, len(images), batch):
        results.append(run_program(exe, files, [images[start:start + batch]])[0])
    return np.concatenate(results)


@pytest.mark.parametrize("kind, count, batch", [("mlp", 2000, 500), ("lenet", 1000, 100)])
def test_exported_network_matches_exprc(kind, count, batch, tmp_path):
    predict = _network(kind)
    images = _images(kind, count)
    exe, files = build_exported(predict, tmp_path, name=kind,
                                input_shapes=[(batch,) + images.shape[1:]])
    got = _predictions(exe, files, images, batch)
    expected = np.concatenate([predict(images[k:k + batch]) for k in range(0, count, batch)])
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()
    assert files.arena_bytes > 0 and files.weight_bytes > 0


AARCH64_CC = shutil.which("aarch64-linux-gnu-gcc")
QEMU = shutil.which("qemu-aarch64")


@pytest.mark.skipif(not (AARCH64_CC and QEMU),
                    reason="needs gcc-aarch64-linux-gnu and qemu-user "
                           "(apt-get install gcc-aarch64-linux-gnu qemu-user)")
def test_exported_lenet_on_aarch64_under_emulation(tmp_path):
    predict = _network("lenet")
    images = _images("lenet", 16)
    exe, files = build_exported(predict, tmp_path, name="lenet", cc=AARCH64_CC,
                                extra_flags=("-static",), input_shapes=[images.shape])
    got = run_program(exe, files, [images], runner=(QEMU,))[0]
    expected = predict(images)
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()


@pytest.mark.skipif(not MNIST.is_file(), reason=f"MNIST not found at {MNIST}")
def test_export_example_checks_both_exports(tmp_path, capsys, monkeypatch):
    """examples/export_lenet.py, briefly trained, on the first 500 test images."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import export_lenet
    results = export_lenet.main(["--data", str(MNIST), "--epochs", "1", "--train-size", "2000",
                                 "--limit", "500", "--batch", "50", "--out", str(tmp_path)])
    assert results["c"]["same_predictions"] == 500
    assert results["c"]["max_abs_error"] < 1e-5
    if "onnx" in results:
        assert results["onnx"]["same_predictions"] == 500
    assert "0 compiler warnings" in capsys.readouterr().out
