"""Export of a compiled inference function as standalone C99: :func:`to_c`.

The files written need nothing beyond a C99 compiler and libm: ``<name>.h`` declares the entry
points, ``<name>.c`` holds the whole program (the portable kernels it uses, the memory plan,
and the weights unless they go to ``<name>.weights``), and ``README.md`` says how to build and
call it. See ``docs/export.md``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from exprc._version import __version__
from exprc.errors import ExprcTypeError, ExprcValueError
from exprc.export.c import rules as _rules  # noqa: F401  (fills EXPORT_C)
from exprc.export.c.layout import Buffer
from exprc.export.c.program import (
    ALIGNMENT,
    ERROR_CODES,
    ExportedFiles,
    ExportProgram,
    render_typed_section,
    shapes_text,
    signature_types,
)
from exprc.export.graph import c_identifier, prepare
from exprc.link.codegen.render import C_TYPES, c_comment
from exprc.link.sources import source_dir

__all__ = ["to_c"]

_WEIGHT_MODES = ("embed", "file")
#: The weights file: magic, byte-order mark, payload size, FNV-1a 64 checksum, padding.
WEIGHTS_MAGIC = b"EXPRCW01"
WEIGHTS_HEADER_BYTES = 64
_BYTE_ORDER_MARK = 0x01020304


def to_c(f: Any, name: str, directory: str | Path, *, weights: str = "embed",
         blas: bool = False, static_memory: bool = True,
         input_shapes: Any = None) -> ExportedFiles:
    """Write the compiled inference function ``f`` as a standalone C99 program.

    Parameters
    ----------
    f : Function
        A compiled function without updates; shared variables are frozen at their current
        values.
    name : str
        The program's name: a C identifier. It names the files (``name.h``, ``name.c``) and
        prefixes every global symbol (``name_run``).
    directory : str or Path
        Where to write the files (created if missing).
    weights : {'embed', 'file'}
        ``'embed'``: the weights are ``static const`` arrays in ``name.c``. ``'file'``: they go
        to ``name.weights`` (with a checksum), which the program loads with
        ``name_load_weights(path)`` or takes from memory with ``name_set_weights``.
    blas : bool
        Make the matrix products call ``cblas_sgemm``/``cblas_dgemm`` (link a CBLAS). Without
        it the program uses its own portable product; either way compiling with
        ``-DEXPRC_USE_CBLAS`` switches to CBLAS.
    static_memory : bool
        True: ``name_run`` uses a static arena and the program never calls ``malloc``.
        False: ``name_run`` allocates the arena for each call. ``name_run_arena`` takes the
        caller's arena either way.
    input_shapes : sequence or mapping, optional
        Sizes the inputs' types leave unknown (see :func:`exprc.export.graph.prepare`).

    Returns
    -------
    ExportedFiles
        The paths written, the arena size (bytes), the weights' size and the shapes.
    """
    prefix = _checked_name(name)
    if weights not in _WEIGHT_MODES:
        raise ExprcValueError(f"weights must be one of {_WEIGHT_MODES}, got {weights!r}")
    graph = prepare(f, input_shapes, what="export to C")
    program = ExportProgram(graph, prefix).build()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    writer = _Writer(program, prefix, weights, bool(blas), bool(static_memory))
    header = directory / f"{prefix}.h"
    source = directory / f"{prefix}.c"
    readme = directory / "README.md"
    header.write_text(writer.header())
    source.write_text(writer.source())
    files = [header, source]
    weights_path = None
    if weights == "file":
        weights_path = directory / f"{prefix}.weights"
        weights_path.write_bytes(writer.weights_file())
        files.append(weights_path)
    readme.write_text(writer.readme())
    files.append(readme)
    return ExportedFiles(
        header=header, source=source, weights=weights_path, readme=readme,
        arena_bytes=program.arena_bytes, weight_bytes=writer.weight_bytes,
        input_shapes=[graph.shapes[v] for v in graph.inputs],
        output_shapes=[graph.shapes[v] for v in graph.outputs],
        input_dtypes=[v.type.dtype for v in graph.inputs],
        output_dtypes=[v.type.dtype for v in graph.outputs], files=files)


def _checked_name(name: Any) -> str:
    if not isinstance(name, str):
        raise ExprcTypeError(f"the export's name must be a str, got {type(name).__name__}")
    if not name or c_identifier(name, "") != name or len(name) > 32:
        raise ExprcValueError(f"the export's name must be a C identifier of at most 32 ASCII "
                              f"letters, digits and underscores, starting with a letter; got "
                              f"{name!r}")
    return name


class _Writer:
    """The text of each file of one export."""

    def __init__(self, program: ExportProgram, prefix: str, weights: str, blas: bool,
                 static_memory: bool):
        self.program = program
        self.prefix = prefix
        self.weights = weights
        self.blas = blas
        self.static_memory = static_memory
        self.body = "\n".join(program.lines)
        used = set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", self.body))
        self.used = used
        self.constants = [(b, v) for b, v in program.constant_buffers if b.name in used]
        offset = 0
        self.constant_offsets: dict[str, int] = {}
        for buffer, value in self.constants:
            self.constant_offsets[buffer.name] = offset
            offset = -(-(offset + value.nbytes) // ALIGNMENT) * ALIGNMENT
        self.payload_bytes = offset
        self.weight_bytes = sum(v.nbytes for _, v in self.constants)
        self.upper = prefix.upper()

    # ------------------------------------------------------------------ header
    def signature(self, with_arena: bool) -> str:
        ins, outs = signature_types(self.program)
        params = (["void *arena"] if with_arena else []) + ins + outs
        name = f"{self.prefix}_run_arena" if with_arena else f"{self.prefix}_run"
        return f"int {name}({', '.join(params) or 'void'})"

    def interface_comment(self) -> list[str]:
        graph = self.program.graph
        lines = []
        for kind, variables, names in (("input", graph.inputs, graph.input_names),
                                       ("output", graph.outputs, graph.output_names)):
            for var, cname, shape in zip(variables, names,
                                         shapes_text([graph.shapes[v] for v in variables])):
                label = graph.labels.get(var, cname)
                lines.append(c_comment(f"{kind} {cname}: {var.type.dtype} {shape}, "
                                       f"row-major ({label})"))
        return lines

    def header(self) -> str:
        up, p = self.upper, self.prefix
        graph = self.program.graph
        sizes = []
        for kind, variables, names in (("INPUT", graph.inputs, graph.input_names),
                                       ("OUTPUT", graph.outputs, graph.output_names)):
            for var, cname in zip(variables, names):
                count = int(np.prod(graph.shapes[var], dtype=np.int64))
                sizes.append(f"#define {up}_{kind}_{cname.upper()}_SIZE {count}")
        codes = [f"#define {code} {value}  {c_comment(meaning)}"
                 for code, (value, meaning) in ERROR_CODES.items()]
        loading = []
        if self.weights == "file":
            loading = [
                c_comment(f"Load the weights from {p}.weights (written with this header); "
                          "returns EXPRC_OK or EXPRC_ERROR_WEIGHTS."),
                f"int {p}_load_weights(const char *path);",
                c_comment("Use a weights image already in memory (the whole file, aligned to "
                          "8 bytes, kept alive while the program runs); not copied."),
                f"int {p}_set_weights(const void *image, size_t nbytes);",
            ]
        return "\n".join([
            c_comment(f"{p}.h: the entry points of {p}.c, written by exprc {__version__}."),
            f"#ifndef {up}_H",
            f"#define {up}_H",
            "",
            "#include <stddef.h>",
            "#include <stdint.h>",
            "#include <stdbool.h>",
            "",
            "#ifdef __cplusplus",
            'extern "C" {',
            "#endif",
            "",
            *self.interface_comment(),
            *sizes,
            "",
            c_comment("Bytes of work memory one call uses (the arena), and its alignment."),
            f"#define {up}_ARENA_BYTES {self.program.arena_bytes}",
            f"#define {up}_ARENA_ALIGNMENT {ALIGNMENT}",
            f"#define {up}_WEIGHT_BYTES {self.weight_bytes}",
            "",
            "#ifndef EXPRC_OK",
            *codes,
            "#endif",
            "",
            c_comment("Run once: returns EXPRC_OK, or an error code (see "
                      f"{p}_last_error). " + ("Uses a static arena: not reentrant."
                                              if self.static_memory else
                                              "Allocates the arena for the call.")),
            self.signature(False) + ";",
            c_comment(f"Run with the caller's work memory of {up}_ARENA_BYTES bytes (aligned "
                      f"to 8, ideally {ALIGNMENT}); reentrant when each thread passes its own."),
            self.signature(True) + ";",
            c_comment("What the last failed call of this thread of program reported."),
            f"const char *{p}_last_error(void);",
            *loading,
            "",
            "#ifdef __cplusplus",
            "}",
            "#endif",
            "",
            f"#endif /* {up}_H */",
            "",
        ])

    # ------------------------------------------------------------------ source
    def source(self) -> str:
        p = self.prefix
        parts = [
            c_comment(f"{p}.c: a standalone program written by exprc {__version__}. Build: "
                      f"cc -O2 -std=c99 -c {p}.c (and link with -lm)."),
        ]
        if self.blas:
            parts.append("#ifndef EXPRC_USE_CBLAS\n#define EXPRC_USE_CBLAS 1\n#endif")
        includes = ["#include <math.h>", "#include <stdbool.h>", "#include <stddef.h>",
                    "#include <stdint.h>", "#include <string.h>"]
        if not self.static_memory:
            includes.append("#include <stdlib.h>")
        if self.weights == "file":
            includes.append("#include <stdio.h>")
        parts.append("\n".join(includes + [f'#include "{p}.h"']))
        parts.append(_strip_includes((source_dir("csrc") / "exprc_common.h").read_text()))
        parts.append(_strip_includes((source_dir("csrc") / "exprc_math.h").read_text()))
        special = (source_dir("csrc") / "exprc_special.h").read_text()
        if set(re.findall(r"\b(exprc_[a-z0-9_]+)\s*\(", special)) & self.used:
            parts.append(_strip_includes(special))
        helpers = self.program.renderer.helper_definitions()
        if helpers:
            parts.append(helpers)
        for section, dtype in self.program.sections:
            parts.append(_strip_includes(render_typed_section(section, dtype)))
        parts.append(f"static const char *{p}_error = 0;\n\n"
                     f"const char *{p}_last_error(void)\n{{\n"
                     f'    return {p}_error ? {p}_error : "no error";\n}}')
        parts.append(self.weights_text())
        parts.append(self.run_arena())
        parts.append(self.run())
        return "\n\n".join(part for part in parts if part) + "\n"

    def weights_text(self) -> str:
        p = self.prefix
        if self.weights == "embed":
            return "\n\n".join(_array_text(f"{p}_{b.name}", v) for b, v in self.constants)
        store = max(self.payload_bytes, 8)
        loader = [
            f"static const unsigned char *{p}_weights = 0;",
        ]
        if self.static_memory:
            loader.append(f"static union {{ double align_; unsigned char bytes[{store}]; }} "
                          f"{p}_weights_store;")
        checksum = [
            f"static uint64_t {p}_fnv1a(const unsigned char *data, size_t n)",
            "{",
            "    uint64_t h = UINT64_C(14695981039346656037);",
            "    for (size_t i = 0; i < n; ++i) {",
            "        h ^= data[i];",
            "        h *= UINT64_C(1099511628211);",
            "    }",
            "    return h;",
            "}",
            "",
            f"static int {p}_check_header(const unsigned char *head)",
            "{",
            "    uint32_t mark;",
            "    uint64_t size;",
            f'    if (memcmp(head, "{WEIGHTS_MAGIC.decode()}", 8) != 0) return 0;',
            "    memcpy(&mark, head + 8, 4);",
            "    memcpy(&size, head + 16, 8);",
            f"    return mark == {_BYTE_ORDER_MARK}u && size == {self.payload_bytes}u;",
            "}",
            "",
            f"int {p}_set_weights(const void *image, size_t nbytes)",
            "{",
            "    const unsigned char *head = (const unsigned char *)image;",
            "    uint64_t sum;",
            f"    {p}_weights = 0;",
            f"    if (!head || nbytes != {WEIGHTS_HEADER_BYTES + self.payload_bytes}u"
            f" || !{p}_check_header(head) || ((size_t)head % 8) != 0)",
            f'        {{ {p}_error = "the weights image has the wrong size, header or '
            f'alignment"; return EXPRC_ERROR_WEIGHTS; }}',
            "    memcpy(&sum, head + 24, 8);",
            f"    if ({p}_fnv1a(head + {WEIGHTS_HEADER_BYTES}, {self.payload_bytes}u) != sum)",
            f'        {{ {p}_error = "the weights image fails its checksum"; '
            "return EXPRC_ERROR_WEIGHTS; }",
            f"    {p}_weights = head + {WEIGHTS_HEADER_BYTES};",
            "    return EXPRC_OK;",
            "}",
            "",
            f"int {p}_load_weights(const char *path)",
            "{",
            f"    unsigned char head[{WEIGHTS_HEADER_BYTES}];",
            "    uint64_t sum;",
            "    size_t got;",
            "    FILE *file;",
            "    unsigned char *store;",
            f"    {p}_weights = 0;",
            "    file = path ? fopen(path, \"rb\") : 0;",
            f'    if (!file) {{ {p}_error = "cannot open the weights file"; '
            "return EXPRC_ERROR_WEIGHTS; }",
            f"    got = fread(head, 1, {WEIGHTS_HEADER_BYTES}, file);",
            f"    if (got != {WEIGHTS_HEADER_BYTES} || !{p}_check_header(head)) {{",
            "        fclose(file);",
            f'        {p}_error = "the weights file has the wrong header (another export?)";',
            "        return EXPRC_ERROR_WEIGHTS;",
            "    }",
        ]
        if self.static_memory:
            checksum.append(f"    store = {p}_weights_store.bytes;")
        else:
            checksum += [
                f"    store = (unsigned char *)malloc({store});",
                f'    if (!store) {{ fclose(file); {p}_error = "no memory for the weights"; '
                "return EXPRC_ERROR_MEMORY; }",
            ]
        checksum += [
            f"    got = fread(store, 1, {self.payload_bytes}, file);",
            "    if (fgetc(file) != EOF) got = 0;  /* longer than written */",
            "    fclose(file);",
            "    memcpy(&sum, head + 24, 8);",
            f"    if (got != {self.payload_bytes}u || {p}_fnv1a(store, got) != sum) {{",
            f'        {p}_error = "the weights file is truncated or fails its checksum";',
            *(["        free(store);"] if not self.static_memory else []),
            "        return EXPRC_ERROR_WEIGHTS;",
            "    }",
            f"    {p}_weights = store;",
            "    return EXPRC_OK;",
            "}",
        ]
        return "\n".join(loader + [""] + checksum)

    def run_arena(self) -> str:
        p = self.prefix
        program = self.program
        lines = [self.signature(True), "{"]
        arena_used = any(b.kind == "arena" and b.name in self.used for b in program.buffers)
        if arena_used:
            lines += [
                "    unsigned char *const bytes = (unsigned char *)arena;",
                f"    if (!arena || ((size_t)bytes % 8) != 0) {{ {p}_error = "
                '"the arena is NULL or not aligned to 8 bytes"; return EXPRC_ERROR_ARENA; }',
            ]
        else:
            lines.append("    (void)arena;")
        if self.weights == "file" and self.constants:
            lines.append(f'    if (!{p}_weights) {{ {p}_error = "the weights are not loaded '
                         f'({p}_load_weights)"; return EXPRC_ERROR_WEIGHTS; }}')
        for buffer in program.buffers:
            declaration = self._declaration(buffer)
            if declaration:
                lines.append("    " + declaration)
        for buffer in program.buffers:
            if buffer.kind in ("input", "output") and buffer.name not in self.used:
                lines.append(f"    (void){buffer.name};")
        lines += [self.body, "    return EXPRC_OK;", "}"]
        return "\n".join(lines)

    def _declaration(self, buffer: Buffer) -> str | None:
        if buffer.name not in self.used or buffer.kind in ("input", "output"):
            return None
        ctype = C_TYPES[buffer.dtype]
        if buffer.kind == "arena":
            return (f"{ctype} *const {buffer.name} = ({ctype} *)(bytes + {buffer.offset});")
        if self.weights == "embed":
            return f"const {ctype} *const {buffer.name} = {self.prefix}_{buffer.name};"
        return (f"const {ctype} *const {buffer.name} = (const {ctype} *)({self.prefix}_weights"
                f" + {self.constant_offsets[buffer.name]});")

    def run(self) -> str:
        p, up = self.prefix, self.upper
        ins, outs = signature_types(self.program)
        args = ", ".join(a.rsplit("*", 1)[1] for a in ins + outs)
        call = f"{p}_run_arena(%s{', ' + args if args else ''})"
        bytes_needed = max(self.program.arena_bytes, 8)
        if self.static_memory:
            return "\n".join([
                f"static union {{ double align_; unsigned char bytes[{bytes_needed}]; }} "
                f"{p}_arena;",
                "",
                self.signature(False),
                "{",
                f"    return {call % f'{p}_arena.bytes'};",
                "}",
            ])
        return "\n".join([
            self.signature(False),
            "{",
            f"    void *arena = malloc({up}_ARENA_BYTES > 0 ? {up}_ARENA_BYTES : 1);",
            "    int status;",
            f'    if (!arena) {{ {p}_error = "no memory for the arena"; '
            "return EXPRC_ERROR_MEMORY; }",
            f"    status = {call % 'arena'};",
            "    free(arena);",
            "    return status;",
            "}",
        ])

    # ------------------------------------------------------------------ weights file
    def weights_file(self) -> bytes:
        payload = bytearray(self.payload_bytes)
        for buffer, value in self.constants:
            start = self.constant_offsets[buffer.name]
            data = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<")).tobytes()
            payload[start:start + len(data)] = data
        checksum = _fnv1a(bytes(payload))
        head = (WEIGHTS_MAGIC + _BYTE_ORDER_MARK.to_bytes(4, "little") + bytes(4)
                + self.payload_bytes.to_bytes(8, "little") + checksum.to_bytes(8, "little"))
        return head.ljust(WEIGHTS_HEADER_BYTES, b"\0") + bytes(payload)

    # ------------------------------------------------------------------ readme
    def readme(self) -> str:
        p = self.prefix
        graph = self.program.graph
        rows = []
        for kind, variables, names in (("input", graph.inputs, graph.input_names),
                                       ("output", graph.outputs, graph.output_names)):
            for var, cname, shape in zip(variables, names,
                                         shapes_text([graph.shapes[v] for v in variables])):
                rows.append(f"| {kind} | `{cname}` | {var.type.dtype} | {shape} |")
        weights_line = (f"The weights ({self.weight_bytes} bytes) are in `{p}.c`."
                        if self.weights == "embed" else
                        f"The weights ({self.weight_bytes} bytes) are in `{p}.weights`: call "
                        f"`{p}_load_weights(\"{p}.weights\")` once before running.")
        return "\n".join([
            f"# {p}: standalone C written by exprc {__version__}",
            "",
            "| | name | dtype | shape |",
            "|---|---|---|---|",
            *rows,
            "",
            f"Work memory: {self.program.arena_bytes} bytes ({p.upper()}_ARENA_BYTES). "
            + weights_line,
            "",
            "Build (C99 and libm only):",
            "",
            "    cc -O2 -std=c99 -Wall -Wextra -c " + p + ".c",
            "    cc -O2 -std=c99 your_main.c " + p + ".o -lm",
            "",
            "Makefile snippet:",
            "",
            f"    {p}.o: {p}.c {p}.h",
            f"    \t$(CC) -O2 -std=c99 -c {p}.c -o {p}.o",
            "",
            "Add `-DEXPRC_USE_CBLAS` (and link a CBLAS, e.g. `-lopenblas`) to use BLAS for the "
            "matrix products.",
            "",
            f"Call `{p}_run(inputs..., outputs...)`: arrays in row-major order, inputs first. It "
            f"returns 0 (EXPRC_OK) or an error code; `{p}_last_error()` says what went wrong.",
            "",
        ])


def _strip_includes(text: str) -> str:
    """A library file without its local includes (their text is pasted separately)."""
    return "\n".join(line for line in text.splitlines()
                     if not re.match(r'\s*#\s*include\s+"', line))


def _fnv1a(data: bytes) -> int:
    h = 14695981039346656037
    # 64-bit FNV-1a over the payload, as the C loader computes it.
    for byte in data:
        h = ((h ^ byte) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def _array_text(name: str, value: np.ndarray) -> str:
    ctype = C_TYPES[value.dtype.name]
    flat = value.reshape(-1)
    items = _literals(flat) if flat.size else ["0"]
    rows = [", ".join(items[k:k + 8]) for k in range(0, len(items), 8)]
    body = ",\n    ".join(rows)
    return f"static const {ctype} {name}[{max(flat.size, 1)}] = {{\n    {body}\n}};"


def _literals(flat: np.ndarray) -> list[str]:
    kind = flat.dtype.kind
    if kind == "f":
        suffix = "f" if flat.dtype == np.float32 else ""
        out = []
        for x in flat.astype(np.float64).tolist():
            if x != x:
                out.append("NAN")
            elif x in (float("inf"), float("-inf")):
                out.append("INFINITY" if x > 0 else "-INFINITY")
            else:
                mantissa, _, exponent = x.hex().partition("p")
                out.append(f"{mantissa.rstrip('0').rstrip('.')}p{exponent}{suffix}"
                           if "." in mantissa else f"{x.hex()}{suffix}")
        return out
    if kind == "b":
        return ["1" if v else "0" for v in flat.tolist()]
    if flat.dtype == np.int64:
        return [f"INT64_C({v})" if v != -(1 << 63) else "INT64_MIN" for v in flat.tolist()]
    if flat.dtype == np.uint64:
        return [f"UINT64_C({v})" for v in flat.tolist()]
    return [str(v) for v in flat.tolist()]

