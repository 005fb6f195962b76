"""BIF reading and writing. Oracles: pgmpy's and pyAgrum's readers (independent parsers) on the same text,
and read -> write -> read identity on every network pgmpy bundles."""

import gzip
import warnings

import networkx as nx
import numpy as np
import pytest
import torch
from bn_helpers import five_node, sprinkler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probgen.bayesnet import BayesNet, BIFError, TabularCPD, bif_string, read_bif, write_bif
from probgen.bayesnet.io.bif_parser import Parser
from probgen.bayesnet.io.bundled import _pgmpy_dir, network_path

PGMPY = _pgmpy_dir()
ALL = sorted(p.name[: -len(".bif.gz")] for p in PGMPY.glob("*.bif.gz")) if PGMPY else []
# > 1 MB of text each: slow tests
LARGE = {"barley", "diabetes", "mildew", "munin", "munin2", "munin3", "munin4", "pathfinder"}


def _same(a: BayesNet, b: BayesNet) -> bool:
    props = all(a.graph.nodes[n].get("properties") == b.graph.nodes[n].get("properties") for n in a.nodes)
    return (a.equals(b) and list(a.graph.nodes) == list(b.graph.nodes) and props
            and a.graph.graph.get("properties") == b.graph.graph.get("properties"))


def test_every_bundled_network_is_found():
    assert len(ALL) == 24, ALL


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in LARGE else n for n in ALL])
def test_round_trip_is_identical(name, tmp_path):
    bn = read_bif(network_path(name))
    again = read_bif(write_bif(bn, tmp_path / f"{name}.bif.gz"))
    assert _same(bn, again)
    assert bif_string(again) == bif_string(bn)


@pytest.mark.parametrize("name", ["child", pytest.param("asia", marks=pytest.mark.slow),
                                  pytest.param("sachs", marks=pytest.mark.slow)])  # pgmpy: ~1 s a file
def test_tables_agree_with_pgmpys_reader(name):
    from pgmpy.readwrite import BIFReader

    text = gzip.decompress(network_path(name).read_bytes()).decode() if name != "asia" else \
        network_path(name).read_text()
    ours, theirs = read_bif(text), BIFReader(string=text).get_model()
    assert set(ours.nodes) == set(theirs.nodes())
    for cpd in theirs.get_cpds():
        n = cpd.variable
        parents = ours.parents(n)
        assert cpd.variables[1:] == parents and cpd.state_names[n] == ours.states(n)
        values = torch.as_tensor(cpd.values).permute(*range(1, len(parents) + 1), 0)  # (*parents, card)
        assert torch.allclose(values, ours.cpt(n), rtol=0, atol=1e-12), n


def test_pgmpy_reads_what_we_write():
    from pgmpy.readwrite import BIFReader

    bn = five_node()
    model = BIFReader(string=bif_string(bn)).get_model()
    for n in bn.nodes:
        vals = torch.as_tensor(model.get_cpds(n).values).permute(*range(1, len(bn.parents(n)) + 1), 0)
        assert torch.allclose(vals, bn.cpt(n), atol=1e-15)


FEATURES = """
// a line comment, then a block comment
/* spanning
   lines */
network "Two words" {
  property author = someone ;
  property "quoted property" ;
}
variable Age { // comments inside blocks too
  type discrete [ 3 ] { 0-3_days, 4-10_days, "11 to 30 days" };
  property position = (10, 20) ;
}
variable "Heart rate" {
  type discrete[2]{<5 >=7.5};
}
variable X {
  type discrete [ 3 ] { a, b, c };
}
probability ( Age ) {
  table 2.5e-1, 0.25, 5E-1;
}
probability ( "Heart rate" | Age ) {
  (0-3_days) 0.1, 0.9;
  default 0.5 0.5;
  ("11 to 30 days") 1, 0;
}
probability ( X Age "Heart rate" ) {   // the old header form: child first, then parents
  table 0.1, 0.1, 0.1, 0.1, 0.1, 0.1,
        0.3, 0.3, 0.3, 0.3, 0.3, 0.3,
        0.6, 0.6, 0.6, 0.6, 0.6, 0.6;
}
"""


def test_format_features():
    bn = read_bif(FEATURES)
    assert bn.graph.graph["name"] == "Two words"
    assert bn.graph.graph["properties"] == ["author = someone", '"quoted property"']
    assert bn.graph.nodes["Age"]["properties"] == ["position = (10, 20)"]
    assert bn.states("Age") == ["0-3_days", "4-10_days", "11 to 30 days"]
    assert bn.states("Heart rate") == ["<5", ">=7.5"]
    assert bn.cpt("Age").tolist() == [0.25, 0.25, 0.5]
    assert bn.cpt("Heart rate").tolist() == [[0.1, 0.9], [0.5, 0.5], [1.0, 0.0]]
    assert bn.parents("X") == ["Age", "Heart rate"] and bn.cpt("X").shape == (3, 2, 3)
    assert torch.allclose(bn.cpt("X"), torch.tensor([0.1, 0.3, 0.6], dtype=torch.float64).expand(3, 2, 3))
    assert _same(read_bif(bif_string(bn)), bn)


def _import_pyagrum():
    with warnings.catch_warnings():
        # pyAgrum's SWIG module warns on import: "builtin type swigvarlink has no __module__ attribute".
        warnings.filterwarnings("ignore", message="builtin type swig", category=DeprecationWarning)
        import pyagrum
    return pyagrum


def test_table_with_parents_is_read_as_pyagrum_reads_it(tmp_path):
    pyagrum = _import_pyagrum()
    text = """network t { }
    variable P { type discrete [ 2 ] { p0, p1 }; }
    variable C { type discrete [ 3 ] { c0, c1, c2 }; }
    probability ( P ) { table 0.3, 0.7; }
    probability ( C | P ) { table 0.1, 0.2, 0.3, 0.4, 0.6, 0.4; }
    """
    ours = read_bif(text).cpt("C")  # (P, C)
    assert ours.tolist() == [[0.1, 0.3, 0.6], [0.2, 0.4, 0.4]]
    (tmp_path / "t.bif").write_text(text)
    agrum = pyagrum.loadBN(str(tmp_path / "t.bif"))  # keep the network alive: cpt() is a view into it
    assert np.allclose(agrum.cpt("C").toarray(), ours.numpy())  # (P, C)


def test_sources_text_bytes_paths_and_gzip(tmp_path):
    bn = sprinkler()
    text = bif_string(bn)
    plain, packed = tmp_path / "s.bif", tmp_path / "s.bif.gz"
    assert write_bif(bn, plain) == plain and write_bif(bn, packed) == packed
    assert packed.read_bytes()[:2] == b"\x1f\x8b" and write_bif(bn) == text
    crlf = text.replace("\n", "\r\n")
    for src in (text, text.encode(), plain, str(plain), packed, packed.read_bytes(), crlf):
        assert read_bif(src).equals(bn)
    with pytest.raises(FileNotFoundError, match="no BIF file"):
        read_bif(tmp_path / "missing.bif")


GOOD = "variable A { type discrete [ 2 ] { y, n }; }\nprobability ( A ) { table 0.5, 0.5; }\n"
B = "variable B { type discrete [ 2 ] { y, n }; }\nprobability ( B | A ) "


MALFORMED = [
    ("", 1, 1, "no variables declared"),
    ("/* never closed", 1, 1, "unterminated /\\* comment"),
    ('variable "A { type', 1, 10, "unterminated quoted name"),
    ("netwrk x { }", 1, 1, "expected 'network', 'variable' or 'probability', got 'netwrk'"),
    ("variable A { type discrete [ 3 ] { y, n }; }", 1, 30, "declares 3 states but lists 2"),
    ("variable A { type discrete [ two ] { y, n }; }", 1, 30, "expected the number of states, got 'two'"),
    ("variable A { type continuous [ 2 ] { y, n }; }", 1, 19, "only 'discrete' is supported"),
    ("variable A { type discrete [ 2 ] { y, y }; }", 1, 30, r"lists the state\(s\) \['y'\] more than once"),
    ("variable A { type discrete [ 2 ] { y, n } }", 1, 43, "expected ';', got '}'"),
    ("variable A { type discrete [ 2 ] { y, n }; }\nvariable A {", 2, 10, "variable 'A' declared twice"),
    ("variable A { type discrete [ 2 ] { y, n }; }", 1, 10, "variable 'A' has no probability block"),
    (GOOD + "probability ( A ) { table 0.5, 0.5; }", 3, 1, "a second probability block for 'A'"),
    (GOOD.replace("0.5, 0.5;", "0.5, 0.5"), 2, 36, "expected numbers then ';', found '}'"),
    (GOOD[:-4], 2, 35, "expected numbers then ';', reached the end"),
    (GOOD.replace("0.5, 0.5", "0.5, O.5"), 2, 32, "expected a probability, got 'O.5'"),
    (GOOD.replace("0.5, 0.5", "0.5, nan"), 2, 32, "expected a probability, got 'nan'"),
    (GOOD.replace("0.5, 0.5", "0.5, 0.6"), 2, 1, r"sums to 1\.1, not 1 \(tolerance 1e-06\).*normalize=True"),
    (GOOD.replace("0.5, 0.5", "1.5, -0.5"), 2, 1, "non-negative"),
    (GOOD.replace("0.5, 0.5", "0.5, 0.25, 0.25"), 2, 27, "'table' has 3 numbers, expected 2"),
    (GOOD.replace("table", "tabel"), 2, 21, "expected 'table', 'default', '\\(' or '}' .* got 'tabel'"),
    (GOOD.replace("( A )", "( A | B )"), 2, 1, "undeclared variable 'B'"),
    (GOOD.replace("( A )", "( A | A )"), 2, 1, "include 'A'"),
    (GOOD + B + "{ (y) 0.5, 0.5; }", 4, 1,
     r"no row for \(n\) and no 'default'"),
    (GOOD + B + "{ (m) 0.5, 0.5; }", 4, 25,
     r"unknown state 'm' of parent 'A' \(states: \['y', 'n'\]\)"),
    (GOOD + B + "{ (y) 1; (n) 1, 0; }", 4, 25,
     "1 numbers for 2 states"),
    (GOOD + B + "{ (y) 1, 0; (y) 1, 0; }", 4, 35,
     r"row \(y\) given twice"),
    ("variable A { type discrete [ 1 ] { y }; }\nvariable B { type discrete [ 1 ] { y }; }\n"
     "probability ( A | B ) { table 1; }\nprobability ( B | A ) { table 1; }", 4, 1,
     "cycle (A -> B -> A|B -> A -> B)"),
    ("variable rows { type discrete [ 1 ] { y }; }\nprobability ( rows ) { table 1; }", 1, 10, "reserved"),
]


@pytest.mark.parametrize("text, line, col, match", MALFORMED)
def test_malformed_input_gives_line_and_column(text, line, col, match):
    with pytest.raises(BIFError, match=match) as e:
        read_bif(text.encode())  # bytes: always the file's content, never a path
    assert (e.value.line, e.value.column) == (line, col), str(e.value)
    assert str(e.value).startswith(f"<bytes>, line {line}, column {col}: ")


def _token_by_token(source, **kwargs):
    """read_bif with the parser's one-match fast paths off: the network, or the error's text."""
    Parser.FAST = False
    try:
        return read_bif(source, **kwargs)
    except BIFError as e:
        return str(e)
    finally:
        Parser.FAST = True


@pytest.mark.parametrize("text", [t for t, *_ in MALFORMED] + [
    GOOD + B + "{ (y) 0.5, 0.5; (n) 0.5 0.5 ; }",  # separators as the grammar allows
    GOOD + B + "{ (y) 0.5, 0.5; // a comment\n (n) 0.5 0.5 ; }",  # a block the fast path leaves
    GOOD + B + "{ property p = 1 ; (y) 0.5, 0.5; (n) 0.5, 0.5; }",
    GOOD + B + "{ (y) 0.5, 0.5; (n) 1e999, 0.5; }",
    GOOD + B + "{ (y) 0.5, 0.5; (n) inf, 0.5; }",
    GOOD + B + "{ default 0.25, 0.75; (n) 0.5, 0.5; }",
    GOOD + B + "{ table 0.1, 0.2, 0.9, 0.8; }",
    GOOD + B + "{ table, 0.1 0.2 0.9 0.8; }",
    GOOD + B + "{ table0.1, 0.2, 0.9, 0.8; }",
    GOOD + B + "{ (y) 0.5, 0.5; (n) 0.5, 0.5 }",
    '"variable" A { type discrete [ 2 ] { y, n }; }',
    "variable A { type discrete [ 2 ] { y, n }; property p ; }\nprobability ( A ) { table 0.5, 0.5; }",
    "variable A{type discrete[2]{y n};}probability(A){table 0.5 0.5;}",
])
def test_fast_paths_and_token_by_token_agree(text):
    """The reader's fast paths (a plain block in one match, all tables checked at once) give what the
    token-by-token reader gives: the same network or the same error at the same line and column."""
    try:
        got = read_bif(text.encode())
    except BIFError as e:
        got = str(e)
    want = _token_by_token(text.encode())
    assert type(got) is type(want), (got, want)
    assert got == want if isinstance(got, str) else _same(got, want), (got, want)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in LARGE else n for n in ALL])
def test_fast_paths_read_every_bundled_network_as_token_by_token(name):
    bn = read_bif(network_path(name))
    assert _same(bn, _token_by_token(network_path(name)))
    assert BayesNet(bn.graph).nodes == bn.nodes  # the reader's topological order is BayesNet's


def test_normalize_rescales_as_tabular_cpd_does_and_refuses_a_zero_row():
    text = GOOD + B + "{ (y) 1, 3; (n) 0.2, 0.2; }"
    bn = read_bif(text.encode(), normalize=True)
    want = TabularCPD(["y", "n"], [[1, 3], [0.2, 0.2]], ["A"], normalize=True)
    assert torch.allclose(bn.cpt("B"), want.probs, rtol=0, atol=1e-15)
    with pytest.raises(BIFError, match=r"line 4, column 1: probability of 'B': .*row \(1,\) is all zeros"):
        read_bif(text.replace("0.2, 0.2", "0, 0").encode(), normalize=True)


def test_each_table_is_its_own_tensor():
    """The tables are checked in one array but stored apart: torch.save of one table writes that table."""
    bn = read_bif(network_path("alarm"))
    assert all(bn.cpt(n).untyped_storage().nbytes() == 8 * bn.cpt(n).numel() for n in bn.nodes)


def test_corrupt_gzip_is_a_bif_error():
    with pytest.raises(BIFError, match="corrupt gzip"):
        read_bif(b"\x1f\x8b\x08\x00garbage")


_ASIA = network_path("asia").read_text()


@settings(max_examples=150, deadline=2000, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_files_parse_or_raise_bif_error(data):
    """Random edits of asia.bif never crash, hang or raise anything but BIFError (hypothesis fuzzing)."""
    text = _ASIA
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 12)))
        text = text[:i] + data.draw(st.text(alphabet='{}()[];,|"/*\n ab0.1-e', max_size=6)) + text[j:]
    try:
        bn = read_bif(text.encode())
    except BIFError as e:
        assert e.line >= 1 and e.column >= 1
    else:
        assert _same(read_bif(bif_string(bn)), bn)


def test_writer_quotes_only_what_needs_it():
    g = nx.DiGraph([("table", "two words")])
    g.nodes["table"]["cpd"] = TabularCPD(["Asy/Patch", ">=7.5", "a,b"], [0.2, 0.3, 0.5])
    g.nodes["two words"]["cpd"] = TabularCPD([0, 1], [[0.5, 0.5]] * 3, parents=["table"])
    bn = BayesNet(g)
    text = bif_string(bn)
    assert "variable table {" in text and '"two words"' in text and "{ Asy/Patch, >=7.5, \"a,b\" }" in text
    again = read_bif(text)
    assert again.states("table") == ["Asy/Patch", ">=7.5", "a,b"] and again.states("two words") == ["0", "1"]
    assert torch.equal(again.cpt("two words"), bn.cpt("two words"))
    g.nodes["table"]["cpd"] = TabularCPD(['say "hi"', "b", "c"], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="cannot be written to BIF"):
        bif_string(BayesNet(g))
