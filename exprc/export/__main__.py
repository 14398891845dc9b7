"""``python -m exprc.export``: export a pickled compiled function as C or ONNX.

Examples::

    python -m exprc.export c lenet.pkl --name lenet --out build/ --input-shape 1,1,28,28
    python -m exprc.export onnx lenet.pkl lenet.onnx --input-shape input=64,1,28,28

The model file is a compiled function saved with ``pickle.dump(f, file)``. Loading a pickle
runs code from it: export only files you trust.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

from exprc.errors import ExprcError


def _shape(text: str) -> tuple[str | None, tuple[int, ...]]:
    name, _, sizes = text.rpartition("=")
    try:
        shape = tuple(int(s) for s in sizes.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a shape: {text!r} (want 1,1,28,28 or "
                                         "name=1,1,28,28)") from None
    return (name or None), shape


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m exprc.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="format", required=True)
    c = sub.add_parser("c", help="standalone C99 (name.h, name.c)")
    c.add_argument("model", type=Path, help="a pickled compiled function")
    c.add_argument("--name", required=True, help="C name of the program (an identifier)")
    c.add_argument("--out", type=Path, default=Path("."), help="directory to write into")
    c.add_argument("--weights", choices=("embed", "file"), default="embed")
    c.add_argument("--blas", action="store_true", help="call CBLAS for matrix products")
    c.add_argument("--dynamic-memory", action="store_true",
                   help="allocate the arena per call instead of a static one")
    onnx = sub.add_parser("onnx", help="an ONNX model")
    onnx.add_argument("model", type=Path, help="a pickled compiled function")
    onnx.add_argument("output", type=Path, help="the .onnx file to write")
    onnx.add_argument("--opset", type=int, default=17)
    for p in (c, onnx):
        p.add_argument("--input-shape", type=_shape, action="append", default=[],
                       metavar="[NAME=]D0,D1,...",
                       help="the shape of an input whose type leaves sizes unknown "
                            "(repeat per input; without a name, in input order)")
    return parser


def _input_shapes(given: list) -> object:
    if not given:
        return None
    if all(name is None for name, _ in given):
        return [shape for _, shape in given]
    if any(name is None for name, _ in given):
        raise ExprcError("give every --input-shape a name, or none")
    return {name: shape for name, shape in given}


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        with open(args.model, "rb") as fh:
            f = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError) as exc:
        print(f"error: cannot read a compiled function from {args.model}: {exc}",
              file=sys.stderr)
        return 2
    try:
        shapes = _input_shapes(args.input_shape)
        if args.format == "c":
            from exprc.export.c import to_c

            files = to_c(f, args.name, args.out, weights=args.weights, blas=args.blas,
                         static_memory=not args.dynamic_memory, input_shapes=shapes)
            for path in files.files:
                print(path)
            print(f"arena: {files.arena_bytes} bytes; weights: {files.weight_bytes} bytes")
        else:
            from exprc.export.onnx import to_onnx

            to_onnx(f, args.output, opset=args.opset, input_shapes=shapes)
            print(args.output)
    except ExprcError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
