"""The examples' figures, drawn with matplotlib: learning curves, confusion matrices, images.

matplotlib is optional (``pip install 'exprc[examples]'``). It is imported only when a figure
is drawn, on the non-interactive Agg backend, so importing or running the examples does not
need it; without it every function here raises :class:`PlottingUnavailable`, whose message
says what to install. Each function writes one PNG and closes its figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: What to install for the figures; the message of :class:`PlottingUnavailable`.
PLOTTING_NEEDS = ("plotting needs matplotlib: pip install 'exprc[examples]' "
                  "(or pip install matplotlib); no figure was drawn")

#: Dots per inch of the written PNGs (except the saliency map, whose --scale sets them).
DPI = 100


class PlottingUnavailable(ImportError):
    """matplotlib is not installed; the message says how to install it."""


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend.

    Raises
    ------
    PlottingUnavailable
        When matplotlib is not installed.
    """
    try:
        import matplotlib
    except ImportError as exc:
        raise PlottingUnavailable(PLOTTING_NEEDS) from exc
    matplotlib.use("Agg")  # files only: no window, no display needed
    import matplotlib.pyplot as plt
    return plt


def _save(figure: Any, path: str | Path, dpi: float = DPI) -> None:
    """Write ``figure`` to the PNG ``path`` and free it."""
    plt = pyplot()
    try:
        figure.savefig(path, dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(figure)


# ---------------------------------------------------------------------------- curves
def learning_curves(path: str | Path, epochs: Sequence[int], losses: dict[str, Sequence[float]],
                    accuracies: dict[str, Sequence[float]], title: str = "") -> None:
    """Losses (left) and accuracies in percent (right) per epoch, each with its legend.

    Parameters
    ----------
    path : str or Path
        The PNG to write.
    epochs : sequence of int
        The x values, 1, 2, ...
    losses, accuracies : dict of str to sequence of float
        Curves by legend label, one value per epoch; accuracies are fractions.
    title : str
        The figure's title (e.g. the network); "learning curves" is added.
    """
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for label, values in losses.items():
        left.plot(epochs, values, marker="o", label=label)
    for label, values in accuracies.items():
        right.plot(epochs, 100 * np.asarray(values), marker="o", color="tab:green", label=label)
        right.annotate(f"{100 * values[-1]:.2f}%", (epochs[-1], 100 * values[-1]),
                       textcoords="offset points", xytext=(0, 8), ha="center")
    for axes, ylabel, name in ((left, "loss (mean cross-entropy)", "Loss"),
                               (right, "accuracy (%)", "Accuracy")):
        axes.set(xlabel="epoch", ylabel=ylabel, title=name)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        axes.legend()
    figure.suptitle(f"{title}: learning curves" if title else "Learning curves")
    _save(figure, path)


# ---------------------------------------------------------------------------- confusion
def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """``counts[t, p]``: how many images of true class t were predicted as class p.

    >>> confusion_counts(np.array([0, 1, 1]), np.array([0, 1, 0]), 2).tolist()
    [[1, 0], [1, 1]]
    """
    pairs = np.asarray(y_true, np.int64) * n_classes + np.asarray(y_pred, np.int64)
    return np.bincount(pairs, minlength=n_classes ** 2).reshape(n_classes, n_classes)


def confusion_matrix(path: str | Path, y_true: np.ndarray, y_pred: np.ndarray,
                     class_names: Sequence[Any] | None = None, title: str = "") -> np.ndarray:
    """Draw the confusion matrix of ``y_pred`` against ``y_true`` with counts in the cells.

    Parameters
    ----------
    path : str or Path
        The PNG to write.
    y_true, y_pred : ndarray of int
        True and predicted classes, 0 to ``len(class_names) - 1``.
    class_names : sequence, optional
        The name of each class on the axes (default: 0 to 9, or to the largest label).
    title : str
        Heads the figure, followed by the accuracy.

    Returns
    -------
    ndarray
        The counts, as :func:`confusion_counts` gives them.
    """
    plt = pyplot()
    if class_names is None:
        class_names = range(max(10, int(np.max(y_true, initial=0)) + 1,
                                int(np.max(y_pred, initial=0)) + 1))
    names = [str(name) for name in class_names]
    counts = confusion_counts(y_true, y_pred, len(names))
    accuracy = np.trace(counts) / max(counts.sum(), 1)

    size = 2.5 + 0.5 * len(names)
    figure, axes = plt.subplots(figsize=(size + 1, size), constrained_layout=True)
    image = axes.imshow(counts, cmap="Blues")
    figure.colorbar(image, ax=axes, label="test images")
    _write_counts(axes, counts)
    ticks = np.arange(len(names))
    axes.set_xticks(ticks, names)
    axes.set_yticks(ticks, names)
    axes.set(xlabel="predicted class", ylabel="true class",
             title=f"{title + ': ' if title else ''}confusion matrix\n"
                   f"test accuracy {100 * accuracy:.2f}% ({counts.sum()} images)")
    _save(figure, path)
    return counts


def _write_counts(axes: Any, counts: np.ndarray) -> None:
    """Each cell's count in it, white on the dark cells (above half the largest count)."""
    threshold = counts.max() / 2
    for (row, column), count in np.ndenumerate(counts):
        axes.text(column, row, str(count), ha="center", va="center", fontsize=8,
                  color="white" if count > threshold else "black")


# ---------------------------------------------------------------------------- images
def saliency_map(path: str | Path, image: np.ndarray, saliency: np.ndarray, title: str,
                 saliency_title: str, dpi: float = DPI) -> None:
    """The input image (grey) beside its saliency (red +, blue -), each with a colour bar.

    Parameters
    ----------
    path : str or Path
        The PNG to write.
    image, saliency : ndarray
        28 x 28 values (or 784): pixels in [0, 1], and d score / d pixel.
    title, saliency_title : str
        The figure's title and the saliency panel's.
    dpi : float
        Resolution: the panels are 2.8 inches wide, so each MNIST pixel is ``dpi / 10``
        pixels wide.
    """
    plt = pyplot()
    image = np.asarray(image, np.float64).reshape(28, 28)
    saliency = np.asarray(saliency, np.float64).reshape(28, 28)
    peak = float(np.abs(saliency).max()) or 1.0  # symmetric scale: white is zero

    figure, (left, right) = plt.subplots(1, 2, figsize=(7.6, 3.6), constrained_layout=True)
    shown = left.imshow(image, cmap="gray", vmin=0, vmax=1)
    figure.colorbar(shown, ax=left, label="pixel value")
    left.set_title("input image")
    shown = right.imshow(saliency, cmap="RdBu_r", vmin=-peak, vmax=peak)
    figure.colorbar(shown, ax=right, label="d score / d pixel")
    right.set_title(saliency_title)
    for axes in (left, right):
        axes.set_xticks([])
        axes.set_yticks([])
    figure.suptitle(title)
    _save(figure, path, dpi)


def adversarial_grid(path: str | Path, images: np.ndarray, predictions: np.ndarray,
                     labels: np.ndarray, epsilons: np.ndarray, indices: Sequence[int]) -> None:
    """Adversarial images: one row per test image, one column per epsilon.

    Each panel is titled with its prediction, in red where it is wrong; one colour bar gives
    the pixel values.

    Parameters
    ----------
    path : str or Path
        The PNG to write.
    images : ndarray, shape (rows, columns, 784) or (rows, columns, 28, 28)
        The perturbed images, pixels in [0, 1]; column 0 at epsilon 0 is the clean image.
    predictions : ndarray of int, shape (rows, columns)
        The network's class for each panel.
    labels : ndarray of int, shape (rows,)
        The true class of each row.
    epsilons : ndarray, shape (columns,)
        The epsilon of each column.
    indices : sequence of int
        The test-set index of each row.
    """
    plt = pyplot()
    rows, columns = predictions.shape
    figure, grid = plt.subplots(rows, columns, figsize=(1.6 * columns + 1.2, 1.75 * rows + 0.9),
                                squeeze=False, constrained_layout=True)
    for (row, column), axes in np.ndenumerate(grid):
        shown = axes.imshow(np.reshape(images[row, column], (28, 28)), cmap="gray",
                            vmin=0, vmax=1)
        wrong = predictions[row, column] != labels[row]
        axes.set_title(f"\u03b5 = {epsilons[column]:.3f}\npredicted {predictions[row, column]}",
                       fontsize=9, color="tab:red" if wrong else "black")
        axes.set_xticks([])
        axes.set_yticks([])
        if column == 0:
            axes.set_ylabel(f"test image {indices[row]}\nclass {labels[row]}", fontsize=9)
    figure.colorbar(shown, ax=grid, label="pixel value", shrink=0.8)
    figure.suptitle("Fast gradient sign attack: x' = clip(x + \u03b5 sign(\u2207x loss), 0, 1)"
                    " (red: wrong prediction)")
    _save(figure, path)
