"""Gradient rules of ``Elemwise`` (one derivative per scalar op), ``DimShuffle`` and
``SumToShape``. In-place variants have no gradient: the rewrite pass that creates them runs
after differentiation, and a gradient graph would read the input they overwrite.

Elementwise derivatives are written in the broadcast shape of the output; the reverse walk
sums them back to each input's shape (``Elemwise`` declares ``gradient_in_output_shape``).
"""

from __future__ import annotations

import math

import exprc.tensor.math as M
from exprc.gradient.table import DISCONNECTED, GRAD, INPLACE_REASON, ZERO, NullGrad
from exprc.tensor.elemwise import DimShuffle, Elemwise, InplaceElemwise, SumToShape

#: Why tri_gamma has no derivative here.
TETRAGAMMA_REASON = ("its derivative, the tetragamma function (polygamma of order 2), is not "
                     "implemented")


def _zeros(n):
    return lambda x, out, gz: [ZERO] * n


def _where(cond, gz):
    """``gz`` where ``cond`` holds, else 0."""
    return M.switch(cond, gz, M.cast(0, gz.dtype))


#: d(cost)/d(input_i) given the inputs, the output and d(cost)/d(output).
SCALAR_GRADS = {
    "add": lambda x, out, gz: [gz, gz],
    "sub": lambda x, out, gz: [gz, M.neg(gz)],
    "mul": lambda x, out, gz: [gz * x[1], gz * x[0]],
    "true_div": lambda x, out, gz: [gz / x[1], M.neg(gz) * out / x[1]],
    "int_div": _zeros(2),
    "mod": lambda x, out, gz: [gz, M.neg(gz) * M.int_div(x[0], x[1])],
    "pow": lambda x, out, gz: [gz * x[1] * M.pow(x[0], x[1] - 1), gz * out * M.log(x[0])],
    "neg": lambda x, out, gz: [M.neg(gz)],
    "maximum": lambda x, out, gz: [_where(M.ge(x[0], x[1]), gz), _where(M.lt(x[0], x[1]), gz)],
    "minimum": lambda x, out, gz: [_where(M.le(x[0], x[1]), gz), _where(M.gt(x[0], x[1]), gz)],
    "abs": lambda x, out, gz: [gz * M.sgn(x[0])],
    "sqr": lambda x, out, gz: [gz * 2 * x[0]],
    "sgn": _zeros(1),
    "identity": lambda x, out, gz: [gz],
    "reciprocal": lambda x, out, gz: [M.neg(gz) * M.sqr(out)],
    "exp": lambda x, out, gz: [gz * out],
    "exp2": lambda x, out, gz: [gz * out * math.log(2.0)],
    "expm1": lambda x, out, gz: [gz * (out + 1)],
    "log": lambda x, out, gz: [gz / x[0]],
    "log2": lambda x, out, gz: [gz / (x[0] * math.log(2.0))],
    "log10": lambda x, out, gz: [gz / (x[0] * math.log(10.0))],
    "log1p": lambda x, out, gz: [gz / (x[0] + 1)],
    "sqrt": lambda x, out, gz: [gz * 0.5 / out],
    "sin": lambda x, out, gz: [gz * M.cos(x[0])],
    "cos": lambda x, out, gz: [M.neg(gz) * M.sin(x[0])],
    "tan": lambda x, out, gz: [gz * (M.sqr(out) + 1)],
    "arcsin": lambda x, out, gz: [gz / M.sqrt(1 - M.sqr(x[0]))],
    "arccos": lambda x, out, gz: [M.neg(gz) / M.sqrt(1 - M.sqr(x[0]))],
    "arctan": lambda x, out, gz: [gz / (M.sqr(x[0]) + 1)],
    "arctan2": lambda x, out, gz: [gz * x[1] / (M.sqr(x[0]) + M.sqr(x[1])),
                                   M.neg(gz) * x[0] / (M.sqr(x[0]) + M.sqr(x[1]))],
    "sinh": lambda x, out, gz: [gz * M.cosh(x[0])],
    "cosh": lambda x, out, gz: [gz * M.sinh(x[0])],
    "tanh": lambda x, out, gz: [gz * (1 - M.sqr(out))],
    "arcsinh": lambda x, out, gz: [gz / M.sqrt(M.sqr(x[0]) + 1)],
    "arccosh": lambda x, out, gz: [gz / M.sqrt(M.sqr(x[0]) - 1)],
    "arctanh": lambda x, out, gz: [gz / (1 - M.sqr(x[0]))],
    "sigmoid": lambda x, out, gz: [gz * out * (1 - out)],
    "softplus": lambda x, out, gz: [gz * M.sigmoid(x[0])],
    "erf": lambda x, out, gz: [gz * (2 / math.sqrt(math.pi)) * M.exp(M.neg(M.sqr(x[0])))],
    "erfc": lambda x, out, gz: [gz * (-2 / math.sqrt(math.pi)) * M.exp(M.neg(M.sqr(x[0])))],
    "erfinv": lambda x, out, gz: [gz * (math.sqrt(math.pi) / 2) * M.exp(M.sqr(out))],
    "erfcinv": lambda x, out, gz: [gz * (-math.sqrt(math.pi) / 2) * M.exp(M.sqr(out))],
    "gamma": lambda x, out, gz: [gz * out * M.psi(x[0])],
    "gammaln": lambda x, out, gz: [gz * M.psi(x[0])],
    "psi": lambda x, out, gz: [gz * M.tri_gamma(x[0])],
    "tri_gamma": lambda x, out, gz: [NullGrad("tri_gamma", TETRAGAMMA_REASON)],
    "deg2rad": lambda x, out, gz: [gz * (math.pi / 180)],
    "rad2deg": lambda x, out, gz: [gz * (180 / math.pi)],
    "switch": lambda x, out, gz: [ZERO, _where(x[0], gz), _where(M.eq(x[0], 0), gz)],
    "clip": lambda x, out, gz: [
        _where(M.and_(M.ge(x[0], x[1]), M.le(x[0], x[2])), gz),
        _where(M.lt(x[0], x[1]), gz), _where(M.gt(x[0], x[2]), gz)],
    "second": lambda x, out, gz: [ZERO, gz],
    "cast": lambda x, out, gz: [gz],
}
# Piecewise-constant functions: connected, derivative zero.
for _name in ("floor", "ceil", "trunc", "round_half_to_even", "round_half_away_from_zero",
              "isnan", "isinf", "invert"):
    SCALAR_GRADS[_name] = _zeros(1)
for _name in ("eq", "neq", "lt", "gt", "le", "ge", "and_", "or_", "xor"):
    SCALAR_GRADS[_name] = _zeros(2)


@GRAD.register(Elemwise)
def elemwise_grad(node, output_grads):
    (gz,) = output_grads
    return SCALAR_GRADS[node.op.scalar_op.name](node.inputs, node.outputs[0], gz)


@GRAD.register(DimShuffle)
def dimshuffle_grad(node, output_grads):
    (gz,) = output_grads
    order = node.op.new_order
    # Each input axis comes back from its output position; dropped axes come back as 'x';
    # axes the shuffle inserted are left out (they have size 1).
    inverse = [order.index(a) if a in order else "x" for a in range(node.inputs[0].ndim)]
    return [DimShuffle(inverse)(gz)]


@GRAD.register(SumToShape)
def sum_to_shape_grad(node, output_grads):
    (gz,) = output_grads
    return [M.fill(node.inputs[0], gz), DISCONNECTED]




@GRAD.register(InplaceElemwise)
def inplace_elemwise_grad(node, output_grads):
    return [NullGrad(node.op, INPLACE_REASON)] * len(node.inputs)
