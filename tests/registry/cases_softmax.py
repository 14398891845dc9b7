"""Registry cases of the softmax family: Softmax, LogSoftmax, the fused
CrossentropySoftmaxIntLabels and the composed categorical_crossentropy."""

import numpy as np

import exprc.tensor as T
from tests.registry import Arg, Case, add


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_logsoftmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _labels(n, k, low=0):
    return Arg((n,), "int64", gen=lambda rng: rng.integers(low, k, n))


def _probabilities(shape):
    return Arg(shape, gen=lambda rng: np_softmax(rng.normal(size=shape)))


# name -> (shape, axis)
AXES = {"matrix": ((3, 4), -1), "matrix/axis=0": ((3, 4), 0), "vector": ((5,), 0),
        "tensor3/axis=1": ((2, 3, 2), 1), "empty_rows": ((0, 3), -1)}

for _name, (_shape, _axis) in AXES.items():
    add(Case(f"softmax/{_name}", lambda x, a=_axis: T.nnet.softmax(x, axis=a),
             lambda x, a=_axis: np_softmax(x, a), [Arg(_shape)]),
        Case(f"logsoftmax/{_name}", lambda x, a=_axis: T.nnet.logsoftmax(x, axis=a),
             lambda x, a=_axis: np_logsoftmax(x, a), [Arg(_shape)]))

add(
    Case("softmax/float32", T.nnet.softmax, np_softmax, [Arg((3, 4), "float32")],
         grad="not float64", rtol=1e-5),
    Case("softmax/large", T.nnet.softmax, np_softmax, [Arg((3, 4), low=-1000, high=1000)],
         grad="saturated: finite differences are meaningless"),
    Case("logsoftmax/large", T.nnet.logsoftmax, np_logsoftmax,
         [Arg((3, 4), low=-1000, high=1000)], grad="saturated"),
    Case("crossentropy_softmax_int_labels", T.nnet.crossentropy_softmax_int_labels,
         lambda z, y: -np_logsoftmax(z)[np.arange(len(y)), y], [Arg((4, 3)), _labels(4, 3)]),
    Case("crossentropy_softmax_int_labels/negative_labels",
         T.nnet.crossentropy_softmax_int_labels,
         lambda z, y: -np_logsoftmax(z)[np.arange(len(y)), y], [Arg((4, 3)), _labels(4, 3, -3)]),
    Case("crossentropy_softmax_int_labels/large", T.nnet.crossentropy_softmax_int_labels,
         lambda z, y: -np_logsoftmax(z)[np.arange(len(y)), y],
         [Arg((4, 3), low=-1000, high=1000), _labels(4, 3)], grad="saturated"),
    Case("categorical_crossentropy/labels", T.nnet.categorical_crossentropy,
         lambda p, y: -np.log(p[np.arange(len(y)), y]), [_probabilities((4, 3)), _labels(4, 3)]),
    Case("categorical_crossentropy/one_hot", T.nnet.categorical_crossentropy,
         lambda p, t: -(t * np.log(p)).sum(axis=1),
         [_probabilities((4, 3)), _probabilities((4, 3))]),
)
