"""Loading the example data sets.

exprc ships no data. The examples and the acceptance tests use MNIST as distributed with the
Theano deep-learning tutorials (``mnist.pkl.gz``: 50,000 training, 10,000 validation and
10,000 test images of 28x28 pixels), converted to a compressed ``.npz`` file.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from exprc.configuration import config
from exprc.errors import ExprcError

#: The environment variable naming the MNIST ``.npz`` file when no path is given.
MNIST_ENV = "EXPRC_MNIST"

_SPLITS = ("train", "valid", "test")

_WHERE_TO_GET_MNIST = f"""\
exprc reads MNIST from a .npz file holding x_train, y_train, x_valid, y_valid, x_test and
y_test (x: uint8 of shape (n, 784) holding pixel * 256; y: the labels 0..9).
To make it, get mnist.pkl.gz, the file of the Theano deep-learning tutorials (published at
deeplearning.net/data/mnist/mnist.pkl.gz and mirrored widely), and convert it with:

    import gzip, pickle, numpy as np
    sets = pickle.load(gzip.open('mnist.pkl.gz'), encoding='latin1')
    arrays = {{}}
    for split, (x, y) in zip(('train', 'valid', 'test'), sets):
        arrays['x_' + split] = (x * 256).astype('uint8')
        arrays['y_' + split] = y.astype('uint8')
    np.savez_compressed('mnist.npz', **arrays)

Then pass its path to load_mnist(path) (or --data in the examples), or set
{MNIST_ENV}=/path/to/mnist.npz in the environment."""


class DatasetError(ExprcError, OSError):
    """A data file is missing or does not hold what it should."""


def load_mnist(path: str | os.PathLike | None = None, dtype: Any = None):
    """Load MNIST (the Theano tutorials' split) from a ``.npz`` file.

    Parameters
    ----------
    path : str or path-like, optional
        The ``.npz`` file. Defaults to the value of the environment variable ``EXPRC_MNIST``.
    dtype : str, optional
        The dtype of the images; defaults to ``exprc.config.floatX``.

    Returns
    -------
    tuple of three (x, y) pairs
        ``((x_train, y_train), (x_valid, y_valid), (x_test, y_test))`` as in the Theano
        tutorials: ``x`` of shape ``(n, 784)`` with values in ``[0, 1)``, ``y`` int32 labels.

    Raises
    ------
    DatasetError
        When no path is given and ``EXPRC_MNIST`` is unset, when the file does not exist, or
        when it lacks one of the arrays; the message says where to get the file.

    Examples
    --------
    >>> from exprc.datasets import load_mnist
    >>> (x_train, y_train), valid, test = load_mnist('mnist.npz')  # doctest: +SKIP
    >>> x_train.shape, y_train.dtype  # doctest: +SKIP
    ((50000, 784), dtype('int32'))
    """
    path = path if path is not None else os.environ.get(MNIST_ENV)
    if not path:
        raise DatasetError(f"no MNIST file given: pass a path or set {MNIST_ENV}.\n"
                           f"{_WHERE_TO_GET_MNIST}")
    if not os.path.isfile(path):
        raise DatasetError(f"MNIST file {os.fspath(path)!r} does not exist.\n"
                           f"{_WHERE_TO_GET_MNIST}")
    dtype = np.dtype(config.floatX if dtype is None else dtype)
    if dtype.kind != "f":
        raise ValueError(f"load_mnist: dtype must be a float dtype, got {dtype}")
    with np.load(path) as archive:
        missing = [f"{k}_{s}" for s in _SPLITS for k in "xy" if f"{k}_{s}" not in archive]
        if missing:
            raise DatasetError(f"MNIST file {os.fspath(path)!r} lacks the arrays {missing}.\n"
                               f"{_WHERE_TO_GET_MNIST}")
        # The images are stored as pixel * 256 in uint8, so dividing by 256 restores the
        # tutorials' float values exactly.
        return tuple((archive[f"x_{s}"].astype(dtype) / dtype.type(256),
                      archive[f"y_{s}"].astype("int32")) for s in _SPLITS)
