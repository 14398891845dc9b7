"""An LSTM that reads each MNIST image as a sequence, built with the layer library ``exprc.nn``.

Each image is a sequence of 28 rows of 28 pixels, read top to bottom by an LSTM layer of 128
units (``exprc.nn.layers.LSTMLayer``, Lasagne's, with peepholes and a forget-gate bias of 1);
its hidden state after the last row goes to a 10-way softmax. Trained by minibatch Adam
(``--update rmsprop`` or another rule of ``exprc.nn.updates``) on the mean cross-entropy, with
the gradients clipped inside the loop. The loop is ``exprc.scan``; ``--unroll`` writes the 28
steps out in the graph instead (``unroll_scan=True``).

    python examples/mnist_sequence.py --data ../shared/data/mnist.npz --save /tmp/lstm.npz
"""

from __future__ import annotations

import _common

from exprc import nn

#: One image as a sequence: (rows, pixels per row), i.e. (sequence_length, num_inputs).
SEQUENCE_SHAPE = (28, 28)


def build_network(units: int = 128, grad_clipping: float = 10.0, unroll: bool = False):
    """The LSTM reader: input ``(batch, 28, 28)``, LSTM (final state only), scores, softmax.

    Parameters
    ----------
    units : int
        The LSTM's hidden units.
    grad_clipping : float
        Bound on the gradient at the gates' pre-activations (0: none).
    unroll : bool
        Unroll the 28 steps in the graph instead of looping with ``exprc.scan``. Both
        networks have the same parameters, so a file saved by one loads into the other.

    Returns
    -------
    Layer
        The softmax layer of :func:`_common.softmax_head`.
    """
    layer = nn.layers.InputLayer((None,) + SEQUENCE_SHAPE, name="input")
    layer = nn.layers.LSTMLayer(layer, units,
                                forgetgate=nn.layers.Gate(b=nn.init.Constant(1.0)),
                                grad_clipping=grad_clipping, only_return_final=True,
                                unroll_scan=unroll, name="lstm")
    return _common.softmax_head(layer)


def make_parser():
    parser = _common.make_parser(__doc__, epochs=10, batch_size=128, lr=1e-3, lr_decay=0.9)
    parser.add_argument("--units", type=int, default=128, help="LSTM hidden units")
    parser.add_argument("--grad-clipping", type=float, default=10.0,
                        help="clip the gradients at the gates to this bound (0: none)")
    parser.add_argument("--unroll", action="store_true",
                        help="unroll the 28 steps in the graph instead of using exprc.scan")
    return parser


def main(argv=None) -> dict:
    """Train and test the LSTM; returns ``{'model', 'history', 'test_accuracy'}``."""
    with _common.command_line(make_parser(), argv) as args:
        data = _common.load_data(args.data, SEQUENCE_SHAPE, args.train_size)
        network = build_network(args.units, args.grad_clipping, args.unroll)
        loop = "unrolled" if args.unroll else "scan"
        return _common.train_and_test(args, data, network,
                                      f"LSTM {args.units} over 28 rows ({loop})")


if __name__ == "__main__":
    main()
