"""``scan`` with Theano's interface, and ``map``, ``reduce``, ``foldl``, ``foldr`` on top.

The builder calls the user's step function once on placeholders, reads what it returned
(outputs, updates, a stop condition), finds the values the step reads from outside (non-
sequences given or not, shared variables, and the random generator states of samples drawn
inside it, which become values carried from step to step), and builds one
:class:`~exprc.tensor.scan.Scan` node. See :func:`scan`.
"""

from __future__ import annotations

import numbers
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from exprc.configuration import config
from exprc.errors import ExprcTypeError, ExprcValueError, user_frame
from exprc.graph.inner import InnerGraph, close_over
from exprc.graph.ir import Variable
from exprc.graph.testvalues import compute_test_values, test_value_of
from exprc.graph.traversal import ancestors, clone_replace, graph_inputs
from exprc.tensor.math import cast
from exprc.tensor.scan import Scan
from exprc.tensor.shape import shape_padleft
from exprc.tensor.sharedvar import SharedVariable
from exprc.tensor.type import INTEGER_DTYPES
from exprc.tensor.variable import as_tensor_variable

__all__ = ["ScanUpdates", "foldl", "foldr", "loops_on", "map", "reduce", "scan", "until"]


class until:
    """A stop condition for :func:`scan`: return ``until(cond)`` (alone or after the outputs
    and updates) from the step function and the loop stops after the first step where
    ``cond`` is true. ``n_steps`` is then an upper bound, and the outputs have one row per step
    taken."""

    def __init__(self, condition: Any):
        self.condition = as_tensor_variable(condition)
        if self.condition.ndim != 0:
            raise ExprcTypeError(f"until: the condition must be 0-d, got {self.condition.type}")


class ScanUpdates(OrderedDict):
    """The updates a scan returns: ``{shared variable: its value after the loop}``.

    Pass it to ``function(..., updates=...)``. Giving one shared variable two different
    updates (say, merging it with another scan's, or one written by hand) is an error naming
    both, rather than one silently winning.
    """

    def __setitem__(self, key: Any, value: Any) -> None:
        if key in self and self[key] is not value:
            raise ExprcValueError(
                f"the shared variable {key} is updated twice: by {self[key]} and by {value} "
                "(a shared variable may be updated inside a loop or outside it, not both)")
        super().__setitem__(key, value)

    def update(self, other: Any = (), **kwargs: Any) -> None:
        items = other.items() if isinstance(other, Mapping) else other
        for key, value in items:
            self[key] = value
        for key, value in kwargs.items():
            self[key] = value


def _listify(x: Any) -> list:
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _is_updates(x: Any) -> bool:
    if isinstance(x, Mapping):
        return True
    return (isinstance(x, (list, tuple)) and len(x) > 0
            and all(isinstance(p, (list, tuple)) and len(p) == 2
                    and isinstance(p[0], SharedVariable) for p in x))


def _split_result(result: Any, name: str) -> tuple[list, list, Any]:
    """The step function's result as (outputs, update pairs, condition or None), accepting
    Theano's forms: ``outputs``, ``(outputs, updates)``, ``(updates, outputs)``,
    ``(outputs, until)``, ``(outputs, updates, until)`` and their orders."""
    if isinstance(result, until):
        return [], [], result.condition
    if _is_updates(result):
        items = result.items() if isinstance(result, Mapping) else result
        return [], list(items), None
    if isinstance(result, tuple) and any(isinstance(p, until) or _is_updates(p) for p in result)\
            and len(result) <= 3:
        outputs, updates, cond = [], [], None
        for part in result:
            if isinstance(part, until):
                cond = part.condition
            elif _is_updates(part):
                updates = list(part.items() if isinstance(part, Mapping) else part)
            else:
                outputs = _listify(part)
        return outputs, updates, cond
    return _listify(result), [], None


def _updated_by_step(sv: SharedVariable) -> bool:
    """Whether ``sv``'s default update is computed from ``sv`` itself by one step (a random
    generator state advanced by a sample), so the loop advances it at every step; a default
    update that another loop already computes (its final state) is a plain read here."""
    new = sv.default_update
    if new is None or (new.owner is not None and any(
            sv is shared for shared, _ in getattr(_loop_of(new), "loop_updates", ()))):
        return False
    return any(v is sv for v in ancestors([new]))


def _loop_of(var: Variable):
    """The loop node whose final state ``var`` is (``buf[-1]``), or None."""
    node = var.owner
    while node is not None and not hasattr(node, "loop_updates") and node.inputs:
        node = node.inputs[0].owner
    return node


def _sequence_spec(entry: Any, name: str, k: int) -> tuple[Variable, list[int]]:
    if isinstance(entry, Mapping):
        unknown = set(entry) - {"input", "taps"}
        if unknown or "input" not in entry:
            raise ExprcTypeError(f"scan {name!r}: sequence {k} is a dict with keys "
                                 f"{sorted(str(k) for k in entry)}; it needs 'input' and may have "
                                 "'taps'")
        x, taps = entry["input"], entry.get("taps", [0])
    else:
        x, taps = entry, [0]
    x = as_tensor_variable(x)
    taps = [0] if taps is None else list(taps)
    if not taps or not all(isinstance(t, numbers.Integral) for t in taps):
        raise ExprcTypeError(f"scan {name!r}: the taps of sequence {k} must be a non-empty list "
                             f"of ints, got {taps!r}")
    if x.ndim == 0:
        raise ExprcTypeError(f"scan {name!r}: sequence {k} ({x}) is 0-d; a sequence is read "
                             "along its first axis")
    return x, [int(t) for t in taps]


def _output_spec(entry: Any, name: str, k: int) -> tuple[Variable | None, list[int], bool]:
    """(initial value, taps, whether the initial value has the extra leading axis)."""
    if entry is None:
        return None, [], False
    if isinstance(entry, Mapping):
        unknown = set(entry) - {"initial", "taps", "return_steps", "inplace"}
        if unknown:
            raise ExprcTypeError(f"scan {name!r}: outputs_info[{k}] has unknown keys "
                                 f"{sorted(str(k) for k in unknown)}; it may have 'initial' and "
                                 "'taps'")
        initial = entry.get("initial")
        if initial is None:
            return None, [], False
        taps = list(entry.get("taps", [-1]) or [])
        if not taps:
            return None, [], False
        if not all(isinstance(t, numbers.Integral) for t in taps):
            raise ExprcTypeError(f"scan {name!r}: the taps of outputs_info[{k}] must be ints, "
                                 f"got {taps!r}")
        taps = [int(t) for t in taps]
        if max(taps) >= 0:
            raise ExprcValueError(
                f"scan {name!r}: outputs_info[{k}] has taps {taps}; an output can only be read "
                "at earlier steps (negative taps)")
        initial = as_tensor_variable(initial)
        if taps == [-1]:
            return initial, taps, False
        if initial.ndim == 0:
            raise ExprcTypeError(f"scan {name!r}: outputs_info[{k}] has taps {taps}, so its "
                                 "initial value needs a leading axis holding the "
                                 f"{-min(taps)} earliest rows; got a 0-d value")
        depth = -min(taps)
        rows = initial.type.shape[0]
        if rows is not None and rows < depth:
            raise ExprcValueError(
                f"scan {name!r}: outputs_info[{k}] reaches {depth} steps back (taps {taps}) "
                f"but its initial value has only {rows} rows")
        return initial, taps, True
    return as_tensor_variable(entry), [-1], False



def _placeholder_test_values(seq_args, seq_specs, sot_args, out_specs) -> None:
    """With ``config.compute_test_value`` on, give the step's placeholders rows of the outer
    values' test values (a sequence's row at each tap, a state's initial rows), so that the
    nodes the step function builds get test values too."""
    if config.compute_test_value == "off":
        return
    for x_args, (x, taps) in zip(seq_args, seq_specs):
        value = test_value_of(x)
        if value is None:
            continue
        low = min(taps)
        for placeholder, tap in zip(x_args, taps):
            # An empty sequence has no row: zeros of a row's shape still check the step.
            placeholder.tag.test_value = (value[min(tap - low, len(value) - 1)] if len(value)
                                          else np.zeros(value.shape[1:], value.dtype))
    for state_args, (initial, taps, leading) in zip(sot_args, out_specs):
        value = None if initial is None else test_value_of(initial)
        if value is None:
            continue
        for placeholder, tap in zip(state_args, taps):
            placeholder.tag.test_value = value[tap] if leading else value

def scan(fn: Callable, sequences: Any = None, outputs_info: Any = None,
         non_sequences: Any = None, n_steps: Any = None, truncate_gradient: int = -1,
         go_backwards: bool = False, mode: Any = None, name: str | None = None,
         profile: bool = False, allow_gc: Any = None, strict: bool = False,
         return_list: bool = False):
    """Apply ``fn`` step by step over sequences, carrying outputs from step to step.

    Theano's ``scan``: at step ``t``, ``fn`` receives, in this order, the slices of each
    sequence at its taps, the earlier values of each fed-back output at its taps, and the
    non-sequences, and returns the step's outputs (and optionally updates and an
    :class:`until` condition).

    Parameters
    ----------
    fn : callable
        The step function; called once, on symbolic placeholders.
    sequences : variable, dict or list of those
        Iterated over their first axis. A dict ``{'input': x, 'taps': [-2, 0]}`` reads
        ``x[t - 2]`` and ``x[t]`` at step ``t`` (taps relative to the first step that has all
        of them).
    outputs_info : None, variable, dict or list of those
        Per output: None (not fed back), an initial value (fed back at tap -1) or
        ``{'initial': x0, 'taps': [-3, -1]}`` (x0's first axis holds the 3 earliest rows).
    non_sequences : variable or list
        Passed to ``fn`` at every step. Values ``fn`` reads without listing them (shared
        variables, outer expressions) are found automatically, as in Theano.
    n_steps : int or 0-d integer tensor, optional
        The number of steps; without it, the length of the sequences (which must agree).
        Must be positive. With ``until``, an upper bound.
    truncate_gradient : int
        Backpropagate through at most this many steps (-1: all).
    go_backwards : bool
        Iterate the sequences from their end.
    name : str, optional
        Names the loop in errors and printed graphs.
    strict : bool
        Refuse an ``fn`` that reads outer values not listed in ``non_sequences`` (shared
        variables included).
    return_list : bool
        Return a list even for one output.
    mode, profile, allow_gc
        Accepted for compatibility; the loop is compiled with the function that uses it.

    Returns
    -------
    outputs : variable or list of variables
        Each output's values at every step, stacked on a new first axis.
    updates : ScanUpdates
        The new values of shared variables updated inside the loop (random generator states
        included); pass them to ``function(updates=...)``.

    Raises
    ------
    ExprcTypeError, ExprcValueError
        For malformed arguments, an ``fn`` returning the wrong number of outputs, or outputs
        whose dtype or rank differ from their initial values; each names the loop.

    Examples
    --------
    >>> import numpy as np, exprc, exprc.tensor as T
    >>> x = T.dvector('x')
    >>> cumulative, _ = exprc.scan(lambda v, total: total + v, sequences=x,
    ...                            outputs_info=T.constant(0.0, dtype='float64'))
    >>> exprc.function([x], cumulative)(np.array([1.0, 2.0, 3.0]))
    array([1., 3., 6.])
    """
    name = name if isinstance(name, str) and name else "scan"
    trace = user_frame()
    truncate = int(truncate_gradient) if truncate_gradient is not None else -1
    seq_specs = [_sequence_spec(s, name, k) for k, s in enumerate(_listify(sequences))]
    if go_backwards:
        seq_specs = [(x[::-1], taps) for x, taps in seq_specs]
    info = _listify(outputs_info)
    out_specs = [_output_spec(o, name, k) for k, o in enumerate(info)]
    non_seqs = [as_tensor_variable(v) if not isinstance(v, Variable) else v
                for v in _listify(non_sequences)]

    # Placeholders, in fn's argument order.
    seq_args = [[x.type.clone(shape=x.type.shape[1:])() for _ in taps] for x, taps in seq_specs]
    sot_args = []
    for initial, taps, leading in out_specs:
        if initial is None:
            sot_args.append([])
            continue
        row = initial.type.clone(shape=initial.type.shape[1:]) if leading else initial.type
        sot_args.append([row() for _ in taps])
    for x_args, (x, _) in zip(seq_args, seq_specs):
        for p in x_args:
            p.name = f"{x.name}[t]" if x.name else None
    _placeholder_test_values(seq_args, seq_specs, sot_args, out_specs)
    args = [p for group in seq_args for p in group] + [p for g in sot_args for p in g]
    result = fn(*args, *non_seqs)
    outputs, update_pairs, cond = _split_result(result, name)
    outputs = [as_tensor_variable(o) for o in outputs]
    if info and len(outputs) != len(info):
        raise ExprcTypeError(
            f"scan {name!r}: the step function returned {len(outputs)} output(s), but "
            f"outputs_info describes {len(info)} (one entry per output, None for an output "
            f"that is not fed back)\n    (scan built at {trace})")
    if not info:
        out_specs = [(None, [], False)] * len(outputs)
        sot_args = [[] for _ in outputs]

    # Values carried from step to step: explicit updates, then the shared variables with a
    # default update that the step reads (random generator states drawn from inside it).
    carried: dict[SharedVariable, Variable] = {}
    for sv, new in update_pairs:
        if not isinstance(sv, SharedVariable):
            raise ExprcTypeError(f"scan {name!r}: the step function's updates must be keyed "
                                 f"by shared variables, got {sv!r}")
        carried[sv] = as_tensor_variable(new)
    placeholders = args
    while True:
        roots = [v for v in ancestors(outputs + list(carried.values())
                                      + ([cond] if cond is not None else []), placeholders)
                 if isinstance(v, SharedVariable) and _updated_by_step(v) and v not in carried]
        if not roots:
            break
        for sv in roots:
            carried[sv] = sv.default_update
    carry_vars = list(carried)
    carry_args = [sv.type() for sv in carry_vars]
    for sv, p in zip(carry_vars, carry_args):
        p.name = sv.name
    swap = dict(zip(carry_vars, carry_args))
    body = outputs + [carried[sv] for sv in carry_vars] + ([cond] if cond is not None else [])
    body = [as_tensor_variable(v) for v in body]
    for k, sv in enumerate(carry_vars):
        if body[len(outputs) + k].dtype != sv.dtype:  # as function(updates=...) casts
            body[len(outputs) + k] = cast(body[len(outputs) + k], sv.dtype)
    body = clone_replace(body, swap) if swap else body

    # What the step reads from outside becomes the loop's constants.
    own = args + carry_args
    free, const_args, inner_outputs = close_over(own, body)
    if strict:
        # Theano's rule: every shared variable the step reads is listed in non_sequences
        # (values computed from listed ones, constants and graph inputs are fine).
        listed = {id(v) for v in non_seqs}
        stray = [v for v in graph_inputs(free, non_seqs)
                 if isinstance(v, SharedVariable) and id(v) not in listed]
        if stray:
            raise ExprcTypeError(
                f"scan {name!r} (strict=True): the step function reads the shared variable "
                f"{stray[0]!r} ({stray[0].type}), which is not in non_sequences\n"
                f"    (scan built at {trace})")

    sot_idx = [k for k, (initial, _, _) in enumerate(out_specs) if initial is not None]
    nit_idx = [k for k, (initial, _, _) in enumerate(out_specs) if initial is None]
    # Values carried from step to step are states read one step back, whose rows are kept
    # (the gradient reads them); the loops pass keeps only the last where nothing else is
    # read. They follow the outputs' states.
    n_out = len(outputs)
    inner_out = ([inner_outputs[k] for k in sot_idx] + inner_outputs[n_out:n_out + len(carry_vars)]
                 + [inner_outputs[k] for k in nit_idx] + inner_outputs[n_out + len(carry_vars):])
    inner_in = ([p for g in seq_args for p in g] + [p for k in sot_idx for p in sot_args[k]]
                + carry_args + const_args)
    op = Scan(InnerGraph(inner_in, inner_out), [taps for _, taps in seq_specs],
              [out_specs[k][1] for k in sot_idx] + [(-1,)] * len(carry_vars), len(nit_idx), 0,
              len(free), as_while=cond is not None, exact_steps=n_steps is None, name=name,
              truncate_gradient=truncate)

    if n_steps is not None:
        if isinstance(n_steps, numbers.Integral) and not isinstance(n_steps, bool) \
                and n_steps <= 0:
            raise ExprcValueError(f"scan {name!r}: n_steps must be positive, got {n_steps}")
        steps = as_tensor_variable(n_steps)
        if steps.ndim != 0 or steps.dtype not in INTEGER_DTYPES:
            raise ExprcTypeError(f"scan {name!r}: n_steps must be an int or a 0-d integer "
                                 f"tensor, got {steps.type}\n    (scan built at {trace})")
        steps = cast(steps, "int64")
    elif seq_specs:
        x, taps = seq_specs[0]
        steps = x.shape[0] - (max(taps) - min(taps))
    else:
        raise ExprcTypeError(f"scan {name!r}: without sequences, the number of steps "
                             f"(n_steps) must be given\n    (scan built at {trace})")
    inits = []
    for k in sot_idx:
        initial, taps, leading = out_specs[k]
        inits.append(initial if leading else shape_padleft(initial))
    inits += [shape_padleft(sv) for sv in carry_vars]
    node = op.make_node(steps, *[x for x, _ in seq_specs], *inits, *free)
    compute_test_values(node)
    results = [None] * len(outputs)
    for j, k in enumerate(sot_idx):
        depth = -min(out_specs[k][1])
        results[k] = node.outputs[j][depth:]
    n_sot = len(sot_idx) + len(carry_vars)
    for j, k in enumerate(nit_idx):
        results[k] = node.outputs[n_sot + j]
    for k, entry in enumerate(info):
        keep = entry.get("return_steps") if isinstance(entry, Mapping) else None
        if keep is not None:  # Theano's (deprecated) way to return only the last steps
            results[k] = results[k][-int(keep):]
    for r in results:
        r.tag.trace = trace
    updates = ScanUpdates()
    finals = [buf[-1] for buf in node.outputs[len(sot_idx):n_sot]]
    for sv, final in zip(carry_vars, finals):
        updates[sv] = final
        if sv not in dict(update_pairs):
            # A generator state drawn inside the loop: its default update (an expression of
            # the loop's placeholders) becomes the loop's final state.
            sv.default_update = final
    # function() refuses another update of these shared variables (one would be lost).
    node.loop_updates = list(updates.items())
    if len(results) == 1 and not return_list:
        return results[0], updates
    return results, updates


def loops_on(scan_fn: Callable) -> tuple[Callable, Callable, Callable, Callable]:
    """Theano's ``map``, ``reduce``, ``foldl`` and ``foldr`` built on ``scan_fn`` (a function
    with :func:`scan`'s signature): exprc's own on :func:`scan`, and the Theano compatibility
    layer's on its variant."""

    def map(fn: Callable, sequences: Any, non_sequences: Any = None,
            truncate_gradient: int = -1, go_backwards: bool = False, mode: Any = None,
            name: str | None = None):
        """``fn`` applied to each step of ``sequences`` (a scan with no fed-back outputs);
        returns ``(outputs, updates)``."""
        return scan_fn(fn, sequences=sequences, outputs_info=None,
                       non_sequences=non_sequences, truncate_gradient=truncate_gradient,
                       go_backwards=go_backwards, mode=mode, name=name or "map")

    def reduce(fn: Callable, sequences: Any, outputs_info: Any, non_sequences: Any = None,
               go_backwards: bool = False, mode: Any = None, name: str | None = None):
        """Fold ``fn`` over ``sequences``: a scan that returns only each output's last
        value; returns ``(outputs, updates)``."""
        outputs, updates = scan_fn(fn, sequences=sequences, outputs_info=outputs_info,
                                   non_sequences=non_sequences, go_backwards=go_backwards,
                                   mode=mode, name=name or "reduce", return_list=True)
        last = [o[-1] for o in outputs]
        return (last[0] if len(last) == 1 else last), updates

    def foldl(fn: Callable, sequences: Any, outputs_info: Any, non_sequences: Any = None,
              mode: Any = None, name: str | None = None):
        """``reduce`` from the first step to the last."""
        return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=False,
                      mode=mode, name=name or "foldl")

    def foldr(fn: Callable, sequences: Any, outputs_info: Any, non_sequences: Any = None,
              mode: Any = None, name: str | None = None):
        """``reduce`` from the last step to the first."""
        return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=True,
                      mode=mode, name=name or "foldr")

    return map, reduce, foldl, foldr


map, reduce, foldl, foldr = loops_on(scan)
