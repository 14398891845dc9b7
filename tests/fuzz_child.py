"""Call C-compiled functions with random bad arguments and compare with the reference executor.

Run in a child process by ``tests/test_c_robustness.py``, so that a crash of the native code
shows as a failed test naming the seed and the call, not as a dead pytest worker::

    python -m tests.fuzz_child --seed 0 --calls 400
    python -m tests.fuzz_child --seed 0 --first 117 --calls 1 --no-attacks --verbose  # replay

The hand-picked calls of each case (``Case.attacks``, aimed at overflow and sign checks) run
first; then each random call ``k`` draws its arguments from ``default_rng([seed, k])``, so any
call can be replayed alone. Before each call the child prints ``call k: <case>(<arguments>)``
and flushes, so the last such line names the call that killed it. A call passes when the C
function returns the reference's values (NaN-aware) or both raise compatible Python exceptions;
anything else is printed as ``FAIL`` and makes the exit status 1.
"""

from __future__ import annotations

import argparse
import re
import sys
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import exprc
import exprc.tensor as T
from exprc.errors import ExprcError
from exprc.tensor import nnet

#: The exceptions a call may raise; anything else (or a crash) is a defect.
ALLOWED = (ExprcError, TypeError, ValueError, IndexError, MemoryError)

#: Sizes that must be refused or overflow-checked. No value lies between 8 and 2**40: a size of
#: 2**31 elements would be a real 16 GB allocation, while 2**40 and above are refused at once.
BAD_SIZES = [-1, -7, 0, 2**40, 2**62, 2**62 + 3, 2**63 - 1, -2**63]
#: Indices that are out of range for every array the cases build (or negative in range).
BAD_INDICES = [-1, -2, 3, 5, 100, -100, 2**31, -2**31 - 1, 2**62, 2**63 - 1, -2**63]
#: Bounds of arange, up to the ends of int64: both executors compute the length exactly
#: (NumPy's double-precision length is off by one beyond 2**53).
BAD_BOUNDS = [-1, -7, 0, 2**53, -2**53, 2**53 + 1, 2**40 + 1, 2**62, 2**63 - 1, -2**63]
BAD_STEPS = [0, -1, 1, 7, -7, 2**20, -2**20, 2**63 - 1, -2**63, -2**63 + 1]
POOLS = {"size": BAD_SIZES, "index": BAD_INDICES, "bound": BAD_BOUNDS, "step": BAD_STEPS}
#: Non-finite and huge values. Zeros, subnormals and values whose products overflow are left
#: out: with them a result (0 * inf, an underflow before an overflow, an overflow inside a fused
#: multiply-add or not) depends on the order of the operations, not on correctness.
ODD_FLOATS = [np.nan, np.inf, -np.inf, 1e150, -1e150]
DTYPES = ["bool", "int8", "uint8", "int32", "int64", "uint64", "float16", "float32",
          "float64", "complex128"]


@dataclass
class Case:
    """A function to fuzz: how to build it and how to draw good arguments.

    Attributes
    ----------
    name : str
    build : callable
        ``build() -> (inputs, outputs)``.
    good : callable
        ``good(rng) -> list`` of valid arguments.
    roles : list of str
        One per input: ``data`` (an array), ``size`` (a size or shape entry), ``index`` (an
        index scalar or vector).
    attacks : list of list
        Hand-picked argument lists aimed at overflow and sign checks.
    """

    name: str
    build: Callable
    good: Callable
    roles: list
    attacks: list = field(default_factory=list)


def _normal(rng, *shape, dtype="float64"):
    return rng.normal(size=shape).astype(dtype)


def _build_elemwise():
    x, y = T.dmatrix("x"), T.dvector("y")
    return [x, y], [T.exp(x) * y + 1, T.maximum(x, y) / (y + 2), T.log1p(abs(x)).sum(axis=0)]


def _build_mixed():
    a, b = T.ivector("a"), T.fvector("b")
    return [a, b], [a + b, a * 3, T.cast(b > 0, "int8") + a]


def _build_int_division():
    a, b = T.lvector("a"), T.lvector("b")
    return [a, b], [a // b, a % b]


def _build_reduction():
    x = T.dtensor3("x")
    return [x], [x.sum(axis=0), x.max(axis=(1, 2)), x.mean(axis=-1), T.tanh(x).prod(),
                 x.argmax(axis=1), x.min(axis=2)]


def _build_gemm():
    a, b, c, v = T.dmatrix("a"), T.dmatrix("b"), T.dmatrix("c"), T.dvector("v")
    return [a, b, c, v], [T.dot(a, b) * 0.5 + c, T.dot(a, v), T.dot(v, v)]


def _build_dot32():
    a, b = T.fmatrix("a"), T.fmatrix("b")
    return [a, b], [T.dot(a, b) + 1, T.dot(a.T, a)]


def _build_reshape():
    x, n, m = T.dmatrix("x"), T.lscalar("n"), T.lscalar("m")
    return [x, n, m], [x.reshape((n, m)), x.reshape((n, -1)) * 2]


def _build_slice():
    x, a, b, s = T.dvector("x"), T.lscalar("a"), T.lscalar("b"), T.lscalar("s")
    return [x, a, b, s], [x[a:b], x[a:b:s] + 1, x[:b][::-1]]


def _build_advanced():
    x, idx, y = T.dmatrix("x"), T.lvector("idx"), T.dvector("y")
    return [x, idx, y], [x[idx], T.inc_subtensor(x[idx], y), T.set_subtensor(x[idx], 0.0),
                         x[idx, idx]]


def _build_advanced32():
    x, idx = T.fvector("x"), T.ivector("idx")
    return [x, idx], [x[idx] * 2, T.inc_subtensor(x[idx], 1.0)]


def _build_take_sort():
    x, idx = T.dvector("x"), T.lvector("idx")
    return [x, idx], [T.take(x, idx), T.argsort(x), T.sort(x)]


def _build_join():
    a, b = T.dmatrix("a"), T.dmatrix("b")
    return [a, b], [T.concatenate([a, b], axis=0), T.join(1, a, b) + 1]


def _build_softmax():
    z, y = T.dmatrix("z"), T.ivector("y")
    loss = nnet.crossentropy_softmax_int_labels(z, y)
    return [z, y], [nnet.softmax(z), loss, exprc.grad(loss.mean(), z)]


def _build_repeat():
    x, r, rv = T.dvector("x"), T.lscalar("r"), T.lvector("rv")
    return [x, r, rv], [T.repeat(x, r), T.repeat(x, rv)]


def _build_cumsum():
    x, i = T.dmatrix("x"), T.lmatrix("i")
    return [x, i], [T.cumsum(x, axis=0), T.cumsum(x), T.cumsum(i, axis=1)]


def _build_alloc():
    v, w, n, m = T.dscalar("v"), T.dvector("w"), T.lscalar("n"), T.lscalar("m")
    return [v, w, n, m], [T.alloc(v, n, m), T.zeros((n, m)), T.alloc(w, n, m)]


def _build_arange():
    a, b, s = T.lscalar("a"), T.lscalar("b"), T.lscalar("s")
    return [a, b, s], [T.arange(a, b, s)]


_X12 = np.arange(12.0).reshape(3, 4)
_HUGE = 2**62 + 3  # times 4 wraps to 12 in int64 arithmetic

CASES = [
    Case("elemwise", _build_elemwise,
         lambda r: [_normal(r, 3, 4), _normal(r, 4)], ["data", "data"]),
    Case("mixed_dtypes", _build_mixed,
         lambda r: [r.integers(-5, 5, 4).astype("int32"), _normal(r, 4, dtype="float32")],
         ["data", "data"]),
    Case("int_division", _build_int_division,
         lambda r: [r.integers(-9, 9, 5), r.integers(1, 5, 5)], ["data", "data"],
         attacks=[[np.array([7, -7, 0]), np.array([0, 0, 0])],
                  [np.array([-2**63, 5]), np.array([-1, -1])]]),
    Case("reduction", _build_reduction, lambda r: [_normal(r, 2, 3, 4)], ["data"]),
    Case("gemm", _build_gemm,
         lambda r: [_normal(r, 3, 4), _normal(r, 4, 2), _normal(r, 3, 2), _normal(r, 4)],
         ["data"] * 4),
    Case("dot_float32", _build_dot32,
         lambda r: [_normal(r, 3, 4, dtype="float32"), _normal(r, 4, 3, dtype="float32")],
         ["data", "data"]),
    Case("reshape", _build_reshape, lambda r: [_normal(r, 3, 4), 6, 2],
         ["data", "size", "size"],
         attacks=[[_X12, _HUGE, 4], [_X12, -3, -4], [_X12, -1, -12], [_X12, 0, 2**62],
                  [np.zeros((0, 4)), 2**62, 0], [_X12, 2**32, 2**32]]),
    Case("slice", _build_slice,
         lambda r: [_normal(r, 6), int(r.integers(-6, 6)), int(r.integers(-6, 6)),
                    int(r.choice([-2, -1, 1, 2]))], ["data", "index", "index", "step"],
         attacks=[[_X12[0], -2**63, 2**63 - 1, -1], [_X12[0], 2**63 - 1, -2**63, -1],
                  [_X12[0], 0, 4, 0], [_X12[0], -2**63, -2**63, 3],
                  [_X12[0], 0, 4, 2**63 - 1], [_X12[0], 3, -5, -2**63],
                  [_X12[0], 3, 0, -2**63 + 1], [_X12[0], -2**63, 2**63 - 1, 2**63 - 1]]),
    Case("advanced_index", _build_advanced,
         lambda r: [_normal(r, 4, 4), r.integers(-4, 4, 3), _normal(r, 4)],
         ["data", "index", "data"],
         attacks=[[_normal(np.random.default_rng(1), 4, 4), np.array([-2**63, 0]),
                   np.zeros(4)], [np.zeros((4, 4)), np.array([2**63 - 1]), np.zeros(4)],
                  [np.zeros((0, 4)), np.array([0]), np.zeros(4)]]),
    Case("advanced_index_int32", _build_advanced32,
         lambda r: [_normal(r, 5, dtype="float32"), r.integers(-5, 5, 4).astype("int32")],
         ["data", "index"],
         attacks=[[np.zeros(5, "float32"), np.array([-2**31, 2**31 - 1], "int32")]]),
    Case("take_sort", _build_take_sort,
         lambda r: [_normal(r, 5), r.integers(-5, 5, 3)], ["data", "index"],
         attacks=[[np.array([np.nan, 1.0, -np.inf, np.nan, 0.0]), np.array([0])]]),
    Case("join", _build_join, lambda r: [_normal(r, 3, 3), _normal(r, 3, 3)], ["data", "data"]),
    Case("softmax_crossentropy", _build_softmax,
         lambda r: [_normal(r, 4, 3), r.integers(0, 3, 4).astype("int32")], ["data", "index"],
         attacks=[[np.full((2, 3), 1e308), np.array([0, 2], "int32")],
                  [np.zeros((0, 3)), np.zeros(0, "int32")],
                  [np.zeros((2, 0)), np.array([0, 0], "int32")]]),
    Case("repeat", _build_repeat,
         lambda r: [_normal(r, 4), int(r.integers(0, 4)), r.integers(0, 4, 4)],
         ["data", "size", "size"],
         attacks=[[np.ones(4), 2**62, np.array([2**62] * 4)],
                  [np.ones(4), 1, np.array([2**63 - 1, 1, 0, 0])],
                  [np.ones(4), 1, np.array([2**62, 2**62, 2**62, 2**62])],
                  [np.ones(4), 1, np.array([1, -1, 1, 1])]]),
    Case("cumsum", _build_cumsum,
         lambda r: [_normal(r, 3, 4), r.integers(-9, 9, (3, 4))], ["data", "data"],
         attacks=[[np.ones((2, 2)), np.array([[2**63 - 1, 1], [-2**63, -1]])]]),
    Case("alloc", _build_alloc,
         lambda r: [float(r.normal()), _normal(r, 3), int(r.integers(0, 4)), 3],
         ["data", "data", "size", "size"],
         attacks=[[1.0, np.ones(4), _HUGE, 4], [1.0, np.ones(4), -3, -4],
                  [1.0, np.ones(0), 2**32, 2**32], [1.0, np.ones(0), 2**40, 0]]),
    Case("arange", _build_arange,
         lambda r: [int(r.integers(-5, 5)), int(r.integers(-5, 5)), int(r.choice([-2, 1, 3]))],
         ["bound", "bound", "bound"],
         attacks=[[0, 5, 0], [0, 2**62, 2**61], [2**62, -2**62, 2**62],
                  [-2**63, 2**63 - 1, 1], [2**63 - 1, -2**63, -1], [-2**62, 2**62, 1],
                  [0, 2**53 + 1, 2**52], [-2**63, 2**63 - 1, 2**62], [2**63 - 1, -2**63, -2**63]]),
]


# ---------------------------------------------------------------------- argument mutations
def _array(value):
    return value if isinstance(value, np.ndarray) else np.asarray(value)


def _wrong_dtype(rng, value, role):
    kind = rng.integers(4)
    if kind == 0:
        return np.array([object()] * max(_array(value).size, 1), dtype=object)
    if kind == 1:
        return np.array(["a"] * max(_array(value).size, 1))
    return _array(value).astype(rng.choice(DTYPES))


def _wrong_rank(rng, value, role):
    arr = _array(value)
    if rng.integers(2) or arr.ndim == 0:
        return arr[None]
    return arr.reshape(-1)[:1].reshape(()) if arr.size else np.zeros((), arr.dtype)


def _wrong_shape(rng, value, role):
    arr = _array(value)
    shape = tuple(int(rng.integers(0, 6)) for _ in range(arr.ndim))
    return rng.normal(size=shape).astype(arr.dtype) if arr.dtype.kind == "f" else \
        rng.integers(-3, 3, shape).astype(arr.dtype)


def _empty(rng, value, role):
    arr = _array(value)
    if arr.ndim == 0:
        return arr
    shape = list(arr.shape)
    shape[int(rng.integers(arr.ndim))] = 0
    return np.zeros(shape, arr.dtype)


def _bad_number(rng, value, role):
    arr = _array(value)
    pick = int(rng.choice(POOLS.get(role, BAD_INDICES)))
    if arr.ndim == 0:
        return pick
    out = arr.copy()
    if out.size:
        if out.dtype.kind in "iu":  # stay in the dtype, so that the value reaches the C code
            info = np.iinfo(out.dtype)
            pick = min(max(pick, int(info.min)), int(info.max))
        out.reshape(-1)[int(rng.integers(out.size))] = pick
    return out


def _odd_floats(rng, value, role):
    arr = _array(value)
    arr = arr.copy() if arr.dtype.kind == "f" else arr.astype("float64")
    if arr.size:
        flat = arr.reshape(-1)
        with np.errstate(over="ignore"):  # 1e150 becomes inf in float32: fine
            for _ in range(int(rng.integers(1, 3))):
                flat[int(rng.integers(arr.size))] = rng.choice(ODD_FLOATS)
    return arr if arr.ndim else arr.item()


def _layout(rng, value, role):
    arr = _array(value)
    if arr.ndim == 0:
        return arr
    kind = int(rng.integers(4))
    if kind == 0:  # every other element of a twice-as-large array
        big = np.repeat(arr, 2, axis=-1)
        return big[..., ::2]
    if kind == 1:
        return arr[::-1].copy()[::-1]
    if kind == 2:  # stride 0: one row broadcast to the whole shape
        return np.broadcast_to(arr[..., :1], arr.shape) if arr.shape[-1] else arr
    return np.asfortranarray(arr)


def _python_list(rng, value, role):
    return _array(value).tolist()


def _none(rng, value, role):
    return None


MUTATIONS = {
    "dtype": _wrong_dtype, "rank": _wrong_rank, "shape": _wrong_shape, "empty": _empty,
    "number": _bad_number, "nan_inf": _odd_floats, "layout": _layout, "list": _python_list,
    "none": _none,
}
#: Relative weights: most calls reach the native code with odd values and layouts.
WEIGHTS = {"dtype": 2, "rank": 1, "shape": 3, "empty": 2, "number": 4, "nan_inf": 3,
           "layout": 3, "list": 1, "none": 1}


def draw_call(case: Case, rng, names: list[str]):
    """One call of ``case``: (positional args, keyword args, description)."""
    roll = rng.random()
    if case.attacks and roll < 0.15:
        pick = int(rng.integers(len(case.attacks)))
        return list(case.attacks[pick]), {}, f"attack {pick}"
    args = case.good(rng)
    notes = []
    if roll < 0.25:
        notes.append("good")
    else:
        kinds, weights = zip(*WEIGHTS.items())
        p = np.array(weights, float) / sum(weights)
        for _ in range(int(rng.integers(1, 3))):
            k = int(rng.integers(len(args)))
            kind = str(rng.choice(kinds, p=p))
            try:
                args[k] = MUTATIONS[kind](rng, args[k], case.roles[k])
            except (TypeError, ValueError):
                continue  # e.g. NaN into a string array: keep the earlier mutation
            notes.append(f"{kind}@{k}")
    kwargs = {}
    arity = rng.random()
    if arity < 0.04:
        args.pop()
        notes.append("too few")
    elif arity < 0.08:
        args.append(np.zeros(2))
        notes.append("too many")
    elif arity < 0.12:
        kwargs["not_an_input"] = args.pop()
        notes.append("wrong keyword")
    elif arity < 0.2:
        kwargs[names[-1]] = args.pop()
        notes.append("by keyword")
    return args, kwargs, " ".join(notes)


def describe(value) -> str:
    if isinstance(value, np.ndarray):
        layout = "C" if value.flags.c_contiguous else f"strides{value.strides}"
        body = "" if value.size > 6 or value.dtype == object else \
            " " + np.array2string(value.reshape(-1), separator=",").replace("\n", "")
        return f"{value.dtype}{value.shape}{layout}{body}"
    if isinstance(value, list):
        return f"list(len {len(value)})"
    return repr(value)


# ---------------------------------------------------------------------- running and judging
@dataclass
class Outcome:
    values: list | None = None
    error: BaseException | None = None
    in_bind: bool = False


def run(f, args, kwargs) -> Outcome:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            out = f(*args, **kwargs)
        except BaseException as exc:  # judged by the caller; a crash never gets here
            if isinstance(exc, KeyboardInterrupt):
                raise
            # An argument error: raised while checking the arguments (Function._bind), or a
            # TypeError, which no computation raises.
            frames = [fr.name for fr in traceback.extract_tb(exc.__traceback__)]
            return Outcome(error=exc, in_bind="_bind" in frames or isinstance(exc, TypeError))
    return Outcome(values=[np.asarray(v) for v in (out if isinstance(out, list) else [out])])


def _family(exc: BaseException) -> str:
    # NumPy raises MemoryError or ValueError for an impossible size; both are fine.
    for kind, name in ((IndexError, "index"), (MemoryError, "size"), (ValueError, "size"),
                       (TypeError, "type")):
        if isinstance(exc, kind):
            return name
    return type(exc).__name__


def _same(got: np.ndarray, want: np.ndarray) -> str | None:
    if got.shape != want.shape or got.dtype != want.dtype:
        return f"got {got.dtype}{got.shape}, reference {want.dtype}{want.shape}"
    if want.dtype.kind not in "fc":
        return None if np.array_equal(got, want) else f"got {got}, reference {want}"
    tol = 1e-5 if want.dtype.itemsize <= 4 else 1e-9
    try:
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)
    except AssertionError as exc:
        return str(exc).strip().replace("\n", " | ")[:400]
    return None


def _names_input(message: str, names: list[str]) -> bool:
    """Whether an argument error says which argument: by position, by name, or (for a wrong
    count or keyword) the count or the keyword given."""
    return bool(re.search(r"argument \d|input named|input\(s\)", message)) or any(
        repr(n) in message for n in names)


def judge(c: Outcome, ref: Outcome, names: list[str]) -> str | None:
    """Why the C outcome is wrong, or None."""
    if c.error is not None and not isinstance(c.error, ALLOWED):
        return f"C raised {type(c.error).__name__}: {c.error}"
    if c.error is not None and c.in_bind and not _names_input(str(c.error), names):
        return f"argument error does not name the input: {c.error}"
    if ref.error is None and c.error is not None:
        return f"C raised {type(c.error).__name__} ({c.error}) where the reference returned"
    if ref.error is not None and c.error is None:
        return f"C returned where the reference raised {type(ref.error).__name__}: {ref.error}"
    if ref.error is not None:
        if ref.in_bind and type(c.error) is not type(ref.error):
            return (f"argument error {type(c.error).__name__} ({c.error}) where the reference "
                    f"raised {type(ref.error).__name__} ({ref.error})")
        if _family(ref.error) != _family(c.error):
            return (f"C raised {type(c.error).__name__} ({c.error}) where the reference raised "
                    f"{type(ref.error).__name__} ({ref.error})")
        return None
    if len(c.values) != len(ref.values):
        return f"{len(c.values)} outputs, reference {len(ref.values)}"
    for j, (got, want) in enumerate(zip(c.values, ref.values)):
        problem = _same(got, want)
        if problem:
            return f"output {j}: {problem}"
    return None


def _snapshot(args: list) -> list:
    return [np.array(a, copy=True) if isinstance(a, np.ndarray) and a.dtype != object else None
            for a in args]


def _changed(args: list, before: list) -> bool:
    return any(b is not None and not np.array_equal(a, b, equal_nan=b.dtype.kind in "fc")
               for a, b in zip(args, before))


class Compiled:
    """The C and reference functions of each case, compiled on first use."""

    def __init__(self):
        self._made: dict[str, tuple] = {}

    def get(self, case: Case):
        if case.name not in self._made:
            inputs, outputs = case.build()
            names = [v.name for v in inputs]
            c = exprc.function(inputs, outputs, mode=exprc.Mode(linker="c"))
            ref = exprc.function(inputs, outputs, mode="REFERENCE")
            self._made[case.name] = (c, ref, names)
        return self._made[case.name]


class Fuzzer:
    """Makes calls, judges them, and keeps the tally."""

    def __init__(self, seed: int, verbose: bool):
        self.seed = seed
        self.verbose = verbose
        self.compiled = Compiled()
        self.failures = 0
        self.tally = {"values": 0, "argument errors": 0, "run-time errors": 0}

    def check(self, label: str, case: Case, args: list, kwargs: dict, note: str) -> None:
        """Call ``case`` with ``args`` in C and in the reference executor; report a mismatch."""
        c, ref, names = self.compiled.get(case)
        shown = ", ".join([describe(a) for a in args]
                          + [f"{key}={describe(v)}" for key, v in kwargs.items()])
        print(f"call {label}: {case.name}({shown}) [{note}]", flush=True)
        expected = run(ref, args, kwargs)
        before = _snapshot(args)
        got = run(c, args, kwargs)
        problem = judge(got, expected, names)
        if problem is None and _changed(args, before):
            problem = "the C function modified its argument"
        self.tally["values" if got.error is None else
                   "argument errors" if got.in_bind else "run-time errors"] += 1
        if problem:
            self.failures += 1
            print(f"FAIL seed={self.seed} call={label} {case.name}: {problem}", flush=True)
        elif self.verbose:
            print(f"  ok: {'raised ' + type(got.error).__name__ if got.error else 'values'}"
                  f"{': ' + str(got.error) if got.error else ''}", flush=True)

    def summary(self, calls: int) -> str:
        counts = ", ".join(f"{key}: {n}" for key, n in self.tally.items())
        return f"done: {calls} calls, {self.failures} failures ({counts})"


def fuzz(seed: int, first: int, calls: int, only: list[str] | None, skip: list[str],
         attacks: bool, verbose: bool) -> int:
    """Run every case's attacks (when ``attacks``), then ``calls`` random calls."""
    cases = [c for c in CASES if (not only or c.name in only) and c.name not in skip]
    fuzzer = Fuzzer(seed, verbose)
    made = 0
    for case in cases if attacks else []:
        for j, args in enumerate(case.attacks):
            fuzzer.check(f"{case.name}#{j}", case, list(args), {}, f"attack {j}")
            made += 1
    for k in range(first, first + calls):
        rng = np.random.default_rng([seed, k])
        case = cases[int(rng.integers(len(cases)))]
        args, kwargs, note = draw_call(case, rng, fuzzer.compiled.get(case)[2])
        fuzzer.check(str(k), case, args, kwargs, note)
        made += 1
    print(fuzzer.summary(made), flush=True)
    return 1 if fuzzer.failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--first", type=int, default=0, help="index of the first call")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--only", nargs="*", help="fuzz only these cases")
    parser.add_argument("--skip", nargs="*", default=[], help="leave these cases out")
    parser.add_argument("--no-attacks", action="store_true",
                        help="skip the hand-picked calls that run before the random ones")
    parser.add_argument("--verbose", action="store_true")
    a = parser.parse_args(argv)
    return fuzz(a.seed, a.first, a.calls, a.only, a.skip, not a.no_attacks, a.verbose)


if __name__ == "__main__":
    sys.exit(main())
