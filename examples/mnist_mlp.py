"""A multilayer perceptron on MNIST, built with the layer library ``exprc.nn``.

The classic two-hidden-layer network: 784 inputs, two layers of 256 rectified linear units
and a 10-way softmax, with optional dropout, trained by minibatch Adam (``--update`` picks
another rule of ``exprc.nn.updates``) on the mean cross-entropy. The network is written as
it would be with Lasagne, ``exprc.nn`` taking the place of ``lasagne``.

    python examples/mnist_mlp.py --data ../shared/data/mnist.npz --save /tmp/mlp.npz
"""

from __future__ import annotations

import _common

from exprc import nn


def build_network(hidden: tuple = (256, 256), dropout_input: float = 0.0,
                  dropout_hidden: float = 0.0):
    """The MLP: input (a matrix of images, one per row), ``len(hidden)`` ReLU layers, class
    scores, softmax.

    Parameters
    ----------
    hidden : tuple of int
        The width of each hidden layer.
    dropout_input, dropout_hidden : float
        Dropout probability on the inputs and after each hidden layer (0: none). Dropout
        adds no parameters, so a file saved with dropout loads into a network without.

    Returns
    -------
    Layer
        The softmax layer of :func:`_common.softmax_head`.
    """
    layer = nn.layers.InputLayer((None, 784), name="input")
    if dropout_input:
        layer = nn.layers.DropoutLayer(layer, p=dropout_input)
    for i, units in enumerate(hidden):
        layer = nn.layers.DenseLayer(layer, units, nonlinearity=nn.nonlinearities.rectify,
                                     W=nn.init.GlorotUniform(gain="relu"), name=f"hidden{i}")
        if dropout_hidden:
            layer = nn.layers.DropoutLayer(layer, p=dropout_hidden)
    return _common.softmax_head(layer)


def make_parser():
    parser = _common.make_parser(__doc__, epochs=30, batch_size=128, lr=1e-3, lr_decay=0.95)
    parser.add_argument("--dropout-input", type=float, default=0.1)
    parser.add_argument("--dropout-hidden", type=float, default=0.3)
    return parser


def main(argv=None) -> dict:
    """Train and test the MLP; returns ``{'model', 'history', 'test_accuracy'}``."""
    with _common.command_line(make_parser(), argv) as args:
        data = _common.load_data(args.data, train_size=args.train_size)
        network = build_network(dropout_input=args.dropout_input,
                                dropout_hidden=args.dropout_hidden)
        return _common.train_and_test(args, data, network, "MLP 784-256-256-10")


if __name__ == "__main__":
    main()
