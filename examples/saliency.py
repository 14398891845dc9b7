"""Saliency maps: which pixels of an image move a trained network's class score the most.

The saliency of an image for class c is the gradient of the class score (the input of the
softmax) with respect to the pixels, one symbolic ``exprc.grad`` away from the network.
The program writes a PNG (standard library only) with the input on the left and its
saliency on the right: red where raising the pixel raises the score, blue where it lowers it.

Parameters come from ``mnist_mlp.py --save`` or ``mnist_lenet.py --save``; without
``--params`` a network is trained briefly first.

    python examples/saliency.py --data ../shared/data/mnist.npz --params /tmp/lenet.npz \\
        --index 0 --out /tmp/saliency.png
"""

from __future__ import annotations

import _common
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


def saliency_image(image: np.ndarray, saliency: np.ndarray, scale: int = 8) -> np.ndarray:
    """RGB pixels: ``image`` (in [0, 1]) beside ``saliency`` mapped to red (+) / blue (-)."""
    image = np.asarray(image).reshape(28, 28)
    saliency = np.asarray(saliency, dtype=np.float64).reshape(28, 28)
    peak = np.abs(saliency).max()
    signed = saliency / peak if peak > 0 else saliency
    left = np.repeat(_common.to_uint8(image, scale)[:, :, None], 3, axis=2)
    # White where the gradient is zero, fading to red or blue as it grows.
    right = np.stack([1 - np.clip(-signed, 0, 1), 1 - np.abs(signed), 1 - np.clip(signed, 0, 1)],
                     axis=2)
    right = np.stack([_common.to_uint8(right[:, :, c], scale) for c in range(3)], axis=2)
    gap = np.full((left.shape[0], scale, 3), 255, dtype=np.uint8)
    return np.concatenate([left, gap, right], axis=1)


def make_parser():
    parser = _common.make_inspection_parser(__doc__, index_help="the test image to explain")
    parser.add_argument("--label", type=int, default=None,
                        help="the class whose score to differentiate (default: predicted)")
    parser.add_argument("--out", default="saliency.png", help="the PNG to write")
    parser.add_argument("--scale", type=int, default=8, help="pixels per MNIST pixel")
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
        _common.write_png(args.out, saliency_image(image, saliency, args.scale))
    print(f"test image {args.index}: true class {y_test[args.index]}, predicted "
          f"{probabilities.argmax()} ({100 * probabilities.max():.1f}%); saliency of class "
          f"{label} written beside the image to {args.out}")
    return {"saliency": saliency, "label": label, "out": args.out}


if __name__ == "__main__":
    main()
