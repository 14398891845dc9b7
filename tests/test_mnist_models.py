"""Acceptance tests of the MNIST examples: trained accuracy, saliency, adversarial examples,
transfer learning, and the helpers they share.

The real-data tests read ``../shared/data/mnist.npz`` relative to the repository root and are
skipped when it is absent; they call the examples' own functions, with fewer epochs than the
full runs of docs/examples.md. Gradients are checked against a NumPy forward and backward
pass of the MLP written here from its parameter values.
"""

import importlib
import struct
import sys
import zlib
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


_common, adversarial, mnist_lenet, mnist_mlp, saliency, transfer = import_examples(
    "_common", "adversarial", "mnist_lenet", "mnist_mlp", "saliency", "transfer")

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


def read_png(path):
    """Decode an 8-bit, non-interlaced PNG with filter type 0 on every row."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8 and interlace == 0 and b"IEND" in chunks
    channels = {0: 1, 2: 3}[colour]
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8)
    rows = raw.reshape(height, 1 + width * channels)
    assert (rows[:, 0] == 0).all()
    pixels = rows[:, 1:].reshape(height, width, channels)
    return pixels[:, :, 0] if channels == 1 else pixels


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
def test_saliency_program_writes_the_image_beside_the_input(tmp_path, brief_mlp):
    model, _ = brief_mlp
    exprc.nn.layers.save_params(model.network, tmp_path / "mlp.npz")
    out = tmp_path / "saliency.png"
    result = saliency.main(["--data", str(MNIST), "--params", str(tmp_path / "mlp.npz"),
                            "--out", str(out), "--scale", "2", "--index", "3"] + QUIET)
    pixels = read_png(out)
    assert pixels.shape == (56, 56 + 2 + 56, 3)
    assert result["saliency"].shape == (784,) and np.abs(result["saliency"]).max() > 0
    # The left half is the test image itself, in grey.
    (_, _), _, (x_test, _) = exprc.datasets.load_mnist(MNIST)
    left = np.round(np.clip(x_test[3].reshape(28, 28), 0, 1) * 255)
    np.testing.assert_array_equal(pixels[::2, :56:2, 0], left)


# ---------------------------------------------------------------------- the helpers
def test_png_writer_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (5, 7), dtype=np.uint8)
    rgb = rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)
    _common.write_png(tmp_path / "g.png", grey)
    _common.write_png(tmp_path / "c.png", rgb)
    np.testing.assert_array_equal(read_png(tmp_path / "g.png"), grey)
    np.testing.assert_array_equal(read_png(tmp_path / "c.png"), rgb)
    with pytest.raises(ValueError, match="uint8"):
        _common.write_png(tmp_path / "bad.png", grey.astype(np.float32))


def test_progress_bar_draws_in_place():
    class Stream:
        text = ""

        def write(self, s):
            self.text += s

        def flush(self):
            pass

    stream = Stream()
    bar = _common.ProgressBar(3, "epoch 2/5", stream=stream, width=6, interval=0)
    for loss in (0.9, 0.8, 0.7):
        bar.update(loss=loss)
    bar.close()
    assert stream.text.split("\r")[1:] == ["epoch 2/5 [##....] 1/3 loss 0.9000",
                                           "epoch 2/5 [####..] 2/3 loss 0.8000",
                                           "epoch 2/5 [######] 3/3 loss 0.7000\n"]


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


def test_mlp_program_runs_end_to_end(tmp_path, capsys):
    write_fake_mnist(tmp_path / "m.npz")
    result = mnist_mlp.main(["--data", str(tmp_path / "m.npz"), "--epochs", "2",
                             "--save", str(tmp_path / "p.npz"),
                             "--plot", str(tmp_path / "curves.png")] + QUIET)
    out = capsys.readouterr().out
    assert [line.split(":")[0] for line in out.splitlines() if line.startswith("epoch")] == [
        "epoch   1", "epoch   2"]
    assert "test accuracy" in out and 0 <= result["test_accuracy"] <= 1
    with np.load(tmp_path / "p.npz") as saved:
        assert [saved[k].shape for k in sorted(saved.files)] == [
            (784, 256), (256,), (256, 256), (256,), (256, 10), (10,)]
    assert "drew the learning curves" in out
    curves = read_png(tmp_path / "curves.png")
    assert curves.shape == (240, 640, 3)


def test_learning_curves_follow_the_history(tmp_path):
    # Training loss falls from 2 to 1 over three epochs (validation loss stays between);
    # accuracy rises from 0.5 to 0.9.
    history = _common.History([_common.EpochRecord(k + 1, 2 - k / 2, 1.6 - k / 10,
                                                   0.5 + 0.2 * k, 1) for k in range(3)])
    _common.plot_curves(history, tmp_path / "c.png", log=lambda _: None)
    pixels = read_png(tmp_path / "c.png")

    def rows_of(colour, columns):
        hit = (pixels[:, columns] == colour).all(axis=2).any(axis=1)
        return np.flatnonzero(hit)

    training, _, accuracy = _common.CURVE_COLOURS
    # The falling loss starts at the top of the left panel and ends at its bottom; the rising
    # accuracy does the opposite in the right panel.
    assert rows_of(training, slice(20, 24)).mean() < rows_of(training, slice(296, 300)).mean()
    assert rows_of(accuracy, slice(340, 344)).mean() > rows_of(accuracy, slice(616, 620)).mean()


@pytest.mark.parametrize("module", [mnist_mlp, mnist_lenet, saliency, adversarial, transfer])
def test_programs_without_data_explain_where_to_get_it(module, monkeypatch, capsys):
    monkeypatch.delenv(MNIST_ENV, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--no-progress"])
    assert exit_info.value.code == 2
    assert "mnist.pkl.gz" in capsys.readouterr().err
