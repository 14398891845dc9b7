"""BLAS-shaped ops: ``Gemm``, ``Gemv`` and ``Ger``.

Each computes ``beta * z + alpha * product(x, y)`` in one step, where ``product`` is a
matrix-matrix product (Gemm), a matrix-vector product (Gemv) or an outer product of two vectors
(Ger), and ``alpha`` and ``beta`` are 0-d tensors. Users rarely build them: the ``blas``
rewrite pass (:mod:`exprc.rewriting.rules.blas`) finds ``a * dot(x, y) + b * z`` and friends in
a graph and turns them into these ops, which a backend maps onto one BLAS call.

Unlike BLAS (and Theano), ``z`` and the product broadcast against each other as in NumPy, so a
bias row (``dot(x, W) + b``) is a valid ``z``, and a rewrite never has to prove at compile
time that sizes left unknown cannot broadcast. In the usual case ``z`` has the result's shape
and the op is exactly one BLAS call.

All five inputs must have one float dtype: the rewrite only forms these ops where the original
expression computed in that dtype, so no promotion is ever hidden in them.

With ``inplace=True`` the op overwrites ``z`` with its result (``destroy_map = {0: [0]}``);
only the ``inplace`` rewrite pass creates these, after checking that nothing else reads ``z``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.graph.ir import Apply, Op
from exprc.tensor.elemwise import broadcast_static_shapes
from exprc.tensor.type import FLOAT_DTYPES, TensorType
from exprc.tensor.variable import TensorVariable, as_tensor_variable

__all__ = [
    "Gemm",
    "Gemv",
    "Ger",
    "gemm_inplace",
    "gemm_no_inplace",
    "gemv_inplace",
    "gemv_no_inplace",
    "ger",
    "ger_destructive",
]


class BlasOp(Op):
    """Shared type inference of ``beta * z + alpha * product(x, y)``.

    Subclasses give the ranks of ``(z, x, y)`` and the static shape of the product.
    """

    abstract = True
    __props__ = ("inplace",)
    input_names: ClassVar[tuple[str, ...]] = ("z", "alpha", "x", "y", "beta")
    ranks: ClassVar[tuple[int, int, int]]

    def __init__(self, inplace: bool = False):
        self.inplace = bool(inplace)
        self.destroy_map = {0: [0]} if self.inplace else {}

    def product_shape(self, x: TensorVariable, y: TensorVariable) -> tuple:
        raise NotImplementedError

    def make_node(self, z: Any, alpha: Any, x: Any, y: Any, beta: Any) -> Apply:
        inputs = [as_tensor_variable(v) for v in (z, alpha, x, y, beta)]
        z, alpha, x, y, beta = inputs
        wanted = dict(zip(self.input_names, (self.ranks[0], 0, self.ranks[1], self.ranks[2], 0)))
        for name, var in zip(self.input_names, inputs):
            if var.ndim != wanted[name]:
                raise build_error(ExprcTypeError, self, f"input {name} = {var} of type "
                                  f"{var.type} must have rank {wanted[name]}")
        dtypes = {var.dtype for var in inputs}
        if len(dtypes) != 1 or z.dtype not in FLOAT_DTYPES:
            described = ", ".join(f"{n}: {v.dtype}" for n, v in zip(self.input_names, inputs))
            raise build_error(ExprcTypeError, self, "all inputs must have one float dtype "
                              f"(float32 or float64), got {described}")
        product = self.product_shape(x, y)
        shape = broadcast_static_shapes([z.type.shape, product], self)
        return Apply(self, inputs, [TensorType(z.dtype, shape=shape)()])

    def __str__(self) -> str:
        return f"{type(self).__name__}{{{'inplace' if self.inplace else 'no_inplace'}}}"

    __repr__ = __str__


def _inner(op: Op, a: TensorVariable, a_axis: int, b: TensorVariable) -> None:
    """A build-time error when the summed sizes of ``a`` and ``b`` are both known and
    differ."""
    sa, sb = a.type.shape[a_axis], b.type.shape[0]
    if sa is not None and sb is not None and sa != sb:
        raise build_error(ExprcShapeError, op, f"inner dimensions differ: {a} of type {a.type} "
                          f"and {b} of type {b.type}")


class Gemm(BlasOp):
    """``beta * z + alpha * dot(x, y)`` for matrices ``x``, ``y`` and ``z``.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> z, x, y = T.matrix('z'), T.matrix('x'), T.matrix('y')
    >>> Gemm()(z, T.constant(2.0), x, y, T.constant(1.0)).type
    TensorType(float64, (?, ?))
    """

    ranks = (2, 2, 2)

    def product_shape(self, x, y):
        _inner(self, x, 1, y)
        return (x.type.shape[0], y.type.shape[1])


class Gemv(BlasOp):
    """``beta * y + alpha * dot(A, x)`` for a matrix ``A`` and vectors ``x`` and ``y``.

    The inputs are in BLAS order: ``Gemv()(y, alpha, A, x, beta)``.
    """

    input_names = ("y", "alpha", "A", "x", "beta")
    ranks = (1, 2, 1)

    def product_shape(self, a, x):
        _inner(self, a, 1, x)
        return (a.type.shape[0],)


class Ger(BlasOp):
    """``beta * A + alpha * outer(x, y)`` for a matrix ``A`` and vectors ``x`` and ``y``.

    The inputs are in BLAS order: ``Ger()(A, alpha, x, y, beta)``.
    """

    input_names = ("A", "alpha", "x", "y", "beta")
    ranks = (2, 1, 1)

    def product_shape(self, x, y):
        return (x.type.shape[0], y.type.shape[0])


# Theano's names for the four variants it had.
gemm_no_inplace = Gemm()
gemm_inplace = Gemm(inplace=True)
gemv_no_inplace = Gemv()
gemv_inplace = Gemv(inplace=True)
ger = Ger()
ger_destructive = Ger(inplace=True)
