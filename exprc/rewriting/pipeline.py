"""The rewrite pipeline: one readable list of named passes.

Every pass preserves results; each is either a rule set run to a fixpoint or a function over
the whole graph. ``fast_compile`` runs only the passes marked cheap.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from exprc import hooks
from exprc.configuration import config
from exprc.errors import ExprcError, tracing_off
from exprc.graph import testvalues as test_values
from exprc.graph.fgraph import FunctionGraph
from exprc.rewriting import rules  # noqa: F401  (importing the rule modules registers them)
from exprc.rewriting.engine import RULE_SETS, RewriteLog, run_to_fixpoint, timed
from exprc.rewriting.rules import cleanup


@dataclass(frozen=True)
class Pass:
    name: str
    run: Callable[[FunctionGraph, RewriteLog, frozenset], None]
    cheap: bool = False


def _rules(set_name: str) -> Callable:
    def run(fgraph: FunctionGraph, log: RewriteLog, exclude: frozenset) -> None:
        selected = [r for r in RULE_SETS.get(set_name, []) if r.name not in exclude]
        if selected:
            run_to_fixpoint(fgraph, selected, log)

    return run


def _merge(fgraph: FunctionGraph, log: RewriteLog, exclude: frozenset) -> None:
    cleanup.merge(fgraph, log)


def _loops(fgraph: FunctionGraph, log: RewriteLog, exclude: frozenset) -> None:
    """The loop rewrites (``rules/loops.py``) with each inner graph (a loop body, a branch)
    rewritten by this same pipeline, as a graph of its own whose inputs are protected like a
    function's arguments: first by the passes up to ``specialize``, so that the loop rules
    see bodies in normal form (a product read only for its shape no longer counts as read),
    then, after the loop rules, by the rest."""
    _rules("loops_first")(fgraph, log, exclude)
    _rewrite_inner_graphs(fgraph, exclude | _LATE_PASSES)
    _rules("loops")(fgraph, log, exclude)
    _rewrite_inner_graphs(fgraph, exclude | _EARLY_PASSES)


#: The passes before the loop rules and after them (see ``_loops``).
_EARLY_PASSES = frozenset({"merge", "canonicalize", "shape", "stabilize", "specialize"})
_LATE_PASSES = frozenset({"merge_again", "blas", "fusion", "inplace"})


def _rewrite_inner_graphs(fgraph: FunctionGraph, exclude: frozenset) -> None:
    optimizer = getattr(fgraph, "optimizer", "fast_run")
    for node in fgraph.toposort():
        graphs = getattr(node.op, "inner_graphs", None)
        if graphs is None or node not in fgraph:
            continue
        rewritten = []
        for graph in graphs():
            copy = graph.clone()
            inner = FunctionGraph(copy.inputs, copy.outputs, clone=False)
            optimize(inner, optimizer, exclude)
            rewritten.append(type(graph)(inner.inputs, inner.outputs))
        new_node = node.op.with_inner_graphs(rewritten).make_node(*node.inputs)
        for old, new in zip(node.outputs, new_node.outputs):
            new.tag.trace = old.tag.trace  # run-time errors still name the user's line
        fgraph.replace_all(zip(node.outputs, new_node.outputs), reason="inner graphs")


PIPELINE = [
    Pass("merge", _merge, cheap=True),
    Pass("canonicalize", _rules("canonicalize"), cheap=True),
    Pass("shape", _rules("shape")),
    Pass("stabilize", _rules("stabilize")),
    Pass("specialize", _rules("specialize")),
    Pass("loops", _loops, cheap=True),
    Pass("merge_again", _merge, cheap=True),
    Pass("blas", _rules("blas")),
    Pass("fusion", _rules("fusion")),
    Pass("inplace", _rules("inplace")),
]
PASS_NAMES = [p.name for p in PIPELINE]


def optimize(fgraph: FunctionGraph, optimizer: str = "fast_run",
             exclude: Iterable[str] = ()) -> RewriteLog:
    """Run the pipeline (``'fast_run'``: every pass; ``'fast_compile'``: the cheap ones;
    ``'none'``) on ``fgraph`` in place. ``exclude`` names passes or rules to skip."""
    # The nodes rewrites build need no test values (the user's graph was checked when built).
    with test_values.suspended():
        return _optimize(fgraph, optimizer, exclude)


def _optimize(fgraph: FunctionGraph, optimizer: str, exclude: Iterable[str]) -> RewriteLog:
    exclude = frozenset(exclude) | frozenset(filter(None, config.optimizer_excluding.split(":")))
    unknown = {e for e in exclude if e not in PASS_NAMES and not _is_rule(e)}
    if unknown:
        raise ExprcError(f"cannot exclude unknown passes or rules {sorted(unknown)}; passes: "
                         f"{PASS_NAMES}")
    log = RewriteLog()
    fgraph.optimizer = optimizer  # the level inner graphs are rewritten at (the loops pass)
    if optimizer == "none":
        return log
    # Rewriting allocates many small objects and frees few; the cyclic garbage collector
    # would rescan the whole (growing) heap again and again, making large graphs superlinear.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with tracing_off():
            _run_passes(fgraph, optimizer, exclude, log)
    finally:
        if gc_was_enabled:
            gc.enable()
    if config.debug >= 1:
        print(log.summary(), file=sys.stderr)
    return log


def _run_passes(fgraph: FunctionGraph, optimizer: str, exclude: frozenset,
                log: RewriteLog) -> None:
    for p in PIPELINE:
        if p.name in exclude or (optimizer == "fast_compile" and not p.cheap):
            continue
        timed(lambda fg, lg, p=p: p.run(fg, lg, exclude), p.name)(fgraph, log)
        if config.debug >= 2:
            print(f"--- after {p.name}:", file=sys.stderr)
            hooks.GRAPH_PRINTER(fgraph.outputs, file=sys.stderr)


def _is_rule(name: str) -> bool:
    return any(r.name == name for rule_set in RULE_SETS.values() for r in rule_set)
