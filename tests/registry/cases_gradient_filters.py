"""Registry cases of GradientFilter (``zero_grad``, ``grad_clip`` and the others): forward, each
is the identity."""

import numpy as np

from exprc.tensor import gradient_filters as filters
from tests.registry import Arg, Case, add

for kind, make in [("zero", filters.zero_grad), ("disconnected", filters.disconnected_grad),
                   ("clip", lambda x: filters.grad_clip(x, -1.0, 1.0)),
                   ("scale", lambda x: filters.grad_scale(x, 3.0)),
                   ("undefined", filters.undefined_grad)]:
    add(Case(f"gradient_filter/{kind}", make, np.copy, [Arg((3, 2))],
             grad="changes the gradient on purpose; tested in test_gradient.py"))
