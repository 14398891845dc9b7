"""Multinomial logistic regression on MNIST, trained with minibatch SGD.

The model is the one of the Theano tutorials: p(y | x) = softmax(x W + b), trained by
minimising the mean negative log-likelihood. It shows the whole exprc workflow: symbolic
inputs, shared parameters, a gradient, and a compiled training function whose ``updates``
change the parameters in place.

Data: MNIST as a .npz file (x_train, y_train, x_valid, y_valid, x_test, y_test), made from
``mnist.pkl.gz`` of the Theano deep-learning tutorials; run with a missing file to see how to
make it. Pass its path with ``--data`` or set ``EXPRC_MNIST``.

    python examples/logistic_regression.py --data ../shared/data/mnist.npz
"""

import argparse
import time

import numpy as np

import exprc
import exprc.tensor as T
from exprc.datasets import DatasetError, load_mnist


def build_model(n_in: int, n_out: int, lr: float):
    """Compile the training step and the error-rate function of a softmax classifier."""
    x = T.matrix("x")  # one image per row
    y = T.ivector("y")  # the labels
    W = exprc.shared(np.zeros((n_in, n_out), dtype=exprc.config.floatX), name="W")
    b = exprc.shared(np.zeros(n_out, dtype=exprc.config.floatX), name="b")

    scores = T.dot(x, W) + b
    # Subtracting the row maximum leaves the softmax unchanged and keeps exp() from overflowing.
    e = T.exp(scores - scores.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    errors = T.mean(T.neq(T.argmax(p, axis=1), y))

    g_W, g_b = exprc.grad(cost, [W, b])
    train = exprc.function([x, y], cost, updates=[(W, W - lr * g_W), (b, b - lr * g_b)])
    error_rate = exprc.function([x, y], errors)
    return train, error_rate


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None,
                        help="MNIST .npz file (default: $EXPRC_MNIST)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=600)
    parser.add_argument("--lr", type=float, default=0.13, help="SGD learning rate")
    args = parser.parse_args(argv)

    try:
        (x_train, y_train), (x_valid, y_valid), _ = load_mnist(args.data)
    except DatasetError as exc:
        parser.exit(2, f"error: {exc}\n")
    train, error_rate = build_model(x_train.shape[1], 10, args.lr)

    n_batches = len(x_train) // args.batch_size
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        losses = []
        for i in range(n_batches):
            batch = slice(i * args.batch_size, (i + 1) * args.batch_size)
            losses.append(train(x_train[batch], y_train[batch]))
        elapsed = time.perf_counter() - start
        print(f"epoch {epoch}: loss {np.mean(losses):.4f}, "
              f"validation error {100 * error_rate(x_valid, y_valid):.2f}%, {elapsed:.1f} s")


if __name__ == "__main__":
    main()
