"""Imports every family's registry cases."""

from tests.registry import cases_elemwise  # noqa: F401
from tests.registry import cases_shape  # noqa: F401
from tests.registry import cases_basic  # noqa: F401
from tests.registry import cases_subtensor  # noqa: F401
from tests.registry import cases_reduction  # noqa: F401
from tests.registry import cases_linalg  # noqa: F401
from tests.registry import cases_sort  # noqa: F401
from tests.registry import cases_extra_ops  # noqa: F401
from tests.registry import cases_blas  # noqa: F401
from tests.registry import cases_composite  # noqa: F401
from tests.registry import cases_nnet  # noqa: F401
from tests.registry import cases_conv  # noqa: F401
from tests.registry import cases_pool  # noqa: F401
from tests.registry import cases_random  # noqa: F401
from tests.registry import cases_activations  # noqa: F401
