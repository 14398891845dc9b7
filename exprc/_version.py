"""exprc's version, the one place it is written: ``pyproject.toml`` reads it from here at build
time, and the compile cache puts it in every key."""

__version__ = "0.1.0"
