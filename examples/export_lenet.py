"""Export a trained LeNet as standalone C and as ONNX, and check both on the MNIST test set.

The network is loaded from a ``mnist_lenet.py --save`` file (``--params``), or trained briefly
(``--epochs``, ``--train-size``). Its prediction function, for batches of ``--batch`` images, is
written

- as C (``lenet.h``, ``lenet.c``; :func:`exprc.export.to_c`), compiled with
  ``cc -O2 -std=c99 -Wall -Wextra`` and nothing but libm, together with a small C ``main``
  that reads the test images from a file and writes the class probabilities;
- as ONNX (``lenet.onnx``; :func:`exprc.export.to_onnx`), run with ONNX Runtime when it is
  installed (``pip install 'exprc[export]'``).

Both are compared with exprc on the whole test set: the predicted classes must be the same and
the probabilities within 1e-5. ``--model mlp`` does the same for the MLP of ``mnist_mlp.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import _common
import numpy as np

from exprc.export import to_c, to_onnx

#: The C program that runs the export over an image file (float32, row-major, one image after
#: another) and writes the probabilities (float32) of each image; the last batch is padded.
MAIN_C = """\
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "{name}.h"

int main(int argc, char **argv)
{{
    static float batch[{name_upper}_INPUT_{input_upper}_SIZE];
    static float scores[{name_upper}_OUTPUT_{output_upper}_SIZE];
    const size_t image = {name_upper}_INPUT_{input_upper}_SIZE / {batch};
    const size_t classes = {name_upper}_OUTPUT_{output_upper}_SIZE / {batch};
    FILE *in, *out;
    size_t got;
    if (argc != 3) {{ fprintf(stderr, "usage: %s images.f32 scores.f32\\n", argv[0]); return 2; }}
    in = fopen(argv[1], "rb");
    out = fopen(argv[2], "wb");
    if (!in || !out) {{ perror("open"); return 2; }}
    while ((got = fread(batch, sizeof(float) * image, {batch}, in)) > 0) {{
        int status;
        memset(batch + got * image, 0, sizeof(float) * image * ({batch} - got));
        status = {name}_run(batch, scores);
        if (status) {{ fprintf(stderr, "%s\\n", {name}_last_error()); return status; }}
        fwrite(scores, sizeof(float) * classes, got, out);
    }}
    fclose(in);
    fclose(out);
    return 0;
}}
"""


def make_parser():
    parser = _common.make_inspection_parser(__doc__, "unused")
    parser.set_defaults(model="lenet")
    parser.add_argument("--out", default="export_build", help="directory for the exports")
    parser.add_argument("--batch", type=int, default=100, help="images per call of the export")
    parser.add_argument("--limit", type=int, default=None,
                        help="check only the first N test images (default: all)")
    parser.add_argument("--cc", default=os.environ.get("CC", "cc"), help="the C compiler")
    return parser


def export_c(predict, name: str, out: Path, batch: int, image_shape: tuple, cc: str,
             log=print) -> Path:
    """Export ``predict`` as C into ``out`` and compile it with :data:`MAIN_C`."""
    files = to_c(predict, name, out, input_shapes=[(batch,) + tuple(image_shape)])
    header = files.header.read_text()
    input_name = _macro_part(header, "INPUT")
    output_name = _macro_part(header, "OUTPUT")
    (out / "main.c").write_text(MAIN_C.format(name=name, name_upper=name.upper(), batch=batch,
                                              input_upper=input_name, output_upper=output_name))
    exe = out / name
    command = [cc, "-O2", "-std=c99", "-Wall", "-Wextra", "-o", str(exe), str(out / "main.c"),
               str(files.source), "-lm"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    warnings = done.stderr.count("warning:")
    log(f"C: {files.source} ({files.source.stat().st_size / 1e6:.1f} MB of source), "
        f"arena {files.arena_bytes / 1024:.0f} KiB, weights {files.weight_bytes / 1e6:.2f} MB, "
        f"binary {exe.stat().st_size / 1e6:.2f} MB, {warnings} compiler warnings")
    return exe


def _macro_part(header: str, kind: str) -> str:
    prefix = f"_{kind}_"
    for line in header.splitlines():
        if line.startswith("#define") and prefix in line and line.split()[1].endswith("_SIZE"):
            return line.split()[1].split(prefix, 1)[1][:-len("_SIZE")]
    raise RuntimeError(f"no {kind} size in the header")


def run_c(exe: Path, images: np.ndarray, classes: int) -> np.ndarray:
    """The class probabilities the compiled export gives for ``images``."""
    work = exe.parent
    np.ascontiguousarray(images, dtype=np.float32).tofile(work / "images.f32")
    subprocess.run([str(exe), str(work / "images.f32"), str(work / "scores.f32")], check=True)
    return np.fromfile(work / "scores.f32", dtype=np.float32).reshape(len(images), classes)


def run_onnx(path: Path, images: np.ndarray, batch: int) -> np.ndarray | None:
    """The probabilities ONNX Runtime gives, or None when it is not installed."""
    try:
        import onnxruntime
    except ImportError:
        return None
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    results = []
    for start in range(0, len(images), batch):
        chunk = images[start:start + batch].astype(np.float32)
        padded = np.zeros((batch,) + chunk.shape[1:], np.float32)
        padded[:len(chunk)] = chunk
        results.append(session.run(None, {name: padded})[0][:len(chunk)])
    return np.concatenate(results)


def compare(label: str, got: np.ndarray, expected: np.ndarray, log=print) -> dict:
    same = int((got.argmax(axis=1) == expected.argmax(axis=1)).sum())
    error = float(np.abs(got - expected).max())
    log(f"{label}: {same}/{len(expected)} predictions equal to exprc's, largest difference "
        f"in a probability {error:.2e}")
    return {"same_predictions": same, "max_abs_error": error}


def main(argv=None) -> dict:
    """Export, compile, run and compare; returns the comparison of each export."""
    parser = make_parser()
    with _common.command_line(parser, argv) as args:
        if shutil.which(args.cc) is None:
            parser.exit(2, f"error: no C compiler {args.cc!r} (set --cc or CC)\n")
        model, data = _common.trained_classifier(args.params, args.model, args.data,
                                                 args.epochs, args.train_size)
        x_test, y_test = data.test
        if args.limit:
            x_test, y_test = x_test[:args.limit], y_test[:args.limit]
        name = args.model
        out = Path(args.out)
        start = time.perf_counter()
        expected = np.concatenate([model.predict(x_test[k:k + 500])
                                   for k in range(0, len(x_test), 500)])
        print(f"exprc: accuracy {np.mean(expected.argmax(axis=1) == y_test):.4f} on "
              f"{len(x_test)} test images ({time.perf_counter() - start:.1f} s)")
        image_shape = x_test.shape[1:]
        exe = export_c(model.predict, name, out, args.batch, image_shape, args.cc)
        results = {"c": compare("C", run_c(exe, x_test, expected.shape[1]), expected)}
        onnx_path = out / f"{name}.onnx"
        to_onnx(model.predict, onnx_path, input_shapes=[(args.batch,) + tuple(image_shape)])
        print(f"ONNX: {onnx_path} ({onnx_path.stat().st_size / 1e6:.2f} MB)")
        scores = run_onnx(onnx_path, x_test, args.batch)
        if scores is None:
            print("ONNX Runtime is not installed (pip install 'exprc[export]'): not run")
        else:
            results["onnx"] = compare("ONNX Runtime", scores, expected)
        return results


if __name__ == "__main__":
    main()
