"""``DebugMode``: run every call twice, compiled and on the reference executor, and compare.

Each call runs the NumPy reference executor on the graph as the user built it (no rewrites)
and the ``FAST_RUN`` C program on the rewritten graph, and compares every output and update
(tolerances per dtype; NaN and Inf must be at the same places). The reference run also checks
that no op's NumPy rule writes into an input its ``destroy_map`` does not declare, and, with
``check_isfinite``, that no node computes a NaN or an Inf; the C run that the caller's arrays
and the shared values are left as they were.

When the results differ, the culprit is looked for in three steps:

1. Every node of the rewritten graph is run in C on the values the reference rules give its
   inputs (one compiled program holding each node alone), in topological order of the
   rewritten graph (``f.maker.fgraph.toposort()``). The first node whose C result differs from
   its NumPy rule, or that writes into an input it does not declare, is the culprit.
2. Otherwise the rewrites are at fault: the passes of the pipeline are applied one more at a
   time, and the first after which the graph (evaluated with the reference rules) computes
   other values is named, with the rules that fired in it.
3. Otherwise each node is right alone and the rewritten graph is right, so the compiled
   program as a whole is wrong (its schedule or its reuse of buffers).

A :class:`DebugModeError` says what was found. Speed is no goal here: the mode is for finding
bugs in exprc (or in an op of one's own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from exprc.compile.mode import Mode
from exprc.compile.watch import (
    Observer,
    describe_input,
    describe_node,
    describe_value,
    describe_variable,
    same_bits,
)
from exprc.errors import ExprcError
from exprc.graph.fgraph import FunctionGraph
from exprc.graph.ir import Apply, Constant
from exprc.link.c.linker import CProgram
from exprc.link.reference import ReferenceProgram
from exprc.rewriting.pipeline import PIPELINE

__all__ = ["TOLERANCES", "DebugMode", "DebugModeError", "Difference", "InvalidValueError",
           "difference"]

#: (relative, absolute) tolerance of the comparisons, per floating-point dtype (Theano's, with
#: float32's relative tolerance widened for its sums taken in another order).
TOLERANCES = {"float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8), "complex64": (1e-4, 1e-5),
              "complex128": (1e-5, 1e-8)}


class DebugModeError(ExprcError):
    """A compiled result differs from the reference, or an op wrote where it may not.

    Attributes
    ----------
    node : Apply or None
        The culprit node (of the rewritten graph, or of the graph before rewriting for an
        error of a NumPy rule), when one was found.
    output : int or None
        Which output of the node (or of the function's results) differs.
    max_difference : float or None
        The largest absolute difference found.
    """

    def __init__(self, message: str, node: Apply | None = None, output: int | None = None,
                 max_difference: float | None = None):
        super().__init__(message)
        self.node = node
        self.output = output
        self.max_difference = max_difference


class InvalidValueError(DebugModeError):
    """A node computed a NaN or an Inf (``DebugMode(check_isfinite=True)``)."""


@dataclass(frozen=True)
class Difference:
    """How an array differs from the reference.

    Attributes
    ----------
    summary : str
        What differs (``"3 of 10 element(s) differ"``, or the dtypes and shapes).
    max_abs : float
        The largest absolute difference between elements (inf when the dtypes or shapes
        differ, or a NaN or an Inf of one side is not matched on the other).
    index : tuple or None
        The first element that differs.
    expected, got : object
        The values of that element.
    """

    summary: str
    max_abs: float
    index: tuple | None = None
    expected: object = None
    got: object = None

    def text(self, got_from: str = "the compiled code") -> str:
        if self.index is None:
            return self.summary
        return (f"{self.summary}, max absolute difference {self.max_abs:.6g}; at index "
                f"{self.index} the reference has {self.expected!r} and {got_from} "
                f"{self.got!r}")


def difference(expected: np.ndarray, got: np.ndarray, rtol: float | None = None,
               atol: float | None = None, allow_remove_inf_nan: bool = False
               ) -> Difference | None:
    """How ``got`` differs from ``expected``, or None when they agree.

    Integers and bools must be equal. Floats agree within ``atol + rtol * |expected|``
    (defaults per dtype from :data:`TOLERANCES`), with NaN at the same places on both sides and
    each Inf matched by an Inf of the same sign; ``allow_remove_inf_nan`` accepts a finite
    value where ``expected`` has NaN or Inf (what stability rewrites do on purpose).
    """
    expected, got = np.asarray(expected), np.asarray(got)
    if expected.shape != got.shape or expected.dtype != got.dtype:
        return Difference(f"{got.dtype}{list(got.shape)} where the reference has "
                          f"{expected.dtype}{list(expected.shape)}", float("inf"))
    if expected.dtype.kind not in "fc":
        bad = expected != got
        if not bad.any():
            return None
        wide = np.abs(expected.astype(np.float64) - got.astype(np.float64))
        return _located(bad, expected, got, float(wide[bad].max()))
    default_rtol, default_atol = TOLERANCES.get(expected.dtype.name, (1e-5, 1e-8))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    finite_e, finite_g = np.isfinite(expected), np.isfinite(got)
    both = finite_e & finite_g
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.where(both, np.abs(expected - got), 0.0)
        far = both & (gap > atol + rtol * np.abs(np.where(both, expected, 0)))
        same_special = (np.isnan(expected) & np.isnan(got)) | (~both & (expected == got))
    special = ~both & ~same_special
    if allow_remove_inf_nan:
        special &= ~(~finite_e & finite_g)
    bad = far | special
    if not bad.any():
        return None
    # A NaN or an Inf against anything else is an infinite difference.
    worst = float("inf") if special.any() else float(gap.max())
    return _located(bad, expected, got, worst)


def _located(bad: np.ndarray, expected: np.ndarray, got: np.ndarray,
             max_abs: float) -> Difference:
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
    return Difference(f"{int(bad.sum())} of {bad.size} element(s) differ", max_abs, first,
                      expected[first].item(), got[first].item())


@dataclass(frozen=True, init=False)
class DebugMode(Mode):
    """Compare every call of the compiled program with the reference executor.

    Parameters
    ----------
    optimizer : str
        The rewrites of the compiled program (default ``'fast_run'``).
    exclude : tuple of str
        Passes or rules not to run.
    rtol, atol : float, optional
        Tolerances of the float comparisons for every dtype; default per dtype
        (:data:`TOLERANCES`).
    check_isfinite : bool
        Raise :class:`InvalidValueError` when a node of the graph computes a NaN or an Inf
        (Theano's default).
    allow_remove_inf_nan : bool
        Accept a finite compiled value where the graph as built gives NaN or Inf: what the
        stability rewrites do on purpose (``log(1 + exp(x))`` for a large ``x``, say).

    Examples
    --------
    >>> import numpy as np, exprc, exprc.tensor as T
    >>> x = T.dvector('x')
    >>> f = exprc.function([x], T.tanh(x).sum(), mode='DEBUG_MODE')
    >>> float(f(np.array([0.5, -0.5])))
    0.0
    """

    rtol: float | None = None
    atol: float | None = None
    check_isfinite: bool = True
    allow_remove_inf_nan: bool = False

    def __init__(self, optimizer: str = "fast_run", exclude: Sequence[str] = (),
                 rtol: float | None = None, atol: float | None = None,
                 check_isfinite: bool = True, allow_remove_inf_nan: bool = False):
        settings = {"linker": "c", "optimizer": optimizer, "exclude": tuple(exclude),
                    "rtol": rtol, "atol": atol, "check_isfinite": bool(check_isfinite),
                    "allow_remove_inf_nan": bool(allow_remove_inf_nan)}
        for name, value in settings.items():
            object.__setattr__(self, name, value)  # a frozen dataclass, set once here
        self.__post_init__()

    def link(self, fgraph, original, profile):
        return DebugProgram(self, fgraph, original, profile)

    def compare(self, expected: np.ndarray, got: np.ndarray) -> Difference | None:
        return difference(expected, got, self.rtol, self.atol, self.allow_remove_inf_nan)


class DebugProgram:
    """The program of a :class:`DebugMode` function (see the module docstring)."""

    #: The results returned are the compiled program's.
    backend = "c"

    def __init__(self, mode: DebugMode, fgraph: FunctionGraph, original: tuple,
                 profile: bool = False):
        self.mode = mode
        self.fgraph = fgraph
        self.original = (list(original[0]), list(original[1]))
        self.compiled = CProgram(fgraph.inputs, fgraph.outputs, profile=profile)
        self.nodes = self.compiled.nodes
        plain, _ = Mode("reference", "none").rewrite(*self.original)
        self.reference = ReferenceProgram(plain.inputs, plain.outputs)
        self._one_by_one: tuple | None = None  # the nodes compiled one by one, when needed

    def node_seconds(self) -> list[float]:
        return self.compiled.node_seconds()

    def placement(self) -> list[tuple[str, str]]:
        return self.compiled.placement()  # the results returned are the compiled program's

    def inner_node_seconds(self) -> list:
        return self.compiled.inner_node_seconds()

    def __call__(self, values: Sequence[np.ndarray]) -> list[np.ndarray]:
        values = list(values)
        expected = self.reference(
            values, observer=_ReferenceChecks("the graph as built", self.mode.check_isfinite))
        given = [np.array(v, copy=True) for v in values]
        results = self.compiled(given)
        written = [k for k, (a, b) in enumerate(zip(values, given)) if not same_bits(a, b)]
        differing = [(j, d) for j, (e, r) in enumerate(zip(expected, results))
                     if (d := self.mode.compare(e, r)) is not None]
        if differing or written:
            raise self._diagnose(values, expected, differing, written)
        return results

    # ------------------------------------------------------------------ diagnosis
    def _diagnose(self, values: list, expected: list, differing: list,
                  written: list) -> DebugModeError:
        symptoms = [f"result {j} ({describe_variable(self.original[1][j])}): {d.text()}"
                    for j, d in differing]
        symptoms += [f"the compiled program wrote into the {describe_input(self.fgraph.inputs[k])}"
                     for k in written]
        summary = "DebugMode: " + "; ".join(symptoms)
        worst = max((d.max_abs for _, d in differing), default=None)
        output = differing[0][0] if differing else None
        recorder = _ReferenceChecks("the rewritten graph", check_isfinite=False, record=True)
        recorder.start(self.fgraph.inputs, values)
        rewritten = ReferenceProgram(self.fgraph.inputs, self.fgraph.outputs)(
            [np.array(v, copy=True) for v in values], observer=recorder)
        found = self._first_wrong_node(recorder.values)
        if found is not None:
            return DebugModeError(f"{summary}.\n{found[0]}", *found[1:])
        rewrites = [(j, d) for j, (e, r) in enumerate(zip(expected, rewritten))
                    if (d := self.mode.compare(e, r)) is not None]
        if rewrites:
            return DebugModeError(f"{summary}.\n{self._first_changing_pass(values, expected)}",
                                  None, output, worst)
        return DebugModeError(
            f"{summary}.\nEvery node of the rewritten graph, compiled alone, agrees with its "
            "NumPy rule, and the rewritten graph evaluated with the NumPy rules agrees with the "
            "graph as built: the compiled program as a whole is wrong (the order it runs the "
            "nodes in, or a buffer it reuses too early)", None, output, worst)

    def _first_wrong_node(self, reference_values: dict) -> tuple | None:
        """(message, node, output, difference) for the first node of the rewritten graph whose
        C code, run on the reference values of its inputs, disagrees with its NumPy rule."""
        try:
            program, fed = self._compiled_one_by_one()
        except Exception as exc:  # the report says why the search could not be done
            return (f"(The nodes could not be compiled one by one to find the culprit: "
                    f"{type(exc).__name__}: {exc})", None, None, None)
        args = [np.array(reference_values[id(var)], copy=True) for var in fed]
        results = iter(program(args))
        position = 0
        for k, node in enumerate(self.fgraph.toposort()):
            destroyed = {i for ins in node.op.destroy_map.values() for i in ins}
            for i, var in enumerate(node.inputs):
                if isinstance(var, Constant):
                    continue
                if i not in destroyed and not same_bits(args[position],
                                                        reference_values[id(var)]):
                    return (f"The first culprit: {describe_node(k, node)} of the rewritten "
                            f"graph: its C code wrote into its input {i} ({var}), which its "
                            f"destroy_map {dict(node.op.destroy_map)} does not declare",
                            node, None, None)
                position += 1
            for j, var in enumerate(node.outputs):
                got = next(results)
                found = self.mode.compare(reference_values[id(var)], got)
                if found is not None:
                    return (f"The first node that differs: {describe_node(k, node)} of the "
                            f"rewritten graph (f.maker.fgraph.toposort()), output {j}, the "
                            f"variable {describe_variable(var)}. Run in C on the reference "
                            f"values of its inputs, it gives other values than its NumPy rule: "
                            f"{found.text()}", node, j, found.max_abs)
        return None

    def _compiled_one_by_one(self) -> tuple:
        """One C program computing every node of the rewritten graph alone, each from inputs
        of its own, and the variables whose values feed those inputs, in order."""
        if self._one_by_one is None:
            inputs, outputs, fed = [], [], []
            for node in self.fgraph.toposort():
                fresh = []
                for var in node.inputs:
                    if isinstance(var, Constant):
                        fresh.append(var)
                        continue
                    placeholder = var.type(var.name)
                    inputs.append(placeholder)
                    fed.append(var)
                    fresh.append(placeholder)
                copy = Apply(node.op, fresh, [out.clone() for out in node.outputs])
                outputs.extend(copy.outputs)
            self._one_by_one = (CProgram(inputs, outputs), fed)
        return self._one_by_one

    def _first_changing_pass(self, values: list, expected: list) -> str:
        """Which rewrite pass first makes the graph compute other values."""
        mode = self.mode
        passes = [p.name for p in PIPELINE if p.name not in mode.exclude
                  and (mode.optimizer == "fast_run" or (mode.optimizer == "fast_compile"
                                                         and p.cheap))]
        before = None
        for k, name in enumerate(passes):
            trial = Mode("reference", mode.optimizer, tuple(mode.exclude) + tuple(passes[k + 1:]))
            fgraph, log = trial.rewrite(*self.original)
            got = ReferenceProgram(fgraph.inputs, fgraph.outputs)(
                [np.array(v, copy=True) for v in values])
            changed = [(j, d) for j, (e, r) in enumerate(zip(expected, got))
                       if (d := mode.compare(e, r)) is not None]
            if changed:
                fired = log.fired - before.fired if before is not None else log.fired
                rules = ", ".join(f"{rule} ({n}x)" for rule, n in fired.most_common()) or "none"
                j, d = changed[0]
                return (f"Every node of the rewritten graph, compiled alone, agrees with its "
                        f"NumPy rule; the rewrites changed the values: after the pass "
                        f"{name!r} the graph (evaluated with the NumPy rules) gives for result "
                        f"{j}: {d.text('the rewritten graph')}. Rules that fired in that "
                        f"pass: {rules}. (Stability rewrites may do so on purpose where the "
                        "graph as built overflows: see DebugMode(allow_remove_inf_nan=True).)")
            before = log
        return ("Every node of the rewritten graph, compiled alone, agrees with its NumPy "
                "rule, but the rewritten graph computes other values than the graph as built, "
                "and no single pass could be singled out")


class _ReferenceChecks(Observer):
    """Checks of a reference run: no rule writes into an input it does not declare, and
    (``check_isfinite``) no node computes NaN or Inf; ``record`` keeps every value."""

    def __init__(self, graph: str, check_isfinite: bool, record: bool = False):
        self.graph = graph
        self.check_isfinite = check_isfinite
        self.values: dict[int, np.ndarray] | None = {} if record else None
        self._saved: list = []

    def start(self, inputs, values) -> None:
        if self.values is not None:
            self.values.update((id(v), np.array(x, copy=True)) for v, x in zip(inputs, values))

    def before(self, k: int, node: Apply, args: list) -> list:
        destroyed = {i for ins in node.op.destroy_map.values() for i in ins}
        self._saved = [(i, np.array(a, copy=True)) for i, a in enumerate(args)
                       if i not in destroyed and isinstance(a, np.ndarray)
                       and not any(np.may_share_memory(a, args[d]) for d in destroyed)]
        return args

    def after(self, k: int, node: Apply, args: list, results: list) -> list:
        for i, saved in self._saved:
            if not same_bits(saved, args[i]):
                raise DebugModeError(
                    f"DebugMode: the NumPy rule of {describe_node(k, node)} of "
                    f"{self.graph} wrote into its input {i} ({node.inputs[i]}), which its "
                    f"destroy_map {dict(node.op.destroy_map)} does not declare", node)
        for j, (var, value) in enumerate(zip(node.outputs, results)):
            if self.check_isfinite and value.dtype.kind in "fc" and not np.isfinite(value).all():
                raise InvalidValueError(
                    f"DebugMode: {describe_node(k, node)} of {self.graph} computed NaN or Inf "
                    f"in output {j}, the variable {describe_variable(var)}: "
                    f"{describe_value(value)} (DebugMode(check_isfinite=False) allows it)",
                    node, j)
            if self.values is not None:
                self.values[id(var)] = np.array(value, copy=True)
        return results
