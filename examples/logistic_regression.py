"""Multinomial logistic regression on MNIST, trained with minibatch SGD.

The model is the one of the Theano tutorials: p(y | x) = softmax(x W + b), trained by
minimising the mean negative log-likelihood. It shows the whole exprc workflow: symbolic
inputs, shared parameters, a gradient, and a compiled training function whose ``updates``
change the parameters in place.

    python examples/logistic_regression.py --data ../shared/data/mnist.npz

``--plot curves.png`` draws the learning curves and the test set's confusion matrix
(matplotlib: ``pip install 'exprc[examples]'``).
"""

import _common
import numpy as np

import exprc
import exprc.tensor as T


def build_model(n_in: int, n_out: int, lr: float):
    """Compile the functions of a softmax classifier.

    Returns
    -------
    train : Function
        ``train(x, y)`` takes one SGD step and returns the mean negative log-likelihood.
    validate : Function
        ``validate(x, y)`` gives the mean negative log-likelihood and the error rate.
    predict : Function
        ``predict(x)`` gives the class probabilities.
    """
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
    validate = exprc.function([x, y], [cost, errors])
    predict = exprc.function([x], p)
    return train, validate, predict


def main(argv=None):
    parser = _common.basic_parser(__doc__, epochs=5, batch_size=600, lr=0.13)
    _common.add_figure_options(parser)
    args = parser.parse_args(argv)
    with _common.exit_on_missing_data(parser):
        data = _common.load_data(args.data, train_size=args.train_size)
    (x_train, y_train), (x_valid, y_valid) = data.train, data.valid
    train, validate, predict = build_model(x_train.shape[1], 10, args.lr)

    history = _common.History()
    for epoch in range(1, args.epochs + 1):
        # Minibatches in order (no rng), as in the Theano tutorial.
        loss, seconds = _common.train_epoch(train, x_train, y_train, args.batch_size)
        valid_loss, error = (float(v) for v in validate(x_valid, y_valid))
        history.epochs.append(_common.EpochRecord(epoch, loss, valid_loss, 1 - error, seconds))
        print(f"epoch {epoch}: loss {loss:.4f}, "
              f"validation error {100 * error:.2f}%, {seconds:.1f} s")
    _common.draw_figures(args, history, predict, data.test, title="Logistic regression")


if __name__ == "__main__":
    main()
