"""Printing the results: one plain-text table per workload, a Markdown summary, JSON."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from timing import Stats, load_label

SYSTEM_ORDER = ("exprc", "NumPy", "PyTensor", "PyTorch", "torch.compile", "JAX", "Theano")


@dataclass
class Row:
    """One system's result on one timed workload (``stats`` is None when it failed), timed
    beside ``load`` busy background processes (0: quiet)."""

    system: str
    stats: Stats | None = None
    note: str = ""
    error: str = ""
    build_s: float | None = None
    load: int = 0


@dataclass
class Result:
    """One timed workload: its rows and the machine floor measured in the same run."""

    key: str
    title: str
    rows: list[Row] = field(default_factory=list)
    floor_s: float | None = None
    floor_note: str = ""

    def row(self, system: str, load: int = 0) -> Row | None:
        """The row of ``system`` (by name) under ``load`` busy processes, or None."""
        return next((r for r in self.rows if r.system == system and r.load == load), None)

    def loads(self) -> list[int]:
        """The background loads its rows were timed under, in order."""
        return list(dict.fromkeys(r.load for r in self.rows)) or [0]


@dataclass
class CompileResult:
    """W6 or W7: compile-time measurements per system from fresh processes."""

    key: str
    title: str
    runs: list[dict] = field(default_factory=list)
    note: str = ""


def seconds(value: float | None) -> str:
    """A duration with a unit that keeps three significant digits."""
    if value is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def ratio(value: float | None, reference: float | None) -> str:
    """``value / reference`` as ``1.23x``, or '-' when either is missing."""
    if value is None or not reference:
        return "-"
    return f"{value / reference:.3g}x"


def _exprc_median(result: Result, load: int = 0) -> float | None:
    row = result.row("exprc", load)
    return row.stats.median if row and row.stats else None


def text_table(result: Result) -> str:
    """The plain-text table of a timed workload: its rows under each load in turn (labelled
    quiet / loaded when there was a load), each compared with exprc's under the same load."""
    lines = [f"{result.key}  {result.title}"]
    if result.floor_s is not None:
        lines.append(f"    floor {seconds(result.floor_s)}: {result.floor_note}")
    header = (f"    {'system':<18}{'median':>10}{'min':>10}{'IQR':>10}{'vs exprc':>10}"
              f"{'vs floor':>10}{'build':>10}  how")
    lines.append(header)
    loads = result.loads()
    for load in loads:
        if len(loads) > 1:
            lines.append(f"  {load_label(load)}:")
        reference = _exprc_median(result, load)
        for r in (r for r in result.rows if r.load == load):
            if r.stats is None:
                lines.append(f"    {r.system:<18}{_failure(r.error)}")
                continue
            s = r.stats
            note = r.note + (f"  [{r.error}]" if r.error else "")
            lines.append(f"    {r.system:<18}{seconds(s.median):>10}{seconds(s.min):>10}"
                         f"{seconds(s.iqr):>10}{ratio(s.median, reference):>10}"
                         f"{ratio(s.median, result.floor_s):>10}{seconds(r.build_s):>10}  "
                         f"{note}")
    return "\n".join(lines)


def compile_text_table(result: CompileResult) -> str:
    """The plain-text table of W6 or W7."""
    lines = [f"{result.key}  {result.title}"]
    if result.note:
        lines.append(f"    {result.note}")
    lines.append(f"    {'system':<14}{'case':<10}{'import':>10}{'to result':>11}  details")
    for run in result.runs:
        if "error" in run:
            lines.append(f"    {run['system']:<14}{run['case']:<10}{_failure(run['error'])}")
            continue
        lines.append(f"    {run['system']:<14}{run['case']:<10}{seconds(run['import_s']):>10}"
                     f"{seconds(run['first_result_s']):>11}  {_details(run)}")
    return "\n".join(lines)


def _failure(error: str) -> str:
    """A row's error as printed: a skipped system says why, a failed one is marked so."""
    return error if error.startswith("skipped") else f"failed: {error}"


def _details(run: dict) -> str:
    parts = [f"{name} {seconds(run[key])}" for name, key in (
        ("graph", "graph_s"), ("function()", "function_s"), ("rewrites", "rewrite_s"),
        ("C compiler", "cc_s"), ("first call", "first_call_s")) if run.get(key) is not None]
    if run.get("source_bytes"):
        parts.append(f"C source {run['source_bytes'] / 1e3:.0f} kB")
    if run.get("nodes"):
        parts.append(f"{run['nodes']} nodes")
    if run.get("note"):
        parts.append(run["note"])
    return ", ".join(parts)


def markdown(results: list, machine: str) -> str:
    """One Markdown table of every workload, for docs/performance.md.

    Timed workloads give each system's median with its ratio to exprc (exprc's cell gives its
    ratio to the floor); W6 and W7 give the time from after the imports to the first result.
    """
    systems = _systems(results)
    lines = [f"Machine: {machine}", "",
             "| workload | floor | " + " | ".join(systems) + " |",
             "|---|---|" + "---|" * len(systems)]
    for result in results:
        if isinstance(result, CompileResult):
            lines += _markdown_compile_rows(result, systems)
        elif isinstance(result, Result):
            loads = result.loads()
            lines += [_markdown_timed_row(result, systems, load, len(loads) > 1)
                      for load in loads]
        else:
            lines.append(f"| {result} |" + " |" * (len(systems) + 1))
    lines += ["", ("Timed workloads: median, and in parentheses its ratio to exprc under the "
                   "same load (exprc: its ratio to the floor). W6/W7: time from after the "
                   "imports to the first result.")]
    return "\n".join(lines)


_THREADED_EXPRC = re.compile(r"exprc \d+ threads?$")


def _systems(results: list) -> list[str]:
    seen = {r.system for res in results if isinstance(res, Result) for r in res.rows}
    seen |= {run["system"] for res in results if isinstance(res, CompileResult)
             for run in res.runs}
    systems = [s for s in SYSTEM_ORDER if any(x.startswith(s) for x in seen)]
    # exprc's rows on a given number of threads come right after its own.
    threaded = sorted((s for s in seen if _THREADED_EXPRC.match(s)),
                      key=lambda s: int(s.split()[1]))
    if threaded and "exprc" in systems:
        at = systems.index("exprc") + 1
        systems[at:at] = threaded
    return systems


def _markdown_timed_row(result: Result, systems: list[str], load: int = 0,
                        label: bool = False) -> str:
    reference = _exprc_median(result, load)
    cells = []
    for system in systems:
        rows = [r for r in result.rows if r.system == system and r.load == load]
        if not rows:
            cells.append("-")
        elif rows[0].stats is None:
            cells.append("skipped" if rows[0].error.startswith("skipped") else "failed")
        else:
            median = rows[0].stats.median
            base = result.floor_s if system == "exprc" else reference
            wrong = " WRONG" if rows[0].error else ""
            cells.append(f"{seconds(median)} ({ratio(median, base)}){wrong}")
    title = f"{result.key} {result.title}" + (f", {load_label(load)}" if label else "")
    return f"| {title} | {seconds(result.floor_s)} | " + " | ".join(cells) + " |"


def _markdown_compile_rows(result: CompileResult, systems: list[str]) -> list[str]:
    cases = list(dict.fromkeys(run["case"] for run in result.runs))
    lines = []
    for case in cases:
        cells = []
        for system in systems:
            runs = [r for r in result.runs if r["case"] == case and r["system"] == system]
            if not runs:
                cells.append("-")
            elif "error" in runs[0]:
                cells.append("skipped" if runs[0]["error"].startswith("skipped") else "failed")
            else:
                cells.append(seconds(runs[0]["first_result_s"]))
        lines.append(f"| {result.key} {case} | - | " + " | ".join(cells) + " |")
    return lines


def to_json(results: list, machine: dict) -> str:
    """Every measurement, for keeping or comparing runs."""
    out = {"machine": machine, "workloads": []}
    for result in results:
        if isinstance(result, Result):
            out["workloads"].append({
                "key": result.key, "title": result.title, "floor_s": result.floor_s,
                "floor": result.floor_note,
                "rows": [{"system": r.system, "load": r.load, "note": r.note,
                          "error": r.error, "build_s": r.build_s,
                          "stats": r.stats.as_dict() if r.stats else None} for r in result.rows]})
        elif isinstance(result, CompileResult):
            out["workloads"].append({"key": result.key, "title": result.title,
                                     "note": result.note, "runs": result.runs})
        else:
            out["workloads"].append({"note": str(result)})
    return json.dumps(out, indent=1)
