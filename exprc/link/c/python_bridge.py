"""The run-time side of nodes that compiled programs run in Python (ops defined by ``perform``).

A program holding such nodes (:mod:`exprc.link.c.ops.python_op`) calls one C function pointer
for each, ``exprc_python_fn``, which is bound when the program is loaded (:func:`attach`) to
one cffi callback per process. cffi takes the GIL for the callback: both ways of calling a
program (the native call path and cffi) release it around the call, so other Python threads
run meanwhile and the callback runs in the calling thread.

The callback finds the program's :class:`PythonNodes` by the address of its ``exprc_state``
(each loaded program has its own), copies the node's inputs into fresh NumPy arrays, runs
``perform`` through :func:`~exprc.link.reference.python_op.run_perform` (the reference
executor's own checks of the results), and copies each result into a buffer it allocates from
the call's free list with the program's ``exprc_python_alloc``. Inputs are copies rather than
views of the program's buffers so that nothing ``perform`` keeps (an input stored on the op,
the frames of a traceback) can outlive the memory it points to.

An exception, whatever its kind, never crosses the C code: the callback keeps it for the
calling thread, reports error kind :data:`PYTHON_ERROR` and returns -1; the program releases
what it holds and returns, and the caller raises :func:`failure`, an exception of the same
kind naming the op and the node, chained to the original (``raise ... from``). Keyboard
interrupts and other exceptions that are not ``Exception`` are raised as they are.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from exprc.errors import ExprcError
from exprc.link.reference import same_kind
from exprc.link.reference.python_op import run_perform

__all__ = ["PYTHON_ERROR", "PythonNodes", "attach", "failure"]

#: The error kind a program reports when a node run in Python raised (the kinds of
#: ``csrc/exprc_abi.h`` end at 4).
PYTHON_ERROR = 5

#: The longest summary written into the program's error message (512 bytes with its end).
_MESSAGE_BYTES = 400

_programs: dict[int, PythonNodes] = {}    # address of a program's exprc_state -> its nodes
_callbacks: dict[int, object] = {}        # id(ffi) -> (ffi, its callback), for good
_callbacks_lock = threading.Lock()
_pending = threading.local()              # .failure: (exception, node, input arrays)


class PythonNodes:
    """The nodes one loaded program runs in Python, and what their callback needs.

    Parameters
    ----------
    module : CModule
        The program, loaded with :data:`~exprc.link.c.program.PYTHON_DECLARATIONS`.
    nodes : list of (int, Apply)
        :attr:`~exprc.link.c.program.GeneratedProgram.python_nodes`.
    """

    def __init__(self, module, nodes: list):
        self.ffi = module.ffi
        self.alloc = module.exprc_python_alloc
        self.nodes = [node for _, node in nodes]
        self.in_dtypes = [[np.dtype(v.dtype) for v in n.inputs] for n in self.nodes]
        self.out_dtypes = [[np.dtype(v.dtype) for v in n.outputs] for n in self.nodes]

    def run(self, slot: int, ins, outs, pool, error, index: int) -> int:
        """Run node ``slot`` from the arrays ``ins`` into ``outs``; 0, or -1 with ``error``
        filled (an exception is kept for :func:`failure`)."""
        node = self.nodes[slot]
        args = [self._copy_in(ins[k], dtype) for k, dtype in enumerate(self.in_dtypes[slot])]
        try:
            # Not fresh: each result is copied into the program's own buffer below.
            results = run_perform(node, args, fresh=False)
        except BaseException as exc:
            _pending.failure = (exc, node, args)
            raise
        for j, (value, dtype) in enumerate(zip(results, self.out_dtypes[slot])):
            out = outs[j]
            out.ndim = value.ndim
            out.shape[0:value.ndim] = value.shape
            if self.alloc(pool, out, dtype.itemsize, error, index) != 0:
                return -1  # out of memory: the program filled the error
            if value.size:
                target = np.frombuffer(self.ffi.buffer(out.data, value.nbytes), dtype)
                np.copyto(target.reshape(value.shape), value)
        return 0

    def _copy_in(self, array, dtype: np.dtype) -> np.ndarray:
        """A fresh C-ordered copy of the program's ``exprc_array`` ``array``."""
        ndim = array.ndim
        shape = tuple(array.shape[0:ndim])
        strides = tuple(array.strides[0:ndim])
        if 0 in shape:
            return np.zeros(shape, dtype)
        low = sum((n - 1) * s for n, s in zip(shape, strides) if s < 0)
        high = sum((n - 1) * s for n, s in zip(shape, strides) if s > 0) + dtype.itemsize
        memory = self.ffi.buffer(array.data + low, high - low)
        view = np.ndarray(shape, dtype, buffer=memory, offset=-low, strides=strides)
        return np.array(view, order="C")


def attach(program, module, state, nodes: list) -> PythonNodes:
    """Bind the callback to the loaded ``module`` and register its nodes for calls with
    ``state``, for as long as ``program`` lives."""
    entry = PythonNodes(module, nodes)
    module.exprc_python_bind(_callback(module.ffi))
    address = int(module.ffi.cast("uintptr_t", state))
    _programs[address] = entry
    weakref.finalize(program, _detach, address, entry)
    return entry


def _detach(address: int, entry: PythonNodes) -> None:
    if _programs.get(address) is entry:
        del _programs[address]


def _callback(ffi):
    """The process's callback for programs loaded through ``ffi`` (made once)."""
    with _callbacks_lock:
        made = _callbacks.get(id(ffi))
        if made is None:
            def run(state, slot, ins, outs, pool, error, index):
                return _run(ffi, state, slot, ins, outs, pool, error, index)

            made = _callbacks[id(ffi)] = (ffi, ffi.callback("exprc_python_fn", run, error=-1,
                                                            onerror=_lost))
        return made[1]


def _run(ffi, state, slot, ins, outs, pool, error, index) -> int:
    try:
        entry = _programs.get(int(ffi.cast("uintptr_t", state)))
        if entry is None:
            raise ExprcError("internal error: a compiled program called a Python node after "
                             "it was discarded")
        if entry.ffi is not ffi:
            # The library is shared with a program loaded through another FFI, whose callback
            # it was bound to last: the pointers are the same, their cffi types are not.
            cast = entry.ffi.cast
            ins, outs = cast("exprc_array **", ins), cast("exprc_array **", outs)
            pool, error = cast("exprc_pool *", pool), cast("exprc_error *", error)
        return entry.run(slot, ins, outs, pool, error, index)
    except BaseException as exc:
        error.kind = PYTHON_ERROR
        error.node = index
        failed = getattr(_pending, "failure", None)
        if failed is None or failed[0] is not exc:
            _pending.failure = (exc, None, [])
        summary = f"{type(exc).__name__} in a node run in Python".encode()[:_MESSAGE_BYTES]
        ffi.memmove(error.message, summary + b"\0", len(summary) + 1)
        return -1


def _lost(kind, value, traceback) -> None:
    # Only reached if reporting an error itself failed: keep the error for the caller.
    _pending.failure = (value, None, [])


def failure(message: str) -> BaseException:
    """The exception to raise for a program that reported :data:`PYTHON_ERROR`, in the thread
    whose call failed; ``message`` is the program's, with its context after the first line."""
    failed = getattr(_pending, "failure", None)
    _pending.failure = None
    if failed is None:
        return ExprcError(f"a node run in Python failed, and its exception was lost: {message}")
    exc, node, args = failed
    if not isinstance(exc, Exception):
        return exc  # KeyboardInterrupt, SystemExit: as they were raised
    context = message.partition("\n")[2]
    shown = True
    try:
        lines = [str(exc)]
    except Exception as broken:
        # Its class's __str__ raises: an exception of that class could not show the message
        # either, so it comes out as ExprcError, and the error of __str__ does not replace it.
        shown = False
        lines = [f"(its str() raised {type(broken).__name__}; see the exception it was raised "
                 "from)"]
    if node is not None:
        shapes = ", ".join(f"{a.dtype}{list(a.shape)}" for a in args)
        lines.append(f"    in {type(node.op).__name__}.perform ({node.op} written in Python, "
                     f"called from compiled code) on inputs {shapes}")
    text = "\n".join(lines + ([context] if context else []))
    raised = None
    if shown:
        try:
            raised = same_kind(exc, text)
        except Exception:
            pass  # the class rejects a message with another error than TypeError
    if raised is None or type(raised) is not type(exc):
        # A base class (or ExprcError) stands for the exception's own: name that one first.
        kind = ExprcError if raised is None else type(raised)
        raised = kind(f"{type(exc).__name__}: {text}")
    raised.__cause__ = exc
    return raised
