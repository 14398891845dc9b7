"""The graph optimizer: rules, the fixpoint driver, and the pipeline of named passes.

See :mod:`exprc.rewriting.pipeline` for the list of passes and :mod:`exprc.rewriting.engine`
for how rules are written and run.
"""

from exprc.rewriting.engine import RULE_SETS, RewriteLog, Rule, node_rule, rule
from exprc.rewriting.pipeline import PIPELINE, optimize

__all__ = ["RULE_SETS", "RewriteLog", "Rule", "node_rule", "rule", "PIPELINE", "optimize"]
