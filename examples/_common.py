"""What the MNIST examples share: arguments, data, the training loop, progress, figures.

The examples (``logistic_regression.py``, ``mnist_mlp.py``, ``mnist_lenet.py``,
``mnist_sequence.py``, ``saliency.py``, ``adversarial.py``, ``transfer.py``) import this
module by its bare name, which works from any working directory because Python puts the folder
of the script it runs first on ``sys.path``. Training needs NumPy and exprc only. The figures
(``--plot``, ``--confusion``; :mod:`_plots`) need matplotlib and the progress bars tqdm, both
optional (``pip install 'exprc[examples]'``): without matplotlib a program says so in one line
and draws nothing, without tqdm it prints one line per epoch and no bar.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _plots
import numpy as np

import exprc
import exprc.tensor as T
from exprc import nn
from exprc.datasets import MNIST_ENV, DatasetError, load_mnist

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

#: The end of every example's ``--help``: where the data comes from.
DATA_HELP = f"""\
Data: MNIST as a .npz file (x_train, y_train, x_valid, y_valid, x_test, y_test), made from
mnist.pkl.gz of the Theano deep-learning tutorials; run without it to see how to make it.
Pass its path with --data or set {MNIST_ENV}."""


# ---------------------------------------------------------------------------- arguments
def basic_parser(doc: str, epochs: int, batch_size: int, lr: float) -> argparse.ArgumentParser:
    """The options of every example: the data, how long to train, the learning rate.

    ``doc`` (the example's module docstring) heads ``--help``; ``epochs``, ``batch_size``
    and ``lr`` are the defaults of ``--epochs``, ``--batch-size`` and ``--lr``.
    """
    parser = argparse.ArgumentParser(description=doc, epilog=DATA_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help=f"MNIST .npz file (default: ${MNIST_ENV})")
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--lr", type=float, default=lr, help="learning rate")
    parser.add_argument("--train-size", type=int, default=None,
                        help="train on the first N training images only (quick runs)")
    return parser


def make_parser(doc: str, epochs: int, batch_size: int = 128, lr: float = 1e-3,
                lr_decay: float = 1.0) -> argparse.ArgumentParser:
    """The command line of the examples built with ``exprc.nn``, with the example's defaults.

    :func:`basic_parser`'s options, and the update rule, the learning-rate decay, the seed,
    the float type, saving, the figures and the progress bar.

    Parameters
    ----------
    doc : str
        The example's module docstring, shown by ``--help``.
    epochs, batch_size, lr, lr_decay
        Defaults of ``--epochs``, ``--batch-size``, ``--lr`` and ``--lr-decay``.
    """
    parser = basic_parser(doc, epochs, batch_size, lr)
    parser.add_argument("--lr-decay", type=float, default=lr_decay,
                        help="factor applied to the learning rate after each epoch")
    parser.add_argument("--update", choices=sorted(UPDATES), default="adam",
                        help="the exprc.nn.updates rule")
    parser.add_argument("--seed", type=int, default=1, help="seeds weights and shuffling")
    parser.add_argument("--floatX", default="float32", choices=("float32", "float64"),
                        help="the float type of the parameters and data")
    parser.add_argument("--save", metavar="NPZ", default=None,
                        help="write the trained parameters to this .npz file")
    add_figure_options(parser)
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (without a terminal, or without tqdm, there is "
                             "none either: one line per epoch only)")
    return parser


def add_figure_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--plot`` and ``--confusion``, the figures drawn after training (matplotlib).

    ``--plot curves.png`` also draws the confusion matrix, next to the curves in
    ``curves_confusion.png``; ``--confusion`` names that file, or asks for the matrix alone.
    See :func:`confusion_path`.
    """
    parser.add_argument("--plot", metavar="PNG", default=None,
                        help="draw the learning curves (loss and accuracy per epoch) to this "
                             "PNG, and the test set's confusion matrix next to it, in "
                             "PNG's name + '_confusion.png' (needs matplotlib)")
    parser.add_argument("--confusion", metavar="PNG", default=None,
                        help="draw the test set's confusion matrix to this PNG instead "
                             "(with or without --plot; needs matplotlib)")


def confusion_path(args: argparse.Namespace) -> Path | None:
    """Where the confusion matrix goes: ``--confusion``, else next to ``--plot``'s curves.

    >>> confusion_path(argparse.Namespace(plot="out/curves.png", confusion=None)).as_posix()
    'out/curves_confusion.png'
    >>> confusion_path(argparse.Namespace(plot=None, confusion=None)) is None
    True
    """
    if args.confusion:
        return Path(args.confusion)
    if args.plot:
        plot = Path(args.plot)
        return plot.with_name(f"{plot.stem}_confusion{plot.suffix or '.png'}")
    return None


def make_inspection_parser(doc: str, index_help: str) -> argparse.ArgumentParser:
    """The command line of the examples that look into a trained network.

    :func:`make_parser`'s options (one epoch by default, for the network trained when no
    parameters are given; ``--plot`` and ``--confusion`` draw its figures), ``--params``,
    ``--model`` and ``--index``, a test image that ``index_help`` says what for; see
    :func:`classifier_from_args`.
    """
    parser = make_parser(doc, epochs=1)
    parser.add_argument("--params", default=None,
                        help="parameters saved by mnist_mlp.py or mnist_lenet.py --save "
                             "(default: train one briefly)")
    parser.add_argument("--model", choices=("mlp", "lenet"), default="mlp",
                        help="the network to train when --params is not given")
    parser.add_argument("--index", type=int, default=0, help=index_help)
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


@contextlib.contextmanager
def exit_on_missing_data(parser: argparse.ArgumentParser) -> Iterator[None]:
    """End the program with status 2 and the loader's advice when MNIST cannot be read."""
    try:
        yield
    except DatasetError as exc:
        parser.exit(2, f"error: {exc}\n")


@contextlib.contextmanager
def command_line(parser: argparse.ArgumentParser,
                 argv: list[str] | None) -> Iterator[argparse.Namespace]:
    """Parse ``argv`` (None: ``sys.argv``) and run the block as the command line says.

    For a :func:`make_parser` parser: the block runs under :func:`example_config`, and a
    missing MNIST file ends the program as :func:`exit_on_missing_data` does.
    """
    args = parser.parse_args(argv)
    with exit_on_missing_data(parser), example_config(args):
        yield args


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
        The ``.npz`` file (an example's ``--data``); None reads ``$EXPRC_MNIST``.
    image_shape : tuple, optional
        Reshape each image (784 values) to this, e.g. :data:`IMAGE_SHAPE` for convolutions.
    train_size : int, optional
        Keep only the first ``train_size`` training images (an example's ``--train-size``).

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
def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is an open terminal (False for files, pipes and closed streams)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def progress_bar(total: int, description: str, enabled: bool = True,
                 stream: Any = None) -> Any:
    """A tqdm bar over one epoch's ``total`` batches, or None where no bar is drawn.

    The bar shows the batches done, their rate, the time left and the last batch's loss, and
    disappears when closed, leaving the epoch's line of :func:`fit`. There is no bar (None)
    when ``enabled`` is false (``--no-progress``), when ``stream`` (default standard error)
    is not a terminal, so that logs and files get one line per epoch and no carriage returns,
    or when tqdm is not installed.

    Parameters
    ----------
    total : int
        The number of batches.
    description : str
        Shown before the bar, e.g. ``'epoch 2/10'``.
    enabled : bool
        False: no bar.
    stream : file-like, optional
        Where to draw; default ``sys.stderr``.
    """
    stream = sys.stderr if stream is None else stream
    if not enabled or not is_terminal(stream):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=description, unit="batch", file=stream, leave=False,
                dynamic_ncols=True, mininterval=0.1)


# ---------------------------------------------------------------------------- models
def softmax_head(layer: Any, n_classes: int = 10, name: str = "scores") -> Any:
    """The end of every example network: class scores, then a softmax over them.

    The scores (a dense layer without nonlinearity, named ``name``) and the softmax are two
    layers, so that :func:`scores_layer` can give back the scores, as ``saliency.py`` needs.
    """
    scores = nn.layers.DenseLayer(layer, n_classes, nonlinearity=None, name=name)
    return nn.layers.NonlinearityLayer(scores, nn.nonlinearities.softmax, name="softmax")


def scores_layer(network: Any) -> Any:
    """The layer of class scores (before the softmax) of a :func:`softmax_head`."""
    return network.input_layer


@dataclass
class Classifier:
    """A network ending in a softmax, with its compiled functions.

    Attributes
    ----------
    network : exprc.nn.layers.Layer
        The output layer (class probabilities).
    input_var : TensorVariable
        The images: the variable of the network's input layer.
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


def compile_classifier(network: Any, lr: float = 1e-3, update: str = "adam",
                       params: list | None = None) -> Classifier:
    """Compile training and evaluation of a softmax network on integer labels.

    Parameters
    ----------
    network : Layer
        Output layer giving class probabilities, above one input layer.
    lr : float
        Initial learning rate.
    update : str
        A key of :data:`UPDATES`.
    params : list of SharedVariable, optional
        What to train; default every trainable parameter. Passing fewer freezes the others
        (they get no update), as ``transfer.py`` does with its convolutions.
    """
    # get_all_layers lists inputs first: the first layer is the network's input layer.
    input_var = nn.layers.get_all_layers(network)[0].input_var
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


# ---------------------------------------------------------------------------- training
def train_epoch(step: Callable, x: np.ndarray, y: np.ndarray, batch_size: int,
                rng: np.random.Generator | None = None,
                bar: Any = None) -> tuple[float, float]:
    """One pass of ``step(xb, yb)``, a training function returning its batch's mean loss.

    The minibatches are shuffled by ``rng`` when given, else in order; ``bar``, a tqdm bar
    (see :func:`progress_bar`), advances by one per batch and shows its loss. Returns the
    mean loss per image over the pass and its wall time in seconds.
    """
    start = time.perf_counter()
    total = 0.0
    for xb, yb in iterate_minibatches(x, y, batch_size, rng):
        loss = float(step(xb, yb))
        total += loss * len(xb)  # batches may differ in size: weigh each by its images
        if bar is not None:
            bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            bar.update()
    return total / len(x), time.perf_counter() - start


@dataclass
class EpochRecord:
    """What one epoch of :func:`fit` measured."""

    epoch: int
    train_loss: float
    valid_loss: float
    valid_accuracy: float
    seconds: float  # training only; the validation pass is not counted

    def __str__(self) -> str:
        return (f"epoch {self.epoch:3d}: train loss {self.train_loss:.4f}, valid loss "
                f"{self.valid_loss:.4f}, valid accuracy {100 * self.valid_accuracy:.2f}%, "
                f"{self.seconds:.1f} s")


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
    wall time of the training pass; with ``progress``, a :func:`progress_bar` on a terminal
    while each epoch trains.
    """
    rng = np.random.default_rng(seed)
    history = History()
    x_train, y_train = data.train
    n_batches = -(-len(x_train) // batch_size)
    for epoch in range(1, epochs + 1):
        bar = progress_bar(n_batches, f"epoch {epoch}/{epochs}", enabled=progress)
        try:
            train_loss, seconds = train_epoch(model.train_step, x_train, y_train, batch_size,
                                              rng, bar)
        finally:
            if bar is not None:
                bar.close()
        record = EpochRecord(epoch, train_loss, *evaluate(model, *data.valid), seconds)
        history.epochs.append(record)
        log(str(record))
        rate = model.learning_rate
        rate.set_value(np.asarray(rate.get_value() * lr_decay, rate.dtype))
    return history


def fit_from_args(model: Classifier, data: Dataset, args: argparse.Namespace,
                  epochs: int | None = None) -> History:
    """:func:`fit` as a :func:`make_parser` command line says; ``epochs`` overrides its
    ``--epochs``."""
    return fit(model, data, args.epochs if epochs is None else epochs, args.batch_size,
               args.lr_decay, args.seed, progress=not args.no_progress)


def predict_classes(predict: Callable, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """The class ``predict`` (images to class probabilities) gives each image, by batches."""
    return np.concatenate([np.argmax(predict(x[start:start + batch_size]), axis=1)
                           for start in range(0, len(x), batch_size)])


def finish(args: argparse.Namespace, model: Classifier, data: Dataset, history: History,
           log: Callable[[str], None] = print, title: str = "",
           class_names: list | None = None) -> float:
    """Print the test accuracy, then save (``--save``) and draw the figures as asked.

    ``title`` heads the figures and ``class_names`` label the confusion matrix's classes
    (default 0 to 9); see :func:`draw_figures`. Returns the test accuracy (a fraction).
    """
    _, test_accuracy = evaluate(model, *data.test)
    log(f"test accuracy {100 * test_accuracy:.2f}%")
    if args.save:
        nn.layers.save_params(model.network, args.save)
        log(f"saved the parameters to {args.save}")
    draw_figures(args, history, model.predict, data.test, log, title, class_names)
    return test_accuracy


def train_and_test(args: argparse.Namespace, data: Dataset, network: Any, title: str) -> dict:
    """Train ``network`` on ``data`` as the command line ``args`` say, then :func:`finish`.

    Prints ``title`` with the number of parameters first. Returns
    ``{'model', 'history', 'test_accuracy'}``, what the training examples' ``main`` returns.
    """
    print(f"{title}: {nn.layers.count_params(network)} parameters, "
          f"{len(data.train[0])} training images, update {args.update}")
    model = compile_classifier(network, args.lr, args.update)
    history = fit_from_args(model, data, args)
    test_accuracy = finish(args, model, data, history, title=title)
    return {"model": model, "history": history, "test_accuracy": test_accuracy}


# ---------------------------------------------------------------------------- figures
def draw_figures(args: argparse.Namespace, history: History | None, predict: Callable,
                 test: tuple[np.ndarray, np.ndarray], log: Callable[[str], None] = print,
                 title: str = "",
                 class_names: list | None = None) -> None:
    """Draw what ``--plot`` and ``--confusion`` ask for (nothing when neither is given).

    Without matplotlib, ``log`` one line that says what to install instead, and go on.

    Parameters
    ----------
    args : argparse.Namespace
        The command line of a parser with :func:`add_figure_options`.
    history : History or None
        The learning curves for ``--plot``.
    predict : callable
        Images to class probabilities; run on the test images for the confusion matrix only.
    test : (ndarray, ndarray)
        The test images and their classes.
    log : callable
        Prints a line.
    title : str
        Heads the figures, e.g. the network.
    class_names : list, optional
        The classes' names on the confusion matrix (default 0 to 9).
    """
    confusion = confusion_path(args)
    try:
        if args.plot and history is not None:
            plot_curves(history, args.plot, title, log)
        if confusion is not None:
            _plots.confusion_matrix(confusion, test[1], predict_classes(predict, test[0]),
                                    class_names, title)
            log(f"drew the test set's confusion matrix to {confusion}")
    except _plots.PlottingUnavailable as exc:
        log(str(exc))


def plot_curves(history: History, path: str | Path, title: str = "",
                log: Callable[[str], None] = print) -> None:
    """Draw the learning curves of ``history`` to the PNG ``path`` with matplotlib.

    Left: training and validation loss per epoch; right: validation accuracy (%).

    Raises
    ------
    _plots.PlottingUnavailable
        When matplotlib is not installed.
    """
    _plots.learning_curves(
        path, history.column("epoch"),
        {"training loss": history.column("train_loss"),
         "validation loss": history.column("valid_loss")},
        {"validation accuracy": history.column("valid_accuracy")}, title)
    log(f"drew the learning curves to {path} (left: training and validation loss; "
        f"right: validation accuracy)")


# ---------------------------------------------------------------------------- trained models
def model_kind(path: str | Path) -> str:
    """'lenet' or 'mlp': which example wrote the parameter file (LeNet's first is 4D)."""
    with np.load(path) as data:
        return "lenet" if data["arr_0"].ndim == 4 else "mlp"


def trained_classifier(params: str | None, kind: str, data_path: Any, epochs: int = 1,
                       train_size: int | None = None, log: Callable[[str], None] = print,
                       history: History | None = None) -> tuple[Classifier, Dataset]:
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
    log : callable
        Prints a line.
    history : History, optional
        Receives the brief training's epochs, if there is one.
    """
    # The example modules import this one, so they are imported here, when needed.
    import mnist_lenet
    import mnist_mlp

    kind = model_kind(params) if params else kind
    module = mnist_lenet if kind == "lenet" else mnist_mlp
    data = load_data(data_path, IMAGE_SHAPE if kind == "lenet" else None, train_size)
    network = module.build_network()
    model = compile_classifier(network)
    if params:
        nn.layers.load_params(network, params)
        log(f"loaded the {kind} parameters of {params}")
    else:
        log(f"no --params given: training the {kind} for {epochs} epoch(s)")
        trained = fit(model, data, epochs, progress=False, log=log)
        if history is not None:
            history.epochs.extend(trained.epochs)
    return model, data


def classifier_from_args(args: argparse.Namespace) -> tuple[Classifier, Dataset]:
    """:func:`trained_classifier` as a :func:`make_inspection_parser` command line says.

    ``--plot`` draws the learning curves of the brief training (when there is one) and
    ``--confusion`` (or ``--plot``) the network's confusion matrix, as :func:`draw_figures`.
    """
    history = History()
    model, data = trained_classifier(args.params, args.model, args.data, args.epochs,
                                     args.train_size, history=history)
    kind = model_kind(args.params) if args.params else args.model
    draw_figures(args, history if history.epochs else None, model.predict, data.test,
                 title="LeNet" if kind == "lenet" else "MLP")
    return model, data
