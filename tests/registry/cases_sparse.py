"""Registry cases of the ``sparse`` family: conversions, the compressed arrays, casts,
transposes, cleaning and stacking.

The registry draws dense arrays, so each graph converts them to sparse matrices
(``csr_from_dense``) and its result back (``dense_from_sparse``); the references compute the
same with NumPy alone. Inputs "with zeros" have about half their entries 0, so the sparse
patterns are real; gradients are checked on inputs without zeros, where structured and full
gradients agree (the structured ones are checked on real patterns in tests/test_sparse.py).
"""

import numpy as np

from exprc import sparse as S
from tests.registry import Arg, Case, add


def with_zeros(shape, dtype="float64", density=0.5):
    """A generator of arrays with about ``1 - density`` of their entries 0."""
    def gen(rng):
        values = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
        return (values * (rng.random(shape) < density)).astype(dtype)
    return gen


def full(shape, dtype="float64"):
    """An argument without zeros (entries in [0.5, 2) with random signs)."""
    def gen(rng):
        return (rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)).astype(dtype)
    return Arg(shape, dtype, gen=gen)


def sparse_arg(shape, dtype="float64", density=0.5):
    return Arg(shape, dtype, gen=with_zeros(shape, dtype, density))


def compressed(x, format):
    """NumPy's view of ``x`` as a ``format`` matrix: data, indices, indptr, shape."""
    major = x if format == "csr" else x.T
    mask = major != 0
    return (major[mask], np.nonzero(mask)[1].astype("int32"),
            np.concatenate([[0], np.cumsum(mask.sum(axis=1))]).astype("int32"),
            np.array(x.shape, dtype="int32"))


STRUCTURED = "structured gradient: zero off the pattern (checked in tests/test_sparse.py)"
to_csr, to_csc, dense = S.csr_from_dense, S.csc_from_dense, S.dense_from_sparse

# --------------------------------------------------------------------------- conversions
for _fmt, _to in (("csr", to_csr), ("csc", to_csc)):
    add(
        Case(f"sparse_round_trip/{_fmt}", lambda x, c=_to: dense(c(x)), lambda x: x,
             [sparse_arg((4, 5))], grad=STRUCTURED),
        Case(f"sparse_round_trip/{_fmt}/grad", lambda x, c=_to: dense(c(x)), lambda x: x,
             [full((3, 4))]),
        Case(f"sparse_round_trip/{_fmt}/regular", lambda x, c=_to: S.DenseFromSparse(False)(c(x)),
             lambda x: x, [sparse_arg((4, 3))]),
    )
add(
    Case("sparse_round_trip/empty", lambda x: dense(to_csr(x)), lambda x: x,
         [Arg((0, 3))], grad="empty"),
    Case("sparse_round_trip/all_zero", lambda x: dense(to_csc(x)), lambda x: x,
         [Arg((3, 2), gen=lambda rng: np.zeros((3, 2)))], grad=STRUCTURED),
)
for _dtype in ("float32", "int8", "uint16", "int64"):
    add(Case(f"sparse_round_trip/{_dtype}", lambda x: dense(to_csr(x)), lambda x: x,
             [sparse_arg((3, 4), _dtype)], grad="not float64" if _dtype != "float64" else True))

# --------------------------------------------------------------------------- compressed arrays
for _fmt, _to in (("csr", to_csr), ("csc", to_csc)):
    add(
        Case(f"csm_properties/{_fmt}", lambda x, c=_to: S.csm_properties(c(x)),
             lambda x, f=_fmt: list(compressed(x, f)), [sparse_arg((4, 5))],
             grad="several outputs (csm_data has its own case)"),
        Case(f"csm_data/{_fmt}", lambda x, c=_to: S.csm_data(c(x)) * 3.0,
             lambda x, f=_fmt: compressed(x, f)[0] * 3.0, [full((3, 4))]),
        # Theano's tutorial: a csc matrix's arrays read as csr give the transpose.
        Case(f"csm_rebuild/{_fmt}",
             lambda x, c=_to, f=_fmt: dense(S.CSM("csc" if f == "csr" else "csr")(
                 *S.csm_properties(c(x)))),
             lambda x: x.T, [full((3, 3))]),
        Case(f"csm_same_format/{_fmt}",
             lambda x, c=_to, f=_fmt: dense(S.CSM(f)(*S.csm_properties(c(x)))),
             lambda x: x, [sparse_arg((3, 5))], grad=STRUCTURED),
    )
add(
    Case("csm_rebuild/int64",
         lambda x: dense(S.CSR(*S.csm_properties(to_csc(x)))), lambda x: x.T,
         [Arg((3, 3), "int64", gen=lambda rng: np.array([[0, 1, 1], [0, 0, 0], [1, 0, 0]]))],
         grad="integer input"),
    Case("csm_from_arrays",
         lambda d: dense(S.CSR(d, [2, 0, 1], [0, 2, 2, 3], (3, 4))),
         lambda d: np.array([[d[1], 0, d[0], 0], [0, 0, 0, 0], [0, d[2], 0, 0]]),
         [Arg((3,))]),
)
for _fmt, _to in (("csr", to_csr), ("csc", to_csc)):
    add(
        Case(f"csm_grad/dense_g/{_fmt}",
             lambda x, g, c=_to, f=_fmt: S.CSMGrad(f)(*S.csm_properties(c(x))[1:], g),
             lambda x, g, f=_fmt: (g if f == "csr" else g.T)[(x if f == "csr" else x.T) != 0],
             [Arg((4, 3), gen=with_zeros((4, 3)), differentiable=False), Arg((4, 3))]),
        Case(f"csm_grad/sparse_g/{_fmt}",
             lambda x, g, c=_to, f=_fmt: S.CSMGrad(f)(*S.csm_properties(c(x))[1:], to_csr(g)),
             lambda x, g, f=_fmt: (g if f == "csr" else g.T)[(x if f == "csr" else x.T) != 0],
             [Arg((4, 3), gen=with_zeros((4, 3)), differentiable=False),
              Arg((4, 3), gen=with_zeros((4, 3), density=0.7))]),
    )

# --------------------------------------------------------------------------- one matrix
add(
    Case("sparse_cast/float32", lambda x: dense(S.cast(to_csr(x), "float32")),
         lambda x: x.astype("float32"), [sparse_arg((3, 4))],
         grad="float32 output (its gradient is checked in float32 in tests/test_sparse.py)"),
    Case("sparse_cast/int_to_float", lambda x: dense(S.cast(to_csc(x), "float64")),
         lambda x: x.astype("float64"), [sparse_arg((3, 4), "int32")], grad="integer input"),
    Case("sparse_cast/float_to_int", lambda x: dense(S.icast(to_csr(x))),
         lambda x: x.astype("int32"), [sparse_arg((3, 4))], grad="integer output"),
)
for _fmt, _to in (("csr", to_csr), ("csc", to_csc)):
    add(
        Case(f"sparse_transpose/{_fmt}", lambda x, c=_to: dense(S.transpose(c(x))),
             lambda x: x.T, [sparse_arg((3, 5))], grad=STRUCTURED),
        Case(f"sparse_transpose/{_fmt}/grad", lambda x, c=_to: dense(c(x).T), lambda x: x.T,
             [full((3, 2))]),
        Case(f"sparse_neg/{_fmt}", lambda x, c=_to: dense(-c(x)), lambda x: -x,
             [full((2, 4))]),
    )
add(
    # x * d stores a zero wherever d is 0 (the product keeps x's pattern); remove0 drops them.
    Case("remove0",
         lambda x, d: [dense(S.remove0(to_csr(x) * d)), S.csm_data(S.remove0(to_csr(x) * d))],
         lambda x, d: [x * d, (x * d)[(x * d) != 0]],
         [full((3, 4)), Arg((3, 4), gen=with_zeros((3, 4)), differentiable=False)],
         grad="several outputs (remove0/grad checks the gradient)"),
    Case("remove0/grad", lambda x: dense(S.remove0(to_csc(x))), lambda x: x, [full((3, 4))]),
    Case("ensure_sorted_indices",
         lambda d: [S.csm_data(S.clean(S.CSR(d, [2, 0, 3, 1], [0, 2, 4], (2, 4)))),
                    S.csm_indices(S.ensure_sorted_indices(S.CSR(d, [2, 0, 3, 1], [0, 2, 4],
                                                                (2, 4))))],
         lambda d: [d[[1, 0, 3, 2]], np.array([0, 2, 1, 3], dtype="int32")],
         [full((4,))], grad="several outputs (ensure_sorted_indices/grad checks it)"),
    Case("ensure_sorted_indices/grad",
         lambda d: S.csm_data(S.ensure_sorted_indices(S.CSR(d, [2, 0, 3, 1], [0, 2, 4],
                                                          (2, 4)))) * 2.0,
         lambda d: d[[1, 0, 3, 2]] * 2.0, [full((4,))]),
)

# --------------------------------------------------------------------------- stacking
add(
    Case("sparse_hstack", lambda x, y: dense(S.hstack([to_csr(x), to_csc(y)])),
         lambda x, y: np.hstack([x, y]), [sparse_arg((3, 2)), sparse_arg((3, 4))],
         grad=STRUCTURED),
    Case("sparse_hstack/grad", lambda x, y: dense(S.hstack([to_csr(x), to_csc(y)], "csr")),
         lambda x, y: np.hstack([x, y]), [full((3, 2)), full((3, 1))]),
    Case("sparse_vstack", lambda x, y, z: dense(S.vstack([to_csr(x), to_csc(y), to_csr(z)])),
         lambda x, y, z: np.vstack([x, y, z]),
         [sparse_arg((2, 3)), sparse_arg((1, 3)), sparse_arg((4, 3))], grad=STRUCTURED),
    Case("sparse_vstack/grad", lambda x, y: dense(S.vstack([to_csc(x), to_csc(y)])),
         lambda x, y: np.vstack([x, y]), [full((2, 3)), full((1, 3))]),
    Case("sparse_vstack/dtypes",
         lambda x, y: dense(S.vstack([to_csr(x), to_csr(y)])),
         lambda x, y: np.vstack([x, y]),
         [sparse_arg((2, 3), "int16"), sparse_arg((1, 3), "float32")], grad="integer input"),
)

# The structured elementwise functions are csm_properties, a dense op and CSM: one case each
# for a few, with T's functions as the only difference from NumPy.
for _name, _fn, _ref in (
        ("structured_exp", S.structured_exp, np.exp),
        ("structured_sigmoid", S.structured_sigmoid, lambda v: 1 / (1 + np.exp(-v))),
        ("sqrt", lambda x: S.sqrt(S.abs_(x)), lambda v: np.sqrt(np.abs(v))),
        ("structured_pow", lambda x: S.structured_pow(x, 3), lambda v: v ** 3),
        ("structured_add", lambda x: S.structured_add(x, 2.0), lambda v: v + 2.0),
        ("structured_maximum", lambda x: S.structured_maximum(x, 0.1),
         lambda v: np.maximum(v, 0.1)),
        ("tanh", S.tanh, np.tanh)):
    add(Case(f"{_name}/pattern", lambda x, f=_fn: dense(f(to_csr(x))),
             lambda x, r=_ref: np.where(x != 0, r(np.where(x != 0, x, 1.0)), 0.0),
             [sparse_arg((4, 5))], grad=STRUCTURED),
        Case(f"{_name}/grad", lambda x, f=_fn: dense(f(to_csc(x))),
             lambda x, r=_ref: r(x), [full((3, 4))]))
