"""``docs/adding_an_op.md`` followed to the letter: a toy op family and a toy elementwise function
added in temporary modules, then checked by the same rules the real ops are.

The family's files are written into temporary folders that are put on the ``__path__`` of each
rules package, so ``load_rules`` finds them exactly as it finds the real ones; every table,
``Op.ALL_OPS`` and the registry are restored afterwards.
"""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.export.c.program import EXPORT_C
from exprc.export.onnx.rules import ONNX
from exprc.gradient import GRAD, verify_grad
from exprc.gradient.rules import elemwise as grad_elemwise
from exprc.graph.ir import Op
from exprc.link.c.program import C_CODE
from exprc.link.codegen import render
from exprc.link.reference import REFERENCE
from exprc.link.reference import elemwise as reference_elemwise
from exprc.rewriting.shape_rules import SHAPE, shape_of
from exprc.tensor import families
from exprc.tensor import math as tensor_math
from exprc.tensor.elemwise import Elemwise
from exprc.tensor.scalar import SCALAR_OPS, ScalarOp
from tests import registry
from tests.export_c_harness import have_compiler, run_exported

# The files of docs/adding_an_op.md, "A new op family", for a family named "toy" holding one
# op, AffineMap: scale * x + shift, elementwise with fixed coefficients.
TOY_FILES = {
    "exprc.tensor": '''
        from exprc.errors import ExprcTypeError, build_error
        from exprc.graph.ir import Apply, Op
        from exprc.tensor.type import TensorType
        from exprc.tensor.variable import as_tensor_variable


        class AffineMap(Op):
            __props__ = ("scale", "shift")

            def __init__(self, scale, shift):
                self.scale, self.shift = float(scale), float(shift)

            def make_node(self, x):
                x = as_tensor_variable(x)
                if x.dtype not in ("float32", "float64"):
                    raise build_error(ExprcTypeError, self, f"needs a float input, got {x.dtype}")
                return Apply(self, [x], [TensorType(x.dtype, shape=x.type.shape)()])


        def affine_map(x, scale, shift):
            return AffineMap(scale, shift)(x)
        ''',
    "exprc.link.reference": '''
        import numpy as np

        from exprc.link.reference.table import REFERENCE
        from exprc.tensor.toy import AffineMap


        @REFERENCE.register(AffineMap)
        def affine_map(node, x):
            return [np.asarray(node.op.scale * x + node.op.shift, dtype=x.dtype)]
        ''',
    "exprc.gradient.rules": '''
        from exprc.gradient.table import GRAD
        from exprc.tensor.toy import AffineMap


        @GRAD.register(AffineMap)
        def affine_map(node, output_grads):
            return [output_grads[0] * node.op.scale]
        ''',
    "exprc.rewriting.shape_rules": '''
        from exprc.rewriting.shape_rules import SHAPE
        from exprc.tensor.toy import AffineMap


        @SHAPE.register(AffineMap)
        def affine_map(node, input_shapes):
            return [input_shapes[0]]
        ''',
    "exprc.link.c.ops": '''
        from exprc.link.c.program import C_CODE, NodeContext, ctype
        from exprc.tensor.toy import AffineMap


        @C_CODE.register(AffineMap)
        def affine_map(node, ctx: NodeContext) -> str:
            x, out = ctx.inputs[0], ctx.outputs[0]
            ndim, t = node.inputs[0].ndim, ctype(node.outputs[0].dtype)
            axes = range(max(ndim, 1))
            shape = ", ".join(f"{x}.shape[{d}]" if ndim else "1" for d in axes)
            strides = ", ".join([f"{x}.strides[{d}]" if ndim else "0" for d in axes]
                                + [f"{out}.strides[{d}]" if ndim else "0" for d in axes])
            return "\\n".join([
                ctx.alloc_output(0, [f"{x}.shape[{d}]" for d in range(ndim)]),
                f"int64_t sh[] = {{{shape}}}, st[] = {{{strides}}};",
                f"char *data[2] = {{{x}.data, {out}.data}};",
                "exprc_iter it;",
                f"exprc_iter_init(&it, {max(ndim, 1)}, sh, 2, data, st);",
                "if (!it.done) do {",
                "    for (int64_t i = 0; i < it.inner; ++i)",
                f"        *({t} *)(it.ptr[1] + i * it.step[1]) = ({t})({node.op.scale!r} * "
                f"*(const {t} *)(it.ptr[0] + i * it.step[0]) + {node.op.shift!r});",
                "} while (exprc_iter_next(&it));",
            ])
        ''',
    "exprc.export.c.rules": '''
        from exprc.export.c.layout import loop_nest
        from exprc.export.c.program import EXPORT_C, NodeContext
        from exprc.tensor.toy import AffineMap


        @EXPORT_C.register(AffineMap)
        def affine_map(ctx: NodeContext) -> None:
            x, out = ctx.inputs[0], ctx.output(0)
            t, op = out.ctype, ctx.op
            ctx.emit(*loop_nest(x.shape, [x, out], lambda ix: [
                f"{out.element(ix[1])} = ({t})({op.scale!r} * {x.element(ix[0])} + "
                f"{op.shift!r});"]))
        ''',
    "exprc.export.onnx.rules": '''
        import numpy as np

        from exprc.export.onnx.rules import ONNX
        from exprc.tensor.toy import AffineMap


        @ONNX.register(AffineMap)
        def affine_map(b, node, inputs):
            dtype = node.outputs[0].dtype
            scaled = b.binary("Mul", inputs[0], b.const(np.asarray(node.op.scale, dtype)))
            return [b.binary("Add", scaled, b.const(np.asarray(node.op.shift, dtype)))]
        ''',
    "tests.registry": '''
        from exprc.tensor.toy import affine_map
        from tests.registry import Arg, Case, add

        add(Case("toy/affine_map/matrix", lambda x: affine_map(x, 2.5, -1.0),
                 lambda x: 2.5 * x - 1.0, [Arg((3, 4))]),
            Case("toy/affine_map/0d", lambda x: affine_map(x, -0.5, 3.0),
                 lambda x: -0.5 * x + 3.0, [Arg(())]),
            Case("toy/affine_map/float32", lambda x: affine_map(x, 2.0, 1.0),
                 lambda x: 2.0 * x + 1.0, [Arg((2, 3), "float32")]))
        ''',
}

RULE_PACKAGES = {
    "exprc.link.reference": REFERENCE,
    "exprc.gradient.rules": GRAD,
    "exprc.rewriting.shape_rules": SHAPE,
    "exprc.link.c.ops": C_CODE,
    "exprc.export.c.rules": EXPORT_C,
    "exprc.export.onnx.rules": ONNX,
}


@pytest.fixture
def restored_tables(monkeypatch):
    """Every table, the op list and the registry as they were, whatever the test adds."""
    for table in RULE_PACKAGES.values():
        for attribute in ("_rules", "_reasons", "_origins"):
            monkeypatch.setattr(table, attribute, dict(getattr(table, attribute)))
    monkeypatch.setattr(Op, "ALL_OPS", list(Op.ALL_OPS))
    registry.load_all()  # the real cases first: the toy's are added to a copy, then dropped
    monkeypatch.setattr(registry, "CASES", list(registry.CASES))
    yield
    for name in [m for m in sys.modules if m.endswith(".toy") or m.endswith(".cases_toy")]:
        del sys.modules[name]


def _write_family(tmp_path, monkeypatch) -> None:
    for package_name, source in TOY_FILES.items():
        package = sys.modules[package_name] if package_name in sys.modules else \
            __import__(package_name, fromlist=["_"])
        folder = tmp_path / package_name
        folder.mkdir()
        stem = "cases_toy" if package_name == "tests.registry" else "toy"
        (folder / f"{stem}.py").write_text(textwrap.dedent(source))
        monkeypatch.setattr(package, "__path__", [*package.__path__, str(folder)])


def test_a_new_op_family_is_one_line_and_one_file_per_table(tmp_path, monkeypatch,
                                                            restored_tables):
    _write_family(tmp_path, monkeypatch)
    monkeypatch.setattr(families, "FAMILIES", (*families.FAMILIES, "toy"))
    for package in [*RULE_PACKAGES, "exprc.tensor"]:
        families.load_rules(package) if package != "exprc.tensor" else \
            __import__("exprc.tensor.toy")
    families.load_rules("tests.registry", prefix="cases_")

    from exprc.tensor.toy import AffineMap

    assert AffineMap in Op.ALL_OPS and families.family_of(AffineMap) == "toy"
    for package, table in RULE_PACKAGES.items():
        assert table.find(AffineMap) is not None, table.concern
        assert table.origin(AffineMap) == f"{package}.toy", table.concern

    cases = [c for c in registry.CASES if c.module == "tests.registry.cases_toy"]
    assert len(cases) == 3
    for case in cases:
        values = case.sample(seed=1)
        expected = case.reference(*values)
        for mode in ("REFERENCE", "FAST_RUN"):
            symbols = case.symbols()
            f = exprc.function(symbols, case.build(*symbols), mode=mode)
            got = f(*values)
            assert got.dtype == expected.dtype and got.shape == expected.shape, (case, mode)
            np.testing.assert_allclose(got, expected, rtol=1e-6)
            if mode == "FAST_RUN":
                assert all(where == "c" for _, where in f.placement())
                if have_compiler():  # and the exported standalone C computes the same
                    exported = run_exported(f, values, tmp_path / case.name.replace("/", "_"))
                    np.testing.assert_allclose(exported[0], expected, rtol=1e-6)
        symbols = case.symbols()
        assert [s.eval({symbols[0]: values[0]}) for s in shape_of(case.build(*symbols))] == \
            list(values[0].shape)
    build = cases[0].build
    verify_grad(build, [np.random.default_rng(0).normal(size=(3, 4))], rng=0)


def test_a_new_elementwise_function_is_one_row_per_scalar_table(monkeypatch):
    """The rows of "A new elementwise function" for ``cube(a) = a * a * a``."""
    cube = ScalarOp("cube", 1, "same")
    monkeypatch.setitem(SCALAR_OPS, "cube", cube)
    monkeypatch.setitem(tensor_math._ELEMWISE, "cube", Elemwise(cube))
    monkeypatch.setitem(tensor_math._DOCS, "cube", "a * a * a")
    monkeypatch.setitem(reference_elemwise.SCALAR_NUMPY, "cube", lambda a: a * a * a)
    monkeypatch.setitem(grad_elemwise.SCALAR_GRADS, "cube",
                        lambda x, out, gz: [gz * 3 * T.sqr(x[0])])
    monkeypatch.setitem(render.SCALAR_C, "cube", {"f": "{a} * {a} * {a}"})
    cube_fn = tensor_math._make("cube")

    x = T.matrix("x")
    values = np.random.default_rng(0).normal(size=(3, 4))
    for mode in ("REFERENCE", "FAST_RUN"):
        f = exprc.function([x], cube_fn(x) + 1, mode=mode)
        np.testing.assert_allclose(f(values), values ** 3 + 1, rtol=1e-12)
    placement = exprc.function([x], cube_fn(x)).placement()
    assert all(where == "c" for _, where in placement)
    verify_grad(cube_fn, [values], rng=0)
