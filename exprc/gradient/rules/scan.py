"""Gradient of the loop op: backpropagation through time, as a second loop running backwards.

For a loop of ``n`` steps, the gradient is a loop over the same steps in reverse order whose
step ``s`` handles forward step ``t = n - 1 - s``:

- it reads, as sequences, the values the forward step read (each sequence and state at each
  tap, taken from the forward buffers) and the gradients arriving at that step's outputs;
- it rebuilds the forward step on those values and differentiates it (:func:`Lop`), given
  the total gradient of each state's new row: the gradient from outside plus what the later
  steps sent back, which the reverse loop carries as one state per forward state and tap
  (the step that read row ``t`` at tap ``-d`` ran ``d`` reverse steps earlier);
- its outputs are the gradients of the sequences' slices (one row per step, added into place
  afterwards), the gradients sent back to earlier state rows, and running sums for the
  loop's constants.

The rows sent back past the first step are the gradient of the initial rows. With
``truncate_gradient = k`` the reverse loop runs over the last ``k`` steps only. Being an
ordinary loop built by :func:`~exprc.tensor.scan_builder.scan`, the gradient can be
differentiated again.
"""

from __future__ import annotations

from exprc.gradient.table import DISCONNECTED, GRAD, NullGrad
from exprc.gradient.walk import grad
from exprc.graph.inner import InnerGraph
from exprc.graph.traversal import ancestors, clone_replace, toposort
from exprc.tensor.basic import alloc, join, zeros_like
from exprc.tensor.elemwise import Elemwise
from exprc.tensor.math import maximum, minimum
from exprc.tensor.scan import Scan
from exprc.tensor.scan_builder import scan
from exprc.tensor.shape import Shape, shape
from exprc.tensor.subtensor import inc_subtensor
from exprc.tensor.type import DISCRETE_DTYPES
from exprc.tensor.variable import as_tensor_variable


def _float(var) -> bool:
    return var.dtype not in DISCRETE_DTYPES


@GRAD.register(Scan)
def scan_grad(node, output_grads):
    op = node.op
    roles = op.roles
    if op.as_while:
        reason = ("the gradient of a loop with a stop condition (until) is not supported; "
                  "differentiate a loop of a fixed number of steps")
        return [NullGrad(op, reason)] * len(node.inputs)
    if any(op.keep):
        reason = "it keeps the last rows of a state only (a rewrite made it, after gradients)"
        return [NullGrad(op, reason)] * len(node.inputs)
    if roles.n_carry and any(_float(v) for v in roles.outer_carries(node.inputs)):
        reason = "it carries a float value without keeping its history"
        return [NullGrad(op, reason)] * len(node.inputs)

    n = node.inputs[0]
    seqs, inits = roles.outer_seqs(node.inputs), roles.outer_inits(node.inputs)
    consts = roles.outer_consts(node.inputs)
    buffers, nit_outs, _ = roles.outer_out_groups(node.outputs)
    g_buffers, g_nits, _ = roles.outer_out_groups(output_grads)
    seq_in, sot_in, _, const_in = roles.inner_groups(op.inner.inputs)
    sot_new, nit_new, _, _ = roles.inner_out_groups(op.inner.outputs)

    steps = n if op.truncate_gradient <= 0 else minimum(n, op.truncate_gradient)
    skipped = n - steps  # forward steps before the ones the reverse loop covers

    # The values of the forward step that its derivative reads (gate activations, say) are
    # kept by the forward loop as extra outputs rather than computed again backwards: the
    # loop below is the forward loop with those outputs added, on the same inputs, which the
    # loops pass makes the one forward loop of the function (scan_subsume).
    residuals, shaped = _residuals(op, consts)
    if residuals or shaped:
        # The shapes go in one integer row per step (one output, however many values).
        shapes = [join(0, *[shape(v) for v in shaped])] if shaped else []
        node = _with_outputs(node, residuals + shapes)
        extra = node.outputs[roles.n_sot + roles.n_nit:
                             roles.n_sot + roles.n_nit + len(residuals) + len(shapes)]
        residual_rows, shape_rows = extra[:len(residuals)], extra[len(residuals):]
    else:
        residual_rows, shape_rows = [], []

    def last_steps(x, first):
        """Rows ``first + skipped .. first + n - 1`` of ``x`` (the steps covered), reversed."""
        return x[first + skipped:first + n][::-1]

    # The reverse loop's sequences: what each forward step read, and the gradients arriving.
    fwd_values = []
    for i, x in enumerate(seqs):
        low = min(op.seq_taps[i])
        fwd_values += [last_steps(x, tap - low) for tap in op.seq_taps[i]]
    for k, buf in enumerate(buffers):
        depth = roles.depth(k)
        fwd_values += [last_steps(buf, depth + tap) for tap in op.sot_taps[k]]
    arriving_state = [last_steps(g, roles.depth(k)) if g is not None and _float(buffers[k])
                      else None for k, g in enumerate(g_buffers)]
    arriving_out = [g[skipped:n][::-1] if g is not None and _float(nit_outs[j]) else None
                    for j, g in enumerate(g_nits)]
    fwd_inputs = [p for group in seq_in for p in group] + [p for g in sot_in for p in g]

    # One state per forward float state and tap: the gradient sent back to that earlier row.
    sent_back = [(k, tap) for k in range(roles.n_sot) if _float(buffers[k])
                 for tap in op.sot_taps[k]]
    summed = [j for j, w in enumerate(consts) if _float(w)]
    seq_slices = [(i, tap) for i, x in enumerate(seqs) if _float(x) for tap in op.seq_taps[i]]
    kept = [rows[skipped:n][::-1] for rows in residual_rows + shape_rows]
    sequences = fwd_values + kept + [g for g in arriving_state if g is not None] \
        + [g for g in arriving_out if g is not None]
    outputs_info = (
        [_zero_rows(inits[k], -tap) for k, tap in sent_back]
        + [zeros_like(consts[j]) for j in summed]
        + [None] * len(seq_slices))

    undefined: dict = {}  # position in the step's wrt -> NullGrad

    def step(*args):
        pos = len(fwd_values)
        values = list(args[:pos])
        kept_values = list(args[pos:pos + len(kept)])
        pos += len(kept)
        n_states = sum(g is not None for g in arriving_state)
        states = list(args[pos:pos + n_states])
        pos += n_states
        n_outs = sum(g is not None for g in arriving_out)
        outs = list(args[pos:pos + n_outs])
        pos += n_outs
        arrived_state = iter(states)
        arrived_out = iter(outs)
        back = list(args[pos:pos + len(sent_back)])
        pos += len(sent_back)
        sums = list(args[pos:pos + len(summed)])
        replace = dict(zip(fwd_inputs, values))
        # The loop's constants enter as stand-ins of their own, differentiated one by one:
        # two of them may be computed from each other outside (``W`` and ``W.T``), and the
        # outer walk adds up what flows back through that. The stand-ins become the outer
        # values once the step is built.
        stand_ins = [w.type() for w in consts]
        replace.update(zip(const_in, stand_ins))
        memo = _clone_map(sot_new + nit_new, replace)
        rebuilt = [memo.get(id(v), replace.get(v, v)) for v in sot_new + nit_new]
        known = {}
        for k in range(roles.n_sot):
            if not _float(buffers[k]):
                continue
            total = next(arrived_state) if arriving_state[k] is not None else None
            for (kk, _), b in zip(sent_back, back):
                if kk == k:
                    total = b if total is None else total + b
            if total is not None:
                _add_known(known, rebuilt[k], total)
        for j in range(roles.n_nit):
            if arriving_out[j] is not None:
                _add_known(known, rebuilt[roles.n_sot + j], next(arrived_out))
        wrt = ([values[fwd_inputs.index(sot_in[k][sot_taps_index(op, k, tap)])]
                for k, tap in sent_back]
               + [stand_ins[j] for j in summed]
               + [values[fwd_inputs.index(seq_in[i][op.seq_taps[i].index(tap)])]
                  for i, tap in seq_slices])
        if not known:
            grads = [zeros_like(w) for w in wrt]
        else:
            grads = grad(None, wrt, known_grads=known, disconnected_inputs="ignore",
                         add_names=False, null_gradients="return")
        # The derivative reads the values the forward loop kept instead of computing them
        # again (the copies of the forward step it does not read any more are dropped).
        kept_for = {memo[id(r)]: k for r, k in zip(residuals, kept_values) if id(r) in memo}
        kept_shapes, offset = {}, 0
        for v in shaped:
            if id(v) in memo:
                kept_shapes[id(memo[id(v)])] = kept_values[len(residuals)][offset:offset + v.ndim]
            offset += v.ndim
        if kept_for or kept_shapes:
            defined = [j for j, g in enumerate(grads) if not isinstance(g, NullGrad)]
            swapped = _without_values([grads[j] for j in defined], kept_shapes)
            swapped = clone_replace(swapped, kept_for) if kept_for else swapped
            for j, g in zip(defined, swapped):
                grads[j] = g
        # An undefined gradient (through a random sample, say) is zero inside the loop and
        # undefined outside it: asking for it is an error there, naming the reason.
        for position, g in enumerate(grads):
            if isinstance(g, NullGrad):
                undefined[position] = g
                grads[position] = zeros_like(wrt[position])
        n_back = len(sent_back)
        new_sums = [s + g for s, g in zip(sums, grads[n_back:n_back + len(summed)])]
        results = grads[:n_back] + new_sums + grads[n_back + len(summed):]
        return clone_replace(results, dict(zip(stand_ins, consts)))

    if not sent_back and not summed and not seq_slices:
        return _assemble(node, {}, {}, {})
    results, _ = scan(step, sequences=sequences, outputs_info=outputs_info,
                      n_steps=steps, name=f"grad of {op.name}", return_list=True)
    back_rows = dict(zip(sent_back, results[:len(sent_back)]))
    sums = {j: r[-1] for j, r in zip(summed, results[len(sent_back):])}
    slices = dict(zip(seq_slices, results[len(sent_back) + len(summed):]))
    null = {}  # outer input index -> NullGrad
    for position, g in undefined.items():
        if position < len(sent_back):
            null[1 + roles.n_seqs + sent_back[position][0]] = g
        elif position < len(sent_back) + len(summed):
            null[1 + roles.n_seqs + roles.n_sot + roles.n_carry
                 + summed[position - len(sent_back)]] = g
        else:
            null[1 + seq_slices[position - len(sent_back) - len(summed)][0]] = g

    seq_grads = {}
    for i, x in enumerate(seqs):
        if not _float(x):
            continue
        g = zeros_like(x)
        low = min(op.seq_taps[i])
        for tap in op.seq_taps[i]:
            first = tap - low
            g = inc_subtensor(g[first + skipped:first + n], slices[i, tap][::-1])
        seq_grads[i] = g
    init_grads = {}
    for k, init in enumerate(inits):
        if not _float(init):
            continue
        depth = roles.depth(k)
        g = zeros_like(init)
        if g_buffers[k] is not None:
            g = inc_subtensor(g[:depth], g_buffers[k][:depth])
        for (kk, tap), rows in back_rows.items():
            if kk != k:
                continue
            # rows[s] went back from forward step t = n - 1 - s to row t + depth + tap; the
            # steps t < -tap (the last reverse steps) reach the initial rows, from row
            # depth + tap + skipped on (none of them when truncation skipped those steps).
            start = minimum(maximum(n + tap, 0), steps)
            first = depth + tap + skipped
            g = inc_subtensor(g[first:first + steps - start], rows[start:][::-1])
        init_grads[k] = g
    result = _assemble(node, seq_grads, init_grads, sums)
    for index, g in null.items():
        result[index] = NullGrad(op, f"its gradient flows through {g.op}, and {g.reason}")
    return result


def _zero_rows(init, depth: int):
    """The initial value of a reverse-loop state read ``depth`` steps back: zeros shaped like
    ``depth`` rows of ``init`` (one row without the leading axis for tap -1, as scan takes
    it)."""
    row = zeros_like(init[0])
    if depth == 1:
        return row
    return dict(initial=alloc(row, depth, *[init.shape[d] for d in range(1, init.ndim)]),
                taps=[-depth])


def sot_taps_index(op: Scan, k: int, tap: int) -> int:
    return op.sot_taps[k].index(tap)


def _assemble(node, seq_grads: dict, init_grads: dict, sums: dict) -> list:
    roles = node.op.roles
    result = [DISCONNECTED]
    result += [seq_grads.get(i, DISCONNECTED) for i in range(roles.n_seqs)]
    result += [init_grads.get(k, DISCONNECTED) for k in range(roles.n_sot)]
    result += [DISCONNECTED] * roles.n_carry
    result += [as_tensor_variable(sums[j]) if j in sums else DISCONNECTED
               for j in range(roles.n_const)]
    return result


def _add_known(known: dict, var, g) -> None:
    """Record ``g`` as (part of) the gradient of ``var``: one inner value may be several
    outputs of the step (a state and an output alike), whose gradients add up."""
    known[var] = known[var] + g if var in known else g


def _residuals(op: Scan, consts: list) -> list:
    """The forward step's float values (not inputs, not views, depending on the step's
    inputs) that its derivative reads: building the derivative once on placeholders tells
    which they are."""
    roles = op.roles
    seq_in, sot_in, _, const_in = roles.inner_groups(op.inner.inputs)
    sot_new, nit_new, _, _ = roles.inner_out_groups(op.inner.outputs)
    step_inputs = [p for group in seq_in for p in group] + [p for g in sot_in for p in g]
    outputs = [v for v in sot_new + nit_new if _float(v)]
    if not outputs:
        return [], []
    stand_ins = dict(zip(const_in, [w.type() for w in consts]))
    memo = _clone_map(outputs, stand_ins)
    # An output may be an input passed through (the step returns a state unchanged).
    rebuilt = [memo.get(id(v), stand_ins.get(v, v)) for v in outputs]
    known = {r: r.type() for r in rebuilt}
    wrt = [memo.get(id(p), p) for p in step_inputs if _float(p)]
    if not wrt:
        return [], []
    grads = grad(None, wrt, known_grads=known, disconnected_inputs="ignore",
                 add_names=False, null_gradients="return")
    grads = [g for g in grads if not isinstance(g, NullGrad)]
    original = {id(new): old for old, new in _pairs(op.inner, memo)}
    forward_nodes = {id(memo[id(v)].owner) for v in _inner_values(op.inner)
                     if id(v) in memo and memo[id(v)].owner is not None}
    dependent = _dependent_ids(op.inner, step_inputs)
    chosen: list = []
    shaped: list = []
    for var in ancestors(grads):
        node = var.owner
        if node is None or id(node) in forward_nodes:
            continue
        for position, read in enumerate(node.inputs):
            source = original.get(id(read))
            if source is None or id(source) not in dependent or source.owner is None:
                continue
            if _reads_shape_only(node, position):
                # Only its shape: kept as a small integer row per step, so that the value
                # (and what computes it) need not exist backwards.
                if all(source is not c for c in shaped):
                    shaped.append(source)
                continue
            source = _through_views(source)
            if _float(source) and all(source is not c for c in chosen):
                chosen.append(source)
    return chosen, shaped


def _reads_shape_only(node, position: int) -> bool:
    """Whether ``node`` reads only the shape of its input ``position``: ``x.shape``, and
    ``zeros_like(x)``, which is ``second(x, 0)``."""
    op = node.op
    if isinstance(op, Shape):
        return True
    return (isinstance(op, Elemwise) and op.scalar_op.name == "second" and position == 0
            and node.inputs[1].ndim <= node.inputs[0].ndim)


def _without_values(grads: list, kept_shapes: dict) -> list:
    """``grads`` with every shape-only read of a value in ``kept_shapes`` (``{value: its
    shape, a 1-d int64 tensor}``) answered from the kept shape instead."""
    replace = {}
    for var in ancestors(grads):
        node = var.owner
        if node is None or not node.inputs or id(node.inputs[0]) not in kept_shapes:
            continue
        shape = kept_shapes[id(node.inputs[0])]
        if isinstance(node.op, Shape):
            replace[node.outputs[0]] = shape
        elif _reads_shape_only(node, 0):
            filler = node.inputs[1]
            replace[node.outputs[0]] = alloc(filler, *[shape[d] for d in
                                                       range(node.inputs[0].ndim)])
    return clone_replace(grads, replace) if replace else grads


def _through_views(var):
    """The value ``var`` is a view of (itself when it is not a view)."""
    while var.owner is not None and var.owner.op.view_map:
        sources = [i for ins in var.owner.op.view_map.values() for i in ins]
        var = var.owner.inputs[sources[0]]
    return var


def _inner_values(inner) -> list:
    return [o for n in inner.nodes() for o in n.outputs]


def _dependent_ids(inner, step_inputs) -> set:
    """The ids of the inner values that depend on the step's inputs (not loop-invariant)."""
    dependent = set(map(id, step_inputs))
    for node in toposort(inner.outputs, inner.inputs):
        if any(id(i) in dependent for i in node.inputs):
            dependent.update(id(o) for o in node.outputs)
    return dependent


def _clone_map(outputs, replace: dict) -> dict:
    """``id(original) -> copy`` for every value between the inner inputs and ``outputs``,
    each node applied again to its copied inputs (``replace`` substituted)."""
    memo = {id(k): v for k, v in replace.items()}
    frontier = list(replace)
    for node in toposort(outputs, frontier):
        new_inputs = [memo.get(id(i), i) for i in node.inputs]
        copy = node.clone_with_new_inputs(new_inputs)
        for old, new in zip(node.outputs, copy.outputs):
            memo[id(old)] = new
    return memo


def _pairs(inner, memo: dict) -> list:
    return [(v, memo[id(v)]) for v in _inner_values(inner) if id(v) in memo]


def _with_outputs(node, extra: list):
    """``node``'s loop with the inner values ``extra`` as additional outputs (one row per
    step), applied to the same inputs."""
    op = node.op
    roles = op.roles
    sot_new, nit_new, carry_new, cond = roles.inner_out_groups(op.inner.outputs)
    outputs = sot_new + nit_new + list(extra) + carry_new + ([cond] if cond is not None else [])
    inner = InnerGraph(op.inner.inputs, outputs)
    new_op = Scan(inner, op.seq_taps, op.sot_taps, op.n_nit_sot + len(extra), op.n_carry,
                  op.n_non_seqs, op.as_while, op.exact_steps, op.name, op.truncate_gradient,
                  op.keep)
    return new_op.make_node(*node.inputs)
