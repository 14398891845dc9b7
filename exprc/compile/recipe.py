"""What a compiled function is built from, and the two ways of building it again: pickling and
:meth:`~exprc.compile.function.Function.copy`.

A function keeps its *recipe*: its inputs (``In``) and outputs (``Out``), the graph they compute
before rewriting (the outputs, then the new values of updated shared variables and of stored
inputs), its shared variables and which of them it updates, its mode, name and options.

Pickling a function pickles the recipe, the shared variables (each with its current value) and
the current values of its stored inputs; nothing tied to one machine (no library, no path). A
load builds the function again from the recipe: it rewrites the graph and compiles it, which
is a hit in the compile cache when this machine compiled the same program before, and a fresh
compile otherwise. A shared variable pickled together with the function (``pickle.dumps((f,
W))``) is one object with the function's after loading, as pickle keeps identities.

A copy starts from the rewritten graph of the original (nothing is rewritten again) and, with
``share_memory=True``, reuses its program as well.
"""

from __future__ import annotations

import copy
import pickle
import warnings
from typing import Any

import numpy as np

from exprc._version import __version__
from exprc.compile.io import In, Out
from exprc.compile.mode import CudaUnavailableWarning, Mode
from exprc.errors import ExprcError, ExprcTypeError, ExprcValueError, user_stacklevel
from exprc.graph.fgraph import FunctionGraph
from exprc.graph.ir import Variable
from exprc.graph.traversal import clone_replace
from exprc.tensor.sharedvar import SharedVariable

__all__ = ["PICKLE_FORMAT", "FunctionMaker", "FunctionPickleError", "copy_function",
           "load_function", "reduce_function"]

#: The layout of a pickled function; a load refuses any other.
PICKLE_FORMAT = 1

_FIELDS = {
    "inputs": list, "outputs": list, "single": bool, "mode": Mode, "name": (str, type(None)),
    "graph_inputs": list, "graph_outputs": list, "shared_vars": list, "update_targets": list,
    "state_inputs": list, "allow_input_downcast": (bool, type(None)), "trust_input": bool,
    "profile": bool,
}
_ITEMS = {"inputs": In, "outputs": Out, "graph_inputs": Variable, "graph_outputs": Variable,
          "shared_vars": SharedVariable, "update_targets": SharedVariable, "state_inputs": In}


class FunctionPickleError(ExprcError, pickle.UnpicklingError):
    """A pickled function cannot be loaded: the data is damaged or was written by a version of
    exprc with another pickle layout."""


# ---------------------------------------------------------------------- pickling
def reduce_function(function) -> tuple:
    """``Function.__reduce__``: rebuild with :func:`load_function` from the recipe and the
    current values of the stored inputs."""
    stored = [(k, function._state[id(inp)].value) for k, inp in enumerate(function.inputs)
              if id(inp) in function._state]
    return (load_function, (PICKLE_FORMAT, __version__, function._recipe, stored))


def load_function(layout: Any, version: Any, recipe: Any, stored: Any):
    """Build a pickled function again (what unpickling calls).

    Raises
    ------
    FunctionPickleError
        When the pickle has another layout or its parts are not what a function is built from.
    """
    if layout != PICKLE_FORMAT:
        raise FunctionPickleError(
            f"this pickled function has layout {layout!r} (written by exprc {version}); exprc "
            f"{__version__} reads layout {PICKLE_FORMAT}. Load it with the exprc that wrote it, "
            "save the values of its shared variables and build the function again")
    _check_recipe(recipe)
    from exprc.compile.function import Function  # this module is what function.py pickles with

    function = Function(**_runnable_here(recipe))
    if not isinstance(stored, list) or not all(
            isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], int)
            and 0 <= item[0] < len(function.inputs) and id(function.inputs[item[0]])
            in function._state for item in stored):
        raise _damaged("the stored input values do not match the function's inputs")
    for k, value in stored:
        function._state[id(function.inputs[k])].value = value
    return function


def _runnable_here(recipe: dict) -> dict:
    """The recipe, with a mode that runs on this machine: a function saved from a GPU loads on
    a machine without one (after a warning saying why) and runs on the CPU."""
    mode = recipe["mode"]
    if mode.linker != "cuda":
        return recipe
    from exprc.link.cuda import default_device
    from exprc.link.cuda.driver import CudaUnavailable

    try:
        default_device()
    except CudaUnavailable as exc:
        warnings.warn(f"this function was compiled for a GPU, and CUDA cannot be used here "
                      f"({exc}): it runs on the CPU", CudaUnavailableWarning,
                      stacklevel=user_stacklevel())
        changed = copy.copy(mode)
        object.__setattr__(changed, "linker", "c")  # a frozen copy, changed before use
        return {**recipe, "mode": changed}
    return recipe


def _damaged(what: str) -> FunctionPickleError:
    return FunctionPickleError(f"the pickled function is damaged: {what}")


def _check_recipe(recipe: Any) -> None:
    if not isinstance(recipe, dict) or set(recipe) != set(_FIELDS):
        raise _damaged(f"its recipe is not a dict with the fields {sorted(_FIELDS)}")
    for field, kind in _FIELDS.items():
        if not isinstance(recipe[field], kind):
            raise _damaged(f"{field} is a {type(recipe[field]).__name__}")
    for field, kind in _ITEMS.items():
        wrong = [item for item in recipe[field] if not isinstance(item, kind)]
        if wrong:
            raise _damaged(f"{field} holds a {type(wrong[0]).__name__}, not a {kind.__name__}")
    inputs, shared = recipe["inputs"], recipe["shared_vars"]
    expected = [i.variable for i in inputs] + shared
    if len(expected) != len(recipe["graph_inputs"]) or any(
            a is not b for a, b in zip(expected, recipe["graph_inputs"])):
        raise _damaged("the graph's inputs are not the function's inputs and shared variables")
    n_results = len(recipe["outputs"]) + len(recipe["update_targets"]) + len(
        recipe["state_inputs"])
    if len(recipe["graph_outputs"]) != n_results:
        raise _damaged(f"the graph has {len(recipe['graph_outputs'])} results for "
                       f"{n_results} outputs and updates")
    if not all(any(s is t for t in shared) for s in recipe["update_targets"]) or not all(
            any(i is j for j in inputs) for i in recipe["state_inputs"]):
        raise _damaged("an updated variable is not one of the function's")


# ---------------------------------------------------------------------- copying
def copy_function(function, share_memory: bool = False, swap: Any = None,
                  delete_updates: bool = False, name: str | None = None,
                  profile: bool | None = None):
    """The implementation of :meth:`~exprc.compile.function.Function.copy`."""
    recipe = dict(function._recipe)
    swap = _checked_swap(function, swap)
    n_out = len(recipe["outputs"])
    if profile is None:
        profile = recipe["profile"]
    # Each input gets its own stored value (as in Theano: a copy's state is its own).
    renewed = {}
    for inp in recipe["inputs"]:
        new = renewed[id(inp)] = copy.copy(inp)
        if id(inp) in function._state:
            new.value = np.array(function._state[id(inp)].value, copy=True)
        if delete_updates:
            new.update = None
    recipe["inputs"] = [renewed[id(i)] for i in recipe["inputs"]]
    recipe["state_inputs"] = ([] if delete_updates
                              else [renewed[id(i)] for i in recipe["state_inputs"]])
    graph_outputs = recipe["graph_outputs"]
    fgraph_outputs = function.fgraph.outputs
    if delete_updates:
        recipe["update_targets"] = []
        graph_outputs, fgraph_outputs = graph_outputs[:n_out], fgraph_outputs[:n_out]
    recipe["graph_outputs"] = clone_replace(graph_outputs, swap) if swap else list(
        graph_outputs)
    recipe["shared_vars"] = [swap.get(s, s) for s in recipe["shared_vars"]]
    recipe["update_targets"] = [swap.get(s, s) for s in recipe["update_targets"]]
    recipe["graph_inputs"] = [i.variable for i in recipe["inputs"]] + recipe["shared_vars"]
    recipe["name"] = name if name is not None else (
        f"{function.name} copy" if function.name else None)
    recipe["profile"] = bool(profile)
    # The rewritten graph is copied, not rewritten again.
    fgraph = FunctionGraph(recipe["graph_inputs"],
                           clone_replace(fgraph_outputs, swap) if swap else fgraph_outputs)
    if share_memory and not delete_updates and recipe["profile"] == function._recipe["profile"]:
        program = function.program  # its buffers and compiled code serve both functions
    else:
        program = recipe["mode"].link(fgraph, (recipe["graph_inputs"], recipe["graph_outputs"]),
                                      recipe["profile"])
    return type(function)(**recipe, compiled=(fgraph, function.rewrite_log, program))


def _checked_swap(function, swap: Any) -> dict:
    if swap is None:
        return {}
    if not isinstance(swap, dict):
        raise ExprcTypeError(f"copy(swap=...) takes a dict of shared variables, got "
                             f"{type(swap).__name__}")
    own = function._recipe["shared_vars"]
    for old, new in swap.items():
        if not any(old is s for s in own):
            raise ExprcValueError(f"copy(swap=...): {old} is not a shared variable of "
                                  f"{function._fname()} (its shared variables: {own})")
        if not isinstance(new, SharedVariable):
            raise ExprcTypeError(f"copy(swap=...): {old} is mapped to {new!r}, which is not a "
                                 "shared variable")
        if new.type != old.type:
            raise ExprcTypeError(f"copy(swap=...): {old} of type {old.type} cannot be swapped "
                                 f"for {new} of type {new.type}")
    return dict(swap)


# ---------------------------------------------------------------------- f.maker
class FunctionMaker:
    """What a function was made from and the graph it runs (Theano's ``f.maker``).

    Attributes
    ----------
    fgraph : FunctionGraph
        The rewritten graph (``.inputs``, ``.outputs``, ``.apply_nodes``, ``.toposort()``).
    inputs : list of In
        The function's inputs, then one ``In`` per shared variable it reads (``implicit``
        and ``shared`` true, ``value`` its container, ``update`` its new value in ``fgraph``
        or None).
    outputs : list of Out
    mode : Mode
    """

    def __init__(self, function):
        self.fgraph = function.fgraph
        self.mode = function.mode
        self.outputs = list(function.outputs)
        recipe = function._recipe
        n_out = len(recipe["outputs"])
        new_values = dict(zip(map(id, recipe["update_targets"]), function.fgraph.outputs[n_out:]))
        self.inputs = list(function.inputs)
        for var in recipe["shared_vars"]:
            described = In(var, value=var.container, update=new_values.get(id(var)))
            described.implicit = described.shared = True
            self.inputs.append(described)

    def __repr__(self) -> str:
        return (f"<FunctionMaker: {len(self.inputs)} inputs, {len(self.outputs)} outputs, "
                f"{len(self.fgraph.apply_nodes)} nodes, mode={self.mode}>")
