"""Rewrites of loops (:class:`~exprc.tensor.scan.Scan`), run by the pipeline's ``loops`` pass
before the loops' inner graphs are rewritten themselves.

- ``scan_drop_unused``: outputs nobody reads (and the state they need), and the constants the
  body no longer reads, are removed (unread sequences stay: each carries a length check).
- ``scan_keep_last_only``: a state read back one step (tap -1) whose rows are only read at
  ``[-1]`` after the loop becomes a carried value: the loop keeps one value instead of a row
  per step.
- ``scan_keep_last_rows``: a state of which only the last ``K`` rows are read keeps a ring of
  ``K`` rows.
- ``scan_push_out_products``: a product ``dot(x[t], W)`` of a sequence's row and a loop
  constant becomes one matrix product over the whole sequence before the loop, read row by
  row (one large GEMM instead of one small one per step).
- ``scan_sum_accumulators``: a carried running sum ``acc + f(t)`` whose terms do not depend on
  the sum becomes an output of the terms, summed after the loop (which lets the next rule move
  them out too).
- ``scan_push_out_sum_of_products``: a sum over the steps of ``dot(u[t].T, v[t])``, ``u`` a
  sequence (the gradient of a product with a loop constant, in the gradient's loop), becomes
  one matrix product of the flattened ``u`` and ``v`` after the loop.
- ``scan_subsume``: a loop whose outputs another loop on the same inputs also computes (the
  forward loop, and its copy that keeps what the gradient reads) gives way to that loop.
- ``scan_merge``: two loops over the same steps, neither reading the other, become one.

Loop-invariant work never enters a body in the first place: the builder cuts what the step
function computes from outer values alone out of the body (:func:`exprc.graph.inner.close_over`).
"""

from __future__ import annotations

from exprc.graph.fgraph import OUTPUT
from exprc.graph.inner import InnerGraph
from exprc.graph.traversal import ancestors, clone_replace, equal_computations
from exprc.rewriting.engine import node_rule
from exprc.tensor.elemwise import DimShuffle, Elemwise
from exprc.tensor.linalg import Dot
from exprc.tensor.reduction import Reduce
from exprc.tensor.scan import Scan
from exprc.tensor.subtensor import SliceSpec, Subtensor
from exprc.tensor.type import DISCRETE_DTYPES

RULE_SET = "loops"
#: Run before RULE_SET: loops doing each other's work are found while their inputs are still
#: the same variables (the other rules give each loop inputs of its own).
FIRST_RULE_SET = "loops_first"


class _Parts:
    """A Scan node taken apart into per-role lists of (outer value, inner values), to be put
    together again with some parts removed, moved or added (see :meth:`build`)."""

    def __init__(self, node):
        op = self.op = node.op
        roles = op.roles
        self.node = node
        self.n_steps = node.inputs[0]
        seq_in, sot_in, carry_in, const_in = roles.inner_groups(op.inner.inputs)
        sot_new, nit_new, carry_new, cond = roles.inner_out_groups(op.inner.outputs)
        buffers, nits, finals = roles.outer_out_groups(node.outputs)
        # Each entry: [outer input, inner placeholders, taps]; outputs carry their outer var.
        self.seqs = [[x, ph, op.seq_taps[i]] for i, (x, ph) in
                     enumerate(zip(roles.outer_seqs(node.inputs), seq_in))]
        self.sots = [[init, ph, op.sot_taps[k], new, buf, op.keep[k]]
                     for k, (init, ph, new, buf) in
                     enumerate(zip(roles.outer_inits(node.inputs), sot_in, sot_new, buffers))]
        self.nits = [[new, out] for new, out in zip(nit_new, nits)]
        self.carries = [[init, ph, new, final] for init, ph, new, final in
                        zip(roles.outer_carries(node.inputs), carry_in, carry_new, finals)]
        self.consts = [[w, ph] for w, ph in zip(roles.outer_consts(node.inputs), const_in)]
        self.cond = cond

    def inner_outputs(self) -> list:
        return ([s[3] for s in self.sots] + [n[0] for n in self.nits]
                + [c[2] for c in self.carries] + ([self.cond] if self.cond is not None else []))

    def build(self) -> tuple:
        """The new node, and ``{old outer output: new outer output}`` for the outputs kept."""
        op = self.op
        inner_in = ([p for s in self.seqs for p in s[1]] + [p for s in self.sots for p in s[1]]
                    + [c[1] for c in self.carries] + [w[1] for w in self.consts])
        inner = InnerGraph(inner_in, self.inner_outputs())
        new_op = Scan(inner, [s[2] for s in self.seqs], [s[2] for s in self.sots],
                      len(self.nits), len(self.carries), len(self.consts), op.as_while,
                      op.exact_steps, op.name, op.truncate_gradient, [s[5] for s in self.sots])
        node = new_op.make_node(self.n_steps, *[s[0] for s in self.seqs],
                                *[s[0] for s in self.sots], *[c[0] for c in self.carries],
                                *[w[0] for w in self.consts])
        olds = [s[4] for s in self.sots] + [n[1] for n in self.nits] + [c[3] for c in self.carries]
        mapping = {old: new for old, new in zip(olds, node.outputs) if old is not None}
        return node, mapping


def _used(fgraph, var) -> bool:
    return bool(fgraph.clients.get(var))


def _reads(outputs, placeholders) -> set:
    """The ids of the placeholders the inner ``outputs`` read."""
    wanted = set(map(id, placeholders))
    return {id(v) for v in ancestors(outputs) if id(v) in wanted}


@node_rule(RULE_SET, "scan_drop_unused", [Scan])
def scan_drop_unused(fgraph, node):
    parts = _Parts(node)
    changed = False
    while True:
        dropped = False
        for group, outer_index, ph_of in ((parts.sots, 4, lambda s: s[1]),
                                          (parts.carries, 3, lambda c: [c[1]])):
            for position, entry in reversed(list(enumerate(group))):
                if _used(fgraph, entry[outer_index]):
                    continue
                # Taken out, then put back if the other outputs read it (compared by
                # position: one variable may be several outputs at once).
                del group[position]
                if _reads(parts.inner_outputs(), ph_of(entry)):
                    group.insert(position, entry)
                    continue
                dropped = True
        for entry in list(parts.nits):
            if not _used(fgraph, entry[1]):
                parts.nits.remove(entry)
                dropped = True
        changed |= dropped
        if not dropped:
            break
    # Constants the body no longer reads go; sequences stay even unread: each carries the
    # check of its length against the number of steps (a row view per step costs nothing).
    read = _reads(parts.inner_outputs(), [w[1] for w in parts.consts])
    kept_consts = [w for w in parts.consts if id(w[1]) in read]
    if len(kept_consts) != len(parts.consts):
        changed = True
        parts.consts = kept_consts
    if not changed:
        return None
    if not parts.inner_outputs():
        return None  # nothing read at all: the node itself is dead and goes with its outputs
    _, mapping = parts.build()
    return mapping


def _is_last_row(node, var) -> bool:
    return (isinstance(node.op, Subtensor) and node.op.idx_list == (-1,)
            and node.inputs[0] is var)


def _is_tail(node, var) -> bool:
    """``var[k:]`` with a constant ``k >= 0`` (what scan returns for a state's rows)."""
    if not isinstance(node.op, Subtensor) or node.inputs[0] is not var \
            or len(node.op.idx_list) != 1:
        return False
    entry = node.op.idx_list[0]
    return (isinstance(entry, SliceSpec) and entry.stop is None and entry.step is None
            and (entry.start is None or (isinstance(entry.start, int) and entry.start >= 0)))


def _reads_only_last(fgraph, var) -> list | None:
    """The nodes reading the last row of ``var``, when that is all that is read of it
    (``var[-1]``, or ``var[k:][-1]``); else None."""
    readers = []
    for client, _ in fgraph.clients.get(var, {}):
        if client == OUTPUT:
            return None
        if _is_last_row(client, var):
            readers.append(client)
        elif _is_tail(client, var):
            tail = client.outputs[0]
            inner = _reads_only_last(fgraph, tail)
            if inner is None:
                return None
            readers += inner
        else:
            return None
    return readers or None


@node_rule(RULE_SET, "scan_keep_last_only", [Scan])
def scan_keep_last_only(fgraph, node):
    parts = _Parts(node)
    for entry in parts.sots:
        init, placeholders, taps, new, buf, keep = entry
        if taps != (-1,) or keep:
            continue
        readers = _reads_only_last(fgraph, buf)
        if readers is None:
            continue
        parts.sots.remove(entry)
        parts.carries.append([init[0], placeholders[0], new, None])
        new_node, mapping = parts.build()
        final = new_node.outputs[-1]
        mapping.update({r.outputs[0]: final for r in readers})
        return mapping
    return None


def _last_rows_read(fgraph, var) -> tuple[int, list, list] | None:
    """``(K, readers, tails)`` when all that is read of ``var`` is among its last ``K`` rows:
    ``var[-j]`` and ``var[-m:]`` directly (``readers``), or through scan's own slice
    ``var[d:]`` (``tails``) read the same way; else None."""
    count, readers, tails = 0, [], []
    for client, _ in fgraph.clients.get(var, {}):
        if client == OUTPUT or not isinstance(client.op, Subtensor) or client.inputs[0] is not var:
            return None
        last = _last_rows_of(client)
        if last is not None:
            count, readers = max(count, last), readers + [client]
        elif _is_tail(client, var):
            inner = _last_rows_read(fgraph, client.outputs[0])
            if inner is None or inner[2]:
                return None
            count, tails = max(count, inner[0]), tails + [client]
        else:
            return None
    return (count, readers, tails) if count else None


def _last_rows_of(node) -> int | None:
    """``j`` for ``x[-j]``, ``m`` for ``x[-m:]`` (constant ``j, m > 0``), else None."""
    if len(node.op.idx_list) != 1:
        return None
    entry = node.op.idx_list[0]
    if isinstance(entry, int) and entry < 0:
        return -entry
    if isinstance(entry, SliceSpec) and isinstance(entry.start, int) and entry.start < 0 \
            and entry.stop is None and entry.step is None:
        return -entry.start
    return None


#: A state whose readers need more of its last rows than this keeps them all.
MAX_KEPT_ROWS = 64


@node_rule(RULE_SET, "scan_keep_last_rows", [Scan])
def scan_keep_last_rows(fgraph, node):
    """A state of which only the last ``K`` rows are read (``out[-3:]``, ``out[-2]``) keeps a
    ring of ``K`` rows (at least its deepest tap plus one) instead of a row per step."""
    parts = _Parts(node)
    if parts.op.as_while:
        return None
    for entry in parts.sots:
        buf, keep = entry[4], entry[5]
        if keep:
            continue
        found = _last_rows_read(fgraph, buf)
        depth = -min(entry[2])
        if found is None or found[0] > MAX_KEPT_ROWS:
            continue
        count, readers, tails = found
        entry[5] = max(count, depth + 1)
        new_node, mapping = parts.build()
        kept = mapping.pop(buf)
        for reader in readers:
            mapping[reader.outputs[0]] = reader.op.make_node(kept, *reader.inputs[1:]).outputs[0]
        for tail in tails:
            # scan's own slice keeps the steps' rows: the last min(n, rows kept) of them.
            from exprc.tensor.math import maximum

            mapping[tail.outputs[0]] = kept[maximum(kept.shape[0] - parts.n_steps, 0):]
        return mapping
    return None


def _flat_rows_product(x, w, row_ndim: int):
    """``dot`` of every row of ``x`` (rows of rank ``row_ndim``, 1 or 2) with ``w``, stacked:
    the sequence whose row ``t`` is ``dot(x[t], w)``."""
    from exprc.tensor.linalg import dot
    from exprc.tensor.shape import reshape

    if row_ndim == 1:
        return dot(x, w)
    flat = reshape(x, (x.shape[0] * x.shape[1], x.shape[2]))
    product = dot(flat, w)
    return reshape(product, (x.shape[0], x.shape[1], product.shape[1]))


@node_rule(RULE_SET, "scan_push_out_products", [Scan])
def scan_push_out_products(fgraph, node):
    parts = _Parts(node)
    const_of = {id(w[1]): w[0] for w in parts.consts}
    seq_of = {}
    for s in parts.seqs:
        for p, tap in zip(s[1], s[2]):
            seq_of[id(p)] = (s, tap)
    inner = parts.inner_outputs()
    for var in ancestors(inner, [p for s in parts.seqs for p in s[1]]):
        dot_node = var.owner
        if dot_node is None or not isinstance(dot_node.op, Dot):
            continue
        a, b = dot_node.inputs
        if id(a) not in seq_of or id(b) not in const_of or b.ndim != 2 or a.ndim not in (1, 2):
            continue
        (x, _, taps), tap = seq_of[id(a)]
        # Row t of the new sequence is dot(x[t + tap - min(taps)], W); cut so that it is as
        # long as the steps need exactly when x is (the length checks keep their meaning).
        product = _flat_rows_product(x, const_of[id(b)], a.ndim)
        product = product[tap - min(taps):x.shape[0] - (max(taps) - tap)]
        row = dot_node.outputs[0].type()
        parts.seqs.append([product, [row], (0,)])
        outputs = clone_replace(inner, {dot_node.outputs[0]: row})
        _replace_inner_outputs(parts, outputs)
        _, mapping = parts.build()
        return mapping
    return None


def _replace_inner_outputs(parts: _Parts, outputs: list) -> None:
    it = iter(outputs)
    for s in parts.sots:
        s[3] = next(it)
    for n in parts.nits:
        n[0] = next(it)
    for c in parts.carries:
        c[2] = next(it)
    if parts.cond is not None:
        parts.cond = next(it)


def _is_add_of(var, placeholder):
    """The other operand when ``var`` is ``placeholder + other`` (either order), else None."""
    node = var.owner
    if node is None or not isinstance(node.op, Elemwise) or node.op.scalar_op.name != "add" \
            or len(node.inputs) != 2:
        return None
    a, b = node.inputs
    if a is placeholder and b is not placeholder:
        return b
    if b is placeholder and a is not placeholder:
        return a
    return None


def _product_with_sequence(term, parts: _Parts):
    """``(u, v, sequence entry, tap)`` when ``term`` is ``dot(u.T, v)`` for a matrix row ``u``
    of a sequence (or the outer product of a vector row ``u`` and a vector ``v``), else
    None."""
    node = term.owner
    if node is None or not isinstance(node.op, Dot):
        return None
    a, b = node.inputs
    shuffle = a.owner
    if shuffle is None or not isinstance(shuffle.op, DimShuffle):
        return None
    u = shuffle.inputs[0]
    found = next(((s, tap) for s in parts.seqs for p, tap in zip(s[1], s[2]) if p is u), None)
    if found is None:
        return None
    if shuffle.op.new_order == (1, 0) and u.ndim == 2 and b.ndim == 2:
        return u, b, found[0], found[1]
    if shuffle.op.new_order == (0, "x") and u.ndim == 1 and b.owner is not None \
            and isinstance(b.owner.op, DimShuffle) and b.owner.op.new_order == ("x", 0):
        return u, b.owner.inputs[0], found[0], found[1]
    return None


@node_rule(RULE_SET, "scan_sum_accumulators", [Scan])
def scan_sum_accumulators(fgraph, node):
    from exprc.tensor.math import cast
    from exprc.tensor.reduction import sum as tsum

    parts = _Parts(node)
    if parts.op.as_while:
        return None
    for position, entry in enumerate(parts.carries):
        init, placeholder, new, final = entry
        if new.dtype in DISCRETE_DTYPES:
            continue
        term = _is_add_of(new, placeholder)
        if term is None or _product_with_sequence(term, parts) is None:
            continue  # summing after the loop would keep a row per step for nothing
        # The running sum must be read by nothing but its own update, and the terms must not
        # depend on it.
        del parts.carries[position]
        if _reads(parts.inner_outputs() + [term], [placeholder]):
            parts.carries.insert(position, entry)
            continue
        parts.nits.append([term, None])
        new_node, mapping = parts.build()
        rows = new_node.outputs[len(parts.sots) + len(parts.nits) - 1]
        total = init + tsum(rows, axis=0)
        if total.dtype != final.dtype:
            total = cast(total, final.dtype)
        mapping[final] = total
        return mapping
    return None


def _sum_over_steps(fgraph, var) -> list | None:
    """The nodes reading ``var``, when each is a sum over its first axis (the steps)."""
    readers = []
    for client, _ in fgraph.clients.get(var, {}):
        if client == OUTPUT or not isinstance(client.op, Reduce) \
                or client.op.scalar_op.name != "add" or client.op.axis != (0,):
            return None
        readers.append(client)
    return readers or None


@node_rule(RULE_SET, "scan_push_out_sum_of_products", [Scan])
def scan_push_out_sum_of_products(fgraph, node):
    """``sum_t dot(u[t].T, v[t])`` over a sequence ``u`` and a step value ``v`` (the gradient
    of a product with a loop constant) becomes one product after the loop: ``v`` becomes an
    output, and both are flattened over the steps."""
    from exprc.tensor.linalg import dot
    from exprc.tensor.math import cast
    from exprc.tensor.shape import reshape

    parts = _Parts(node)
    if parts.op.as_while:
        return None
    n = parts.n_steps
    for term, out in parts.nits:
        readers = _sum_over_steps(fgraph, out)
        found = _product_with_sequence(term, parts) if readers is not None else None
        if found is None:
            continue
        u, v, (x, _, taps), tap = found
        first = tap - min(taps)
        u_rows = x[first:first + n]
        parts.nits.append([v, None])
        new_node, mapping = parts.build()
        v_rows = new_node.outputs[len(parts.sots) + len(parts.nits) - 1]
        if u.ndim == 2:
            u_rows = reshape(u_rows, (u_rows.shape[0] * u_rows.shape[1], u_rows.shape[2]))
            v_rows = reshape(v_rows, (v_rows.shape[0] * v_rows.shape[1], v_rows.shape[2]))
        total = dot(u_rows.T, v_rows)
        for reader in readers:
            result = total if total.dtype == reader.outputs[0].dtype \
                else cast(total, reader.outputs[0].dtype)
            mapping[reader.outputs[0]] = result
        return mapping
    return None


@node_rule(FIRST_RULE_SET, "scan_subsume", [Scan])
def scan_subsume(fgraph, node):
    """A loop whose work another loop on the same inputs also does (the same body with more
    outputs: the forward loop and the copy the gradient extends with the values it keeps)
    gives way to that loop."""
    op = node.op
    for client, _ in list(fgraph.clients.get(node.inputs[0], {})):
        if client == OUTPUT or client is node or not isinstance(client.op, Scan) \
                or len(client.inputs) != len(node.inputs) \
                or any(a is not b for a, b in zip(client.inputs, node.inputs)):
            continue
        mapping = _subsumed_outputs(op, client.op)
        if mapping is not None:
            return {node.outputs[i]: client.outputs[j] for i, j in mapping.items()}
    return None


def _subsumed_outputs(small: Scan, big: Scan) -> dict | None:
    """``{output of small: output of big}`` when ``big`` computes every output of ``small``
    from the same inputs (its extra outputs being outputs that are not fed back), else None."""
    props = ("seq_taps", "sot_taps", "n_carry", "n_non_seqs", "as_while", "exact_steps",
             "truncate_gradient", "keep")
    if any(getattr(small, p) != getattr(big, p) for p in props) \
            or big.n_nit_sot < small.n_nit_sot \
            or any(a.type != b.type for a, b in zip(small.inner.inputs, big.inner.inputs)):
        return None
    s_roles, b_roles = small.roles, big.roles
    s_sot, s_nit, s_carry, s_cond = s_roles.inner_out_groups(small.inner.outputs)
    b_sot, b_nit, b_carry, b_cond = b_roles.inner_out_groups(big.inner.outputs)
    # The extra outputs of big may be any of its outputs that are not fed back: match each
    # of small's outputs with one of big's computing the same thing.
    pairs: dict = {}
    n_sot = s_roles.n_sot
    for i in range(n_sot):
        pairs[i] = i
    for i in range(s_roles.n_carry):
        pairs[n_sot + s_roles.n_nit + i] = n_sot + b_roles.n_nit + i
    for i, v in enumerate(s_nit):
        j = next((j for j, w in enumerate(b_nit) if equal_computations(
            [v], [w], small.inner.inputs, big.inner.inputs)), None)
        if j is None:
            return None
        pairs[n_sot + i] = n_sot + j
    fed = s_sot + s_carry + ([s_cond] if s_cond is not None else [])
    big_fed = b_sot + b_carry + ([b_cond] if b_cond is not None else [])
    if not equal_computations(fed, big_fed, small.inner.inputs, big.inner.inputs):
        return None
    return pairs


@node_rule(RULE_SET, "scan_merge", [Scan])
def scan_merge(fgraph, node):
    """Two loops over the same number of steps, neither reading the other's results, become
    one loop running both bodies: the sequences are read once per step, and the pass over
    them is made once. (Loops with a stop condition stay apart.)"""
    op = node.op
    if op.as_while:
        return None
    steps = node.inputs[0]
    for client, _ in list(fgraph.clients.get(steps, {})):
        if client == OUTPUT or client is node or not isinstance(client.op, Scan) \
                or client.inputs[0] is not steps or client.op.as_while \
                or client.op.exact_steps != op.exact_steps \
                or client.op.truncate_gradient != op.truncate_gradient:
            continue
        if _depends(client, node) or _depends(node, client) or (
                len(client.inputs) == len(node.inputs)
                and all(a is b for a, b in zip(client.inputs, node.inputs))
                and (_subsumed_outputs(op, client.op) is not None
                     or _subsumed_outputs(client.op, op) is not None)):
            continue  # scan_subsume's case: one loop does the other's work
        first, second = _Parts(node), _Parts(client)
        _share_inputs(first, second)
        first.seqs += second.seqs
        first.sots += second.sots
        first.nits += second.nits
        first.carries += second.carries
        first.consts += second.consts
        first.op = op.with_inner(op.inner, name=op.name if op.name == client.op.name
                                 else f"{op.name}+{client.op.name}")
        _, mapping = first.build()
        return mapping
    return None


def _depends(node, on) -> bool:
    """Whether one of ``node``'s inputs is computed from an output of ``on``."""
    targets = set(map(id, on.outputs))
    return any(id(v) in targets for v in ancestors(node.inputs))


def _share_inputs(first: _Parts, second: _Parts) -> None:
    """Let ``second``'s body read ``first``'s placeholders where both loops take the same
    outer value (a sequence at the same taps, a constant), so the merged loop takes it once."""
    swap = {}
    seqs = {(id(s[0]), s[2]): s for s in first.seqs}
    for s in list(second.seqs):
        twin = seqs.get((id(s[0]), s[2]))
        if twin is not None:
            swap.update(zip(s[1], twin[1]))
            second.seqs.remove(s)
    consts = {id(w[0]): w for w in first.consts}
    for w in list(second.consts):
        twin = consts.get(id(w[0]))
        if twin is not None:
            swap[w[1]] = twin[1]
            second.consts.remove(w)
    if swap:
        _replace_inner_outputs(second, clone_replace(second.inner_outputs(), swap))
