"""The table of NumPy reference implementations, keyed by op class.

A rule has the signature ``rule(node, *input_arrays) -> list of output arrays`` and must return
arrays of exactly the output variables' dtypes and ranks; the executor checks this, so the
reference also checks every op's type inference.
"""

from exprc.graph.optable import OpTable

REFERENCE = OpTable("NumPy reference implementation")
