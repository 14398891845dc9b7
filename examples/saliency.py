"""Saliency maps: which pixels of an image move a trained network's class score the most.

The saliency of an image for class c is the gradient of the class score (the input of the
softmax) with respect to the pixels, one symbolic ``exprc.grad`` away from the network.
The program draws a PNG with matplotlib (``pip install 'exprc[examples]'``): the input on the
left and its saliency on the right, red where raising the pixel raises the score, blue where
it lowers it, each with its colour bar.

Parameters come from ``mnist_mlp.py --save`` or ``mnist_lenet.py --save``; without
``--params`` a network is trained briefly first.

    python examples/saliency.py --data ../shared/data/mnist.npz --params /tmp/lenet.npz \\
        --index 0 --out /tmp/saliency.png
"""

from __future__ import annotations

import _common
import _plots
import numpy as np

import exprc
import exprc.tensor as T
from exprc import nn


def saliency_function(model: _common.Classifier):
    """Compile ``saliency(x, classes)``: d score[i, classes[i]] / d x[i] for each image i.

    Scores of different images do not interact, so the gradient of their sum gives every
    image's own gradient in one pass.
    """
    classes = T.ivector("classes")
    scores = nn.layers.get_output(_common.scores_layer(model.network), deterministic=True)
    chosen = scores[T.arange(classes.shape[0]), classes]
    gradient = exprc.grad(chosen.sum(), model.input_var)
    return exprc.function([model.input_var, classes], gradient, name="saliency")


def draw(path: str, image: np.ndarray, saliency: np.ndarray, index: int, true_class: int,
         probabilities: np.ndarray, label: int, scale: int = 8) -> None:
    """Draw ``image`` beside its ``saliency`` for class ``label`` to the PNG ``path``.

    The title gives the test image's ``index``, its ``true_class`` and the predicted class
    with its probability; ``scale`` sets the resolution (about ``scale`` pixels per MNIST
    pixel).
    """
    predicted = int(probabilities.argmax())
    title = (f"Saliency of test image {index}: true class {true_class}, predicted {predicted} "
             f"({100 * probabilities[predicted]:.1f}%)")
    _plots.saliency_map(path, image, saliency, title,
                        f"d score[{label}] / d pixel\nred: raises it, blue: lowers it",
                        dpi=10 * scale)


def make_parser():
    parser = _common.make_inspection_parser(__doc__, index_help="the test image to explain")
    parser.add_argument("--label", type=int, default=None,
                        help="the class whose score to differentiate (default: predicted)")
    parser.add_argument("--out", default="saliency.png",
                        help="the PNG to write (needs matplotlib)")
    parser.add_argument("--scale", type=int, default=8,
                        help="about this many PNG pixels per MNIST pixel")
    return parser


def main(argv=None) -> dict:
    """Write the saliency PNG; returns ``{'saliency', 'label', 'out'}``."""
    with _common.command_line(make_parser(), argv) as args:
        model, data = _common.classifier_from_args(args)
        x_test, y_test = data.test
        image = x_test[args.index:args.index + 1]
        probabilities = model.predict(image)[0]
        label = int(probabilities.argmax()) if args.label is None else args.label
        saliency = saliency_function(model)(image, np.array([label], dtype=np.int32))[0]
    print(f"test image {args.index}: true class {y_test[args.index]}, predicted "
          f"{probabilities.argmax()} ({100 * probabilities.max():.1f}%)")
    try:
        draw(args.out, image, saliency, args.index, y_test[args.index], probabilities, label,
             args.scale)
    except _plots.PlottingUnavailable as exc:
        print(exc)
    else:
        print(f"saliency of class {label} drawn beside the image to {args.out}")
    return {"saliency": saliency, "label": label, "out": args.out}


if __name__ == "__main__":
    main()
