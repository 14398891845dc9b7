"""What the MNIST examples share: arguments, data, the training loop, progress, PNG files.

The examples (``mnist_mlp.py``, ``mnist_lenet.py``, ``saliency.py``, ``adversarial.py``,
``transfer.py``) import this module by its bare name, which works because Python puts the
folder of the script it runs first on ``sys.path``. Nothing here needs more than NumPy and
exprc; ``--plot`` draws the learning curves into a PNG with NumPy alone.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import struct
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import exprc
import exprc.tensor as T
from exprc import nn
from exprc.datasets import DatasetError, load_mnist

#: The shape of one MNIST image for the convolutional networks: (channels, rows, columns).
IMAGE_SHAPE = (1, 28, 28)

#: The update rules the examples offer, by their ``--update`` name.
UPDATES = {
    "adam": lambda loss, params, lr: nn.updates.adam(loss, params, learning_rate=lr),
    "nesterov": lambda loss, params, lr: nn.updates.nesterov_momentum(
        loss, params, learning_rate=lr, momentum=0.9),
    "rmsprop": lambda loss, params, lr: nn.updates.rmsprop(loss, params, learning_rate=lr),
    "sgd": lambda loss, params, lr: nn.updates.sgd(loss, params, learning_rate=lr),
}


# ---------------------------------------------------------------------------- arguments
def make_parser(doc: str, epochs: int, batch_size: int = 128, lr: float = 1e-3,
                lr_decay: float = 1.0) -> argparse.ArgumentParser:
    """The command line every example accepts, with the example's own defaults.

    Parameters
    ----------
    doc : str
        The example's module docstring, shown by ``--help``.
    epochs, batch_size, lr, lr_decay
        Defaults of ``--epochs``, ``--batch-size``, ``--lr`` and ``--lr-decay``.
    """
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="MNIST .npz file (default: $EXPRC_MNIST)")
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--lr", type=float, default=lr, help="learning rate")
    parser.add_argument("--lr-decay", type=float, default=lr_decay,
                        help="factor applied to the learning rate after each epoch")
    parser.add_argument("--update", choices=sorted(UPDATES), default="adam",
                        help="the exprc.nn.updates rule")
    parser.add_argument("--train-size", type=int, default=None,
                        help="train on the first N training images only (quick runs)")
    parser.add_argument("--seed", type=int, default=1, help="seeds weights and shuffling")
    parser.add_argument("--floatX", default="float32", choices=("float32", "float64"),
                        help="the float type of the parameters and data")
    parser.add_argument("--save", metavar="NPZ", default=None,
                        help="write the trained parameters to this .npz file")
    parser.add_argument("--plot", metavar="PNG", default=None,
                        help="draw the learning curves to this PNG file")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


@contextlib.contextmanager
def example_config(args: argparse.Namespace) -> Iterator[None]:
    """Run an example with its ``--floatX`` and ``--seed``, restoring the caller's settings.

    The seed goes to the layer library's generator (weight initialization, dropout masks);
    the previous generator is put back afterwards so that importing callers are unaffected.
    """
    previous_rng = nn.random.get_rng()
    nn.random.set_rng(np.random.RandomState(args.seed))
    try:
        with exprc.config.change_flags(floatX=args.floatX):
            yield
    finally:
        nn.random.set_rng(previous_rng)


# ---------------------------------------------------------------------------- data
@dataclass
class Dataset:
    """MNIST's three splits as ``(x, y)`` pairs, the images shaped for one network."""

    train: tuple[np.ndarray, np.ndarray]
    valid: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]

    def subset(self, classes: list[int], relabel: bool = True) -> Dataset:
        """The images of ``classes`` only; with ``relabel`` their labels become 0, 1, ..."""
        mapping = np.full(10, -1, dtype=np.int32)
        mapping[list(classes)] = np.arange(len(classes)) if relabel else list(classes)

        def pick(split):
            x, y = split
            keep = np.isin(y, classes)
            return x[keep], mapping[y[keep]]

        return Dataset(pick(self.train), pick(self.valid), pick(self.test))


def load_data(path: Any, image_shape: tuple | None = None,
              train_size: int | None = None) -> Dataset:
    """Load MNIST with :func:`exprc.datasets.load_mnist` in the current ``floatX``.

    Parameters
    ----------
    path : str, path-like or None
        The ``.npz`` file; None reads ``$EXPRC_MNIST``.
    image_shape : tuple, optional
        Reshape each image (784 values) to this, e.g. :data:`IMAGE_SHAPE` for convolutions.
    train_size : int, optional
        Keep only the first ``train_size`` training images.

    Raises
    ------
    exprc.datasets.DatasetError
        When the file is missing or incomplete; the message says where to get it.
    """
    splits = load_mnist(path)
    if image_shape is not None:
        splits = [(x.reshape((len(x),) + tuple(image_shape)), y) for x, y in splits]
    train, valid, test = splits
    if train_size is not None:
        train = (train[0][:train_size], train[1][:train_size])
    return Dataset(train, valid, test)


def load_data_or_exit(parser: argparse.ArgumentParser, args: argparse.Namespace,
                      image_shape: tuple | None = None) -> Dataset:
    """:func:`load_data` for a command line: a missing file ends the program with status 2."""
    try:
        return load_data(args.data, image_shape, args.train_size)
    except DatasetError as exc:
        parser.exit(2, f"error: {exc}\n")


def iterate_minibatches(x: np.ndarray, y: np.ndarray, batch_size: int,
                        rng: np.random.Generator | None = None) -> Iterator[tuple]:
    """Minibatches of ``(x, y)``, shuffled by ``rng`` when given; a last short batch is kept."""
    order = rng.permutation(len(x)) if rng is not None else np.arange(len(x))
    for start in range(0, len(x), batch_size):
        index = order[start:start + batch_size]
        if rng is None:
            # In order: slices are views, no copy needed.
            yield x[start:start + batch_size], y[start:start + batch_size]
        else:
            yield x[index], y[index]


# ---------------------------------------------------------------------------- progress
class ProgressBar:
    """A one-line text progress bar, redrawn in place with a carriage return.

    >>> import io
    >>> out = io.StringIO()
    >>> bar = ProgressBar(4, "epoch 1", stream=out, width=8, interval=0)
    >>> for _ in range(4):
    ...     bar.update(loss=0.5)
    >>> bar.close()
    >>> out.getvalue().split("\\r")[-1]
    'epoch 1 [########] 4/4 loss 0.5000\\n'
    """

    def __init__(self, total: int, prefix: str = "", stream: Any = None, width: int = 30,
                 interval: float = 0.1, enabled: bool = True):
        self.total = max(int(total), 1)
        self.prefix = prefix
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.interval = interval  # seconds between redraws, so that drawing costs nothing
        self.enabled = enabled
        self.done = 0
        self._last_draw = -np.inf
        self._text = ""

    def update(self, steps: int = 1, **values: float) -> None:
        """Advance by ``steps``; ``values`` (e.g. ``loss=...``) are shown after the counter."""
        self.done = min(self.done + steps, self.total)
        now = time.perf_counter()
        if now - self._last_draw >= self.interval or self.done == self.total:
            self._last_draw = now
            self._draw(values)

    def _draw(self, values: dict) -> None:
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        shown = "".join(f" {name} {value:.4f}" for name, value in values.items())
        self._text = f"{self.prefix} [{bar}] {self.done}/{self.total}{shown}"
        if self.enabled:
            self.stream.write("\r" + self._text)
            self.stream.flush()

    def close(self) -> None:
        """End the line, so that the next output starts on a fresh one."""
        if self.enabled and self._text:
            self.stream.write("\n")
            self.stream.flush()


# ---------------------------------------------------------------------------- models
@dataclass
class Classifier:
    """A network ending in a softmax, with its compiled functions.

    Attributes
    ----------
    network : exprc.nn.layers.Layer
        The output layer (class probabilities).
    input_var : TensorVariable
        The images.
    learning_rate : SharedVariable
        Scalar; the training loop multiplies it by ``--lr-decay`` after each epoch.
    train_step : Function
        ``train_step(x, y)`` takes one update step and returns the mean training loss.
    scores : Function
        ``scores(x, y)`` gives ``(summed loss, number correct)`` without dropout.
    predict : Function
        ``predict(x)`` gives the class probabilities without dropout.
    """

    network: Any
    input_var: Any
    learning_rate: Any
    train_step: Any
    scores: Any
    predict: Any


def compile_classifier(network: Any, input_var: Any, lr: float = 1e-3, update: str = "adam",
                       params: list | None = None) -> Classifier:
    """Compile training and evaluation of a softmax network on integer labels.

    Parameters
    ----------
    network : Layer
        Output layer giving class probabilities.
    input_var : TensorVariable
        The input variable of the network's :class:`~exprc.nn.layers.InputLayer`.
    lr : float
        Initial learning rate.
    update : str
        A key of :data:`UPDATES`.
    params : list of SharedVariable, optional
        What to train; default every trainable parameter. Passing fewer freezes the others
        (they get no update), as ``transfer.py`` does with its convolutions.
    """
    target_var = T.ivector("targets")
    learning_rate = exprc.shared(np.asarray(lr, dtype=exprc.config.floatX), name="lr")
    prediction = nn.layers.get_output(network)
    loss = nn.objectives.categorical_crossentropy(prediction, target_var).mean()
    if params is None:
        params = nn.layers.get_all_params(network, trainable=True)
    updates = UPDATES[update](loss, params, learning_rate)
    train_step = exprc.function([input_var, target_var], loss, updates=updates,
                                name="train_step")

    test_prediction = nn.layers.get_output(network, deterministic=True)
    test_loss = nn.objectives.categorical_crossentropy(test_prediction, target_var).sum()
    correct = T.eq(T.argmax(test_prediction, axis=1), target_var).sum()
    scores = exprc.function([input_var, target_var], [test_loss, correct], name="scores")
    predict = exprc.function([input_var], test_prediction, name="predict")
    return Classifier(network, input_var, learning_rate, train_step, scores, predict)


def evaluate(model: Classifier, x: np.ndarray, y: np.ndarray,
             batch_size: int = 500) -> tuple[float, float]:
    """Mean loss and accuracy (a fraction) of ``model`` on ``(x, y)``."""
    total_loss, total_correct = 0.0, 0
    for xb, yb in iterate_minibatches(x, y, batch_size):
        loss, correct = model.scores(xb, yb)
        total_loss += float(loss)
        total_correct += int(correct)
    return total_loss / len(x), total_correct / len(x)


def predict_labels(model: Classifier, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """The predicted class of each image of ``x``."""
    return np.concatenate([model.predict(x[i:i + batch_size]).argmax(axis=1)
                           for i in range(0, len(x), batch_size)])


@dataclass
class EpochRecord:
    """What one epoch of :func:`fit` measured."""

    epoch: int
    train_loss: float
    valid_loss: float
    valid_accuracy: float
    seconds: float  # training only; the validation pass is not counted


@dataclass
class History:
    """The records of every epoch, in order."""

    epochs: list[EpochRecord] = field(default_factory=list)

    def column(self, name: str) -> list[float]:
        """One field of every record, e.g. ``history.column('valid_accuracy')``."""
        return [getattr(record, name) for record in self.epochs]


def fit(model: Classifier, data: Dataset, epochs: int, batch_size: int = 128,
        lr_decay: float = 1.0, seed: int = 1, progress: bool = True,
        log: Callable[[str], None] = print) -> History:
    """Train ``model`` for ``epochs`` passes over ``data.train``, validating after each.

    Prints one line per epoch: mean training loss, validation loss and accuracy, and the
    wall time of the training pass.
    """
    rng = np.random.default_rng(seed)
    history = History()
    x_train, y_train = data.train
    n_batches = -(-len(x_train) // batch_size)
    for epoch in range(1, epochs + 1):
        bar = ProgressBar(n_batches, f"epoch {epoch}/{epochs}", enabled=progress)
        start = time.perf_counter()
        losses = []
        for xb, yb in iterate_minibatches(x_train, y_train, batch_size, rng):
            losses.append(float(model.train_step(xb, yb)) * len(xb))
            bar.update(loss=losses[-1] / len(xb))
        seconds = time.perf_counter() - start
        bar.close()
        valid_loss, valid_accuracy = evaluate(model, *data.valid)
        record = EpochRecord(epoch, sum(losses) / len(x_train), valid_loss, valid_accuracy,
                             seconds)
        history.epochs.append(record)
        log(f"epoch {epoch:3d}: train loss {record.train_loss:.4f}, valid loss "
            f"{valid_loss:.4f}, valid accuracy {100 * valid_accuracy:.2f}%, {seconds:.1f} s")
        model.learning_rate.set_value(
            np.asarray(model.learning_rate.get_value() * lr_decay, model.learning_rate.dtype))
    return history


def finish(args: argparse.Namespace, model: Classifier, data: Dataset, history: History,
           log: Callable[[str], None] = print) -> float:
    """Print the test accuracy, then save (``--save``) and plot (``--plot``) as asked.

    Returns the test accuracy (a fraction).
    """
    _, test_accuracy = evaluate(model, *data.test)
    log(f"test accuracy {100 * test_accuracy:.2f}%")
    if args.save:
        nn.layers.save_params(model.network, args.save)
        log(f"saved the parameters to {args.save}")
    if args.plot:
        plot_curves(history, args.plot, log)
    return test_accuracy


def train_and_test(args: argparse.Namespace, data: Dataset, network: Any, input_var: Any,
                   title: str) -> dict:
    """Train ``network`` on ``data`` as the command line ``args`` say, then :func:`finish`.

    Prints ``title`` with the number of parameters first. Returns
    ``{'model', 'history', 'test_accuracy'}``, what the training examples' ``main`` returns.
    """
    print(f"{title}: {nn.layers.count_params(network)} parameters, "
          f"{len(data.train[0])} training images, update {args.update}")
    model = compile_classifier(network, input_var, args.lr, args.update)
    history = fit(model, data, args.epochs, args.batch_size, args.lr_decay, args.seed,
                  progress=not args.no_progress)
    test_accuracy = finish(args, model, data, history)
    return {"model": model, "history": history, "test_accuracy": test_accuracy}


# ---------------------------------------------------------------------------- images
def write_png(path: str | Path, pixels: np.ndarray) -> None:
    """Write an 8-bit grayscale ``(rows, columns)`` or RGB ``(rows, columns, 3)`` PNG.

    Only the standard library's ``zlib`` and ``struct`` are used: the file is a signature,
    an IHDR chunk, one IDAT chunk of deflated scanlines (each with filter type 0) and IEND.

    Parameters
    ----------
    path : str or Path
    pixels : ndarray of uint8
    """
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3) or (
            pixels.ndim == 3 and pixels.shape[2] != 3):
        raise ValueError(f"write_png needs uint8 pixels of shape (rows, columns) or "
                         f"(rows, columns, 3), got {pixels.dtype} {pixels.shape}")
    rows, columns = pixels.shape[:2]
    colour_type = 0 if pixels.ndim == 2 else 2
    scanlines = np.ascontiguousarray(pixels).reshape(rows, -1)
    raw = b"".join(b"\x00" + line.tobytes() for line in scanlines)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", columns, rows, 8, colour_type, 0, 0, 0)
    with open(path, "wb") as stream:
        stream.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def to_uint8(image: np.ndarray, scale: int = 1) -> np.ndarray:
    """A [0, 1] image as uint8, each pixel repeated ``scale`` times along rows and columns."""
    image = np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0)
    image = np.kron(image, np.ones((scale, scale)))
    return np.round(image * 255).astype(np.uint8)


# ---------------------------------------------------------------------------- curves
#: Colours of the curves: training loss, validation loss, validation accuracy.
CURVE_COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44))


def plot_curves(history: History, path: str | Path,
                log: Callable[[str], None] = print) -> None:
    """Draw the learning curves to the PNG ``path``: losses per epoch on the left (training
    blue, validation orange), validation accuracy on the right (green), each scaled to its own
    range, drawn with NumPy and :func:`write_png` (no plotting library needed)."""
    height, width, margin = 240, 320, 20
    canvas = np.full((height, 2 * width, 3), 255, dtype=np.uint8)
    panels = [(0, [history.column("train_loss"), history.column("valid_loss")]),
              (width, [history.column("valid_accuracy")])]
    colours = iter(CURVE_COLOURS)
    for left, series in panels:
        box = (margin, height - margin, left + margin, left + width - margin)
        _draw_axes(canvas, box)
        values = [v for curve in series for v in curve]
        low, high = min(values), max(values)
        for curve in series:
            _draw_curve(canvas, box, curve, low, high, next(colours))
    write_png(path, canvas)
    log(f"drew the learning curves to {path} (left: training and validation loss; "
        f"right: validation accuracy)")


def _draw_axes(canvas: np.ndarray, box: tuple) -> None:
    top, bottom, left, right = box
    canvas[bottom, left:right] = 0
    canvas[top:bottom + 1, left] = 0


def _draw_curve(canvas: np.ndarray, box: tuple, values: list, low: float, high: float,
                colour: tuple) -> None:
    """A polyline through ``values`` (one per epoch), ``low`` at the bottom of ``box`` and
    ``high`` at its top."""
    top, bottom, left, right = box
    span = (high - low) or 1.0
    n = len(values)
    xs = [left + (right - left) * (k / (n - 1) if n > 1 else 0.5) for k in range(n)]
    ys = [bottom - (bottom - top) * (v - low) / span for v in values]
    points = list(zip(xs, ys)) if n > 1 else [(xs[0], ys[0])] * 2
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        t = np.linspace(0.0, 1.0, steps + 1)
        rows = np.round(y0 + (y1 - y0) * t).astype(int)
        columns = np.round(x0 + (x1 - x0) * t).astype(int)
        for dr in (-1, 0, 1):  # three pixels thick
            canvas[np.clip(rows + dr, top, bottom), columns] = colour


# ---------------------------------------------------------------------------- trained models
def model_kind(path: str | Path) -> str:
    """'lenet' or 'mlp': which example wrote the parameter file (LeNet's first is 4D)."""
    with np.load(path) as data:
        return "lenet" if data["arr_0"].ndim == 4 else "mlp"


def trained_classifier(params: str | None, kind: str, data_path: Any, epochs: int = 1,
                       train_size: int | None = None,
                       log: Callable[[str], None] = print) -> tuple[Classifier, Dataset]:
    """A trained classifier: loaded from ``params`` when given, else trained briefly.

    Parameters
    ----------
    params : str or None
        A ``--save`` file of ``mnist_mlp.py`` or ``mnist_lenet.py`` (the kind is detected).
    kind : {'mlp', 'lenet'}
        The network to train when ``params`` is None.
    data_path : str or None
        The MNIST file.
    epochs, train_size
        The brief training when there are no parameters.
    """
    # The example modules import this one, so they are imported here, when needed.
    import mnist_lenet
    import mnist_mlp

    kind = model_kind(params) if params else kind
    module = mnist_lenet if kind == "lenet" else mnist_mlp
    image_shape = IMAGE_SHAPE if kind == "lenet" else None
    data = load_data(data_path, image_shape, train_size)
    input_var = T.tensor4("inputs") if kind == "lenet" else T.matrix("inputs")
    network = module.build_network(input_var)
    model = compile_classifier(network, input_var)
    if params:
        nn.layers.load_params(network, params)
        log(f"loaded the {kind} parameters of {params}")
    else:
        log(f"no --params given: training the {kind} for {epochs} epoch(s)")
        fit(model, data, epochs, progress=False, log=log)
    return model, data


def add_model_arguments(parser: argparse.ArgumentParser, default_kind: str = "mlp") -> None:
    """``--params`` and ``--model`` for the examples that use a trained network."""
    parser.add_argument("--params", default=None,
                        help="parameters saved by mnist_mlp.py or mnist_lenet.py --save "
                             "(default: train one briefly)")
    parser.add_argument("--model", choices=("mlp", "lenet"), default=default_kind,
                        help="the network to train when --params is not given")


def trained_classifier_or_exit(parser: argparse.ArgumentParser,
                               args: argparse.Namespace) -> tuple[Classifier, Dataset]:
    """:func:`trained_classifier` for a command line with :func:`add_model_arguments`: a
    missing MNIST file ends the program with status 2."""
    try:
        return trained_classifier(args.params, args.model, args.data, args.epochs,
                                  args.train_size)
    except DatasetError as exc:
        parser.exit(2, f"error: {exc}\n")


def scores_layer(network: Any) -> Any:
    """The layer of class scores (before the softmax) under a network's softmax layer."""
    return network.input_layer
