"""``MonitorMode``: call a function of yours before and after every node.

The rewritten graph is evaluated node by node with the reference executor's rules. Around the
``i``-th node, ``pre_func(i, node, fn)`` and ``post_func(i, node, fn)`` are called, where
``fn.inputs`` and ``fn.outputs`` hold the node's input and output values, each in a list of one
element (a storage cell, as in Theano). A value a callback puts into a cell (an input before
the node runs, an output after it) is the one the rest of the graph reads.

The recipe of Theano's documentation works as it is::

    def detect_nan(i, node, fn):
        for output in fn.outputs:
            if np.isnan(output[0]).any():
                print('*** NaN detected ***', node)
                break

    f = exprc.function([x], T.log(x) * x, mode=MonitorMode(post_func=detect_nan))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from exprc.compile.mode import Mode
from exprc.compile.watch import Observer, WatchedProgram
from exprc.errors import ExprcError
from exprc.graph.ir import Apply

__all__ = ["MonitorMode", "NodeStorage"]


class NodeStorage:
    """What the callbacks of :class:`MonitorMode` receive as ``fn``.

    Attributes
    ----------
    node : Apply
    inputs : list of [value]
        One cell per input of the node, holding its value.
    outputs : list of [value]
        One cell per output: None before the node runs, its value after.
    """

    def __init__(self, node: Apply, args: list):
        self.node = node
        self.inputs = [[value] for value in args]
        self.outputs = [[None] for _ in node.outputs]

    def read(self, cells: list, values: list, variables: list, what: str) -> list:
        """The values now in ``cells``: those a callback replaced are checked against their
        variable's type."""
        read = []
        for k, (cell, value, var) in enumerate(zip(cells, values, variables)):
            if cell[0] is not value:
                value = var.type.filter(cell[0], what=f"{what} {k} of {self.node.op}, as set "
                                                      "by a MonitorMode callback")
            read.append(value)
        return read


@dataclass(frozen=True, init=False)
class MonitorMode(Mode):
    """Evaluate node by node, calling ``pre_func`` before and ``post_func`` after each node.

    Parameters
    ----------
    pre_func, post_func : callable, optional
        Called as ``func(i, node, fn)``: ``i`` the node's position in execution order,
        ``node`` the :class:`~exprc.graph.ir.Apply` node, ``fn`` a :class:`NodeStorage`.
    optimizer : str
        The rewrites that run first (``'fast_run'``, ``'fast_compile'`` or ``'none'``).
        Exclude ``'fusion'`` and ``'inplace'`` (``MonitorMode(...).excluding('fusion',
        'inplace')``) to see each operation as its own node and no value overwritten.
    linker : None or 'reference'
        The nodes always run on the reference executor; no other linker is accepted.
    exclude : tuple of str
        Passes or rules not to run.
    """

    pre_func: Callable | None = None
    post_func: Callable | None = None

    def __init__(self, pre_func: Callable | None = None, post_func: Callable | None = None,
                 optimizer: str = "fast_run", linker: str | None = None,
                 exclude: Sequence[str] = ()):
        if linker not in (None, "reference"):
            raise ExprcError(f"MonitorMode evaluates node by node on the reference executor "
                             f"and takes no other linker, got {linker!r}")
        for func, name in ((pre_func, "pre_func"), (post_func, "post_func")):
            if func is not None and not callable(func):
                raise ExprcError(f"MonitorMode: {name} must be callable, got "
                                 f"{type(func).__name__}")
        settings = {"linker": "reference", "optimizer": optimizer, "exclude": tuple(exclude),
                    "pre_func": pre_func, "post_func": post_func}
        for name, value in settings.items():
            object.__setattr__(self, name, value)  # a frozen dataclass, set once here
        self.__post_init__()

    def link(self, fgraph, original, profile):
        return WatchedProgram(fgraph, lambda: _Monitor(self), profile)


class _Monitor(Observer):
    def __init__(self, mode: MonitorMode):
        self.mode = mode
        self.storage: NodeStorage | None = None

    def before(self, k: int, node: Apply, args: list) -> list:
        self.storage = storage = NodeStorage(node, args)
        if self.mode.pre_func is None:
            return args
        self.mode.pre_func(k, node, storage)
        return storage.read(storage.inputs, args, node.inputs, "input")

    def after(self, k: int, node: Apply, args: list, results: list) -> list:
        storage = self.storage
        for cell, value in zip(storage.outputs, results):
            cell[0] = value
        if self.mode.post_func is None:
            return results
        self.mode.post_func(k, node, storage)
        return storage.read(storage.outputs, results, node.outputs, "output")
