"""debugprint, pp, to_dot and pydotprint on small graphs whose expected output is written out
by hand."""

import io
import re

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc import printing
from exprc.errors import ExprcError, ExprcTypeError
from exprc.printing import debugprint, pp, pydotprint, to_dot


@pytest.fixture
def xyz():
    return T.dvector("x"), T.dvector("y"), T.dmatrix("z")


def test_debugprint_tree(xyz):
    x, y, _ = xyz
    out = T.exp(x + y) * y
    out.name = "out"
    expected = "\n".join([
        "Elemwise{mul} [id A] 'out'",
        " |Elemwise{exp} [id B]",
        " | |Elemwise{add} [id C]",
        " |   |x [id D]",
        " |   |y [id E]",
        " |y [id E]",
    ])
    assert debugprint(out, file="str") == expected


def test_shared_subexpression_is_printed_once_then_referenced(xyz):
    x, y, _ = xyz
    s = x * y
    out = T.exp(s) + s
    expected = "\n".join([
        "Elemwise{add} [id A]",
        " |Elemwise{exp} [id B]",
        " | |Elemwise{mul} [id C]",
        " |   |x [id D]",
        " |   |y [id E]",
        " |Elemwise{mul} [id C]",
    ])
    assert debugprint(out, file="str") == expected


def test_several_outputs_share_ids_and_multi_output_nodes(xyz):
    x, y, _ = xyz
    first, second = T.split(x, [1, 2], 2)
    expected = "\n".join([
        "Split{n_splits=2, axis=0}.0 [id A]",
        " |x [id B]",
        " |TensorConstant{[1, 2]} [id C]",
        "Split{n_splits=2, axis=0}.1 [id A]",
    ])
    assert debugprint([first, second], file="str") == expected


def test_id_styles_types_and_depth(xyz):
    x, y, _ = xyz
    out = T.exp(x - y)
    assert debugprint(out, file="str", ids="int") == \
        "Elemwise{exp} [id 0]\n |Elemwise{sub} [id 1]\n   |x [id 2]\n   |y [id 3]"
    assert debugprint(out, file="str", ids="") == \
        "Elemwise{exp}\n |Elemwise{sub}\n   |x\n   |y"
    assert debugprint(out, file="str", depth=2) == "Elemwise{exp} [id A]\n |Elemwise{sub} [id B]"
    typed = debugprint(x, file="str", print_type=True)
    assert typed == "x [id A] <TensorType(float64, (?,))>"
    assert re.fullmatch(r"Elemwise\{exp\} \[id \d+\]", debugprint(out, file="str", ids="id",
                                                                  depth=1))
    with pytest.raises(ExprcTypeError, match="ids must be one of"):
        debugprint(out, file="str", ids="letters")


def test_char_ids_continue_past_z():
    assert [printing._char_id(n) for n in (0, 25, 26, 27, 26 * 26)] == \
        ["A", "Z", "BA", "BB", "BAA"]


def test_debugprint_writes_to_stdout_or_a_file(xyz, capsys):
    x, _, _ = xyz
    debugprint(T.neg(x))
    assert capsys.readouterr().out == "Elemwise{neg} [id A]\n |x [id B]\n"
    buffer = io.StringIO()
    assert debugprint(T.neg(x), file=buffer) is buffer
    assert buffer.getvalue() == "Elemwise{neg} [id A]\n |x [id B]\n"


def test_debugprint_of_a_compiled_function(xyz):
    x, y, _ = xyz
    f = exprc.function([x, y], [x + y, T.sqr(y)])
    assert debugprint(f, file="str") == "\n".join([
        "Elemwise{add} [id A]", " |x [id B]", " |y [id C]",
        "Elemwise{sqr} [id D]", " |y [id C]"])
    assert f([1.0], [2.0])[0] == 3.0


def test_debugprint_rejects_other_objects():
    with pytest.raises(ExprcTypeError, match="got str"):
        debugprint("x + y", file="str")


def test_pp(xyz):
    x, y, z = xyz
    assert pp(x + y * 2.0) == "(x + (y * 2.0))"
    assert pp(T.exp(x)) == "exp(x)"
    assert pp(-x) == "(-x)"
    assert pp(z.sum(axis=1)) == "sum(z, axis=(1,))"
    assert pp(T.cumsum(z, axis=0) / 3) == "(cumsum(z, axis=0) / 3.0)"
    assert pp(T.sort(x)) == "sort(x, axis=-1)"
    assert pp(z.dimshuffle(1, 0)) == "dimshuffle(z, (1, 0))"
    assert pp(x) == "x"
    assert pp(T.constant(1.5)) == "1.5"


def _dot_body(text):
    lines = text.splitlines()
    assert lines[0] == "digraph exprc {" and lines[-1] == "}"
    return lines[2:-1]


def test_to_dot_structure(xyz):
    x, y, _ = xyz
    out = T.exp(x * y)
    body = _dot_body(to_dot(out))
    nodes = [ln for ln in body if "->" not in ln]
    edges = [ln for ln in body if "->" in ln]
    # variables x, y, x*y, exp(...) and the two apply nodes; x->mul, y->mul, mul->xy,
    # xy->exp, exp->out.
    assert len(nodes) == 6 and len(edges) == 5
    assert sum('shape="box"' in ln for ln in nodes) == 2
    assert any('label="Elemwise{mul}"' in ln for ln in nodes)
    assert any('label="x\\nTensorType(float64, (?,))"' in ln for ln in nodes)


def test_to_dot_escapes_labels():
    x = T.dvector('say "hi"\\\nnow')
    body = _dot_body(to_dot(T.exp(x)))
    assert any('label="say \\"hi\\"\\\\\\nnow\\nTensorType(float64, (?,))"' in ln for ln in body)
    statement = re.compile(r'  "[nv]\d+"( -> "[nv]\d+")?( \[[^\n]*\])?;')
    for line in body:
        assert statement.fullmatch(line), line
        # Every quote in a line is escaped or opens/closes a whole quoted string.
        assert len(re.findall(r'(?<!\\)"', line.replace("\\\\", ""))) % 2 == 0


def test_pydotprint(tmp_path, xyz, monkeypatch):
    x, _, _ = xyz
    path = tmp_path / "graph.dot"
    assert pydotprint(T.exp(x), str(path)) == str(path)  # the format from the extension
    assert path.read_text() == to_dot(T.exp(x))
    assert pydotprint(T.exp(x), format="dot", return_image=True) == to_dot(T.exp(x))
    with pytest.raises(ExprcTypeError, match="format must be"):
        pydotprint(x, str(tmp_path / "g.jpg"), format="jpg")
    with pytest.raises(ExprcTypeError, match="unknown options"):
        pydotprint(x, str(tmp_path / "g.png"), colour="red")
    monkeypatch.setattr(printing.shutil, "which", lambda name: None)
    with pytest.raises(ExprcError, match="'dot' program, which is not on PATH: install Graphviz"):
        pydotprint(x, str(tmp_path / "g.svg"))
    assert x._repr_svg_() is None  # a notebook then shows the text form


@pytest.mark.skipif(printing.shutil.which("dot") is None, reason="Graphviz is not installed")
def test_pydotprint_draws_png_and_svg(tmp_path, xyz):
    x, y, _ = xyz
    f = exprc.function([x, y], T.exp(x) * y)
    png = pydotprint(f, str(tmp_path / "f.png"))
    with open(png, "rb") as image:
        assert image.read(8) == b"\x89PNG\r\n\x1a\n"
    svg = pydotprint(T.exp(x), str(tmp_path / "g.svg"))
    text = open(svg, encoding="utf-8").read()
    assert "<svg" in text and "Elemwise{exp}" in text
    assert "<svg" in f._repr_svg_() and "<svg" in (T.exp(x))._repr_svg_()


def test_to_dot_draws_inner_graphs_on_request():
    x = T.dvector("x")
    total, _ = exprc.scan(lambda v, acc: acc + T.exp(v), sequences=x,
                          outputs_info=T.constant(0.0, dtype="float64"), name="total")
    assert "subgraph" not in to_dot(total)
    text = to_dot(total, inner_graphs=True)
    assert "subgraph cluster_" in text and "Scan{total} (inner graph 0)" in text
    assert "Elemwise{exp}" in text and "style=dashed" in text


def test_to_dot_of_a_function_marks_inputs_and_outputs(xyz):
    x, y, _ = xyz
    f = exprc.function([x, y], x - y)
    body = _dot_body(to_dot(f))
    assert sum("lightgreen" in ln for ln in body) == 2
    assert sum("lightblue" in ln for ln in body) == 1
    np.testing.assert_array_equal(f([3.0], [1.0]), [2.0])


# --------------------------------------------------------------------------- Print
@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_print_shows_the_value_each_call_and_passes_it_through(mode, capsys):
    from exprc.printing import Print
    x = T.dvector("x")
    h = Print("h is")(x * 2)
    f = exprc.function([x], (h + 1).sum(), mode=mode)
    assert float(f(np.array([1.0, 2.0]))) == 8.0
    assert float(f(np.array([0.5]))) == 2.0
    assert capsys.readouterr().out == "h is __str__ = [2. 4.]\nh is __str__ = [1.]\n"
    grad = exprc.function([x], exprc.grad((h ** 2).sum(), x), mode=mode)
    np.testing.assert_allclose(grad(np.array([1.0, -3.0])), [8.0, -24.0])


def test_print_attrs_global_fn_and_placement():
    from exprc.printing import Print
    seen = []
    x = T.dmatrix("x")
    shown = Print("x", attrs=("shape", "sum"), global_fn=lambda op, v: seen.append(
        [getattr(v, a)() if callable(getattr(v, a)) else getattr(v, a) for a in op.attrs]))(x)
    f = exprc.function([x], shown * 3)
    np.testing.assert_array_equal(f(np.ones((2, 3))), np.full((2, 3), 3.0))
    assert seen == [[(2, 3), 6.0]]
    assert "python" in str(f.placement())
    with pytest.raises(TypeError, match="message must be a str"):
        Print(3)
