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
from exprc.graph.traversal import clone_replace
from exprc.tensor.basic import alloc, zeros_like
from exprc.tensor.math import maximum, minimum
from exprc.tensor.scan import Scan
from exprc.tensor.scan_builder import scan
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
    sequences = fwd_values + [g for g in arriving_state if g is not None] \
        + [g for g in arriving_out if g is not None]
    outputs_info = (
        [_zero_rows(inits[k], -tap) for k, tap in sent_back]
        + [zeros_like(consts[j]) for j in summed]
        + [None] * len(seq_slices))

    undefined: dict = {}  # position in the step's wrt -> NullGrad

    def step(*args):
        pos = len(fwd_values)
        values = list(args[:pos])
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
        replace.update(zip(const_in, consts))
        rebuilt = clone_replace(sot_new + nit_new, replace)
        known = {}
        for k in range(roles.n_sot):
            if not _float(buffers[k]):
                continue
            total = next(arrived_state) if arriving_state[k] is not None else None
            for (kk, _), b in zip(sent_back, back):
                if kk == k:
                    total = b if total is None else total + b
            if total is not None:
                known[rebuilt[k]] = total
        for j in range(roles.n_nit):
            if arriving_out[j] is not None:
                known[rebuilt[roles.n_sot + j]] = next(arrived_out)
        wrt = ([values[fwd_inputs.index(sot_in[k][sot_taps_index(op, k, tap)])]
                for k, tap in sent_back]
               + [consts[j] for j in summed]
               + [values[fwd_inputs.index(seq_in[i][op.seq_taps[i].index(tap)])]
                  for i, tap in seq_slices])
        if not known:
            grads = [zeros_like(w) for w in wrt]
        else:
            grads = grad(None, wrt, known_grads=known, disconnected_inputs="ignore",
                         add_names=False, null_gradients="return")
        # An undefined gradient (through a random sample, say) is zero inside the loop and
        # undefined outside it: asking for it is an error there, naming the reason.
        for position, g in enumerate(grads):
            if isinstance(g, NullGrad):
                undefined[position] = g
                grads[position] = zeros_like(wrt[position])
        n_back = len(sent_back)
        new_sums = [s + g for s, g in zip(sums, grads[n_back:n_back + len(summed)])]
        return grads[:n_back] + new_sums + grads[n_back + len(summed):]

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
