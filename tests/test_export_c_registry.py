"""Every registry case that standalone C can hold, exported and checked against NumPy.

The op registry (``tests/registry``) gives each op's cases with NumPy references written
independently of exprc. Here the cases of each family are put into one function per batch
(one compile each, to keep the suite fast), exported with :func:`exprc.export.c.to_c`,
compiled with ``-Wall -Wextra -Werror`` and run; every output must match NumPy within the
case's tolerance. A case is left out only when one of its ops has a written reason not to be
exported (the standalone C table's exemption), or when the export refuses it for a size that
depends on the data; both are counted, and the refusals must name their reason.
"""

from __future__ import annotations

import numpy as np
import pytest

import exprc
from exprc.export.c.program import EXPORT_C
from exprc.export.graph import ExportError
from exprc.graph.traversal import toposort
from tests.export_c_harness import have_compiler, run_exported
from tests.registry import load_all

pytestmark = pytest.mark.skipif(not have_compiler(), reason="no C compiler")

CASES = load_all()
BATCH = 60


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _exportable(case) -> bool:
    symbols = case.symbols()
    try:
        outputs = _as_list(case.build(*symbols))
    except Exception:  # a case that builds only from its own symbols' static types
        return False
    return all(EXPORT_C.find(node.op) is not None for node in toposort(outputs))


def _batches():
    by_module: dict[str, list] = {}
    for case in CASES:
        by_module.setdefault(case.module.rpartition(".")[2], []).append(case)
    for module, cases in sorted(by_module.items()):
        for start in range(0, len(cases), BATCH):
            yield pytest.param(cases[start:start + BATCH], id=f"{module}-{start // BATCH}")


def _build(cases):
    inputs, outputs, spans, values = [], [], [], []
    for k, case in enumerate(cases):
        symbols = [a.symbol(f"c{k}_in{i}") for i, a in enumerate(case.args)]
        outs = _as_list(case.build(*symbols))
        spans.append((len(outputs), len(outputs) + len(outs)))
        inputs += symbols
        outputs += outs
        values += case.sample(0)
    f = exprc.function(inputs, outputs, on_unused_input="ignore", mode="REFERENCE")
    return f, spans, values


def _export_and_run(cases, tmp_path):
    """Run ``cases`` exported; split the batch to find a case the export refuses."""
    f, spans, values = _build(cases)
    try:
        return cases, spans, values, run_exported(f, values, tmp_path)
    except ExportError as exc:
        if len(cases) == 1:
            message = str(exc)
            assert "depends on the input values" in message or "cannot export" in message
            return [], [], [], []
        half = len(cases) // 2
        results = [_export_and_run(part, tmp_path / f"part{i}")
                   for i, part in enumerate((cases[:half], cases[half:]))]
        kept, all_spans, all_values, got = [], [], [], []
        for part_cases, part_spans, part_values, part_got in results:
            offset = len(got)
            kept += part_cases
            all_spans += [(a + offset, b + offset) for a, b in part_spans]
            all_values += part_values
            got += part_got
        return kept, all_spans, all_values, got


@pytest.mark.parametrize("cases", list(_batches()))
def test_exported_cases_match_numpy(cases, tmp_path):
    exportable = [c for c in cases if _exportable(c)]
    if not exportable:
        pytest.skip("no case of this batch can be exported (each op says why)")
    kept, spans, _, got = _export_and_run(exportable, tmp_path)
    for case, (start, stop) in zip(kept, spans):
        values = case.sample(0)
        with np.errstate(all="ignore"):
            expected = _as_list(case.reference(*[v.copy() for v in values]))
        assert stop - start == len(expected), case.name
        for g, e in zip(got[start:stop], expected):
            e = np.asarray(e)
            assert g.shape == e.shape, f"{case}: shape {g.shape} != NumPy's {e.shape}"
            assert g.dtype == e.dtype, f"{case}: dtype {g.dtype} != NumPy's {e.dtype}"
            if e.dtype.kind in "biu":
                np.testing.assert_array_equal(g, e, err_msg=str(case))
            else:
                np.testing.assert_allclose(g, e, rtol=case.rtol, atol=case.atol,
                                           equal_nan=True, err_msg=str(case))
