"""A LeNet-style convolutional network on MNIST, built with the layer library ``exprc.nn``.

Two convolution + max-pooling stages (20 then 50 filters of 5x5, pooling 2x2), a dense
layer of 500 rectified linear units with dropout, and a 10-way softmax: the network of the
Theano tutorials' LeNet, with ReLU and trained by minibatch Adam on the mean cross-entropy.

    python examples/mnist_lenet.py --data ../shared/data/mnist.npz --save /tmp/lenet.npz
"""

from __future__ import annotations

import _common

from exprc import nn


def build_network(filters: tuple = (20, 50), dense: int = 500, dropout: float = 0.0):
    """LeNet: (conv 5x5 + ReLU, max-pool 2x2) twice, dense ReLU layer, scores, softmax.

    The input is a 4D tensor of images ``(batch, 1, 28, 28)``.

    Parameters
    ----------
    filters : tuple of two int
        The number of filters of each convolution.
    dense : int
        The width of the dense layer.
    dropout : float
        Dropout probability before the dense layer and before the scores (0: none).

    Returns
    -------
    Layer
        The softmax layer of :func:`_common.softmax_head`.
    """
    relu_init = nn.init.GlorotUniform(gain="relu")
    layer = nn.layers.InputLayer((None,) + _common.IMAGE_SHAPE, name="input")
    for i, n_filters in enumerate(filters):
        layer = nn.layers.Conv2DLayer(layer, n_filters, filter_size=5, W=relu_init,
                                      nonlinearity=nn.nonlinearities.rectify, name=f"conv{i}")
        layer = nn.layers.MaxPool2DLayer(layer, pool_size=2, name=f"pool{i}")
    if dropout:
        layer = nn.layers.DropoutLayer(layer, p=dropout)
    layer = nn.layers.DenseLayer(layer, dense, W=relu_init,
                                 nonlinearity=nn.nonlinearities.rectify, name="dense")
    if dropout:
        layer = nn.layers.DropoutLayer(layer, p=dropout)
    return _common.softmax_head(layer)


def make_parser():
    parser = _common.make_parser(__doc__, epochs=15, batch_size=128, lr=1e-3, lr_decay=0.85)
    parser.add_argument("--dense", type=int, default=500, help="units of the dense layer")
    parser.add_argument("--dropout", type=float, default=0.5)
    return parser


def main(argv=None) -> dict:
    """Train and test LeNet; returns ``{'model', 'history', 'test_accuracy'}``."""
    with _common.command_line(make_parser(), argv) as args:
        data = _common.load_data(args.data, _common.IMAGE_SHAPE, args.train_size)
        network = build_network(dense=args.dense, dropout=args.dropout)
        return _common.train_and_test(args, data, network, "LeNet")


if __name__ == "__main__":
    main()
