"""Acceptance tests of the MNIST examples: trained accuracy, saliency, adversarial examples,
transfer learning, the figures and progress bars, and the helpers they share.

The real-data tests read ``../shared/data/mnist.npz`` relative to the repository root and are
skipped when it is absent; they call the examples' own functions, with fewer epochs than the
full runs of docs/examples.md. Gradients are checked against a NumPy forward and backward
pass of the MLP written here from its parameter values. The figures are drawn with matplotlib
and the progress bars with tqdm (the ``test`` extra has both); the tests that need one skip
without it, and the examples' fallbacks without them are tested by hiding them.
"""

import importlib
import io
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import exprc
from exprc.datasets import MNIST_ENV

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"
needs_mnist = pytest.mark.skipif(not MNIST.is_file(),
                                 reason=f"MNIST not found at {MNIST} (see exprc.datasets)")



def import_examples(*names):
    """The example modules, imported by bare name as they import each other when run."""
    if str(ROOT / "examples") not in sys.path:
        sys.path.insert(0, str(ROOT / "examples"))
    return [importlib.import_module(name) for name in names]


_common, _plots, adversarial, logistic_regression, mnist_lenet, mnist_mlp, saliency, \
    transfer = import_examples("_common", "_plots", "adversarial", "logistic_regression",
                               "mnist_lenet", "mnist_mlp", "saliency", "transfer")

QUIET = ["--no-progress", "--floatX", "float32"]


@pytest.fixture(autouse=True)
def training_build():
    """Build as users do (the suite's default is the quick -O1 build), on one thread.

    Training is thousands of calls, so the build matters: at -O1 the Adam updates of the MLP
    ran about 25 times slower than in the full build. One thread keeps the time predictable:
    the GEMMs are small (batches of 64 to 500 rows), and on a machine whose cores are busy
    with other processes, threads waiting for each other made the MLP's epochs 10 to 80
    times slower.
    """
    with exprc.config.change_flags(c_optimize="full", blas_threads=1, openmp=False):
        yield


# ---------------------------------------------------------------------- NumPy oracle
def mlp_numpy(params, x):
    """Hidden activations and class scores of the MLP from its parameter values."""
    W1, b1, W2, b2, W3, b3 = (np.asarray(p, np.float64) for p in params)
    h1 = np.maximum(x @ W1 + b1, 0)
    h2 = np.maximum(h1 @ W2 + b2, 0)
    return h1, h2, h2 @ W3 + b3


def mlp_input_gradient(params, x, dscores):
    """d (sum(scores * dscores)) / dx, by hand-written backpropagation."""
    W1, _, W2, _, W3, _ = (np.asarray(p, np.float64) for p in params)
    h1, h2, _ = mlp_numpy(params, x)
    dh2 = (dscores @ W3.T) * (h2 > 0)
    dh1 = (dh2 @ W2.T) * (h1 > 0)
    return dh1 @ W1.T


def softmax(scores):
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def png_size(path):
    """(width, height) of a PNG file, checking its signature and header chunk."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def read_png(path):
    """The pixels of a PNG, decoded by matplotlib: (rows, columns, channels) floats in [0, 1]."""
    image = pytest.importorskip("matplotlib.image")
    return image.imread(path)


def assert_figure(path, min_width=300, min_height=200):
    """``path`` is a PNG of at least the given size in pixels, and not a blank one."""
    width, height = png_size(path)
    assert width >= min_width and height >= min_height, (path, width, height)
    pixels = read_png(path)
    assert pixels.shape[:2] == (height, width)
    assert pixels[..., :3].std() > 0.05  # drawn on, not a blank canvas


def hide_module(monkeypatch, name):
    """Make ``import name`` fail, as when the package is not installed."""
    for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        monkeypatch.delitem(sys.modules, loaded)
    monkeypatch.setitem(sys.modules, name, None)


needs_matplotlib = pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                                      reason="the figures need matplotlib")
needs_tqdm = pytest.mark.skipif(importlib.util.find_spec("tqdm") is None,
                                reason="the progress bars need tqdm")


# ---------------------------------------------------------------------- trained accuracy
@pytest.mark.slow
@needs_mnist
def test_mlp_reaches_97_5_percent(tmp_path):
    result = mnist_mlp.main(["--data", str(MNIST), "--epochs", "6", "--lr-decay", "0.8",
                             "--dropout-input", "0", "--dropout-hidden", "0",
                             "--save", str(tmp_path / "mlp.npz")] + QUIET)
    assert result["test_accuracy"] >= 0.975
    history = result["history"]
    assert len(history.epochs) == 6
    assert history.epochs[-1].train_loss < 0.5 * history.epochs[0].train_loss
    # The saved parameters are those of the trained network: NumPy gets its accuracy back.
    with np.load(tmp_path / "mlp.npz") as saved:
        params = [saved[f"arr_{i}"] for i in range(6)]
    (_, _), _, (x_test, y_test) = exprc.datasets.load_mnist(MNIST, dtype="float64")
    accuracy = np.mean(mlp_numpy(params, x_test)[2].argmax(axis=1) == y_test)
    assert abs(accuracy - result["test_accuracy"]) <= 2e-4  # float32 ties at most


@pytest.mark.slow
@needs_mnist
def test_lenet_reaches_98_5_percent():
    result = mnist_lenet.main(["--data", str(MNIST), "--epochs", "1", "--batch-size", "64",
                               "--dropout", "0"] + QUIET)
    assert result["test_accuracy"] >= 0.985


# ---------------------------------------------------------------------- a briefly trained MLP
@pytest.fixture(scope="module")
def brief_mlp():
    """An MLP trained for one epoch on 10,000 images (float32), with its data."""
    previous = exprc.nn.random.get_rng()
    exprc.nn.random.set_rng(np.random.RandomState(0))
    try:
        with float32():
            return _common.trained_classifier(None, "mlp", MNIST, epochs=1, train_size=10000,
                                              log=lambda line: None)
    finally:
        exprc.nn.random.set_rng(previous)


def float32():
    """The float type of the briefly trained model, for functions compiled on it."""
    return exprc.config.change_flags(floatX="float32")


def param_values(model):
    return [p.get_value() for p in exprc.nn.layers.get_all_params(model.network)]


@pytest.mark.slow
@needs_mnist
def test_saliency_is_the_score_gradient(brief_mlp):
    model, data = brief_mlp
    x, _ = data.test
    x = x[:20]
    classes = np.arange(20, dtype=np.int32) % 10
    with float32():
        result = saliency.saliency_function(model)(x, classes)
    assert result.shape == x.shape
    assert (np.abs(result).max(axis=1) > 0).all()
    expected = mlp_input_gradient(param_values(model), x.astype(np.float64),
                                  np.eye(10)[classes])
    np.testing.assert_allclose(result, expected, rtol=1e-3, atol=1e-4 * np.abs(expected).max())


@pytest.mark.slow
@needs_mnist
def test_fgsm_direction_matches_numpy_and_flips_predictions(brief_mlp):
    model, data = brief_mlp
    x, y = data.test
    x, y = x[:500], y[:500]
    epsilons = np.array([0.0, 0.05, 0.1, 0.2, 0.3])
    params = param_values(model)
    x64 = x.astype(np.float64)
    probabilities = softmax(mlp_numpy(params, x64)[2])
    gradient = mlp_input_gradient(params, x64, probabilities - np.eye(10)[y])
    with float32():
        sign = adversarial.gradient_sign_function(model)(x, y)
        predictions = adversarial.attack(model, x, y, epsilons)
    # float32 rounding may flip the sign of gradients that are nearly zero only.
    clear = np.abs(gradient) > 1e-4 * np.abs(gradient).max()
    np.testing.assert_array_equal(sign[clear], np.sign(gradient[clear]))

    accuracy = (predictions == y).mean(axis=1)
    assert accuracy[0] == np.mean(probabilities.argmax(axis=1) == y) >= 0.9
    assert accuracy[-1] < 0.2 and (np.diff(accuracy) <= 0.01).all()
    needed = adversarial.epsilon_needed(predictions, y, epsilons)
    flipped = np.isfinite(needed) & (needed > 0)
    assert flipped.sum() > 0.8 * (needed > 0).sum()
    # Each flipped image moved by at most its epsilon, and is misclassified there.
    i = np.flatnonzero(flipped)[0]
    x_adv = adversarial.perturb(x[i:i + 1], sign[i:i + 1], needed[i])
    assert np.abs(x_adv - x[i]).max() <= needed[i] + 1e-6
    assert model.predict(x_adv).argmax() != y[i]


def test_epsilon_needed_picks_the_first_wrong_epsilon():
    epsilons = np.array([0.0, 0.1, 0.2])
    y = np.array([3, 3, 3, 3])
    predictions = np.array([[3, 3, 3, 1],
                            [3, 5, 3, 1],
                            [3, 5, 6, 1]])
    np.testing.assert_array_equal(adversarial.epsilon_needed(predictions, y, epsilons),
                                  [np.inf, 0.1, 0.2, 0.0])


@pytest.mark.slow
@needs_mnist
def test_transfer_freezes_the_convolutions_and_learns_new_classes(capsys):
    result = transfer.main(["--data", str(MNIST), "--train-size", "6000", "--epochs", "1",
                            "--classes", "5,6,7,8,9"] + QUIET)
    assert [p.name for p in result["frozen"]] == ["conv0.W", "conv0.b", "conv1.W", "conv1.b"]
    for param, before in zip(result["frozen"], result["frozen_before"]):
        np.testing.assert_array_equal(param.get_value(), before)
    assert result["before"] < 0.5 and result["after"] >= 0.85
    assert "the frozen convolutions are unchanged" in capsys.readouterr().out


@pytest.mark.slow
@needs_mnist
@needs_matplotlib
def test_saliency_program_draws_the_image_beside_its_saliency(tmp_path, brief_mlp, capsys):
    model, _ = brief_mlp
    exprc.nn.layers.save_params(model.network, tmp_path / "mlp.npz")
    out = tmp_path / "saliency.png"
    result = saliency.main(["--data", str(MNIST), "--params", str(tmp_path / "mlp.npz"),
                            "--out", str(out), "--index", "3"] + QUIET)
    assert result["saliency"].shape == (784,) and np.abs(result["saliency"]).max() > 0
    assert f"drawn beside the image to {out}" in capsys.readouterr().out
    assert_figure(out, 400, 200)
    # A larger --scale gives a finer image.
    saliency.main(["--data", str(MNIST), "--params", str(tmp_path / "mlp.npz"),
                   "--out", str(tmp_path / "fine.png"), "--scale", "16"] + QUIET)
    assert png_size(tmp_path / "fine.png")[0] > 1.5 * png_size(out)[0]


# ---------------------------------------------------------------------- the helpers
class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self):
        return True


@needs_tqdm
def test_progress_bar_on_a_terminal_shows_rate_time_left_and_loss():
    def step(xb, yb):
        time.sleep(0.12)  # longer than the bar's 0.1 s between redraws: each batch is drawn
        return 0.25

    stream = Terminal()
    bar = _common.progress_bar(3, "epoch 2/5", stream=stream)
    loss, _ = _common.train_epoch(step, np.zeros((6, 1)), np.zeros(6), 2, bar=bar)
    bar.close()
    text = stream.getvalue()
    assert loss == 0.25 and "\r" in text  # redrawn in place
    last = [part for part in text.split("\r") if "2/3" in part][-1]
    assert last.startswith("epoch 2/5") and "batch/s" in last and "loss=0.2500" in last
    assert "<00:00" in last  # the time left


def test_no_progress_bar_off_a_terminal_without_tqdm_or_when_disabled(monkeypatch):
    assert _common.progress_bar(3, "epoch 1/1", stream=io.StringIO()) is None
    assert _common.progress_bar(3, "epoch 1/1", enabled=False, stream=Terminal()) is None
    hide_module(monkeypatch, "tqdm")
    assert _common.progress_bar(3, "epoch 1/1", stream=Terminal()) is None


def test_confusion_counts_and_where_the_matrix_goes():
    counts = _plots.confusion_counts(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 2, 0]), 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [1, 0, 1]])
    parser = mnist_mlp.make_parser()
    assert _common.confusion_path(parser.parse_args(["--plot", "a/c.png"])) == Path(
        "a/c_confusion.png")
    assert _common.confusion_path(parser.parse_args(["--plot", "c.png", "--confusion",
                                                     "m.png"])) == Path("m.png")
    assert _common.confusion_path(parser.parse_args([])) is None
    assert "--confusion PNG" in parser.format_help()


def test_minibatches_cover_every_example_once():
    x, y = np.arange(10)[:, None], np.arange(10)
    batches = list(_common.iterate_minibatches(x, y, 4, np.random.default_rng(0)))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen) == list(range(10)) and list(seen) != list(range(10))
    assert all((bx[:, 0] == by).all() for bx, by in batches)


def test_train_epoch_weighs_each_batch_by_its_images():
    sizes = []

    def step(xb, yb):
        sizes.append(len(xb))
        return float(len(xb))  # a batch's mean loss: here its size

    loss, seconds = _common.train_epoch(step, np.zeros((10, 1)), np.zeros(10), 4)
    assert sizes == [4, 4, 2]
    assert loss == (4 * 4 + 4 * 4 + 2 * 2) / 10 and seconds >= 0


def write_fake_mnist(path, n=200, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {}
    for split in ("train", "valid", "test"):
        arrays[f"x_{split}"] = rng.integers(0, 256, (n, 784)).astype("uint8")
        arrays[f"y_{split}"] = rng.integers(0, 10, n).astype("uint8")
    np.savez_compressed(path, **arrays)


def epoch_lines(out):
    return [line.split(":")[0] for line in out.splitlines() if line.startswith("epoch")]


@needs_matplotlib
def test_mlp_program_runs_end_to_end(tmp_path, capsys):
    write_fake_mnist(tmp_path / "m.npz")
    result = mnist_mlp.main(["--data", str(tmp_path / "m.npz"), "--epochs", "2",
                             "--save", str(tmp_path / "p.npz"),
                             "--plot", str(tmp_path / "curves.png")] + QUIET)
    out = capsys.readouterr().out
    assert epoch_lines(out) == ["epoch   1", "epoch   2"]
    assert "test accuracy" in out and 0 <= result["test_accuracy"] <= 1
    with np.load(tmp_path / "p.npz") as saved:
        assert [saved[k].shape for k in sorted(saved.files)] == [
            (784, 256), (256,), (256, 256), (256,), (256, 10), (10,)]
    assert f"drew the learning curves to {tmp_path / 'curves.png'}" in out
    assert f"confusion matrix to {tmp_path / 'curves_confusion.png'}" in out
    assert_figure(tmp_path / "curves.png", 800, 300)
    assert_figure(tmp_path / "curves_confusion.png", 500, 500)


@needs_matplotlib
def test_confusion_matrix_alone_and_its_counts(tmp_path, capsys):
    write_fake_mnist(tmp_path / "m.npz")
    mnist_mlp.main(["--data", str(tmp_path / "m.npz"), "--epochs", "1",
                    "--confusion", str(tmp_path / "m.png")] + QUIET)
    assert "drew the test set's confusion matrix" in capsys.readouterr().out
    assert_figure(tmp_path / "m.png", 500, 500)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz", "m.png"]  # no curves
    counts = _plots.confusion_matrix(tmp_path / "c.png", np.array([0, 1, 1]),
                                     np.array([0, 1, 0]), class_names=[5, 6])
    np.testing.assert_array_equal(counts, [[1, 0], [1, 1]])


@needs_matplotlib
def test_learning_curves_are_labelled(tmp_path, monkeypatch):
    # Training loss falls from 2 to 1 over three epochs; accuracy rises from 0.5 to 0.9.
    history = _common.History([_common.EpochRecord(k + 1, 2 - k / 2, 1.6 - k / 10,
                                                   0.5 + 0.2 * k, 1) for k in range(3)])
    plt = _plots.pyplot()
    drawn = []
    monkeypatch.setattr(plt, "close", drawn.append)  # keep the figure to look at it
    _common.plot_curves(history, tmp_path / "c.png", "MLP", log=lambda _: None)
    [figure] = drawn
    loss, accuracy = figure.axes
    assert figure.get_suptitle() == "MLP: learning curves"
    assert loss.get_xlabel() == accuracy.get_xlabel() == "epoch"
    assert "loss" in loss.get_ylabel() and accuracy.get_ylabel() == "accuracy (%)"
    assert [t.get_text() for t in loss.get_legend().get_texts()] == [
        "training loss", "validation loss"]
    np.testing.assert_allclose(accuracy.lines[0].get_ydata(), [50, 70, 90])
    plt.close(figure)
    assert_figure(tmp_path / "c.png", 800, 300)


def test_plot_without_matplotlib_trains_and_says_what_to_install(tmp_path, capsys,
                                                                 monkeypatch):
    hide_module(monkeypatch, "matplotlib")
    write_fake_mnist(tmp_path / "m.npz")
    result = mnist_mlp.main(["--data", str(tmp_path / "m.npz"), "--epochs", "1",
                             "--plot", str(tmp_path / "curves.png")] + QUIET)
    out = capsys.readouterr().out
    assert epoch_lines(out) == ["epoch   1"] and 0 <= result["test_accuracy"] <= 1
    [advice] = [line for line in out.splitlines() if "matplotlib" in line]
    assert "pip install 'exprc[examples]'" in advice
    assert not (tmp_path / "curves.png").exists()
    assert not (tmp_path / "curves_confusion.png").exists()


def test_output_without_a_terminal_has_one_line_per_epoch_and_no_carriage_returns(tmp_path):
    write_fake_mnist(tmp_path / "m.npz", n=600)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop(MNIST_ENV, None)
    # Progress is on (no --no-progress), but stdout and stderr are pipes, not a terminal.
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "mnist_mlp.py"),
                          "--data", str(tmp_path / "m.npz"), "--epochs", "2",
                          "--batch-size", "50"], capture_output=True, text=True, env=env,
                         timeout=600, check=True)
    assert "\r" not in run.stdout and "\r" not in run.stderr
    assert epoch_lines(run.stdout) == ["epoch   1", "epoch   2"]
    assert "batch" not in run.stderr  # no bar at all


@needs_matplotlib
def test_logistic_regression_draws_its_curves_and_confusion_matrix(tmp_path, capsys):
    write_fake_mnist(tmp_path / "m.npz")
    logistic_regression.main(["--data", str(tmp_path / "m.npz"), "--epochs", "2",
                              "--batch-size", "50", "--plot", str(tmp_path / "lr.png")])
    out = capsys.readouterr().out
    assert epoch_lines(out) == ["epoch 1", "epoch 2"]
    assert_figure(tmp_path / "lr.png", 800, 300)
    assert_figure(tmp_path / "lr_confusion.png", 500, 500)


@needs_matplotlib
def test_inspection_programs_draw_their_figures_on_fake_data(tmp_path, capsys):
    write_fake_mnist(tmp_path / "m.npz")
    data = ["--data", str(tmp_path / "m.npz"), "--train-size", "100"] + QUIET
    saliency.main(data + ["--out", str(tmp_path / "s.png"), "--index", "2",
                          "--plot", str(tmp_path / "brief.png")])
    assert_figure(tmp_path / "s.png", 400, 200)
    # The briefly trained network's figures.
    assert_figure(tmp_path / "brief.png", 800, 300)
    assert_figure(tmp_path / "brief_confusion.png", 500, 500)
    adversarial.main(data + ["--out", str(tmp_path / "a.png"), "--steps", "4",
                             "--test-size", "50", "--index", "1"])
    out = capsys.readouterr().out
    assert f"drew the adversarial examples to {tmp_path / 'a.png'}" in out
    width, height = png_size(tmp_path / "a.png")
    assert width > 600 and height > 500  # 4 rows of 5 epsilons


@pytest.mark.parametrize("module", [mnist_mlp, mnist_lenet, saliency, adversarial, transfer])
def test_programs_without_data_explain_where_to_get_it(module, monkeypatch, capsys):
    monkeypatch.delenv(MNIST_ENV, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--no-progress"])
    assert exit_info.value.code == 2
    assert "mnist.pkl.gz" in capsys.readouterr().err
