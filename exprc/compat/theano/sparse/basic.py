"""``theano.sparse.basic``: the sparse ops and functions (:mod:`exprc.sparse`) by Theano's
names, with Theano's instance names (``add_s_s``, ``mul_s_d``, ``sdg_csr``, ...) and dtype
lists.

Theano's ops without an exprc counterpart (indexing of sparse variables, ``diag``,
``sampling_dot``, ``usmm``, comparisons, ``Poisson``/``Binomial``/``Multinomial``) are not
provided; see ``docs/sparse.md``.
"""

from exprc.sparse import *
from exprc.sparse import __all__ as _names
from exprc.tensor.sparse_math import AddSD, AddSS, MulSD, MulSS, StructuredDotGrad
from exprc.tensor.sparse_type import SPARSE_DTYPES, as_sparse_variable

#: Theano's alias of ``as_sparse_variable``.
as_sparse = as_sparse_variable

add_s_s, add_s_d, mul_s_s, mul_s_d = AddSS(), AddSD(), MulSS(), MulSD()
#: Theano's op giving the structured gradient of ``structured_dot``; exprc's takes the sparse
#: matrix itself rather than its ``indices`` and ``indptr``.
sdg_csr = sdg_csc = StructuredDotGrad()

# Theano's dtype lists (exprc has no complex dtypes).
complex_dtypes: list = []
float_dtypes = [d for d in SPARSE_DTYPES if d.startswith("float")]
int_dtypes = [d for d in SPARSE_DTYPES if d.startswith("int")]
uint_dtypes = [d for d in SPARSE_DTYPES if d.startswith("uint")]
integer_dtypes = int_dtypes + uint_dtypes
continuous_dtypes = complex_dtypes + float_dtypes
discrete_dtypes = int_dtypes + uint_dtypes

__all__ = [
    *_names, "add_s_d", "add_s_s", "as_sparse", "complex_dtypes", "continuous_dtypes",
    "discrete_dtypes", "float_dtypes", "int_dtypes", "integer_dtypes", "mul_s_d", "mul_s_s",
    "sdg_csc", "sdg_csr", "uint_dtypes",
]
