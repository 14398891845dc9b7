"""The C code of a node whose op is written in Python: a call back into Python.

The fallback of the ``C_CODE`` table: an op class without a registered rule that defines
``perform`` gets, in place of C code, one call of ``exprc_python_node`` (see
:data:`~exprc.link.c.program.PYTHON_DECLARATIONS`). The call passes the node's number among
the program's Python nodes, its input arrays and its output arrays; the callback
(:mod:`exprc.link.c.python_bridge`) takes the GIL, runs ``perform`` on copies of the inputs,
checks the results against the outputs' types and copies them into buffers it allocates from
the call's free list, which the program then owns like any other value. A failure fills the
error and returns non-zero, and the node's code goes to the failure path, which releases
everything the call holds. The rest of the graph stays C: only this node leaves it.
"""

from __future__ import annotations

from exprc.graph.python_op import is_python_op
from exprc.link.c.program import C_CODE, CUnsupportedError, NodeContext
from exprc.link.codegen.render import C_TYPES

#: The most dimensions an array of the C backend has (``EXPRC_MAXDIM``).
_MAXDIM = 16


@C_CODE.register_fallback
def python_rule(op_class: type):
    """The C rule of an op class defining ``perform``: a call back into Python; else None."""
    return python_node if is_python_op(op_class) else None


python_rule.hint = ("an op written in Python defines perform(node, inputs, output_storage), "
                    "which compiled code calls back")


def python_node(node, ctx: NodeContext) -> str:
    if not node.outputs:
        raise CUnsupportedError("a Python op without outputs computes nothing to compile")
    for role, variables in (("input", node.inputs), ("output", node.outputs)):
        for k, var in enumerate(variables):
            dtype = getattr(var.type, "dtype", None)
            shape = getattr(var.type, "shape", None)
            if dtype not in C_TYPES or shape is None or len(shape) > _MAXDIM:
                raise CUnsupportedError(f"{role} {k} of the Python op has type {var.type}; "
                                        f"compiled code passes tensors of up to {_MAXDIM} "
                                        "dimensions only")
    slot = ctx.python_slot()
    ins = ", ".join(f"&{v}" for v in ctx.inputs) or "NULL"
    outs = ", ".join(f"&{v}" for v in ctx.outputs)
    return "\n".join([
        f"const exprc_array *const exprc_py_in[] = {{{ins}}};",
        f"exprc_array *const exprc_py_out[] = {{{outs}}};",
        f"if (exprc_python_node(exprc_caller, {slot}, exprc_py_in, exprc_py_out, &pool, error, "
        f"{ctx.index})) goto fail;"])
