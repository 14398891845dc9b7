"""``theano.config``: Theano's flag names over :data:`exprc.config`, and ``THEANO_FLAGS``.

Flags with an exprc counterpart read and write it (``theano.config.floatX = 'float32'`` sets
``exprc.config.floatX``; ``device=cuda0`` or ``gpu`` asks for exprc's CUDA backend, which says
once why when the machine cannot use it and then runs on the CPU). Flags that describe a
fixed fact of exprc (``cast_policy``) can be read, and set only to that value. Flags that
Theano programs set but that change nothing on exprc (``blas.ldflags``, ``allow_gc``,
``gcc.cxxflags``, ``lib.cnmem``, ...) are stored and read back. Any other name raises an
``AttributeError`` that names it. Dotted flags read as in Theano:
``theano.config.blas.ldflags``.

At import, the ``THEANO_FLAGS`` environment variable (``name=value`` pairs separated by
commas) is read with Theano's meaning; a flag exprc does not know is warned about, never
silently dropped.
"""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager
from typing import Any

from exprc.configuration import attributes_set
from exprc.configuration import config as _exprc_config

__all__ = ["TheanoConfigParser", "change_flags", "config", "read_theano_flags"]

#: Theano flag -> exprc flag.
MAPPED = {
    "floatX": "floatX",
    "mode": "mode",
    "optimizer_excluding": "optimizer_excluding",
    "profile": "profile",
    "openmp": "openmp",
    "compiledir": "compiledir",
    "cxx": "c_compiler",
    "compute_test_value": "compute_test_value",
    "device": "device",
}

#: Theano flags whose value is fixed on exprc.
FIXED = {
    "init_gpu_device": "",
    "force_device": False,
    "cast_policy": "custom",
}

#: Theano flags stored and read back, with their default and the values allowed (None: any
#: value). ``optimizer`` and ``linker`` choose the mode of ``theano.function`` when no mode
#: is given and ``mode`` is left at its default, as in Theano; the others change nothing on
#: exprc (its compiler, BLAS, memory management and messages are its own).
STORED: dict[str, tuple[Any, tuple | None]] = {
    "optimizer": ("fast_run", ("fast_run", "fast_compile", "merge", "None", "o4", "o3", "o2",
                               "o1", "unsafe", "stabilize")),
    "linker": ("cvm", ("cvm", "c|py", "py", "c", "vm", "vm_nogc", "cvm_nogc", "c|py_nogc")),
    "on_unused_input": ("raise", ("raise", "warn", "ignore")),
    "exception_verbosity": ("low", ("low", "high")),
    "compute_test_value_opt": ("off", ("off", "ignore", "warn", "raise", "pdb")),
    "print_test_value": (False, None),
    "warn_float64": ("ignore", ("ignore", "warn", "raise", "pdb")),
    "allow_gc": (True, None),
    "optimizer_including": ("", None),
    "optimizer_requiring": ("", None),
    "optimizer_verbose": (False, None),
    "on_opt_error": ("warn", ("warn", "raise", "pdb", "ignore")),
    "on_shape_error": ("warn", ("warn", "raise")),
    "assert_no_cpu_op": ("ignore", ("ignore", "warn", "raise", "pdb")),
    "deterministic": ("default", ("default", "more")),
    "check_input": (True, None),
    "cycle_detection": ("regular", ("regular", "fast")),
    "reoptimize_unpickled_function": (False, None),
    "unpickle_function": (True, None),
    "traceback__limit": (8, None),
    "traceback__compile_limit": (0, None),
    "base_compiledir": ("", None),
    "compiledir_format": ("", None),
    "blas__ldflags": ("", None),
    "blas__check_openmp": (True, None),
    "gcc__cxxflags": ("", None),
    "cmodule__warn_no_version": (False, None),
    "cmodule__remove_gxx_opt": (False, None),
    "cmodule__compilation_warning": (False, None),
    "cmodule__preload_cache": (False, None),
    "cmodule__age_thresh_use": (60 * 60 * 24 * 24, None),
    "openmp_elemwise_minsize": (200000, None),
    "numpy__seterr_all": ("ignore", None),
    "numpy__seterr_divide": ("None", None),
    "numpy__seterr_over": ("None", None),
    "numpy__seterr_under": ("None", None),
    "numpy__seterr_invalid": ("None", None),
    "lib__cnmem": (0.0, None),
    "gpuarray__preallocate": (0.0, None),
    "gpuarray__sched": ("default", None),
    "gpuarray__single_stream": (True, None),
    "dnn__enabled": ("auto", None),
    "dnn__conv__algo_fwd": ("small", None),
    "dnn__conv__algo_bwd_data": ("none", None),
    "dnn__conv__algo_bwd_filter": ("none", None),
    "nvcc__fastmath": (False, None),
    "nvcc__flags": ("", None),
    "scan__allow_gc": (False, None),
    "scan__allow_output_prealloc": (True, None),
    "scan__debug": (False, None),
    "pycuda__init": (False, None),
    "magma__enabled": (False, None),
    "metaopt__verbose": (0, None),
    "profile_memory": (False, None),
    "profile_optimizer": (False, None),
    "profiling__n_apply": (20, None),
    "profiling__n_ops": (20, None),
    "DebugMode__patience": (10, None),
    "DebugMode__check_c": (True, None),
    "DebugMode__check_py": (True, None),
    "DebugMode__check_finite": (True, None),
    "DebugMode__check_strides": (0, None),
    "NanGuardMode__nan_is_error": (True, None),
    "NanGuardMode__inf_is_error": (True, None),
    "NanGuardMode__big_is_error": (True, None),
    "NanGuardMode__action": ("raise", None),
}

# Theano's warn.* flags (warnings about bugs fixed in old Theano releases) are many; any
# ``warn__...`` flag is stored.
_STORED_PREFIXES = ("warn__",)


def _coerce(text: str, default: Any) -> Any:
    """A flag's value from its text in THEANO_FLAGS, typed like its default."""
    if isinstance(default, bool):
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError(f"expected a boolean, got {text!r}")
    if isinstance(default, int):
        return int(text)
    if isinstance(default, float):
        return float(text)
    return text


class _Section:
    """``theano.config.blas`` and the like: the dotted flags of one section."""

    def __init__(self, parser: TheanoConfigParser, prefix: str):
        object.__setattr__(self, "_parser", parser)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, f"{self._prefix}__{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._parser, f"{self._prefix}__{name}", value)


class TheanoConfigParser:
    """The object behind ``theano.config``."""

    def __init__(self):
        object.__setattr__(self, "_stored", {name: spec[0] for name, spec in STORED.items()})

    def _known(self) -> list[str]:
        return sorted([*MAPPED, *FIXED, *STORED])

    @staticmethod
    def _is_stored(name: str) -> bool:
        return name in STORED or name.startswith(_STORED_PREFIXES)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in MAPPED:
            return getattr(_exprc_config, MAPPED[name])
        if name in FIXED:
            return FIXED[name]
        stored = object.__getattribute__(self, "_stored")
        if name in stored:
            return stored[name]
        if any(key.startswith(name + "__") for key in STORED) or name == "warn":
            return _Section(self, name)
        if name.startswith(_STORED_PREFIXES):
            return True
        raise AttributeError(f"theano.config has no flag {name!r} on exprc; known flags: "
                             f"{self._known()}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "optimizer_excluding":
            value = _exprc_exclusions(value)
        if name == "mode":
            value = _exprc_mode_name(value)
        if name in MAPPED:
            setattr(_exprc_config, MAPPED[name], value)
        elif name in FIXED:
            if value != FIXED[name]:
                raise ValueError(f"theano.config.{name} is always {FIXED[name]!r} on exprc; "
                                 f"cannot set it to {value!r}")
        elif self._is_stored(name):
            allowed = STORED[name][1] if name in STORED else None
            if name == "optimizer" and value is None:
                value = "None"
            if allowed is not None and value not in allowed:
                raise ValueError(f"invalid value {value!r} for theano.config.{name}; "
                                 f"expected one of {allowed}")
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
        flags = {name.replace(".", "__"): value for name, value in flags.items()}
        with attributes_set(self, flags):
            yield self

    def __repr__(self) -> str:
        return "\n".join(f"{name} = {getattr(self, name)!r}" for name in self._known())


def _exprc_mode_name(value: Any) -> Any:
    """``mode`` as exprc stores it. exprc's flag takes any string and a wrong name fails only
    at the next ``theano.function``, so a name no mode has is refused here, when it is set.
    ``'Mode'`` (Theano's default: the ``linker`` and ``optimizer`` flags decide) is stored as
    exprc's default, which :func:`~exprc.compat.theano.compile.mode.to_exprc_mode` reads the
    same way; stored as ``'Mode'`` it would name no exprc mode."""
    if not isinstance(value, str):
        return value
    if value == "Mode":
        return "FAST_RUN"
    from exprc.compile.mode import PREDEFINED

    known = [*PREDEFINED, "DEBUG_MODE", "DebugMode", "NanGuardMode"]
    if value not in known:
        raise ValueError(f"invalid value {value!r} for theano.config.mode; expected one of "
                         f"{['Mode', *known]}")
    return value


def _exprc_exclusions(value: Any) -> Any:
    """``optimizer_excluding`` (colon-separated Theano rewrite names) as exprc's pass and rule
    names: Theano's names of exprc's passes are translated (``local_elemwise_fusion`` is
    ``fusion``), and a name exprc has no rewrite for is dropped with a warning naming it
    (Theano programs exclude rewrites of Theano's pipeline that exprc does not have)."""
    if not isinstance(value, str):
        return value
    from exprc.compat.theano.compile.mode import exprc_rewrite_names
    from exprc.rewriting.pipeline import PASS_NAMES, _is_rule

    kept = []
    for name in exprc_rewrite_names([n for n in value.split(":") if n]):
        if name in PASS_NAMES or _is_rule(name):
            kept.append(name)
        else:
            warnings.warn(f"optimizer_excluding: exprc has no rewrite named {name!r}; "
                          "ignored", stacklevel=4)
    return ":".join(kept)


def read_theano_flags(parser: TheanoConfigParser, text: str) -> None:
    """Apply a ``THEANO_FLAGS`` string (``'floatX=float32,device=cpu,blas.ldflags=...'``)
    to ``parser``. Unknown flags and values exprc cannot honour are warned about, naming
    them; the other flags still apply."""
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, raw = item.partition("=")
        name, raw = name.strip().replace(".", "__"), raw.strip()
        if not sep:
            warnings.warn(f"THEANO_FLAGS: ignoring {item!r}, which is not of the form "
                          "name=value", stacklevel=2)
            continue
        try:
            _apply_flag(parser, name, raw)
        except (AttributeError, ValueError) as exc:
            warnings.warn(f"THEANO_FLAGS: ignoring {name.replace('__', '.')}={raw}: {exc}",
                          stacklevel=2)


def _apply_flag(parser: TheanoConfigParser, name: str, raw: str) -> None:
    if name == "init_gpu_device":
        if raw and raw != "cpu":
            warnings.warn(f"THEANO_FLAGS: {name}={raw} is not used: exprc's CUDA backend "
                          "follows device=", stacklevel=3)
        return
    if name == "mode" and raw == "Mode":
        return  # Theano's default mode: linker and optimizer flags decide
    if name in MAPPED:
        default = getattr(_exprc_config, MAPPED[name])
        setattr(parser, name, _coerce(raw, default))
    elif name in FIXED:
        setattr(parser, name, _coerce(raw, FIXED[name]))
    elif parser._is_stored(name):
        default = STORED[name][0] if name in STORED else True
        setattr(parser, name, _coerce(raw, default))
    else:
        raise AttributeError("exprc does not know this flag")


config = TheanoConfigParser()
change_flags = config.change_flags
read_theano_flags(config, os.environ.get("THEANO_FLAGS", ""))
