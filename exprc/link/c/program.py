"""The whole-function generator: one C source computing every output of a graph in one call.

The source defines::

    int exprc_run(exprc_state *state, const exprc_array *inputs, exprc_array *outputs,
                  exprc_error *error);

``inputs`` holds the graph's inputs, then its constants (passed as data, see
:attr:`GeneratedProgram.constants`); ``outputs`` receives one fresh contiguous buffer per
output, which the caller owns and frees with ``exprc_free``.

The body is the nodes in topological order; each node's code comes from its op's rule in
:data:`C_CODE`, ``rule(node, ctx) -> str`` (see :class:`NodeContext`). Values are
``exprc_array`` locals named ``v0, v1, ...`` after their position, never after a user's name.
Buffers are reference counted (views and in-place results share their input's buffer) and each
value drops its reference right after its last reader, so the call's free list
(``exprc_pool``) can hand the buffer to a later allocation. The free list outlives the call in
``exprc_state``, so a second call with the same shapes allocates only its outputs.

A node whose op is written in Python (it defines ``perform`` and has no C rule) is a call
back into Python from the generated code (:mod:`exprc.link.c.ops.python_op`); the program
then also exports ``exprc_python_bind`` and ``exprc_python_alloc``
(:data:`PYTHON_DECLARATIONS`, run-time side in :mod:`exprc.link.c.python_bridge`).

Nothing from outside is written into the source as it is. Text (an op's description in a
message or a comment) goes through :func:`c_string` or :func:`c_comment`, which write it from
its UTF-8 bytes; op parameters are plain numbers, which every op class ensures in ``__init__``
(:mod:`exprc.tensor.params`) and the generator checks before asking a rule for code; user
names never reach the source at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from exprc.errors import ExprcError, ExprcTypeError
from exprc.graph.ir import Apply, Variable
from exprc.graph.optable import OpTable
from exprc.link.c.toolchain import PARTS_MARKER
from exprc.link.codegen.loops import ScalarProgram, elemwise_source
from exprc.link.codegen.render import C_TYPES, c_comment, c_literal, typed_name
from exprc.link.codegen.schedule import Schedule
from exprc.tensor.scalar import ScalarOp
from exprc.tensor.subtensor import SliceSpec

__all__ = ["C_CODE", "CUnsupportedError", "GeneratedProgram", "NodeContext", "c_comment",
           "c_literal", "c_string", "format_text", "generate", "index_code", "typed_name"]

#: Op class -> ``rule(node, ctx) -> str``, the C code of one node.
C_CODE = OpTable("C implementation")

_KINDS = {"IndexError": "EXPRC_INDEX_ERROR", "ValueError": "EXPRC_VALUE_ERROR",
          "MemoryError": "EXPRC_MEMORY_ERROR"}


#: Nodes per function in the glue of a large graph (see ``_Generator._chunked``).
CHUNK_NODES = 48

#: Chunk functions from which the glue is split into two parts compiled side by side.
SPLIT_CHUNKS = 8


class CUnsupportedError(ExprcError, NotImplementedError):
    """A graph holds a node the C backend cannot compile (yet)."""


def ctype(dtype: str) -> str:
    """The C type of one element of ``dtype``."""
    return C_TYPES[dtype]


def itemsize(dtype: str) -> int:
    return np.dtype(dtype).itemsize


def index_code(dtype: str) -> int:
    """How ``exprc_index_value`` (``csrc/exprc_runtime.h``) reads an integer of ``dtype``:
    its size in bytes, negated for unsigned types (a reading mode, not a dtype dispatch: see
    ``csrc/README.md``)."""
    size = np.dtype(dtype).itemsize
    return -size if dtype.startswith("uint") else size


def format_text(value) -> str:
    """``str(value)`` as part of the message of :meth:`NodeContext.fail`: plain text with each
    ``%`` doubled, so that printf shows it as written and reads no argument for it.

    Only printf is concerned here: the whole message becomes a C literal in one place
    (:func:`c_string`), which escapes whatever else the text holds.
    """
    return str(value).replace("%", "%%")


def c_string(text: str) -> str:
    """``text`` as a C string literal for a NUL-terminated string (a message, a label).

    The literal is :func:`c_literal`'s, with each NUL character, which would end the string
    early, shown as ``\\x00`` (as Python's ``repr`` shows it).
    """
    return c_literal(str.__str__(text).replace("\0", "\\x00"))


# The conversions the messages of rules use. Anything else after a % (%n writes to memory) is
# a rule's mistake, most likely text passed without format_text.
_CONVERSION = re.compile(r"%(%|s|d|g|lld|llu)")


def _printf_arguments(fmt: str) -> int:
    """How many arguments the printf format ``fmt`` reads; a ``ValueError`` for a ``%`` that
    is not one of the conversions ``%s %d %g %lld %llu`` or ``%%``."""
    if "%" in _CONVERSION.sub("", fmt):
        raise ValueError(f"printf format {fmt!r} holds a % that is not %s, %d, %g, %lld, %llu "
                         "or %%")
    return sum(c != "%" for c in _CONVERSION.findall(fmt))


class NodeContext:
    """What a C rule needs to emit one node's code.

    Attributes
    ----------
    node : Apply
    index : int
        The node's position in the topological order (reported by errors).
    inputs, outputs : list of str
        Names of the ``exprc_array`` locals of the node's inputs and outputs.
    """

    def __init__(self, generator: _Generator, index: int, node: Apply,
                 position: int | None = None):
        self._gen = generator
        self.node = node
        self.index = index
        self.position = index if position is None else position  # in its own schedule
        self.inputs = [generator.schedule.name(v) for v in node.inputs]
        self.outputs = [generator.schedule.name(v) for v in node.outputs]

    def fail(self, kind: str, message_fmt: str, *c_args: str) -> str:
        """A C statement that reports ``kind`` with a printf-style message and returns.

        ``message_fmt`` is plain text holding one printf conversion per C expression of
        ``c_args``; text from elsewhere in it (an op's description) goes through
        :func:`format_text`. The message is written as a literal by :func:`c_string`.

        Raises
        ------
        ExprcError
            When the conversions in ``message_fmt`` do not match ``c_args``.
        """
        try:
            wanted = _printf_arguments(message_fmt)
        except ValueError as exc:
            raise ExprcError(f"C rule of {type(self.node.op).__name__}: {exc}") from None
        if wanted != len(c_args):
            raise ExprcError(f"C rule of {type(self.node.op).__name__}: the message "
                             f"{message_fmt!r} reads {wanted} printf argument(s), but "
                             f"{len(c_args)} were given")
        args = "".join(f", {a}" for a in c_args)
        return (f"{{ exprc_set_error(error, {_KINDS[kind]}, {self.index}, "
                f"{c_string(message_fmt)}{args}); goto {self._gen.fail_label}; }}")

    @property
    def fail_label(self) -> str:
        """The label the node's code jumps to after an error it reported itself."""
        return self._gen.fail_label

    def inner_block(self, inner, tag: str) -> InnerBlock:
        """The code of an inner graph of this node (a loop body, a branch), to be placed in
        the node's own code; ``tag`` tells apart the node's inner graphs."""
        return InnerBlock(self._gen, self.index, inner, f"{self._gen.schedule.prefix}n"
                          f"{self.position}{tag}_")

    def python_slot(self) -> int:
        """Record this node as one that runs in Python; its number among those of the program
        (the ``slot`` the generated call passes back, see :attr:`GeneratedProgram.python_nodes`).
        """
        self._gen.python_nodes.append((self.index, self.node))
        return len(self._gen.python_nodes) - 1

    @property
    def label(self) -> str:
        """The node's op as a C string literal, for the messages of run-time helpers (which
        pass it to printf as an argument, never as a format)."""
        return c_string(str(self.node.op))

    def alloc_output(self, i: int, shape_exprs: Sequence[str]) -> str:
        """Code giving output ``i`` the shape ``shape_exprs`` (C expressions) and a buffer."""
        out = self.outputs[i]
        lines = [f"{out}.ndim = {len(shape_exprs)};"]
        lines += [f"{out}.shape[{d}] = {e};" for d, e in enumerate(shape_exprs)]
        lines.append(self.alloc_shaped(i))
        return "\n".join(lines)

    def alloc_shaped(self, i: int) -> str:
        """Code giving output ``i``, whose ``ndim`` and ``shape`` are set, a buffer."""
        size = itemsize(self.node.outputs[i].dtype)
        return (f"if (exprc_alloc_array(&pool, &{self.outputs[i]}, {size}, error, "
                f"{self.index})) goto fail;")

    def last_read(self, j: int) -> bool:
        """Whether input ``j`` is a value this program computed that no later node reads (it
        is released right after this node) and that this node reads once: its buffer may
        then become an output's, when at run time nothing else holds it
        (``exprc_refs(owner) == 1``), instead of being copied."""
        name = self.inputs[j]
        return (name in getattr(self._gen, "dying_now", ()) and self.inputs.count(name) == 1
                and self._gen.schedule.owns(self.node.inputs[j]))

    def take_over(self, i: int, j: int, size: int) -> str:
        """Code giving output ``i`` input ``j``'s buffer when :meth:`last_read` allows and
        nothing else holds it, else a contiguous copy of input ``j``."""
        out, x = self.outputs[i], self.inputs[j]
        copy = (f"if (exprc_copy_contiguous(&pool, &{out}, &{x}, {size}, error, "
                f"{self.index})) goto fail;")
        if not self.last_read(j):
            return copy
        return "\n".join([
            f"if ({x}.owner != NULL && exprc_refs({x}.owner) == 1) {{",
            f"    {out} = {x}; {x}.owner = NULL;  /* its last reader: the buffer moves */",
            "} else {",
            "    " + copy,
            "}"])

    def view(self, i: int, j: int) -> str:
        """Code making output ``i`` a view of input ``j`` (same buffer, one more reference)."""
        return (f"{self.outputs[i]} = {self.inputs[j]}; "
                f"exprc_retain({self.outputs[i]}.owner);")

    def kernel(self, program: ScalarProgram, scalar_only: bool = False) -> str:
        """The C name of an elementwise loop computing ``program`` (emitted once); with
        ``scalar_only`` a function computing one element, for 0-d operands only."""
        return self._gen.add_kernel(program, scalar_only)

    def include(self, header: str) -> None:
        """Include ``csrc/<header>`` in the source."""
        self._gen.includes.add(_header(header))

    def hot_function(self, params: str, body: str, includes: Sequence[str] = ()) -> str:
        """The C name of a ``void`` function of ``params`` running ``body`` in the hot part.

        Loops worth full optimisation go here rather than inline in the node's code: the hot
        part is compiled with the full flags, the rest of the program (shape checks, calls,
        allocation) quickly (see ``PARTS_MARKER``). Identical functions are emitted once.
        ``includes`` are ``csrc/`` headers the body needs.
        """
        return self._gen.add_hot_function(params, body, tuple(map(_header, includes)))


    def scalar(self, j: int) -> str:
        """A C expression reading input ``j`` (0-d) as its C type."""
        var = self.node.inputs[j]
        return f"(*(const {ctype(var.dtype)} *){self.inputs[j]}.data)"

    def element(self, j: int, k: str) -> str:
        """A C expression reading element ``k`` of the vector input ``j`` as int64."""
        var = self.node.inputs[j]
        return (f"((int64_t)*(const {ctype(var.dtype)} *)({self.inputs[j]}.data + ({k}) * "
                f"{self.inputs[j]}.strides[0]))")


@dataclass
class GeneratedProgram:
    """A generated source and what the caller needs to run it.

    Attributes
    ----------
    source : str
    nodes : list of Apply
        In the order of the ``node`` index that errors report.
    constants : list of ndarray
        Contiguous values passed after the graph inputs.
    output_dtypes : list of str
    kernels : dict of str to ScalarProgram
        The elementwise loops embedded in the source, by C name.
    inner_nodes : list of (int, Apply)
        In a profiling build, the nodes of inner graphs (loop bodies, branches) as
        ``(index of the outer node holding them, node)``; their times follow the outer
        nodes' in ``state->node_ns``.
    python_nodes : list of (int, Apply)
        The nodes run in Python, in the order of the ``slot`` their calls pass, each with the
        index errors report (the outer node's, for a node of an inner graph).
    """

    source: str
    nodes: list
    constants: list
    output_dtypes: list
    kernels: dict = field(default_factory=dict)
    inner_nodes: list = field(default_factory=list)
    python_nodes: list = field(default_factory=list)


# A program is mostly glue (shape checks, allocation, calls) that gains nothing from full
# optimisation but costs most of its compile time, and a few loops that need it. The source is
# one text, so one cache entry, holding its parts behind EXPRC_PART: part 1 (elementwise loops
# and hot functions) is compiled with the full flags, part 2 (exprc_run) and, for a large
# graph, part 3 (half of its chunk functions) quickly, side by side
# (exprc.link.c.toolchain.compile_shared); without EXPRC_PART it is one ordinary unit.
DECLARATIONS = """
typedef struct {
    char *data;
    int64_t ndim;
    int64_t shape[16];
    int64_t strides[16];
    void *owner;
} exprc_array;
typedef struct { int kind; int64_t node; char message[512]; } exprc_error;
typedef struct { int count; void *buffers[64]; } exprc_pool;
typedef struct { int64_t calls; int32_t busy; int32_t keep; exprc_pool pool; void *spare;
                 int64_t *node_ns; } exprc_state;
void exprc_give_back(exprc_state *state, void *buffer);
int exprc_run(exprc_state *state, const exprc_array *inputs, exprc_array *outputs,
              exprc_error *error);
void exprc_free(void *ptr);
void exprc_state_clear(exprc_state *state);
"""
"""cffi's view of ``csrc/exprc_abi.h`` (kept in step with it by a test)."""

PYTHON_DECLARATIONS = """
typedef int (*exprc_python_fn)(exprc_state *state, int64_t slot, const exprc_array *const *ins,
                               exprc_array *const *outs, exprc_pool *pool, exprc_error *error,
                               int64_t node);
void exprc_python_bind(exprc_python_fn fn);
int exprc_python_alloc(exprc_pool *pool, exprc_array *a, int64_t itemsize, exprc_error *error,
                       int64_t node);
"""
"""What a program holding nodes run in Python exports besides :data:`DECLARATIONS`: the
callback of those nodes is bound to it, and the callback allocates their outputs through it,
from the call's free list."""

# The callback's type and a guarded call of it, for every part that runs nodes.
_PYTHON_PRELUDE = """
typedef int (*exprc_python_fn)(exprc_state *state, int64_t slot, const exprc_array *const *ins,
                               exprc_array *const *outs, exprc_pool *free_list, exprc_error *error,
                               int64_t node);
extern exprc_python_fn exprc_python_callback;
static inline int exprc_python_node(exprc_state *state, int64_t slot,
                                    const exprc_array *const *ins, exprc_array *const *outs,
                                    exprc_pool *free_list, exprc_error *error, int64_t node)
{
    exprc_python_fn fn = __atomic_load_n(&exprc_python_callback, __ATOMIC_ACQUIRE);
    if (fn == NULL)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "internal error: no Python callback is bound to this program");
    return fn(state, slot, ins, outs, free_list, error, node);
}
"""

# Defined once, beside exprc_run; a program shared by several loaded functions (the same
# source) is bound to the same process-wide callback by each. No parameter is named "pool":
# in a large program that name is a macro by then (see _chunked).
_PYTHON_DEFINITIONS = """
exprc_python_fn exprc_python_callback = NULL;
EXPRC_EXPORT void exprc_python_bind(exprc_python_fn fn)
{
    __atomic_store_n(&exprc_python_callback, fn, __ATOMIC_RELEASE);
}
EXPRC_EXPORT int exprc_python_alloc(exprc_pool *free_list, exprc_array *a, int64_t itemsize,
                                    exprc_error *error, int64_t node)
{
    return exprc_alloc_array(free_list, a, itemsize, error, node);
}
"""


def generate(inputs: Sequence[Variable], outputs: Sequence[Variable],
             profile: bool = False) -> GeneratedProgram:
    """The C source of the graph from ``inputs`` to ``outputs``.

    With ``profile``, each node adds the nanoseconds it took to ``state->node_ns[node]``
    (when the caller gave the state such an array).

    Raises
    ------
    CUnsupportedError
        When a node's op has no C rule, or its rule does not cover the node.
    """
    from exprc.link.c import ops  # noqa: F401  (the rules register themselves on import)

    return _Generator(list(inputs), list(outputs), profile).run()


class InnerBlock:
    """The code of an inner graph inside the code of the node that owns it.

    Its values are C locals of the node's block named with a prefix of their own, its nodes'
    code is the same rules' code as anywhere else, and every error inside it reports the outer
    node's index and jumps to :attr:`fail_label`, where the owner releases what the block holds
    (:meth:`release_all`) before going on to its own failure path. Between two runs of the body
    (two steps of a loop) its values drop their buffers at their last use as outer values do,
    so the buffers of one step serve the next.

    Attributes
    ----------
    inputs, outputs : list of str
        The locals the owner fills before the body, and reads after it.
    fail_label : str
    """

    def __init__(self, parent: _Generator, index: int, inner, prefix: str):
        self.schedule = parent.schedule.inner(inner.inputs, inner.outputs, prefix)
        self._gen = parent.child(self.schedule, f"{prefix}fail", index)
        self.inner = inner
        self.inputs = [self.schedule.name(v) for v in inner.inputs]
        self.outputs = [self.schedule.name(v) for v in inner.outputs]
        self.fail_label = self._gen.fail_label

    def declarations(self) -> str:
        """Declarations of the block's locals, all zeroed (no buffer held)."""
        names = list(dict.fromkeys(self.inputs + self.schedule.internal))
        return "\n".join(f"exprc_array {v}; memset(&{v}, 0, sizeof {v});" for v in names)

    def body(self) -> str:
        """The nodes' code, computing :attr:`outputs` from :attr:`inputs`."""
        return "\n".join(self._gen.node_parts())

    def owned(self, j: int) -> bool:
        """Whether output ``j`` is a value the block computed (rather than an input or a
        constant it passes through)."""
        return self.schedule.owns(self.inner.outputs[j])

    def release_outputs(self) -> str:
        """Code dropping the outputs' buffers (once each), after the owner read them."""
        names = dict.fromkeys(n for j, n in enumerate(self.outputs) if self.owned(j))
        return "\n".join(f"exprc_release(&pool, {v}.owner); {v}.owner = NULL;" for v in names)

    def release_all(self) -> str:
        """Code dropping every buffer the block holds (its failure path)."""
        return "\n".join(f"exprc_release(&pool, {v}.owner); {v}.owner = NULL;"
                         for v in self.schedule.internal)


class _Generator:
    def __init__(self, inputs: list[Variable], outputs: list[Variable], profile: bool = False):
        self.inputs = inputs
        self.outputs = outputs
        self.profile = profile
        self.schedule = Schedule(inputs, outputs)
        self.nodes = self.schedule.nodes
        self.fail_label = "fail"
        self.fixed_index: int | None = None
        self.inner_nodes: list[tuple[int, Apply]] = []  # shared with every child
        self.python_nodes: list[tuple[int, Apply]] = []  # shared with every child
        self.kernels: dict[str, ScalarProgram] = {}
        self._kernel_names: dict[tuple, str] = {}
        self.scalar_kernels: set[str] = set()
        self.includes: set[str] = set()
        self._hot_names: dict[tuple, str] = {}
        self.hot_definitions: list[str] = []
        self.hot_prototypes: list[str] = []
        self.hot_includes: set[str] = set()

    def child(self, schedule: Schedule, fail_label: str, index: int) -> _Generator:
        """A generator of an inner graph's code: it shares this one's kernels, hot functions
        and includes, names values by ``schedule``, and reports every error as node
        ``index`` through ``fail_label``."""
        child = _Generator.__new__(_Generator)
        child.__dict__.update(self.__dict__)
        child.schedule, child.nodes = schedule, schedule.nodes
        child.inputs, child.outputs = schedule.inputs, schedule.outputs
        child.fail_label, child.fixed_index = fail_label, index
        return child

    def add_kernel(self, program: ScalarProgram, scalar_only: bool = False) -> str:
        name = self._kernel_names.get((program, scalar_only))
        if name is None:
            name = self._kernel_names[program, scalar_only] = f"exprc_loop{len(self.kernels)}"
            self.kernels[name] = program
            if scalar_only:
                self.scalar_kernels.add(name)
        return name

    def add_hot_function(self, params: str, body: str, includes: tuple) -> str:
        key = (params, body, includes)
        name = self._hot_names.get(key)
        if name is None:
            name = self._hot_names[key] = f"exprc_hot{len(self._hot_names)}"
            self.hot_includes.update(includes)
            self.hot_prototypes.append(f"void {name}({params});")
            self.hot_definitions.append(f"void {name}({params})\n{{\n{_indent(body, 4)}\n}}")
        return name

    def run(self) -> GeneratedProgram:
        body = self._body()
        source = self._assemble(body)
        return GeneratedProgram(
            source=source, nodes=self.nodes,
            constants=[np.array(c.data, order="C") for c in self.schedule.constants],
            output_dtypes=[v.dtype for v in self.outputs],
            kernels=dict(self.kernels), inner_nodes=list(self.inner_nodes),
            python_nodes=list(self.python_nodes))

    def _body(self) -> list[str]:
        return self.node_parts()

    def node_parts(self) -> list[str]:
        """Each node's code in order, releasing each value after its last reader."""
        dying = self.schedule.released_after()
        parts = []
        for position, node in enumerate(self.nodes):
            self.dying_now = set(dying.get(position, ()))
            k = position if self.fixed_index is None else self.fixed_index
            rule = C_CODE.find(node.op)
            if rule is None:
                raise CUnsupportedError(
                    f"the C backend does not cover {type(node.op).__name__} yet (node {node.op}"
                    f" built at {getattr(node.outputs[0].tag, 'trace', '<unknown>')}); "
                    "compile this function with another linker")
            if C_CODE.registered(node.op) is not None:  # only these write parameters
                _check_parameters(node.op)
            try:
                code = rule(node, NodeContext(self, k, node, position))
            except CUnsupportedError as exc:
                raise CUnsupportedError(
                    f"the C backend does not cover {type(node.op).__name__} yet for this node: "
                    f"{exc} (node {node.op})") from None
            if self.fail_label != "fail":
                # Rules end their error paths with "goto fail;"; inside an inner block that
                # is the block's own label, which releases the block's values first.
                code = code.replace("goto fail;", f"goto {self.fail_label};")
            if self.profile:
                slot = k
                if self.fixed_index is not None:  # an inner node: a slot after the outer ones
                    slot = -1 - len(self.inner_nodes)  # placed once the outer count is known
                    self.inner_nodes.append((k, node))
                code = "\n".join([
                    "{ const int64_t exprc_started = exprc_now_ns();",
                    "{", _indent(code, 4), "}",
                    f"if (exprc_node_ns) exprc_node_ns[{_slot(slot)}] += exprc_now_ns() - "
                    "exprc_started; }"])
            released = [f"    exprc_release(&pool, {v}.owner); {v}.owner = NULL;"
                        for v in dying.get(position, [])]
            # A pending Ctrl-C is looked at before each node: one load (see "interrupts" in
            # csrc/exprc_runtime.h); the fail path releases what the call holds.
            parts.append(f"    {c_comment(f'node {k}: {node.op}')}\n"
                         f"    if (exprc_interrupted(error, {k})) goto {self.fail_label};\n"
                         "    {\n"
                         + _indent(code, 8) + "\n    }\n" + "\n".join(released))
        return parts

    def _assemble(self, body: list[str]) -> str:
        head = elemwise_source(self.kernels, scalar_only=frozenset(self.scalar_kernels)) \
            if self.kernels else (
            "#include <math.h>\n#include <stdbool.h>\n#include <stdint.h>\n"
            '#include "exprc_common.h"\n')
        hot_includes = "".join(f'#include "{h}"\n' for h in sorted(self.hot_includes))
        includes = "".join(f'#include "{h}"\n' for h in sorted(self.includes))
        prototypes = [
            *(f"int {name}(int64_t ndim, const int64_t *shape, char **data, "
              "const int64_t *strides);" for name in self.kernels),
            *self.hot_prototypes]
        n_in = len(self.inputs) + len(self.schedule.constants)
        outs = self._handover()
        python = bool(self.python_nodes)
        if len(body) > CHUNK_NODES:
            frame, chunks, begin, run_body, end = self._chunked(body, n_in)
            release_all = [(f"    for (int k = {n_in}; k < {self.schedule.value_count}; ++k) "
                            "exprc_release(&pool, F->v[k].owner);")]
        else:
            frame, chunks, end = [], [], []
            begin = ["    exprc_pool pool;",
                     *(["    exprc_state *const exprc_caller = state;"] if python else []),
                     *(["    int64_t *const exprc_node_ns = state ? state->node_ns : NULL;"]
                       if self.profile else []),
                     *(f"    exprc_array v{k} = inputs[{k}];" for k in range(n_in)),
                     *(f"    exprc_array {v};" for v in self.schedule.internal),
                     *(f"    memset(&{v}, 0, sizeof {v});" for v in self.schedule.internal)]
            run_body = body
            release_all = [f"    exprc_release(&pool, {v}.owner);" for v in self.schedule.internal]
        # A large glue is cut in two, its first chunk functions compiled apart as part 3.
        apart = len(chunks) // 2 if len(chunks) >= SPLIT_CHUNKS else 0
        third = ["#if !defined(EXPRC_PART) || EXPRC_PART == 3",
                 *(line for chunk in chunks[:apart] for line in chunk), "#endif"] \
            if apart else []
        return "\n".join([
            PARTS_MARKER,
            f"/* parts: {3 if apart else 2} */",
            "#if !defined(EXPRC_PART) || EXPRC_PART == 1",
            head, hot_includes, *self.hot_definitions,
            "#endif",
            "#if !defined(EXPRC_PART) || EXPRC_PART >= 2",
            "#include <math.h>", "#include <stdbool.h>", "#include <stdint.h>",
            '#include "exprc_common.h"', '#include "exprc_runtime.h"', includes,
            *([_PYTHON_PRELUDE] if python else []),
            f"#define EXPRC_INNER_BASE {len(self.nodes)}",
            "#ifdef EXPRC_PART",
            *prototypes,
            "#endif",
            *frame,
            "#endif",
            *third,
            "#if !defined(EXPRC_PART) || EXPRC_PART == 2",
            *(line for chunk in chunks[apart:] for line in chunk),
            *([_PYTHON_DEFINITIONS] if python else []),
            "EXPRC_EXPORT int exprc_run(exprc_state *state, const exprc_array *inputs,",
            "                           exprc_array *outputs, exprc_error *error)",
            "{",
            *begin,
            "    const int owns_state = exprc_pool_begin(state, &pool);",
            f"    memset(outputs, 0, {max(len(self.outputs), 1)} * sizeof *outputs);",
            *run_body,
            "    /* Hand the outputs over: a buffer nobody else holds as it is, else a copy. */",
            *outs,
            *release_all,
            "    exprc_pool_end(state, &pool, owns_state);",
            *end,
            "    return 0;",
            "fail:",
            *release_all,
            f"    for (int k = 0; k < {len(self.outputs)}; ++k) exprc_free(outputs[k].owner);",
            "    exprc_pool_end(state, &pool, owns_state);",
            *end,
            "    return -1;",
            "}",
            "#endif",
            "",
        ])

    def _chunked(self, body: list[str], n_in: int):
        """The pieces of an ``exprc_run`` whose nodes are spread over chunk functions.

        The compiler's optimisation time grows faster than linearly with the size of one
        function, so a large graph's nodes go into functions of ``CHUNK_NODES`` nodes. The
        values live in one heap-allocated frame, and ``#define v7 (F->v[7])`` lets every rule's
        code name them as if they were locals.
        """
        count = self.schedule.value_count
        frame = ["typedef struct {", "    exprc_pool pool;", "    int64_t *exprc_node_ns;",
                 "    exprc_state *exprc_caller;",  # for the nodes run in Python
                 f"    exprc_array v[{count}];", "} exprc_frame;",
                 *(f"#define v{k} (F->v[{k}])" for k in range(count)), "#define pool (F->pool)",
                 "#define exprc_node_ns (F->exprc_node_ns)",
                 "#define exprc_caller (F->exprc_caller)"]
        chunks, calls = [], []
        for c, start in enumerate(range(0, len(body), CHUNK_NODES)):
            signature = f"int exprc_chunk{c}(exprc_frame *F, exprc_error *error)"
            frame.append(signature + ";")  # chunks may sit in another part than exprc_run
            chunks.append([signature, "{", *body[start:start + CHUNK_NODES],
                           "    return 0;", "fail:", "    return -1;", "}"])
            calls.append(f"    if (exprc_chunk{c}(F, error)) goto fail;")
        begin = [
            "    exprc_frame *const F = calloc(1, sizeof *F);",
            ("    if (F == NULL) return exprc_set_error(error, EXPRC_MEMORY_ERROR, -1, "
             '"cannot allocate the frame of a compiled function");'),
            f"    memcpy(F->v, inputs, {max(n_in, 1)} * sizeof *inputs);" if n_in else "",
            "    exprc_node_ns = state ? state->node_ns : NULL;",
            "    exprc_caller = state;"]
        return frame, chunks, begin, calls, ["    free(F);"]

    def _handover(self) -> list[str]:
        """Lines handing each output over: its buffer when nobody else holds it, else a copy
        (always for the caller's arrays and constants)."""
        return [(f"    if (exprc_hand_over(&pool, &outputs[{j}], &{self.schedule.name(var)}, "
                 f"{itemsize(var.dtype)}, {int(not self.schedule.owns(var))}, "
                 "error)) goto fail;")
                for j, var in enumerate(self.outputs)]


_HEADER = re.compile(r"[A-Za-z0-9_]+\.h")


def _header(name: str) -> str:
    """``name``, a header of ``csrc/`` that a rule includes (a plain file name: it is written
    between quotes in an ``#include``)."""
    if type(name) is not str or not _HEADER.fullmatch(name):
        raise ValueError(f"{name!r} is not the file name of a csrc/ header")
    return name


_PLAIN_TYPES = (int, float, bool, str, type(None), type(Ellipsis))


def _is_plain(value) -> bool:
    """Whether ``value`` is made of built-in values only, whose text is their value (scalar
    ops count: rules look them up by name in fixed tables)."""
    if type(value) in _PLAIN_TYPES or isinstance(value, ScalarOp):
        return True
    return type(value) in (tuple, SliceSpec) and all(_is_plain(v) for v in value)


def _check_parameters(op) -> None:
    """Refuse an op holding a parameter that is not plain: rules write parameters into the
    source as numbers, and every op class normalises them in ``__init__``
    (:mod:`exprc.tensor.params`), so only an op that skipped it gets here."""
    for name in op.__props__:
        if not _is_plain(getattr(op, name)):
            raise ExprcTypeError(
                f"{type(op).__name__}: parameter {name} holds a value of type "
                f"{type(getattr(op, name)).__name__} (or one inside it), not plain ints, floats, "
                "bools, strings, None or tuples of those; normalise it in __init__ with "
                "exprc.tensor.params")


def _slot(slot: int) -> str:
    """The index into ``exprc_node_ns`` of a node's time: its own index for an outer node;
    for the ``j``-th inner node (``slot = -1 - j``) a name resolved once the number of outer
    nodes is known (``EXPRC_INNER_BASE``, defined by the program)."""
    return str(slot) if slot >= 0 else f"EXPRC_INNER_BASE + {-1 - slot}"


def _indent(code: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line if line else line for line in code.splitlines())
