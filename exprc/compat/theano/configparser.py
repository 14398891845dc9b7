"""``theano.config``: Theano's flag names over :data:`exprc.config`.

Flags with an exprc counterpart read and write it (``theano.config.floatX = 'float32'`` sets
``exprc.config.floatX``). Flags that describe a fixed fact of exprc (``device`` is ``'cpu'``,
``compute_test_value`` is ``'off'``) can be read, and set only to that value. Any other name
raises an ``AttributeError`` that names it.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

from exprc.configuration import attributes_set
from exprc.configuration import config as _exprc_config

__all__ = ["TheanoConfigParser", "change_flags", "config"]

#: Theano flag -> exprc flag.
MAPPED = {
    "floatX": "floatX",
    "mode": "mode",
    "optimizer_excluding": "optimizer_excluding",
    "profile": "profile",
    "openmp": "openmp",
    "compiledir": "compiledir",
    "cxx": "c_compiler",
}

#: Theano flags whose value is fixed on exprc.
FIXED = {
    "device": "cpu",
    "init_gpu_device": "",
    "force_device": False,
    "compute_test_value": "off",
    "compute_test_value_opt": "off",
    "print_test_value": False,
    "cast_policy": "custom",
    "warn_float64": "ignore",
}

#: Theano flags accepted and stored, with the values allowed; they change only messages.
STORED = {
    "exception_verbosity": ("low", "high"),
}


class TheanoConfigParser:
    """The object behind ``theano.config``."""

    def __init__(self):
        object.__setattr__(self, "_stored", {name: values[0] for name, values in STORED.items()})

    def _known(self) -> list[str]:
        return sorted([*MAPPED, *FIXED, *STORED])

    def __getattr__(self, name: str) -> Any:
        if name in MAPPED:
            return getattr(_exprc_config, MAPPED[name])
        if name in FIXED:
            return FIXED[name]
        stored = object.__getattribute__(self, "_stored")
        if name in stored:
            return stored[name]
        raise AttributeError(f"theano.config has no flag {name!r} on exprc; known flags: "
                             f"{self._known()}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in MAPPED:
            setattr(_exprc_config, MAPPED[name], value)
        elif name in FIXED:
            if value != FIXED[name]:
                raise ValueError(f"theano.config.{name} is always {FIXED[name]!r} on exprc; "
                                 f"cannot set it to {value!r}")
        elif name in STORED:
            if value not in STORED[name]:
                raise ValueError(f"invalid value {value!r} for theano.config.{name}; "
                                 f"expected one of {STORED[name]}")
            self._stored[name] = value
        else:
            raise AttributeError(f"theano.config has no flag {name!r} on exprc; known flags: "
                                 f"{self._known()}")

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self._known()]

    @contextmanager
    def change_flags(self, *args: Any, **flags: Any):
        """Set flags (Theano's names) for a ``with`` block, then restore them."""
        for mapping in args:
            flags.update(mapping)
        with attributes_set(self, flags):
            yield self

    def __repr__(self) -> str:
        return "\n".join(f"{name} = {getattr(self, name)!r}" for name in self._known())


config = TheanoConfigParser()
change_flags = config.change_flags
