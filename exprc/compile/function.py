"""``function()``: turn symbolic inputs and outputs into a callable.

Building a function (1) normalises inputs, outputs, updates and givens, checking each with an
error that names the culprit, (2) substitutes the givens, (3) finds the shared variables the
graph reads, (4) hands the graph to the mode's executor. Calling it checks every argument
against its input's type, runs the graph once, and then writes all updates together, so every
update is computed from the values the shared variables had before the call.
"""

from __future__ import annotations

import copy
import threading
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from exprc import hooks
from exprc.compile import recipe
from exprc.compile.io import In, Out
from exprc.compile.mode import Mode, get_mode
from exprc.compile.placement import Placement
from exprc.compile.profiling import FunctionProfile
from exprc.configuration import config
from exprc.errors import ExprcError, ExprcTypeError, ExprcValueError, UnusedInputError
from exprc.graph.ir import Constant, Variable
from exprc.graph.traversal import ancestors, clone_replace, graph_inputs
from exprc.link.c import linker as c_linker
from exprc.tensor.sharedvar import Container, SharedVariable
from exprc.tensor.sparse_type import SparseVariable, matching_sparse
from exprc.tensor.variable import as_tensor_variable


class MissingInputError(ExprcError, ValueError):
    """An output depends on a free variable that is neither an input nor shared."""


def function(inputs: Sequence[Any], outputs: Any = None, mode: str | Mode | None = None,
             updates: Any = None, givens: Any = None,
             no_default_updates: bool | Sequence[Variable] = False, name: str | None = None,
             allow_input_downcast: bool | None = None, on_unused_input: str | None = None,
             trust_input: bool = False, profile: bool | None = None) -> Function:
    """Compile a callable computing ``outputs`` from ``inputs``.

    Parameters
    ----------
    inputs : list of Variable or In
        The arguments of the callable, in order.
    outputs : Variable, list of Variable or Out, optional
        A single output gives a single result, a list gives a list.
    mode : str or Mode, optional
        ``'FAST_RUN'``, ``'FAST_COMPILE'``, ``'REFERENCE'`` or a :class:`Mode`.
    updates : dict or list of (SharedVariable, expression) pairs
        New values of shared variables, all computed from the old values and written together
        after each call.
    givens : dict or list of pairs
        Variables of the graph to replace by other expressions (of the same type) before
        compiling.
    no_default_updates : bool or list
        Ignore the ``default_update`` of all (True) or of the listed shared variables.
    name : str, optional
        Used in error messages and profiles.
    allow_input_downcast : bool, optional
        True: cast arguments to the inputs' dtypes even when precision is lost. None (default):
        only Python floats may be cast down to floatX. False: never lose precision.
    on_unused_input : {'raise', 'warn', 'ignore'}
        What to do with an input no output needs (default 'raise').
    trust_input : bool
        Skip converting and copying arguments that are ndarrays of exactly the input's dtype,
        rank and static sizes. Anything else is still converted or refused, as without
        ``trust_input``: compiled code never reads an argument as another type.
    profile : bool, optional
        Time every node of the program; ``f.profile.summary()`` then prints where the time
        went. Default ``exprc.config.profile``.

    Returns
    -------
    Function

    Examples
    --------
    >>> import numpy as np, exprc, exprc.tensor as T
    >>> x = T.dvector('x')
    >>> acc = exprc.shared(0.0, name='acc')
    >>> f = exprc.function([x], x.sum(), updates=[(acc, acc + x.sum())])
    >>> float(f([1.0, 2.0])), float(acc.get_value())
    (3.0, 3.0)
    """
    inputs, cuts = _cut_at_intermediate_inputs(_as_list(inputs, "inputs"))
    inputs = [i if isinstance(i, In) else In(i) for i in inputs]
    _check_distinct_inputs(inputs)
    single = outputs is not None and not isinstance(outputs, (list, tuple))
    outs = [o if isinstance(o, Out) else Out(o) for o in _as_list(outputs, "outputs")]
    out_vars = [_as_output(o.variable, k) for k, o in enumerate(outs)]
    state_inputs = [i for i in inputs if i.update is not None]
    # A state's new value is fed back unchecked on the next call, so its type must match.
    state_updates = [_matching(i.variable, i.update, f"In update of {i.name or i.variable}")
                     for i in state_inputs]
    update_pairs = _normalise_updates(updates)
    update_pairs += _default_updates(out_vars + [e for _, e in update_pairs] + state_updates,
                                     update_pairs, no_default_updates)
    _check_loop_updates(out_vars + [e for _, e in update_pairs], update_pairs)
    replacements = _normalise_givens(givens)
    for old in cuts.keys() & replacements.keys():
        raise ExprcTypeError(f"{old} is both an input of the function and replaced by givens")
    if cuts and replacements:  # a givens value may read an input that cuts the graph
        keys = list(replacements)
        values = clone_replace([replacements[k] for k in keys], cuts)
        replacements = dict(zip(keys, values))
    replacements.update(cuts)
    computed = clone_replace(out_vars + [e for _, e in update_pairs] + state_updates,
                             replacements)
    explicit = [i.variable for i in inputs]
    shared_vars = _shared_inputs(computed, explicit)
    _check_unused(inputs, computed, on_unused_input or "raise", name)
    return Function(
        inputs=inputs, outputs=outs, single=single, mode=get_mode(mode), name=name,
        graph_inputs=explicit + shared_vars, graph_outputs=computed,
        shared_vars=shared_vars, update_targets=[s for s, _ in update_pairs],
        state_inputs=state_inputs, allow_input_downcast=allow_input_downcast,
        trust_input=trust_input,
        profile=config.profile if profile is None else bool(profile))


def _check_loop_updates(roots: list, update_pairs: list) -> None:
    """Refuse a shared variable updated by two loops of the graph, or by a loop and by
    ``updates=`` with another value: one of the updates would be silently lost."""
    given = dict(update_pairs)
    updated_by: dict = {}
    for var in ancestors(roots):
        node = var.owner
        for shared_var, final in getattr(node, "loop_updates", ()) if node is not None else ():
            other = updated_by.setdefault(shared_var, (node, final))[0]
            if other is not node:
                raise ExprcValueError(
                    f"the shared variable {shared_var} is updated inside two loops, {other.op} "
                    f"and {node.op}; only one of the updates could be kept")
    for shared_var, (node, final) in updated_by.items():
        new = given.get(shared_var)
        if new is not None and new is not final:
            raise ExprcValueError(
                f"the shared variable {shared_var} is updated inside the loop {node.op} (scan "
                f"returned that update) and also by function(updates=...) with {new}; a shared "
                "variable is updated inside a loop or outside it, not both")


class Function:
    """A compiled callable; see :func:`function`.

    Attributes
    ----------
    graph_inputs, graph_outputs : list of Variable
        The graph that runs, after rewriting: explicit inputs then shared variables; outputs
        then the new values of updated shared variables and states.
    fgraph : FunctionGraph
        The rewritten graph (``exprc.printing.debugprint(f)`` shows it).
    rewrite_log : RewriteLog
        Which rewrite passes ran, how long each took, and how often each rule fired.
    profile : FunctionProfile or None
        With ``profile=True``: the calls so far and the time spent in each node.
    """

    def __init__(self, *, inputs, outputs, single, mode, name, graph_inputs, graph_outputs,
                 shared_vars, update_targets, state_inputs, allow_input_downcast, trust_input,
                 profile=False, compiled=None):
        # What the function is built from, before rewriting: pickling and copy() rebuild it
        # from this (see exprc/compile/recipe.py). ``compiled`` (fgraph, rewrite log, program)
        # lets a copy reuse a rewritten graph and its program.
        self._recipe = dict(
            inputs=list(inputs), outputs=list(outputs), single=single, mode=mode, name=name,
            graph_inputs=list(graph_inputs), graph_outputs=list(graph_outputs),
            shared_vars=list(shared_vars), update_targets=list(update_targets),
            state_inputs=list(state_inputs), allow_input_downcast=allow_input_downcast,
            trust_input=trust_input, profile=profile)
        self.inputs = inputs
        self.outputs = outputs
        self.single = single
        self.mode = mode
        self.name = name
        self.graph_inputs = graph_inputs
        self.graph_outputs = graph_outputs
        self.shared_vars = shared_vars
        self.trust_input = trust_input
        self._n_out = len(outputs)
        self._n_updates = len(update_targets)
        self._update_containers = [s.container for s in update_targets]
        self._state = {id(i): Container(_state_value(i), i.variable.type,
                                        f"stored value of input {i.name or i.variable}")
                       for i in inputs if i.value is not None}
        self._state_containers = [self._state[id(i)] for i in state_inputs]
        self._allow_downcast = [i.allow_downcast if i.allow_downcast is not None
                                else allow_input_downcast for i in inputs]
        self._labels = [_input_label(k, i, name) for k, i in enumerate(inputs)]
        self._by_name = {i.name: k for k, i in enumerate(inputs) if i.name is not None}
        if compiled is None:
            if mode.linker == "c":
                c_linker.warm_up()  # overlaps the backend's first-use set-up with the rewrites
            self.fgraph, self.rewrite_log = mode.rewrite(graph_inputs, graph_outputs)
            self.program = mode.link(self.fgraph, (list(graph_inputs), list(graph_outputs)),
                                     profile)
        else:
            self.fgraph, self.rewrite_log, self.program = compiled
        self.graph_outputs = self.fgraph.outputs
        self.profile = FunctionProfile(self) if profile else None
        # The native entry checks exact arrays itself, and compiled programs return fresh
        # output buffers, so a call with well-formed arguments needs no Python-side checks or
        # copies.
        self._native = getattr(self.program, "native", None)
        self._fresh_outputs = self.program.backend in ("c", "cuda")
        self._takes_containers = getattr(self.program, "takes_containers", False)
        self._shared_containers = [s.container for s in shared_vars]
        self._new_value_containers = self._update_containers + self._state_containers
        self._locks = _update_locks(self._new_value_containers, self._shared_containers)

    # ------------------------------------------------------------------ calling
    def __call__(self, *args: Any, **kwargs: Any):
        locks = self._locks
        if not locks:
            if self.profile is not None:
                return self._profiled_call(args, kwargs)
            return self._call(args, kwargs)
        # A call that writes shared state reads, computes and writes it as one step with
        # respect to every other such call on the same variables (see docs/reliability.md).
        # The locks are re-entrant only so that an interrupt cannot strand them; a second
        # updating call in the same thread (from a signal handler run during this call) would
        # get in and lose one of the two updates, so it is refused.
        if getattr(_updating, "active", False):
            raise ExprcError(
                f"{self._fname()} updates shared variables and was called while another call "
                "that updates shared variables runs in the same thread (from a signal handler "
                "or a callback); make the call after the running one returns")
        taken = 0
        try:
            for lock in locks:
                lock.acquire()
                taken += 1
            _updating.active = True
            try:
                if self.profile is not None:
                    return self._profiled_call(args, kwargs)
                return self._call(args, kwargs)
            finally:
                _updating.active = False
        finally:
            for lock in reversed(locks[:taken]):
                lock.release()

    # ------------------------------------------------------------------ pickling and copies
    def __reduce__(self):
        # Pickled as what it is built from; a load builds it again (see compile/recipe.py).
        return recipe.reduce_function(self)

    def __copy__(self) -> Function:
        return self.copy()

    def copy(self, share_memory: bool = False, swap: dict | None = None,
             delete_updates: bool = False, name: str | None = None,
             profile: bool | None = None) -> Function:
        """A new function computing the same graph (Theano's ``Function.copy``).

        The copy starts from this function's rewritten graph, reads and updates the same
        shared variables (unless swapped) and has its own stored input values, initialised
        with this function's current ones.

        Parameters
        ----------
        share_memory : bool
            True: the copy runs this function's program itself, sharing its compiled code and
            intermediate buffers (when the copy keeps the updates and the profiling setting).
            False: the copy gets a program of its own (from the compile cache).
        swap : dict, optional
            Shared variables of this function mapped to other shared variables of the same
            type, which the copy reads and updates instead.
        delete_updates : bool
            The copy updates no shared variable and no stored input.
        name : str, optional
            Default: this function's name followed by ``" copy"``.
        profile : bool, optional
            Default: as this function.

        Examples
        --------
        >>> import exprc, exprc.tensor as T
        >>> x = T.dscalar('x')
        >>> acc, other = exprc.shared(0.0, name='acc'), exprc.shared(10.0, name='other')
        >>> f = exprc.function([x], acc, updates=[(acc, acc + x)])
        >>> g = f.copy(swap={acc: other})
        >>> float(g(1.0)), float(other.get_value()), float(acc.get_value())
        (10.0, 11.0, 0.0)
        """
        return recipe.copy_function(self, share_memory=share_memory, swap=swap,
                                    delete_updates=delete_updates, name=name, profile=profile)

    @property
    def maker(self) -> recipe.FunctionMaker:
        """Theano's ``f.maker``: ``fgraph`` (the rewritten graph), ``inputs`` (the ``In``
        descriptions, the shared variables' last), ``outputs`` and ``mode``."""
        return recipe.FunctionMaker(self)

    @property
    def input_storage(self) -> list:
        """One cell per entry of ``maker.inputs``: the ``Container`` holding an input's stored
        value (None for an input without one: arguments are not kept between calls), then
        each shared variable's container."""
        return ([self._state.get(id(i)) for i in self.inputs]
                + [s.container for s in self.shared_vars])

    def _call(self, args: tuple, kwargs: dict):
        native = self._native
        if native is not None and not kwargs:
            shared = self._shared_containers
            results = native(*args, *[c.value for c in shared]) if shared else native(*args)
            if results is not NotImplemented:
                return self._deliver(results)
        values = self._bind(args, kwargs)
        # A GPU program reads shared values from the device copies their containers keep.
        shared_values = (list(self._shared_containers) if self._takes_containers
                         else [c.value for c in self._shared_containers])
        results = self.program(values + shared_values)
        if self._takes_containers:
            # Outputs come back to the host; new values of shared variables stay on the device.
            results = [r.to_host() if k < self._n_out else r for k, r in enumerate(results)]
        if not self._fresh_outputs:
            protected = values + shared_values
            results = [self._unaliased(r, protected, results[:k], borrow=k < self._n_out and
                                       self.outputs[k].borrow) for k, r in enumerate(results)]
        return self._deliver(results)

    def _profiled_call(self, args: tuple, kwargs: dict):
        started = time.perf_counter()
        result = self._call(args, kwargs)
        self.profile.calls += 1
        self.profile.call_seconds += time.perf_counter() - started
        return result

    def _deliver(self, results: list):
        """Store the new values of updated shared variables and states; return the outputs."""
        n_out = self._n_out
        if len(results) > n_out:
            for container, value in zip(self._new_value_containers, results[n_out:]):
                container.store(value)  # computed for the container's type: no check needed
            del results[n_out:]
        return results[0] if self.single else results

    def _bind(self, args: tuple, kwargs: dict) -> list[np.ndarray]:
        if len(args) > len(self.inputs):
            raise ExprcTypeError(f"{self._fname()} takes {len(self.inputs)} input(s), got "
                                 f"{len(args)}")
        given: list[Any] = list(args) + [_MISSING] * (len(self.inputs) - len(args))
        for key, value in kwargs.items():
            if key not in self._by_name:
                raise ExprcTypeError(f"{self._fname()} has no input named {key!r}; inputs: "
                                     f"{list(self._by_name)}")
            k = self._by_name[key]
            if given[k] is not _MISSING:
                raise ExprcTypeError(f"{self._labels[k]} given twice (by position and name)")
            given[k] = value
        values = []
        for k, (inp, value) in enumerate(zip(self.inputs, given)):
            if value is _MISSING:
                if id(inp) not in self._state:
                    raise ExprcTypeError(f"{self._fname()}: missing {self._labels[k]} "
                                         f"({len(args)} of {len(self.inputs)} given)")
                values.append(self._state[id(inp)].value)
            elif self.trust_input and _is_exactly(value, inp.variable.type):
                values.append(value)  # trusted: no conversion, no copy
            else:
                values.append(inp.variable.type.filter(
                    value, allow_downcast=self._allow_downcast[k], what=self._labels[k]))
        return values

    @staticmethod
    def _unaliased(result: np.ndarray, protected: list, earlier: list, borrow: bool):
        """``result``, copied if it could share memory with an input, a shared value, a
        constant or an earlier result (so nothing the caller gets aliases internal state)."""
        if borrow:
            return result
        if not isinstance(result, np.ndarray):
            # A scipy.sparse matrix (a sparse output): its arrays may be an argument's.
            return result.copy()
        if not result.flags.writeable or any(
                np.may_share_memory(result, other) for other in protected + earlier):
            return result.copy()
        return result

    # ------------------------------------------------------------------ inspection
    def placement(self) -> Placement:
        """Where each node of the optimized graph runs.

        Returns
        -------
        Placement
            A list of ``(description, where)`` pairs, one per node in execution order
            (``"3: Gemm{...}"``); ``where`` is ``'c'`` for a node compiled into the C
            function, ``'python'`` for an op written in Python that the C function calls
            back (see ``docs/python_ops.md``), and ``'python (reference)'`` for every node
            of a function run by the reference executor (every function holding sparse
            matrices is, see ``docs/sparse.md``). ``print(f.placement())`` shows it
            as a table, and ``f.placement().counts()`` counts the nodes of each place.

        Examples
        --------
        >>> import exprc, exprc.tensor as T
        >>> x = T.dvector('x')
        >>> exprc.function([x], T.exp(x).sum()).placement()
        [('0: Elemwise{exp}', 'c'), ('1: Reduce{add, axis=(0,), dtype=float64}', 'c')]
        """
        program = self.program
        if hasattr(program, "placement"):
            return Placement(program.placement())
        # A program of another executor (a debugging mode's) runs its nodes one by one.
        where = "python (reference)" if program.backend == "numpy" else program.backend
        return Placement([(f"{k}: {node.op}", where) for k, node in enumerate(program.nodes)])

    # ------------------------------------------------------------------ state access
    def __getitem__(self, key: Any) -> np.ndarray:
        return self._state[id(self._input(key))].value

    def __setitem__(self, key: Any, value: Any) -> None:
        inp = self._input(key)
        k = self.inputs.index(inp)
        self._state[id(inp)].value = inp.variable.type.filter(
            value, allow_downcast=self._allow_downcast[k], what=self._labels[k])

    def _input(self, key: Any) -> In:
        for inp in self.inputs:
            if key is inp.variable or (isinstance(key, str) and key == inp.name):
                if id(inp) not in self._state:
                    raise ExprcTypeError(f"input {key} has no stored value (give In(value=))")
                return inp
        raise ExprcTypeError(f"{self._fname()} has no input {key}")

    def _fname(self) -> str:
        return f"function {self.name!r}" if self.name else "function"

    def _repr_svg_(self) -> str | None:
        """The function's graph after rewriting as a picture, in a notebook (needs
        Graphviz; ``exprc.printing.pydotprint(f, 'graph.svg')`` writes it to a file)."""
        picture = hooks.GRAPH_PICTURE.installed
        return picture(self) if picture is not None else None

    def __repr__(self) -> str:
        names = ", ".join(str(i.name or i.variable) for i in self.inputs)
        return f"<exprc Function {self.name or ''}({names}) mode={self.mode}>"


_MISSING = object()


# ---------------------------------------------------------------------- normalisation
def _as_list(items: Any, what: str) -> list:
    if items is None:
        return []
    if isinstance(items, (list, tuple)):
        return list(items)
    if what == "inputs":
        raise ExprcTypeError(f"function inputs must be a list of variables, got "
                             f"{type(items).__name__}; write function([x], ...)")
    return [items]


def _as_output(value: Any, k: int) -> Variable:
    if isinstance(value, SparseVariable):
        return value
    try:
        return as_tensor_variable(value)
    except ExprcTypeError as exc:
        raise ExprcTypeError(f"output {k}: {exc}") from None


def _check_distinct_inputs(inputs: list[In]) -> None:
    seen: dict[int, int] = {}
    for k, inp in enumerate(inputs):
        if isinstance(inp.variable, SharedVariable):
            raise ExprcTypeError(
                f"input {k}: shared variable {inp.variable} cannot be an explicit input; its "
                "value is read automatically (use givens= to substitute another value)")
        if id(inp.variable) in seen:
            raise ExprcTypeError(f"input {k} ({inp.variable}) is the same variable as input "
                                 f"{seen[id(inp.variable)]}")
        seen[id(inp.variable)] = k


def _pairs(mapping: Any, what: str) -> list[tuple]:
    if mapping is None:
        return []
    if isinstance(mapping, dict):
        return list(mapping.items())
    try:
        pairs = [tuple(p) for p in mapping]
    except TypeError:
        raise ExprcTypeError(f"{what} must be a dict or a list of pairs") from None
    if any(len(p) != 2 for p in pairs):
        raise ExprcTypeError(f"{what} must be a dict or a list of (variable, value) pairs")
    return pairs


def _normalise_updates(updates: Any) -> list[tuple[SharedVariable, Variable]]:
    result, seen = [], set()
    for target, expr in _pairs(updates, "updates"):
        if not isinstance(target, SharedVariable):
            raise ExprcTypeError(f"updates: {target} is not a shared variable; only shared "
                                 "variables can be updated")
        if id(target) in seen:
            raise ExprcTypeError(f"updates: shared variable {target} is updated twice")
        seen.add(id(target))
        result.append((target, _matching(target, expr, "update")))
    return result


def _matching(target: Variable, expr: Any, what: str) -> Variable:
    """``expr`` as a variable of ``target``'s dtype and rank, or a clear error."""
    if isinstance(target, SparseVariable):
        return matching_sparse(target, expr, what)
    try:
        expr = as_tensor_variable(expr)
    except ExprcTypeError as exc:
        raise ExprcTypeError(f"{what} for {target}: {exc}") from None
    if expr.ndim != target.ndim or expr.dtype != target.dtype:
        hint = (f" (cast it: expr.astype('{target.dtype}'))" if expr.ndim == target.ndim
                else "")
        raise ExprcTypeError(f"{what} for {target} of type {target.type} has type "
                             f"{expr.type}{hint}")
    if expr.type != target.type:
        from exprc.tensor.shape import specify_shape

        expr = specify_shape(expr, target.type.shape)
    return expr


def _default_updates(exprs: list[Variable], explicit: list, no_default_updates) -> list:
    if no_default_updates is True:
        return []
    skip = {id(v) for v in (no_default_updates or [])} | {id(s) for s, _ in explicit}
    return [(v, _matching(v, v.default_update, "default update"))
            for v in ancestors(exprs)
            if isinstance(v, SharedVariable) and v.default_update is not None
            and id(v) not in skip]


def _cut_at_intermediate_inputs(inputs: list) -> tuple[list, dict[Variable, Variable]]:
    """Inputs that are computed by the graph (not free variables) cut it there, as in Theano:
    ``function([y], y * 2)`` with ``y = x + 1`` takes ``y``'s value as an argument and ignores
    how ``y`` is computed. Each such input is replaced by a fresh free variable of its type
    and name; the returned dict maps it to that variable for the graph's substitution."""
    cuts: dict[Variable, Variable] = {}
    result = []
    for item in inputs:
        variable = item.variable if isinstance(item, In) else item
        if (isinstance(variable, Variable) and variable.owner is not None
                and not isinstance(variable, Constant)):
            fresh = cuts.get(variable)
            if fresh is None:
                fresh = cuts[variable] = variable.type(name=variable.name or str(variable))
            if isinstance(item, In):
                item = copy.copy(item)
                item.variable = fresh
            else:
                item = fresh
        result.append(item)
    return result, cuts


def _normalise_givens(givens: Any) -> dict[Variable, Variable]:
    result = {}
    for old, new in _pairs(givens, "givens"):
        if not isinstance(old, Variable):
            raise ExprcTypeError(f"givens: key {old!r} is not a symbolic variable")
        if isinstance(old, Constant):
            raise ExprcTypeError(f"givens: cannot replace the constant {old}")
        result[old] = _matching(old, new, "givens replacement")
    return result


def _shared_inputs(computed: list[Variable], explicit: list[Variable]) -> list[SharedVariable]:
    explicit_ids = {id(v) for v in explicit}
    shared, missing = [], []
    for var in graph_inputs(computed, explicit):
        if id(var) in explicit_ids or isinstance(var, Constant):
            continue
        (shared if isinstance(var, SharedVariable) else missing).append(var)
    if missing:
        described = "; ".join(f"{v} of type {v.type} (created at {v.tag.trace})"
                              for v in missing)
        raise MissingInputError(f"the outputs depend on input(s) not given to function(): "
                                f"{described}. Add them to the inputs list or to givens.")
    return shared


def _check_unused(inputs: list[In], computed: list[Variable], policy: str,
                  name: str | None) -> None:
    if policy not in ("raise", "warn", "ignore"):
        raise ExprcTypeError(f"on_unused_input must be 'raise', 'warn' or 'ignore', got {policy!r}")
    used = {id(v) for v in ancestors(computed)}
    unused = [f"{_input_label(k, i, name)}" for k, i in enumerate(inputs)
              if id(i.variable) not in used]
    if not unused or policy == "ignore":
        return
    message = (f"{', '.join(unused)} not needed to compute the outputs; pass "
               "on_unused_input='warn' or 'ignore' to allow this")
    if policy == "raise":
        raise UnusedInputError(message)
    warnings.warn(message, stacklevel=3)


def _input_label(k: int, inp: In, fname: str | None) -> str:
    name = f" {inp.name!r}" if inp.name else ""
    where = f" of function {fname!r}" if fname else ""
    return f"input{name} (argument {k}){where}"


#: Whether this thread is inside a call that updates shared variables.
_updating = threading.local()


def _update_locks(written: list, read: list) -> list:
    """The locks a call must hold: none for a function that writes no shared state, else those
    of every container it reads or writes, in one global order (by id) so that two functions
    taking overlapping sets cannot deadlock."""
    if not written:
        return []
    containers = {id(c): c for c in [*written, *read]}
    return [containers[key].lock for key in sorted(containers)]


def _is_exactly(value: Any, tensor_type: Any) -> bool:
    """Whether ``value`` is an ndarray the compiled code can read as ``tensor_type`` as it is:
    what ``trust_input`` still checks, since reading another element size or rank would read
    out of bounds."""
    return (isinstance(value, np.ndarray) and value.dtype == tensor_type.dtype
            and value.ndim == tensor_type.ndim
            and all(s is None or s == n for s, n in zip(tensor_type.shape, value.shape)))


def _state_value(inp: In) -> np.ndarray:
    array = inp.variable.type.filter(inp.value, allow_downcast=inp.allow_downcast,
                                     what=f"default value of input {inp.name or inp.variable}")
    return array if inp.borrow or array is not inp.value else array.copy()


hooks.COMPILER.install(function)
