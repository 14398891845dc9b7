"""``theano.sparse``: symbolic sparse matrices (exprc's :mod:`exprc.sparse`) by Theano's names.

>>> import numpy as np, scipy.sparse as sp
>>> import exprc.compat.theano as theano
>>> from exprc.compat.theano import sparse
>>> x = sparse.csc_matrix(name='x', dtype='int64')
>>> data, indices, indptr, shape = sparse.csm_properties(x)
>>> f = theano.function([x], sparse.CSR(data, indices, indptr, shape))
>>> print(f(sp.csc_matrix(np.asarray([[0, 1, 1], [0, 0, 0], [1, 0, 0]]))).toarray())
[[0 0 1]
 [1 0 0]
 [1 0 0]]

The submodules ``basic``, ``type`` and ``sharedvar`` are Theano's; ``shared`` is the sparse
shared-variable constructor (``theano.shared`` of a ``scipy.sparse`` matrix makes one too).
"""

from exprc.compat.theano.sparse import basic, sharedvar, type
from exprc.compat.theano.sparse.basic import *
from exprc.compat.theano.sparse.basic import __all__ as _names
from exprc.compat.theano.sparse.sharedvar import sparse_constructor as shared

__all__ = [*_names, "basic", "sharedvar", "shared", "type"]
