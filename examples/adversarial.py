"""Adversarial examples by the fast gradient sign method (Goodfellow et al., 2015).

Each pixel moves by epsilon in the direction that raises the network's loss on the true
label, ``x' = clip(x + epsilon * sign(d loss / d x), 0, 1)``: one gradient per image, taken
symbolically with ``exprc.grad``. The program prints the smallest epsilon (on a grid) that
changes the prediction of one test image, the median of that epsilon over the test images
the network gets right, and the test accuracy under attack at several epsilons. With
``--out grid.png`` it draws the attacked images too (matplotlib: ``pip install
'exprc[examples]'``): test image ``--index`` and the next ones, one row each, at the epsilons
of the printed table, each titled with the network's prediction.

Parameters come from ``mnist_mlp.py --save`` or ``mnist_lenet.py --save``; without
``--params`` a network is trained briefly first.

    python examples/adversarial.py --data ../shared/data/mnist.npz --params /tmp/mlp.npz
"""

from __future__ import annotations

import _common
import _plots
import numpy as np

import exprc
import exprc.tensor as T
from exprc import nn


def gradient_sign_function(model: _common.Classifier):
    """Compile ``sign_of_gradient(x, y)``: sign(d loss / d x) of the summed loss.

    The loss of one image does not depend on the others, so the gradient of the sum holds
    every image's own gradient.
    """
    labels = T.ivector("labels")
    prediction = nn.layers.get_output(model.network, deterministic=True)
    loss = nn.objectives.categorical_crossentropy(prediction, labels).sum()
    return exprc.function([model.input_var, labels],
                          T.sgn(exprc.grad(loss, model.input_var)), name="gradient_sign")


def perturb(x: np.ndarray, direction: np.ndarray, epsilon: float) -> np.ndarray:
    """``x`` moved by ``epsilon`` along ``direction`` and clipped to the valid pixels [0, 1]."""
    return np.clip(x + epsilon * direction, 0, 1).astype(x.dtype)


def attack(model: _common.Classifier, x: np.ndarray, y: np.ndarray,
           epsilons: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Predictions under attack: ``result[k, i]`` is the class given to image i at eps k."""
    sign = gradient_sign_function(model)
    result = np.empty((len(epsilons), len(x)), dtype=np.int64)
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        direction = sign(xb, yb)
        for k, epsilon in enumerate(epsilons):
            result[k, start:start + len(xb)] = model.predict(
                perturb(xb, direction, epsilon)).argmax(axis=1)
    return result


def epsilon_needed(predictions: np.ndarray, y: np.ndarray,
                   epsilons: np.ndarray) -> np.ndarray:
    """Per image, the smallest of ``epsilons`` whose prediction is wrong (inf: none is)."""
    wrong = predictions != y[None, :]
    first = np.where(wrong.any(axis=0), wrong.argmax(axis=0), -1)
    return np.where(first >= 0, np.asarray(epsilons)[first], np.inf)


def shown_steps(steps: int) -> np.ndarray:
    """The indices of the epsilons reported (table and figure): at most 7, 0 and ``steps``."""
    return np.linspace(0, steps, min(steps, 6) + 1).astype(int)


def draw(path: str, model: _common.Classifier, x: np.ndarray, y: np.ndarray,
         epsilons: np.ndarray, first: int, rows: int = 4) -> None:
    """Draw test images ``first`` to ``first + rows - 1`` attacked at each of ``epsilons``.

    Raises
    ------
    _plots.PlottingUnavailable
        When matplotlib is not installed.
    """
    indices = list(range(first, min(first + rows, len(x))))
    xs, ys = x[indices], y[indices]
    direction = gradient_sign_function(model)(xs, ys)
    images = np.stack([perturb(xs, direction, epsilon) for epsilon in epsilons], axis=1)
    predictions = np.stack([model.predict(images[:, k]).argmax(axis=1)
                            for k in range(len(epsilons))], axis=1)
    _plots.adversarial_grid(path, images, predictions, ys, epsilons, indices)


def make_parser():
    parser = _common.make_inspection_parser(__doc__, index_help="the test image to report on")
    parser.add_argument("--max-epsilon", type=float, default=0.3)
    parser.add_argument("--steps", type=int, default=30, help="epsilons tried up to the max")
    parser.add_argument("--test-size", type=int, default=None,
                        help="attack the first N test images only")
    parser.add_argument("--out", metavar="PNG", default=None,
                        help="draw test images --index to --index+3 attacked at the reported "
                             "epsilons to this PNG (needs matplotlib)")
    return parser


def draw_or_explain(path: str, *args) -> None:
    """:func:`draw` to ``path``, saying where; without matplotlib, say what to install."""
    try:
        draw(path, *args)
    except _plots.PlottingUnavailable as exc:
        print(exc)
    else:
        print(f"drew the adversarial examples to {path}")


def main(argv=None) -> dict:
    """Run the attack; returns ``{'epsilons', 'accuracy', 'needed', 'index_epsilon'}``."""
    with _common.command_line(make_parser(), argv) as args:
        model, data = _common.classifier_from_args(args)
        x, y = data.test
        if args.test_size is not None:
            x, y = x[:args.test_size], y[:args.test_size]
        # epsilons[0] = 0 is the clean image.
        epsilons = np.linspace(0, args.max_epsilon, args.steps + 1)
        predictions = attack(model, x, y, epsilons)
        if args.out:
            draw_or_explain(args.out, model, x, y, epsilons[shown_steps(args.steps)],
                            args.index)
    accuracy = (predictions == y[None, :]).mean(axis=1)
    needed = epsilon_needed(predictions, y, epsilons)
    index_epsilon = needed[args.index]
    if index_epsilon == 0:
        print(f"test image {args.index} (class {y[args.index]}) is misclassified already")
    elif np.isinf(index_epsilon):
        print(f"test image {args.index} (class {y[args.index]}): no epsilon up to "
              f"{args.max_epsilon} changes the prediction")
    else:
        k = int(np.searchsorted(epsilons, index_epsilon))
        print(f"test image {args.index}: class {y[args.index]} becomes "
              f"{predictions[k, args.index]} at epsilon {index_epsilon:.3f}")
    flipped = needed[(needed > 0) & np.isfinite(needed)]
    right = int((needed > 0).sum())
    if len(flipped):
        print(f"{len(flipped)} of the {right} correctly classified test images flip by "
              f"epsilon {args.max_epsilon}; median epsilon needed {np.median(flipped):.3f}")
    print("epsilon  accuracy under attack")
    for k in shown_steps(args.steps):
        print(f"{epsilons[k]:7.3f}  {100 * accuracy[k]:6.2f}%")
    return {"epsilons": epsilons, "accuracy": accuracy, "needed": needed,
            "index_epsilon": index_epsilon}


if __name__ == "__main__":
    main()
