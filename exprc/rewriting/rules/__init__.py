"""Rule modules; importing this package registers every rule in ``RULE_SETS``."""

from exprc.rewriting import basic  # noqa: F401
from exprc.rewriting.rules import canonicalize  # noqa: F401
from exprc.rewriting.rules import movement  # noqa: F401
from exprc.rewriting.rules import shape  # noqa: F401
from exprc.rewriting.rules import stability  # noqa: F401
from exprc.rewriting.rules import specialize  # noqa: F401
from exprc.rewriting.rules import blas  # noqa: F401
from exprc.rewriting.rules import fusion  # noqa: F401
from exprc.rewriting.rules import inplace  # noqa: F401
