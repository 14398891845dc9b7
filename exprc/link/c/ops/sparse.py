"""The ``sparse`` family has no C code: its values are ``scipy.sparse`` matrices, and a
function holding any runs on the reference executor whatever its mode (see
:meth:`exprc.compile.mode.Mode.link` and ``docs/sparse.md``)."""

from exprc.link.c.program import C_CODE
from exprc.tensor import sparse

REASON = ("sparse values are scipy.sparse matrices; functions holding them run on the "
          "reference executor")

for _op in (sparse.DenseFromSparse, sparse.SparseFromDense, sparse.CSMProperties, sparse.CSM,
            sparse.CSMGrad, sparse.Cast, sparse.Transpose, sparse.Neg, sparse.Remove0,
            sparse.EnsureSortedIndices, sparse.HStack, sparse.VStack):
    C_CODE.exempt(_op, REASON)
