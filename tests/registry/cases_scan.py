"""Registry cases of the loop op (Scan), each against a plain NumPy loop.

The cases port classic Theano loop programs: a running sum, an Elman network, a recurrence
reading two steps back, a sequence read at three taps, several outputs, a power by repeated
multiplication, polynomial evaluation, going backwards, and a loop with a stop condition.
"""

import numpy as np

import exprc
import exprc.tensor as T
from exprc.scan_module import until
from tests.registry import Arg, Case, add


def _running_sum(x):
    total, _ = exprc.scan(lambda v, acc: acc + v, sequences=x,
                          outputs_info=T.zeros_like(x[0]))
    return total


def _running_sum_np(x):
    return np.cumsum(x, axis=0)


def _elman(x, h0, w_in, w_rec, b):
    def step(x_t, h, w_in, w_rec, b):
        return T.tanh(T.dot(x_t, w_in) + T.dot(h, w_rec) + b)

    hs, _ = exprc.scan(step, sequences=x, outputs_info=h0, non_sequences=[w_in, w_rec, b])
    return hs


def _elman_np(x, h0, w_in, w_rec, b):
    h, hs = h0, []
    for x_t in x:
        h = np.tanh(x_t @ w_in + h @ w_rec + b)
        hs.append(h)
    return np.array(hs)


def _two_back(x, init, a):
    # s[t] = a * s[t-1] - 0.5 * s[t-2] + x[t]
    out, _ = exprc.scan(lambda x_t, s2, s1, a: a * s1 - 0.5 * s2 + x_t, sequences=x,
                        outputs_info=dict(initial=init, taps=[-2, -1]), non_sequences=a)
    return out


def _two_back_np(x, init, a):
    s = list(init[:2])
    for x_t in x:
        s.append(a * s[-1] - 0.5 * s[-2] + x_t)
    return np.array(s[2:])


def _three_taps(x):
    out, _ = exprc.scan(lambda prev, cur, nxt: prev - 2 * cur + nxt,
                        sequences=dict(input=x, taps=[-1, 0, 1]))
    return out


def _three_taps_np(x):
    return x[:-2] - 2 * x[1:-1] + x[2:]


def _two_outputs(x, w):
    (a, b), _ = exprc.scan(lambda x_t, w: [T.sin(x_t), T.dot(x_t, w)], sequences=x,
                           non_sequences=w)
    return [a, b]


def _two_outputs_np(x, w):
    return [np.sin(x), x @ w]


def _power(a, k=4):
    result, _ = exprc.scan(lambda prior, a: prior * a, outputs_info=T.ones_like(a),
                           non_sequences=a, n_steps=k)
    return result[-1]


def _polynomial(coefficients, x):
    terms, _ = exprc.scan(lambda c, power, x: c * x ** power,
                          sequences=[coefficients, T.arange(coefficients.shape[0])],
                          non_sequences=x)
    return terms.sum()


def _polynomial_np(coefficients, x):
    return sum(c * x ** p for p, c in enumerate(coefficients))


def _backwards(x, h0):
    hs, _ = exprc.scan(lambda x_t, h: 0.5 * h + x_t, sequences=x, outputs_info=h0,
                       go_backwards=True)
    return hs


def _backwards_np(x, h0):
    h, hs = h0, []
    for x_t in x[::-1]:
        h = 0.5 * h + x_t
        hs.append(h)
    return np.array(hs)


def _until(x):
    # Running sum of x that stops after the first step where it passes 2.
    total, _ = exprc.scan(lambda v, acc: (acc + v, until(acc + v > 2.0)), sequences=x,
                          outputs_info=T.zeros_like(x[0]))
    return total


def _until_np(x):
    out, acc = [], 0.0
    for v in x:
        acc = acc + v
        out.append(acc)
        if acc > 2.0:
            break
    return np.array(out, dtype=x.dtype)


def _reduce_last(x, h0, w):
    last, _ = exprc.reduce(lambda x_t, h, w: T.tanh(T.dot(h, w) * x_t), sequences=x,
                           outputs_info=h0, non_sequences=w)
    return last


def _reduce_last_np(x, h0, w):
    h = h0
    for x_t in x:
        h = np.tanh(h @ w * x_t)
    return h


def _coupled(x, w):
    # Two states, only the second returned: r feeds s, so s's gradient flows back through r.
    (r, s), _ = exprc.scan(lambda x_t, r, s, w: [r * w + 1.0, s + r * x_t], sequences=x,
                           outputs_info=[T.zeros_like(w), T.zeros_like(w)], non_sequences=w)
    return s


def _coupled_np(x, w):
    r, s, out = 0.0, 0.0, []
    for x_t in x:
        r, s = r * w + 1.0, s + r * x_t
        out.append(s)
    return np.array(out)


def _same_value_twice(x, h0):
    # One inner value is both a state and an output: their gradients add up.
    def step(x_t, h):
        new = T.tanh(h * 0.5 + x_t)
        return [new, new]

    (hs, ys), _ = exprc.scan(step, sequences=x, outputs_info=[h0, None])
    return hs * 2.0 + ys ** 2


def _same_value_twice_np(x, h0):
    h, out = h0, []
    for x_t in x:
        h = np.tanh(h * 0.5 + x_t)
        out.append(h * 2.0 + h ** 2)
    return np.array(out)


add(
    Case("scan/same_value_twice", _same_value_twice, _same_value_twice_np,
         [Arg((4, 2)), Arg((2,))]),
    Case("scan/coupled_states", _coupled, _coupled_np, [Arg((5,)), Arg((), low=0.5, high=1.5)]),
    Case("scan/running_sum", _running_sum, _running_sum_np, [Arg((6, 3))]),
    Case("scan/running_sum/float32", _running_sum, _running_sum_np,
         [Arg((5, 2), "float32")], rtol=1e-5, grad=False),
    Case("scan/elman", _elman, _elman_np,
         [Arg((5, 2, 3)), Arg((2, 4)), Arg((3, 4), low=-0.5, high=0.5),
          Arg((4, 4), low=-0.5, high=0.5), Arg((4,))]),
    Case("scan/two_steps_back", _two_back, _two_back_np,
         [Arg((6,)), Arg((3,)), Arg((), low=0.2, high=0.8)]),
    Case("scan/sequence_taps", _three_taps, _three_taps_np, [Arg((7, 2))]),
    Case("scan/two_outputs", _two_outputs, _two_outputs_np, [Arg((4, 3)), Arg((3, 2))],
         grad="two outputs; their gradient is the case scan/two_outputs/joined"),
    Case("scan/two_outputs/joined",
         lambda x, w: T.concatenate([o.flatten() for o in _two_outputs(x, w)]),
         lambda x, w: np.concatenate([o.ravel() for o in _two_outputs_np(x, w)]),
         [Arg((4, 3)), Arg((3, 2))]),
    Case("scan/power", _power, lambda a: a ** 4, [Arg((3,), low=0.5, high=1.5)]),
    Case("scan/polynomial", _polynomial, _polynomial_np, [Arg((4,)), Arg(())]),
    Case("scan/go_backwards", _backwards, _backwards_np, [Arg((5, 2)), Arg((2,))]),
    Case("scan/until", _until, _until_np, [Arg((8,), low=0.1, high=1.0)],
         grad="a loop with a stop condition has no gradient"),
    Case("scan/reduce", _reduce_last, _reduce_last_np,
         [Arg((4,)), Arg((3,)), Arg((3, 3), low=-0.5, high=0.5)]),
)
