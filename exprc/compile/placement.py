"""Where the nodes of a compiled function run (:meth:`exprc.Function.placement`)."""

from __future__ import annotations

from collections import Counter


class Placement(list):
    """The nodes of a compiled function and where each runs, in execution order.

    A list of ``(description, where)`` pairs; ``where`` is ``'c'`` (compiled into the C
    function), ``'python'`` (an op written in Python, called back from the C function) or
    ``'python (reference)'`` (the reference executor runs every node in Python). ``str()``
    (and ``print``) shows it as a table, with a count per place.

    Examples
    --------
    >>> p = Placement([("0: Elemwise{exp}", "c"), ("1: DoubleOp", "python")])
    >>> p.counts()
    {'c': 1, 'python': 1}
    >>> print(p)
    where   node
    c       0: Elemwise{exp}
    python  1: DoubleOp
    (1 c, 1 python)
    """

    def counts(self) -> dict[str, int]:
        """How many nodes run in each place."""
        return dict(Counter(where for _, where in self))

    def __str__(self) -> str:
        width = max([len("where"), *(len(where) for _, where in self)])
        lines = [f"{'where':<{width}}  node"]
        lines += [f"{where:<{width}}  {node}" for node, where in self]
        lines.append("(" + ", ".join(f"{n} {where}" for where, n in self.counts().items())
                     + ")")
        return "\n".join(lines)
