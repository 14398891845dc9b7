"""Transfer learning: reuse a trained LeNet's convolutions for new classes.

The convolution layers of a trained LeNet are frozen (their parameters get no update: they
lose the ``trainable`` tag, so ``get_all_params(..., trainable=True)`` leaves them out), the
classifier head is replaced by a new dense layer and softmax over the target classes, and
only the head is trained on those classes. The program prints the accuracy on the target
classes' test images before and after fine-tuning; ``--plot`` draws the fine-tuning's learning
curves and the confusion matrix of the target classes' test images (matplotlib).

Without ``--params`` a LeNet is first trained briefly on the other digits
(``--source-classes``), so the target digits are new to the features.

    python examples/transfer.py --data ../shared/data/mnist.npz --classes 5,6,7,8,9
    python examples/transfer.py --data ../shared/data/mnist.npz --params /tmp/lenet.npz
"""

from __future__ import annotations

import _common
import mnist_lenet
import numpy as np

from exprc import nn

#: The layer whose output the new head reads: the last pooling stage of mnist_lenet.
FEATURES = "pool1"


def class_list(text: str) -> list[int]:
    """``'5,6,7'`` -> ``[5, 6, 7]``."""
    return [int(c) for c in text.split(",") if c.strip()]


def freeze(layer) -> list:
    """Remove the ``trainable`` tag from every parameter of ``layer`` and below it.

    Returns the frozen parameters.
    """
    frozen = []
    for each in nn.layers.get_all_layers(layer):
        for param, tags in each.params.items():
            tags.discard("trainable")
            frozen.append(param)
    return frozen


def replace_head(base, n_classes: int, dense: int = 256, dropout: float = 0.5):
    """A new classifier (dropout, dense ReLU layer, scores, softmax) on ``base``'s features."""
    features = next(layer for layer in nn.layers.get_all_layers(base)
                    if layer.name == FEATURES)
    layer = nn.layers.DropoutLayer(features, p=dropout) if dropout else features
    layer = nn.layers.DenseLayer(layer, dense, W=nn.init.GlorotUniform(gain="relu"),
                                 name="new_dense")
    return features, _common.softmax_head(layer, n_classes, name="new_scores")


def make_parser():
    parser = _common.make_parser(__doc__, epochs=3, lr=1e-3)
    parser.add_argument("--params", default=None,
                        help="parameters saved by mnist_lenet.py --save (default: pretrain "
                             "on --source-classes)")
    parser.add_argument("--classes", type=class_list, default=[5, 6, 7, 8, 9],
                        help="the target classes, comma-separated")
    parser.add_argument("--source-classes", type=class_list, default=[0, 1, 2, 3, 4],
                        help="the classes to pretrain on when --params is not given")
    parser.add_argument("--pretrain-epochs", type=int, default=1)
    parser.add_argument("--dense", type=int, default=256, help="units of the new head")
    return parser


def pretrained_lenet(args, data: _common.Dataset):
    """A LeNet from ``--params``, or trained on ``--source-classes`` for
    ``--pretrain-epochs`` with the command line's other training options."""
    base = mnist_lenet.build_network(dropout=0.5)
    if args.params:
        nn.layers.load_params(base, args.params)
        print(f"loaded LeNet from {args.params}")
    else:
        source = data.subset(args.source_classes, relabel=False)
        print(f"pretraining LeNet on classes {args.source_classes} "
              f"({len(source.train[0])} images, {args.pretrain_epochs} epoch(s))")
        model = _common.compile_classifier(base, args.lr, args.update)
        _common.fit_from_args(model, source, args, args.pretrain_epochs)
    return base


def main(argv=None) -> dict:
    """Fine-tune a new head; returns ``{'before', 'after', 'frozen', 'frozen_before'}``."""
    with _common.command_line(make_parser(), argv) as args:
        data = _common.load_data(args.data, _common.IMAGE_SHAPE, args.train_size)
        base = pretrained_lenet(args, data)
        features, network = replace_head(base, len(args.classes), args.dense)
        frozen = freeze(features)
        frozen_before = [p.get_value() for p in frozen]
        trainable = nn.layers.get_all_params(network, trainable=True)
        print(f"frozen: {', '.join(p.name for p in frozen)}; "
              f"trained: {', '.join(p.name for p in trainable)}")
        model = _common.compile_classifier(network, args.lr, args.update, trainable)

        target = data.subset(args.classes)
        _, before = _common.evaluate(model, *target.test)
        print(f"accuracy on classes {args.classes} before fine-tuning: {100 * before:.2f}%")
        history = _common.fit_from_args(model, target, args)
        after = _common.finish(args, model, target, history,
                               log=lambda line: print(line.replace("test", "target test")),
                               title=f"Transfer to classes {args.classes}",
                               class_names=args.classes)
        print(f"accuracy on classes {args.classes}: {100 * before:.2f}% before, "
              f"{100 * after:.2f}% after fine-tuning")
        unchanged = all(np.array_equal(p.get_value(), v) for p, v in zip(frozen, frozen_before))
        print("the frozen convolutions are " + ("unchanged" if unchanged else "CHANGED"))
    return {"before": before, "after": after, "frozen": frozen,
            "frozen_before": frozen_before, "history": history}


if __name__ == "__main__":
    main()
