"""Signal processing (``T.signal``): pooling."""

from exprc.tensor.signal import pool  # noqa: F401
