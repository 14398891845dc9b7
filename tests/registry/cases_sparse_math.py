"""Registry cases of the ``sparse_math`` family: sums, products, reductions and scaling with
sparse operands (drawn dense, converted with ``csr_from_dense``; see cases_sparse.py)."""

import numpy as np

import exprc.tensor as T
from exprc import sparse as S
from tests.registry import Arg, Case, add
from tests.registry.cases_sparse import STRUCTURED, full, sparse_arg, with_zeros

to_csr, to_csc, dense = S.csr_from_dense, S.csc_from_dense, S.dense_from_sparse

# --------------------------------------------------------------------------- add, sub, mul
add(
    Case("sparse_add/ss", lambda x, y: dense(to_csr(x) + to_csc(y)), lambda x, y: x + y,
         [sparse_arg((3, 4)), sparse_arg((3, 4))], grad=STRUCTURED),
    Case("sparse_add/ss/grad", lambda x, y: dense(S.add(to_csc(x), to_csr(y))),
         lambda x, y: x + y, [full((3, 4)), full((3, 4))]),
    Case("sparse_add/sd", lambda x, d: to_csr(x) + d, lambda x, d: x + d,
         [sparse_arg((3, 4)), Arg((3, 4))], grad=STRUCTURED),
    Case("sparse_add/sd/grad", lambda x, d: S.add(d, to_csc(x)), lambda x, d: x + d,
         [full((2, 5)), Arg((2, 5), static=(2, 5))]),
    Case("sparse_add/dtypes", lambda x, d: to_csr(x) + d, lambda x, d: x + d,
         [sparse_arg((3, 4), "int32"), Arg((3, 4), "float32")], grad="integer input"),
    Case("sparse_sub/ds", lambda d, x: d - to_csr(x), lambda d, x: d - x,
         [Arg((3, 4)), full((3, 4))]),
    Case("sparse_sub/ss", lambda x, y: dense(S.sub(to_csr(x), to_csr(y))), lambda x, y: x - y,
         [full((2, 3)), full((2, 3))]),
    Case("sparse_mul/ss", lambda x, y: dense(to_csr(x) * to_csr(y)), lambda x, y: x * y,
         [sparse_arg((4, 3)), sparse_arg((4, 3))], grad=STRUCTURED),
    Case("sparse_mul/ss/grad", lambda x, y: dense(S.mul(to_csc(x), to_csr(y))),
         lambda x, y: x * y, [full((3, 3)), full((3, 3))]),
    # The product keeps x's pattern: an infinity of d where x is 0 gives 0, not NaN.
    Case("sparse_mul/sd", lambda x, d: dense(to_csr(x) * d), lambda x, d: np.where(x != 0,
                                                                                   x * d, 0.0),
         [sparse_arg((3, 4)),
          Arg((3, 4), gen=lambda rng: np.where(rng.random((3, 4)) < 0.2, np.inf, 1.5))],
         grad="infinite inputs"),
    Case("sparse_mul/sd/grad", lambda x, d: dense(d * to_csc(x)), lambda x, d: x * d,
         [full((3, 4)), Arg((3, 4))]),
    Case("sparse_mul/scalar", lambda x, a: dense(to_csr(x) * a), lambda x, a: x * a,
         [full((3, 4)), Arg(())]),
    Case("sparse_mul/python_scalar", lambda x: dense(2.5 * to_csr(x)), lambda x: 2.5 * x,
         [sparse_arg((3, 4), "float32")], grad="float32"),
)

# --------------------------------------------------------------------------- products
add(
    Case("sparse_dot/sd", lambda x, w: S.dot(to_csr(x), w), lambda x, w: x @ w,
         [sparse_arg((4, 5)), Arg((5, 3))]),
    Case("sparse_dot/ds", lambda d, y: S.dot(d, to_csc(y)), lambda d, y: d @ y,
         [Arg((2, 4)), sparse_arg((4, 3))]),
    Case("sparse_dot/ss", lambda x, y: S.dot(to_csr(x), to_csr(y)), lambda x, y: x @ y,
         [full((3, 4)), full((4, 2))]),
    Case("sparse_dot/vector", lambda x, v: S.dot(to_csr(x), v), lambda x, v: x @ v,
         [sparse_arg((4, 5)), Arg((5,))]),
    Case("sparse_dot/vector_left", lambda v, y: S.dot(v, to_csc(y)), lambda v, y: v @ y,
         [Arg((4,)), sparse_arg((4, 3))]),
    Case("sparse_dot/empty", lambda x, w: S.dot(to_csr(x), w), lambda x, w: x @ w,
         [Arg((0, 3)), Arg((3, 2))], grad="empty"),
    Case("sparse_dot/float32", lambda x, w: S.dot(to_csr(x), w), lambda x, w: x @ w,
         [sparse_arg((4, 5), "float32"), Arg((5, 3), "float32")], grad="float32", rtol=1e-5),
    Case("structured_dot/sd", lambda x, w: S.structured_dot(to_csr(x), w), lambda x, w: x @ w,
         [sparse_arg((4, 5)), Arg((5, 3))], grad=STRUCTURED),
    Case("structured_dot/sd/grad", lambda x, w: S.structured_dot(to_csc(x), w),
         lambda x, w: x @ w, [full((3, 4)), Arg((4, 2))]),
    Case("structured_dot/ds/grad", lambda d, y: S.structured_dot(d, to_csr(y)),
         lambda d, y: d @ y, [Arg((2, 3)), full((3, 4))]),
    Case("structured_dot/ss", lambda x, y: dense(S.structured_dot(to_csr(x), to_csc(y))),
         lambda x, y: x @ y, [full((3, 4)), full((4, 2))]),
    Case("structured_dot_grad",
         lambda x, w, g: dense(S.structured_dot_grad(to_csr(x), w, g)),
         lambda x, w, g: np.where(x != 0, g @ w.T, 0.0),
         [Arg((4, 5), gen=with_zeros((4, 5)), differentiable=False), Arg((5, 3)),
          Arg((4, 3))]),
    Case("structured_dot_grad/sparse",
         lambda x, w, g: dense(S.structured_dot_grad(to_csc(x), to_csr(w), to_csc(g))),
         lambda x, w, g: np.where(x != 0, g @ w.T, 0.0),
         [Arg((4, 5), gen=with_zeros((4, 5)), differentiable=False), full((5, 3)),
          full((4, 3))]),
    Case("true_dot/sd", lambda x, w: dense(S.true_dot(to_csr(x), w)), lambda x, w: x @ w,
         [full((4, 5)), Arg((5, 3))]),
    Case("true_dot/ss", lambda x, y: dense(S.true_dot(to_csc(x), to_csr(y))),
         lambda x, y: x @ y, [full((3, 4)), full((4, 2))]),
    Case("true_dot/ds", lambda d, y: dense(S.true_dot(d, to_csr(y))), lambda d, y: d @ y,
         [Arg((2, 3)), full((3, 4))]),
    Case("true_dot/pattern", lambda x, w: dense(S.true_dot(to_csr(x), w)), lambda x, w: x @ w,
         [sparse_arg((4, 5), density=0.2), Arg((5, 3))], grad=STRUCTURED),
)

# --------------------------------------------------------------------------- sums, scaling
for _axis in (None, 0, 1):
    add(
        Case(f"sp_sum/axis={_axis}", lambda x, a=_axis: S.sp_sum(to_csr(x), a),
             lambda x, a=_axis: x.sum(axis=a), [sparse_arg((4, 5))]),
        Case(f"sp_sum/axis={_axis}/sparse_grad",
             lambda x, a=_axis: S.sp_sum(to_csc(x), a, sparse_grad=True),
             lambda x, a=_axis: x.sum(axis=a), [full((3, 4))]),
    )
add(
    Case("sp_sum/int8", lambda x: S.sp_sum(to_csr(x), 0), lambda x: x.sum(axis=0),
         [sparse_arg((3, 4), "int8")], grad="integer input"),
    Case("row_scale", lambda x, s: dense(S.row_scale(to_csr(x), s)),
         lambda x, s: x * s[:, None], [sparse_arg((4, 3)), Arg((4,))], grad=STRUCTURED),
    Case("row_scale/grad", lambda x, s: dense(S.row_scale(to_csc(x), s)),
         lambda x, s: x * s[:, None], [full((4, 3)), Arg((4,))]),
    Case("col_scale", lambda x, s: dense(S.col_scale(to_csc(x), s)),
         lambda x, s: x * s[None, :], [sparse_arg((4, 3)), Arg((3,))], grad=STRUCTURED),
    Case("col_scale/grad", lambda x, s: dense(S.col_scale(to_csr(x), s)),
         lambda x, s: x * s[None, :], [full((2, 3)), Arg((3,))]),
    # A sparse layer: the dense result feeds dense ops, whose rewrites run around it.
    Case("sparse_layer",
         lambda x, w, b: T.tanh(S.structured_dot(to_csr(x), w) + b).sum(axis=1),
         lambda x, w, b: np.tanh(x @ w + b).sum(axis=1),
         [full((4, 5)), Arg((5, 3)), Arg((3,))]),
)
