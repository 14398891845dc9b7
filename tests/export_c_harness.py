"""Run a function exported as standalone C, for the export tests.

:func:`run_exported` exports a compiled function with :func:`exprc.export.c.to_c`, writes a
``main.c`` that reads each input from a raw binary file, calls ``<name>_run`` and writes each
output, compiles both with ``-std=c99 -Wall -Wextra -Werror`` (so a warning fails the test),
runs the program and returns the outputs as NumPy arrays.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from exprc.export.c import to_c
from exprc.link.codegen.render import C_TYPES

#: The compiler and flags of the acceptance criteria (``cc -O2 -std=c99 -Wall -Wextra``).
CC = os.environ.get("CC", "cc")
FLAGS = ["-O2", "-std=c99", "-Wall", "-Wextra", "-Werror"]


def main_source(name: str, files) -> str:
    """A ``main`` reading the inputs from ``in<k>.bin``, writing ``out<k>.bin``; it exits
    with the run's status (and prints the error)."""
    lines = ["#include <stdio.h>", "#include <stdlib.h>", f'#include "{name}.h"', "",
             "static void *load(const char *path, size_t bytes)", "{",
             "    void *data = malloc(bytes ? bytes : 1);",
             "    FILE *f = fopen(path, \"rb\");",
             "    if (!f || !data || fread(data, 1, bytes, f) != bytes) {",
             "        perror(path);", "        exit(90);", "    }",
             "    fclose(f);", "    return data;", "}", "",
             "static void save(const char *path, const void *data, size_t bytes)", "{",
             "    FILE *f = fopen(path, \"wb\");",
             "    if (!f || fwrite(data, 1, bytes, f) != bytes) { perror(path); exit(91); }",
             "    fclose(f);", "}", "", "int main(int argc, char **argv)", "{",
             "    int status;", "    (void)argc;"]
    args = []
    for k, (shape, dtype) in enumerate(zip(files.input_shapes, files.input_dtypes)):
        nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        lines.append(f"    {C_TYPES[dtype]} *in{k} = load(\"in{k}.bin\", {nbytes});")
        args.append(f"in{k}")
    for k, (shape, dtype) in enumerate(zip(files.output_shapes, files.output_dtypes)):
        nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        lines.append(f"    {C_TYPES[dtype]} *out{k} = malloc({max(nbytes, 1)});")
        args.append(f"out{k}")
    if not files.input_shapes:
        lines.append("    (void)load;")
    if files.weights is not None:
        lines.append(f"    if ({name}_load_weights(argv[1])) {{ "
                     f"fprintf(stderr, \"%s\\n\", {name}_last_error()); return 92; }}")
    else:
        lines.append("    (void)argv;")
    lines.append(f"    status = {name}_run({', '.join(args)});")
    lines.append(f"    if (status) {{ fprintf(stderr, \"%s\\n\", {name}_last_error()); "
                 "return status; }")
    for k, (shape, dtype) in enumerate(zip(files.output_shapes, files.output_dtypes)):
        nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        lines.append(f"    save(\"out{k}.bin\", out{k}, {nbytes});")
    lines += ["    return 0;", "}", ""]
    return "\n".join(lines)


def build_exported(f, directory: Path, name: str = "model", input_shapes=None,
                   extra_flags=(), cc: str = CC, **options):
    """Export ``f`` into ``directory`` and compile it with a test ``main``; returns
    (executable path, ExportedFiles)."""
    directory = Path(directory)
    files = to_c(f, name, directory, input_shapes=input_shapes, **options)
    (directory / "main.c").write_text(main_source(name, files))
    exe = directory / "program"
    command = [cc, *FLAGS, *extra_flags, "-o", str(exe), str(directory / "main.c"),
               str(files.source), "-lm"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0 or done.stderr.strip():
        raise AssertionError(f"compiling the export failed or warned:\n{done.stderr[-4000:]}")
    return exe, files


def run_exported(f, inputs, directory: Path, input_shapes=None, runner=(), **options):
    """The outputs of ``f``'s exported C program on ``inputs`` (a list of arrays).

    ``input_shapes`` defaults to the inputs' shapes. ``runner`` prefixes the command (an
    emulator such as ``qemu-aarch64``). A non-zero exit raises ``RuntimeError`` with the
    program's message.
    """
    directory = Path(directory)
    if input_shapes is None:
        input_shapes = [np.shape(x) for x in inputs]
    exe, files = build_exported(f, directory, input_shapes=input_shapes, **options)
    return run_program(exe, files, inputs, runner)


def run_program(exe: Path, files, inputs, runner=()):
    """Run a built export on ``inputs``; returns the outputs."""
    directory = Path(exe).parent
    for k, (x, dtype) in enumerate(zip(inputs, files.input_dtypes)):
        np.ascontiguousarray(x, dtype=dtype).tofile(directory / f"in{k}.bin")
    argv = [*runner, str(exe)]
    if files.weights is not None:
        argv.append(str(files.weights))
    done = subprocess.run(argv, cwd=directory, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"exported program failed ({done.returncode}): "
                           f"{done.stderr.strip()}")
    return [np.fromfile(directory / f"out{k}.bin", dtype=dtype).reshape(shape)
            for k, (shape, dtype) in enumerate(zip(files.output_shapes, files.output_dtypes))]


def have_compiler(cc: str = CC) -> bool:
    return shutil.which(cc) is not None
