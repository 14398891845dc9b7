"""Rules, rule sets, the fixpoint driver and the rewrite log.

A :class:`Rule` either pairs a pattern with a replacement (``rule(...)``, the usual case) or is
a function of one node (``node_rule``) for the few rewrites a pattern cannot say. Rules are
grouped into named sets (``RULE_SETS``); a pass of the pipeline runs one set to a fixpoint
with :func:`run_to_fixpoint`. The driver visits each node once in topological order, revisits
only what a rewrite touched, and stops after a budget proportional to the graph size, so no
rule set can loop forever or blow up compile time.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from exprc.errors import ExprcError
from exprc.graph.fgraph import FunctionGraph, check_compatible
from exprc.graph.ir import Apply, Variable
from exprc.rewriting.patterns import Pattern
from exprc.tensor.elemwise import Elemwise


@dataclass
class Rule:
    """One rewrite: when ``pattern`` matches a node's output (and ``when`` accepts the
    bindings), ``build(**bindings)`` gives the replacement. A rule made with ``node_rule``
    has ``fn(fgraph, node)`` instead, returning replacements for the node's outputs or None;
    a rule that rewrites several nodes at once (fusion) returns a dict ``{old: new}`` over
    any variables of the graph."""

    name: str
    pattern: Pattern | None = None
    build: Callable[..., Variable] | None = None
    when: Callable[..., bool] | None = None
    fn: Callable[[FunctionGraph, Apply], Sequence[Variable | None] | None] | None = None
    keys: tuple = ()

    def apply(self, fgraph: FunctionGraph, node: Apply) -> list | dict | None:
        if self.fn is not None:
            result = self.fn(fgraph, node)
            return result if result is None or isinstance(result, dict) else list(result)
        bound = self.pattern.match(node.outputs[0], {})
        if bound is None or (self.when is not None and not self.when(**bound)):
            return None
        return [self.build(**bound)]


RULE_SETS: dict[str, list[Rule]] = {}


def rule(rule_set: str, name: str, pattern: Pattern, build: Callable[..., Variable],
         when: Callable[..., bool] | None = None) -> Rule:
    """Register a pattern rule in ``rule_set`` and return it."""
    new = Rule(name, pattern=pattern, build=build, when=when, keys=(pattern.root_key(),))
    _register(rule_set, new)
    return new


def node_rule(rule_set: str, name: str, tracks: Sequence[Any]):
    """Decorator registering ``fn(fgraph, node)`` as a rule for nodes whose op is one of the
    classes in ``tracks`` (or an Elemwise of a scalar op named there)."""

    def decorate(fn):
        keys = tuple(("elemwise", t) if isinstance(t, str) else t for t in tracks)
        _register(rule_set, Rule(name, fn=fn, keys=keys))
        return fn

    return decorate


def _register(rule_set: str, new: Rule) -> None:
    rules = RULE_SETS.setdefault(rule_set, [])
    if any(r.name == new.name for r in rules):
        raise ExprcError(f"rule {new.name!r} registered twice in {rule_set!r}")
    rules.append(new)


def node_key(node: Apply) -> tuple:
    """Index keys under which rules for ``node`` are found."""
    if isinstance(node.op, Elemwise):
        return (("elemwise", node.op.scalar_op.name), Elemwise, None)
    return (type(node.op), None)


@dataclass
class RewriteLog:
    """What the optimizer did: per pass, its time and how often each rule fired."""

    passes: list[tuple[str, float, int]] = field(default_factory=list)
    fired: Counter = field(default_factory=Counter)
    rejected: Counter = field(default_factory=Counter)

    def record_pass(self, name: str, seconds: float, nodes_after: int) -> None:
        self.passes.append((name, seconds, nodes_after))

    def summary(self) -> str:
        lines = [f"{name:<20s} {seconds * 1e3:8.2f} ms  {n:5d} nodes"
                 for name, seconds, n in self.passes]
        lines += [f"  {count:5d} x {name}" for name, count in self.fired.most_common()]
        lines += [f"  rejected {count} x {name}" for name, count in self.rejected.items()]
        return "\n".join(lines)


def run_to_fixpoint(fgraph: FunctionGraph, rules: Sequence[Rule], log: RewriteLog,
                    budget_per_node: int = 20) -> None:
    """Apply ``rules`` until none matches, each node visited once plus once per change."""
    index: dict[Any, list[Rule]] = {}
    for r in rules:
        for key in r.keys:
            index.setdefault(key, []).append(r)
    work = deque(fgraph.toposort())
    queued = set(work)
    budget = budget_per_node * len(work) + 1000
    while work:
        node = work.popleft()
        queued.discard(node)
        if node not in fgraph:
            continue
        for r in (r for key in node_key(node) for r in index.get(key, ())):
            replacements = r.apply(fgraph, node)
            if replacements is None:
                continue
            if isinstance(replacements, dict):
                pairs = list(replacements.items())
            else:
                pairs = list(zip(node.outputs, replacements))
            if not _replace(fgraph, pairs, r.name, log):
                continue
            budget -= 1
            if budget < 0:
                warnings.warn(f"rewriting stopped: rule budget exhausted (last rule {r.name})",
                              stacklevel=2)
                return
            for _, var in pairs:
                if var is None:
                    continue
                for touched in [var.owner] + fgraph.client_nodes(var):
                    if touched is not None and touched in fgraph and touched not in queued:
                        queued.add(touched)
                        work.append(touched)
            break


def _replace(fgraph: FunctionGraph, pairs: list, name: str, log: RewriteLog) -> bool:
    # An output nothing reads is skipped: replacing the others may drop its node.
    pairs = [(old, new) for old, new in pairs
             if new is not None and new is not old and fgraph.clients.get(old)]
    if not pairs:
        return False
    try:
        for old, new in pairs:  # check all before changing anything
            check_compatible(old, new, name)
    except ExprcError:
        log.rejected[name] += 1
        return False
    for old, new in pairs:
        # Run-time errors name the user line that built the value a rewrite computes anew.
        if new.owner is not None and getattr(new.tag, "trace", None) == "<rewritten>":
            new.tag.trace = old.tag.trace
    fgraph.replace_all(pairs, reason=name)
    log.fired[name] += 1
    return True


def timed(fn: Callable[[FunctionGraph, RewriteLog], None], name: str):
    """Wrap a pass so that its time and the graph size after it are logged."""

    def run(fgraph: FunctionGraph, log: RewriteLog) -> None:
        start = time.perf_counter()
        fn(fgraph, log)
        log.record_pass(name, time.perf_counter() - start, len(fgraph.apply_nodes))

    return run
