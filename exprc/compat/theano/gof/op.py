"""``theano.gof.op``: the base class of ops, exprc's own (:class:`exprc.graph.ir.Op`).

A Theano op written in Python subclasses it with ``__props__``, ``make_node`` (or ``itypes``
and ``otypes``) and ``perform``, and optionally ``grad``/``L_op``, ``R_op``, ``infer_shape``
and ``connection_pattern``; it runs in every mode, a call back into Python from compiled code
(see ``docs/python_ops.md``).
"""

from exprc.graph.ir import Op

__all__ = ["Op"]
