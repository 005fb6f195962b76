"""The BIF reader's bounds: time linear in the text, tables checked against ``max_table_size`` before they
are allocated, paths never read as text, and the odd inputs of issue 11 (a BOM, non-ASCII digits, a
second ``type`` line). Times are bounded generously (see ``bif_helpers.within``), never asserted."""

import gzip
import itertools
import math

import pytest
from bif_helpers import binary_roots, child_of, peak_memory, within
from bn_helpers import sprinkler

from probgen.bayesnet import BIFError, bif_string, read_bif, read_bif_string, write_bif
from probgen.bayesnet.exact.queries import MAX_TABLE_SIZE as EXACT_MAX
from probgen.bayesnet.model.limits import MAX_TABLE_SIZE

MiB = 2**20


# ------------------------------------------------------------------------------------------- time
def test_sixty_thousand_states_parse_in_linear_time():
    """Was 34 s (a quadratic duplicate-state check); now about 0.3 s, so 30 s tells the two apart."""
    n = 60_000
    text = (f"variable A {{ type discrete [ {n} ] {{ {', '.join(f's{i}' for i in range(n))} }}; }}\n"
            f"probability ( A ) {{ table 1{', 0' * (n - 1)}; }}\n")
    with within(30):
        bn = read_bif_string(text)
    assert bn.card("A") == n and bn.states("A")[-1] == f"s{n - 1}"


def test_duplicate_states_are_found_among_many():
    states = [f"s{i}" for i in range(50_000)] + ["s7", "s123"]
    text = f"variable A {{ type discrete [ {len(states)} ] {{ {' '.join(states)} }}; }}\n"
    with within(30), pytest.raises(BIFError, match=r"'A' lists the state\(s\) \['s123', 's7'\] more"):
        read_bif_string(text)


@pytest.mark.parametrize("shape", ["properties", "rows", "comments", "chain", "tables", "parens"])
def test_large_files_parse_in_linear_time(shape):
    """2 MB of each kind of content: many properties in one block (each used to search to the block's
    end for a '}'), many rows, one long comment, 20,000 small variables (about 0.5 s; was 3 s), and two
    malformed blocks on which an unanchored search for the next entry would be quadratic."""
    if shape == "properties":
        text = "network n {\n" + "  property a = b ;\n" * 100_000 + "}\n" + binary_roots(["A"])
    elif shape == "rows":
        k = 15  # 32,768 rows of 15 parent states
        rows = "".join(f"({', '.join(c)}) 0.5, 0.5;\n" for c in itertools.product("ab", repeat=k))
        text = binary_roots(f"P{i}" for i in range(k)) + child_of([f"P{i}" for i in range(k)], rows)
    elif shape == "comments":
        text = "/*" + " comment" * 250_000 + " */\n" + binary_roots(["A"])
    elif shape == "chain":
        text = binary_roots(["V0"]) + "".join(child_of([f"V{i - 1}"], "(a) 0.1, 0.9; (b) 0.2, 0.8;", f"V{i}")
                                              for i in range(1, 20_000))
    else:
        entry = "table " if shape == "tables" else "(a, b "
        text = binary_roots(["A"]) + child_of([], entry * 300_000, "B")
    assert len(text) > 1.5 * MiB
    with within(60):
        if shape in ("tables", "parens"):
            with pytest.raises(BIFError, match="line 4"):
                read_bif_string(text)
            return
        bn = read_bif_string(text)
    assert len(bn.nodes) >= 1


def test_a_long_token_is_cut_in_the_message():
    with within(30), pytest.raises(BIFError, match=r"got 'xxxxxxxx.*\.\.\.'$") as e:
        read_bif_string("variable A {\n type discrete [ 2 ] { a, b }; }\n" + "x" * 2_000_000)
    assert len(str(e.value)) < 300


# ------------------------------------------------------------------------------------------- sizes
def test_the_reader_and_the_engine_share_one_knob():
    assert MAX_TABLE_SIZE == EXACT_MAX == 2**28


def test_63_binary_parents_are_refused_by_size_not_by_numpy():
    parents = [f"P{i}" for i in range(63)]
    with pytest.raises(BIFError, match=r"the table of 'C' would have about 2\^64 entries \(2 states x the "
                       r"configurations of 63 parents\), above max_table_size=2\.68e\+08") as e:
        read_bif_string(binary_roots(parents) + child_of(parents))
    assert e.value.line == 2 * 63 + 2  # the probability block of C


def test_a_small_file_cannot_ask_for_a_huge_table():
    """2.3 KB, 28 binary parents, one `default` row: 2^29 entries (4 GiB) refused before allocating."""
    parents = [f"P{i}" for i in range(28)]
    text = binary_roots(parents) + child_of(parents)
    assert len(text) < 4000
    with peak_memory() as mem, pytest.raises(BIFError, match=r"'C' would have 5\.37e\+08 entries = 4 GiB in "
                                             r"float64 \(2 states x 2\.68e\+08 configurations of 28 "
                                             r"parents\)"):
        read_bif_string(text)
    assert mem["peak"] < 20 * MiB
    bn = read_bif_string(binary_roots(parents[:10]) + child_of(parents[:10]))  # 2,048 entries: fine
    assert bn.cpt("C").shape == (2,) * 11


def test_max_table_size_bounds_each_table_and_their_sum():
    text = binary_roots(["P", "Q"]) + child_of(["P", "Q"])  # tables of 2, 2 and 8 entries
    assert read_bif_string(text, max_table_size=12).card("C") == 2
    with pytest.raises(BIFError, match=r"the table of 'C' would have 8 entries .*max_table_size=7"):
        read_bif_string(text, max_table_size=7)
    with pytest.raises(BIFError, match=r"the tables up to that of 'C' would have 12 entries in all, above "
                       r"max_table_size=11"):
        read_bif_string(text, max_table_size=11)
    assert read_bif_string(text, max_table_size=math.inf).card("C") == 2


@pytest.mark.parametrize("value, error, match", [
    ("big", TypeError, r"`max_table_size` must be a number of table entries, got 'big'"),
    (True, TypeError, r"`max_table_size` must be a number"),
    (0, ValueError, r"`max_table_size` must be >= 1 .*got 0"),
    (math.nan, ValueError, r"`max_table_size` must be >= 1 .*got nan"),
])
def test_max_table_size_is_checked(value, error, match):
    with pytest.raises(error, match=match):
        read_bif_string(binary_roots(["A"]), max_table_size=value)
    with pytest.raises(error, match=match):
        sprinkler().posterior({}, max_table_size=value)


def test_gzip_data_is_decompressed_within_the_bound():
    """A 20 KB gzip file of 20 MB of blanks: refused after about 16 bytes per entry of max_table_size."""
    bomb = gzip.compress(b" " * (20 * MiB) + binary_roots(["A"]).encode())
    assert len(bomb) < 50_000
    with peak_memory() as mem, pytest.raises(BIFError, match=r"gzip data decompresses to more than "
                                             r"1\.05e\+06 bytes \(16 x max_table_size\)"):
        read_bif(bomb, max_table_size=2**16)
    assert mem["peak"] < 8 * MiB
    assert read_bif(bomb).card("A") == 2  # within the default bound
    two_members = gzip.compress(b"variable A { type discrete [ 2 ] { a, b }; }\n") + gzip.compress(
        b"probability ( A ) { table 0.5, 0.5; }\n")
    assert read_bif(two_members).card("A") == 2
    with pytest.raises(BIFError, match=r"corrupt gzip data \(truncated\)"):
        read_bif(bomb[:1000])


# ---------------------------------------------------------------------------------- odd headers, BOM
@pytest.mark.parametrize("count", ["²", "٢", "2.0", "-2", "0x2"])
def test_the_number_of_states_must_be_ascii_digits(count):
    text = f"variable A {{ type discrete [ {count} ] {{ y, n }}; }}"
    match = f"expected the number of states, got '{count}' \\(digits 0-9 only\\)"
    with pytest.raises(BIFError, match=match) as e:
        read_bif_string(text)
    assert (e.value.line, e.value.column) == (1, 30)


def test_a_count_of_many_digits_is_compared_as_text():
    with pytest.raises(BIFError, match=r"variable 'A' declares 1000000000\d{30}\.\.\. states but lists 2"):
        read_bif_string("variable A { type discrete [ 1" + "0" * 5000 + " ] { y, n }; }")
    assert read_bif_string("variable A { type discrete [ 002 ] { y, n }; }\n"
                           "probability ( A ) { table 0.5, 0.5; }").card("A") == 2


def test_a_second_type_line_is_refused():
    text = ("variable A {\n  type discrete [ 2 ] { y, n };\n  type discrete [ 3 ] { a, b, c };\n}\n"
            "probability ( A ) { table 0.2, 0.3, 0.5; }")
    with pytest.raises(BIFError, match="variable 'A' has a second 'type' line") as e:
        read_bif_string(text)
    assert (e.value.line, e.value.column) == (3, 3)


def test_a_variable_without_states_is_refused():
    with pytest.raises(BIFError, match="variable 'A' has no states"):
        read_bif_string("variable A { type discrete [ 0 ] { }; }")


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    bn = sprinkler()
    text = bif_string(bn)
    path = tmp_path / "bom.bif"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    packed = tmp_path / "bom.bif.gz"
    packed.write_bytes(gzip.compress(b"\xef\xbb\xbf" + text.encode()))
    for source in (path, packed, path.read_bytes(), "\ufeff" + text):
        assert read_bif(source).equals(bn)
    assert read_bif_string("\ufeff" + text).equals(bn)
    with pytest.raises(BIFError, match=r"got '\\ufeffnetwork'"):  # only at the start
        read_bif_string("\n\ufeff" + text)


# ------------------------------------------------------------------------------------ path or text
def test_a_path_with_braces_is_a_path(tmp_path):
    folder = tmp_path / "with{brace}"
    folder.mkdir()
    bn = sprinkler()
    write_bif(bn, folder / "net.bif")
    assert read_bif(str(folder / "net.bif")).equals(bn)
    with pytest.raises(FileNotFoundError, match=r"no BIF file at .*with\{brace\}/other\.bif'; to read BIF "
                       r"text, call read_bif_string"):
        read_bif(str(folder / "other.bif"))


def test_text_is_read_only_when_it_says_so():
    one_line = "variable A { type discrete [ 1 ] { a }; } probability ( A ) { table 1; }"
    with pytest.raises(FileNotFoundError, match="read_bif_string"):
        read_bif(one_line)  # a str without a newline is a path
    assert read_bif_string(one_line).card("A") == 1
    assert read_bif(one_line + "\n").card("A") == 1
    assert read_bif(one_line.encode()).card("A") == 1
    with pytest.raises(BIFError, match=r"^net\.bif, line 1, column 1: no variables"):
        read_bif_string("", source="net.bif")
    with pytest.raises(TypeError, match="read_bif_string takes the text of a BIF file"):
        read_bif_string(one_line.encode())
    with pytest.raises(TypeError, match="read_bif takes a path, a BIF text or bytes, got int"):
        read_bif(3)
