"""Nothing a user or an op subclass supplies can ride into generated C.

Text from outside (an op class's name or description, variable, function and shared-variable
names, error messages) reaches a generated source only through one literal encoder and one
comment encoder (``exprc.link.codegen.render.c_literal`` and ``c_comment``), and op parameters
only as plain numbers (``exprc.tensor.params``). Hostile text (quotes, backslash-newline,
``*/``, ``/*``, trigraphs, NUL, printf conversions, unicode, very long) goes through:

- the encoders, read back as a C compiler reads them (trigraphs, line splicing, then comments
  and literals: :func:`compiler_view`, written here from the C standard's translation phases);
- every C rule: a graph per op class from the registry, each op replaced by a subclass (found
  through the tables' class-hierarchy lookup) with a hostile name or description, keeps the
  code of the benign graph's source exactly, with the text only inside literals and comments;
- compiled programs: right values, the C run-time message shows the op's text exactly, and
  payloads written to run ``system()`` never create their file;
- op parameters: ``int`` subclasses with their own ``__str__``/``__format__`` give the very
  source plain ints give, and a bool is refused where an axis is expected.
"""

from __future__ import annotations

import re
import urllib.parse

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import exprc
import exprc.tensor as T
from exprc.compile.mode import Mode
from exprc.errors import ExprcError, ExprcTypeError
from exprc.link.c import program as c_program
from exprc.link.c.linker import CProgram
from exprc.link.c.program import CUnsupportedError, c_string, generate
from exprc.link.codegen.render import c_comment, c_literal
from exprc.tensor.basic import Join, Split
from exprc.tensor.composite import Composite
from exprc.tensor.elemwise import DimShuffle, Elemwise
from exprc.tensor.extra_ops import CumOp, OneHot, Repeat
from exprc.tensor.nnet.softmax import Softmax
from exprc.tensor.reduction import Reduce
from exprc.tensor.scalar import SCALAR_OPS
from exprc.tensor.shape import Reshape, SpecifyShape
from exprc.tensor.signal.pool import Pool
from exprc.tensor.sort import Sort
from exprc.tensor.subtensor import SliceSpec, Subtensor
from tests.registry import load_all

SETTINGS = settings(derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

#: Pieces that end or bend a C literal or comment, or a printf format, if written raw.
PIECES = ['"', "'", "\\", "\\\n", "\n", "\r", "*/", "/*", "//", "*", "/", "??/", "??=", "??'",
          "??(", "??)", "??!", "??<", "??>", "??-", "???", "\0", "%n", "%s", "%%", "%", "%lld",
          "#", "#define x", "{", "}", ";", "é", "\u2028", "\U0001f600", "\x7f", "\x01"]
HOSTILE = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)),
                   max_size=12).map("".join)
LONG = "A" * 3000 + "*/ é \\\n"

# Payloads that, written raw into a comment, a literal, an array initializer or a file-scope
# comment, would run system() and create the file PWNED ({path} is replaced by its path).
PAYLOADS = [
    '*\\\n/ system("touch {path}"); /*',
    '*/ system("touch {path}"); /*',
    '*??/\n/ system("touch {path}"); /*',
    '"); system("touch {path}"); ("',
    '\\"); system((char[]){{{chars}, 0}}); goto fail; }} //',
    '*\\\n/ __attribute__((constructor)) static void pwn(void) {{ system("touch {path}"); }} /*',
    "0}}; int pwn = system(\"touch {path}\"); static const int pad[] = {{0",
]


def payload(template: str, path) -> str:
    chars = ", ".join(f"'{c}'" for c in f"touch {path}")
    return template.format(path=path, chars=chars)


# --------------------------------------------------------------------------- a C reader
_TRIGRAPHS = {"??=": "#", "??/": "\\", "??'": "^", "??(": "[", "??)": "]", "??!": "|",
              "??<": "{", "??>": "}", "??-": "~"}
_SIMPLE_ESCAPES = {"n": 10, "t": 9, "r": 13, "a": 7, "b": 8, "f": 12, "v": 11, "\\": 92,
                   '"': 34, "'": 39, "?": 63}


def compiler_view(source: str) -> tuple[str, list[str], list[str]]:
    """``(code, literals, comments)`` of ``source`` as a C compiler's translation phases 1-3
    see it: trigraphs replaced, lines ending in a backslash joined to the next, then each
    comment and each string or character literal cut out of ``code`` (a placeholder stays).
    An unterminated comment or literal fails."""
    text = re.sub(r"\?\?[=/'()!<>\-]", lambda m: _TRIGRAPHS[m.group()], source)
    text = text.replace("\\\n", "")
    code, literals, comments = [], [], []
    i = 0
    while i < len(text):
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            assert end >= 0, "unterminated comment"
            comments.append(text[i + 2:end])
            code.append(" /**/ ")
            i = end + 2
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            comments.append(text[i + 2:end])
            code.append(" // ")
            i = end
        elif text[i] in "\"'":
            j = i + 1
            while text[j] != text[i]:
                assert text[j] != "\n", f"newline in a literal: {text[i:j]!r}"
                j += 2 if text[j] == "\\" else 1
            literals.append(text[i:j + 1])
            code.append(text[i] * 2)
            i = j + 1
        else:
            code.append(text[i])
            i += 1
    return "".join(code), literals, comments


def literal_bytes(literal: str) -> bytes:
    """The bytes a C string literal stands for (its escapes decoded)."""
    assert literal[0] == literal[-1] == '"'
    body, out, i = literal[1:-1], bytearray(), 0
    while i < len(body):
        if body[i] != "\\":
            out += body[i].encode()
            i += 1
            continue
        octal = re.match(r"[0-7]{1,3}", body[i + 1:])
        hexa = re.match(r"x([0-9a-fA-F]+)", body[i + 1:])
        if octal:
            out.append(int(octal.group(), 8))
            i += 1 + len(octal.group())
        elif hexa:
            out.append(int(hexa.group(1), 16))
            i += 1 + len(hexa.group())
        else:
            out.append(_SIMPLE_ESCAPES[body[i + 1]])
            i += 2
    return bytes(out)


def _printable(text: str) -> bool:
    return all(32 <= ord(c) < 127 or c == "\n" for c in text)


# --------------------------------------------------------------------------- the encoders
@SETTINGS
@given(HOSTILE)
@example(LONG)
@example("??/\n\"\\")
def test_a_literal_holds_exactly_the_texts_bytes(text):
    literal = c_literal(text)
    assert _printable(literal) and "\n" not in literal
    code, literals, comments = compiler_view(literal)
    assert (code, literals, comments) == ('""', [literal], [])
    assert literal_bytes(literal) == text.encode("utf-8")


@SETTINGS
@given(HOSTILE)
@example(LONG)
@example("*\\\n/ */ /* ??/")
def test_a_comment_shows_the_text_and_stays_one_comment(text):
    comment = c_comment(text)
    assert _printable(comment) and "\n" not in comment
    code, literals, comments = compiler_view(comment)
    assert (code.strip(), literals, len(comments)) == ("/**/", [], 1)
    assert urllib.parse.unquote_to_bytes(comments[0].strip()) == text.encode("utf-8")


@SETTINGS
@given(HOSTILE)
@example("a\0b")
def test_a_c_string_shows_nul_as_python_does(text):
    assert literal_bytes(c_string(text)) == text.replace("\0", "\\x00").encode("utf-8")


def _context():
    """A NodeContext for the node of ``x + 1``, as a rule receives it."""
    x = T.dvector("x")
    y = x + 1
    generator = c_program._Generator([x], [y])
    return c_program.NodeContext(generator, 0, y.owner)


@pytest.mark.parametrize("fmt, args", [
    ("%n", ()),                  # writes to memory
    ("op %s: size %lld", ("s",)),  # text passed without format_text: one argument short
    ("%x", ("1",)),              # a conversion no rule uses
])
def test_a_message_whose_conversions_do_not_match_its_arguments_is_refused(fmt, args):
    with pytest.raises(ExprcError, match="printf"):
        _context().fail("ValueError", fmt, *args)


@pytest.mark.parametrize("header", ['x.h"\n#include "/etc/passwd', "../x.h", "x.h ", "*/.h"])
def test_only_plain_header_names_are_included(header):
    with pytest.raises(ValueError, match="csrc/ header"):
        _context().include(header)
    with pytest.raises(ValueError, match="csrc/ header"):
        _context().hot_function("void", "", includes=[header])


# --------------------------------------------------------------------------- every C rule
def _hostile_class(cls: type, text: str, via: str) -> type:
    """A subclass of the op class ``cls`` whose name (``via="name"``) or description
    (``via="str"``) is ``text``; ``abstract`` keeps it out of ``Op.ALL_OPS``."""
    namespace = {"abstract": True, "__module__": cls.__module__}
    if via == "str":
        namespace["__str__"] = namespace["__repr__"] = lambda self: text
        return type(f"Hostile{cls.__name__}", (cls,), namespace)
    return type(text.replace("\0", "") or "_", (cls,), namespace)


def _hostile_op(op, text: str, via: str):
    hostile = object.__new__(_hostile_class(type(op), text, via))
    hostile.__dict__.update(op.__dict__)
    return hostile


def _rewritten(case):
    symbols = case.symbols()
    outputs = case.build(*symbols)
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    f = exprc.function(symbols, outputs, mode=Mode("reference", "fast_run"),
                       on_unused_input="ignore")
    return f.fgraph


class _Cases(list):
    def __repr__(self) -> str:  # hypothesis shows the fixture with a failing example
        return f"<{len(self)} registry cases>"


@pytest.fixture(scope="module")
def rule_cases():
    """One registry case per op class the C backend compiles (the first that holds it)."""
    chosen, covered = _Cases(), set()
    for case in load_all():
        graph = _rewritten(case)
        try:
            generate(graph.inputs, graph.outputs)
        except CUnsupportedError:
            continue
        classes = {type(node.op) for node in graph.toposort()}
        if classes - covered:
            chosen.append(case)
            covered |= classes
    return chosen


def test_the_rule_cases_cover_every_op_class_with_a_c_rule(rule_cases):
    covered = {type(n.op) for case in rule_cases for n in _rewritten(case).toposort()}
    # The random ops other than uniform have no registry graph the C backend compiles apart.
    assert len(covered) >= 40, sorted(c.__name__ for c in covered)


@settings(SETTINGS, max_examples=12)
@given(text=HOSTILE, via=st.sampled_from(["str", "name"]))
@example(text=LONG, via="str")
@example(text="*\\\n/ system(\"touch PWNED\"); /*", via="name")
@example(text='"); system("touch PWNED"); ("\0', via="str")
def test_no_rule_lets_op_text_out_of_a_literal_or_comment(rule_cases, text, via):
    for case in rule_cases:
        benign = _rewritten(case)
        expected = compiler_view(generate(benign.inputs, benign.outputs).source)
        hostile = _rewritten(case)
        for node in hostile.toposort():
            node.op = _hostile_op(node.op, text, via)
        source = generate(hostile.inputs, hostile.outputs).source
        assert _printable(source), case.name
        code, literals, comments = compiler_view(source)
        assert code == expected[0], case.name
        assert (len(literals), len(comments)) == (len(expected[1]), len(expected[2])), case.name


# --------------------------------------------------------------------------- compiled
def _shown(text: str) -> str:
    """What the C message shows of ``text``: as much as fits its 511 bytes, NUL as \\x00."""
    shown = text.replace("\0", "\\x00")
    while len(shown.encode("utf-8")) > 400:
        shown = shown[:len(shown) // 2]
    return shown


def _build(kind: str, text: str, via: str):
    """``(inputs, output, good arguments, NumPy's result, bad arguments or None, op)``."""
    if kind == "specify_shape":
        x = T.dvector("x")
        op = _hostile_class(SpecifyShape, text, via)((3,))
        return [x], op(x) * 2, [np.arange(3.0)], np.arange(3.0) * 2, [np.arange(2.0)], op
    if kind == "join":
        x, y = T.dmatrix("x"), T.dmatrix("y")
        op = _hostile_class(Join, text, via)(0)
        a, b = np.ones((2, 3)), np.arange(6.0).reshape(2, 3)
        return ([x, y], op(x, y), [a, b], np.concatenate([a, b]), [a, np.ones((2, 4))], op)
    x = T.dvector("x")
    op = _hostile_class(Elemwise, text, via)(SCALAR_OPS["exp"])
    return [x], op(x), [np.arange(3.0)], np.exp(np.arange(3.0)), None, op


def _check_compiled(kind: str, text: str, via: str, pwned) -> None:
    inputs, output, good, expected, bad, op = _build(kind, text, via)
    program = CProgram(inputs, [output])
    np.testing.assert_allclose(program(good)[0], expected)
    assert not pwned.exists()
    if bad is not None:
        with pytest.raises(ValueError) as info:
            program(bad)
        assert not pwned.exists()
        assert str(info.value).startswith(_shown(str(op)))


@pytest.mark.parametrize("template", PAYLOADS)
@pytest.mark.parametrize("kind", ["specify_shape", "join", "elemwise"])
@pytest.mark.parametrize("via", ["str", "name"])
def test_hostile_op_text_compiles_runs_and_is_shown_exactly(template, kind, via, tmp_path):
    pwned = tmp_path / "PWNED"
    _check_compiled(kind, payload(template, pwned), via, pwned)


@pytest.mark.parametrize("text", [LONG, "é\0\U0001f600\u2028 %n%s%%", "??/\n\"\\"])
def test_special_op_text_is_shown_exactly_in_a_c_message(text, tmp_path):
    _check_compiled("specify_shape", text, "str", tmp_path / "PWNED")


@settings(SETTINGS, max_examples=8)
@given(text=HOSTILE)
def test_any_op_text_is_shown_exactly_in_a_c_message(text, tmp_path_factory):
    _check_compiled("join", text, "str", tmp_path_factory.mktemp("pwned") / "PWNED")


@pytest.mark.parametrize("template", PAYLOADS)
def test_hostile_names_of_variables_functions_and_shared_variables_stay_out(template,
                                                                            tmp_path):
    pwned = tmp_path / "PWNED"
    name = payload(template, pwned)
    s = exprc.shared(np.zeros(3), name=name)
    x = T.dvector(name)
    f = exprc.function([x], (x * s).sum() + 1, updates=[(s, s + x)], name=name)
    assert isinstance(f.program, CProgram) and "touch" not in f.program.source
    assert float(f(np.arange(3.0))) == 1.0
    assert float(f(np.ones(3))) == 1.0 + float(np.arange(3.0).sum())
    np.testing.assert_array_equal(s.get_value(), np.arange(3.0) + 1)
    assert not pwned.exists()


# --------------------------------------------------------------------------- parameters
def hostile_int(value: int, text: str) -> int:
    """``value`` as an int subclass that prints, formats and represents itself as ``text``
    and claims another value through ``__index__`` and ``__int__``."""
    cls = type("HostileInt", (int,), {
        "__str__": lambda self: text, "__repr__": lambda self: text,
        "__format__": lambda self, spec: text, "__index__": lambda self: 99,
        "__int__": lambda self: 77})
    return cls(value)


def _graphs(i):
    """Graphs whose op parameters are made by ``i(value)``: ``(inputs, outputs)``."""
    m, v, q = T.dmatrix("m"), T.dvector("v"), T.tensor4("q")
    labels = T.lvector("labels")
    sizes = T.constant(np.array([1, 2]))
    return [
        ([m], [DimShuffle((i(1), "x", i(0)))(m)]),
        ([m], [Reshape(i(1))(m, T.constant(np.array([-1])))]),
        ([m], [SpecifyShape((i(2), None))(m)]),
        ([m], [Join(i(1))(m, m)]),
        ([v], Split(i(2), i(0))(v, sizes)),
        ([m], [Subtensor((i(1), SliceSpec(i(0), None, i(2))))(m)]),
        ([v], [Sort(i(0))(v)]),
        ([v], [CumOp(i(0))(v)]),
        ([v], [Repeat(i(0))(v, 2)]),
        ([m], [Reduce("add", (i(0),), "float64")(m)]),
        ([m], [Softmax(i(1))(m)]),
        ([labels], [OneHot(i(4), "float64")(labels)]),
        ([q], [Pool((i(2), i(2)))(q)]),
        ([v], [Composite(i(1), [(SCALAR_OPS["exp"], (("i", i(0)),))], [i(0)])(v)]),
    ]


@pytest.mark.parametrize("k", range(len(_graphs(int))))
def test_int_subclass_parameters_give_the_source_of_plain_ints(k, tmp_path):
    pwned = tmp_path / "PWNED"
    text = payload(PAYLOADS[-1], pwned)
    plain_in, plain_out = _graphs(int)[k]
    hostile_in, hostile_out = _graphs(lambda n: hostile_int(n, text))[k]
    plain_op, hostile_op = plain_out[0].owner.op, hostile_out[0].owner.op
    assert hostile_op == plain_op and hash(hostile_op) == hash(plain_op)
    assert str(hostile_op) == str(plain_op)
    assert (generate(hostile_in, hostile_out).source
            == generate(plain_in, plain_out).source)


def test_a_dimshuffle_of_int_subclasses_compiles_and_runs_as_plain_ints(tmp_path):
    pwned = tmp_path / "PWNED"
    m = T.dmatrix("m")
    order = (hostile_int(1, payload(PAYLOADS[-1], pwned)), "x", hostile_int(0, "0"))
    program = CProgram([m], [DimShuffle(order)(m)])
    value = np.arange(6.0).reshape(2, 3)
    result = program([value])[0]
    assert not pwned.exists()
    np.testing.assert_array_equal(result, value.T[:, None, :])


def test_an_op_that_skipped_normalising_its_parameters_is_refused():
    v = T.dvector("v")
    out = Sort(0)(v)
    out.owner.op.axis = hostile_int(0, "0]; system(\"id\"); int pad[1")  # bypasses __init__
    with pytest.raises(ExprcTypeError, match="Sort: parameter axis"):
        generate([v], [out])


@pytest.mark.parametrize("build", [
    lambda m: m.dimshuffle(True, 0),
    lambda m: DimShuffle((np.True_, 0))(m),
    lambda m: Join(True)(m, m),
    lambda m: Sort(False)(m),
    lambda m: T.sum(m, axis=True),
    lambda m: Subtensor((True,))(m),
])
def test_a_bool_is_refused_where_an_axis_or_index_is_expected(build):
    m = T.dmatrix("m")
    with pytest.raises(ExprcTypeError, match=r"must be an int, got bool"):
        build(m)


def test_the_dimshuffle_bool_error_names_the_op_and_the_parameter():
    with pytest.raises(ExprcTypeError, match=r"^DimShuffle: new_order entry must be an int, "
                                             r"got bool True"):
        T.dmatrix("m").dimshuffle(True, 0)


@pytest.mark.parametrize("build", [
    lambda: OneHot(3, '"); system("id"); ("'),
    lambda: CumOp(0, "add\0"),
    lambda: Pool((2, 2), mode="max*/"),
    lambda: Reshape(2.0),
    lambda: DimShuffle(("x0",)),
])
def test_parameters_outside_their_fixed_values_are_refused(build):
    with pytest.raises(ExprcTypeError):
        build()
