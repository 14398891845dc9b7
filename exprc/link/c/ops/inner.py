"""C code running an inner graph once inside its node's code (a branch, a graph made an op).

The block's inputs are struct copies of the outer arrays with no owner, so that the block never
releases or takes over the caller's buffers; each output becomes the node's output by taking
over its buffer when the block made it and nobody else holds it, else by a contiguous copy
(an input, a constant, or a value shared with another output). The block's own failure path
releases what it holds before the node's.
"""

from __future__ import annotations

from collections.abc import Sequence

from exprc.link.c.program import InnerBlock, NodeContext, itemsize


def run_block(ctx: NodeContext, block: InnerBlock, sources: Sequence[str],
              outputs: Sequence[str], done: str) -> list[str]:
    """Lines running ``block`` on the outer arrays ``sources`` into the node's ``outputs``
    (output ``j`` of the block into ``outputs[j]``), then jumping to the label ``done``."""
    lines = [block.declarations()]
    lines += [f"{name} = {src}; {name}.owner = NULL;" for name, src in zip(block.inputs, sources)]
    lines += ["{", block.body(), "}"]
    for j, (out, new) in enumerate(zip(outputs, block.outputs)):
        size = itemsize(block.inner.outputs[j].dtype)
        lines += [f"if ({new}.owner != NULL && exprc_refs({new}.owner) == 1) {{",
                  f"    exprc_retain({new}.owner); {out} = {new};",
                  f"}} else if (exprc_copy_contiguous(&pool, &{out}, &{new}, {size}, error, "
                  f"{ctx.index})) goto {block.fail_label};"]
    lines += [block.release_outputs(), f"goto {done};",
              f"{block.fail_label}:", block.release_all(), "goto fail;"]
    return [line for line in lines if line]


def indent(lines: Sequence[str]) -> str:
    text = "\n".join(lines)
    return "\n".join("    " + line if line else line for line in text.splitlines())
