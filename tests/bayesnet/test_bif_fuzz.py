"""Seeded mutation fuzzing of the BIF reader on the bundled files (asia and alarm).

Each case applies one to three edits, drawn by ``random.Random(seed)``, to the file's tokens and lines:
edits that keep the meaning (comments and blanks between blocks, CRLF line ends, a byte-order mark, gzip)
must give the same network; any other edit must give a ``BIFError`` (a ``ProbgenError`` with a line and a
column inside the text) or a valid network that survives ``write -> read``; never another exception, a
hang (``within``) or an allocation out of proportion to the file (``peak_memory``). The runs are
derandomised: a failure names its seed and is found on every run.
"""

from __future__ import annotations

import gzip
import random
import re

import pytest
from bif_helpers import peak_memory, within
from test_bif import _same

from probgen.bayesnet import BIFError, bif_string, read_bif
from probgen.bayesnet.io.bif_parser import Parser
from probgen.bayesnet.io.bundled import network_path
from probgen.errors import ProbgenError

_TOKENS = re.compile(r'\s+|//[^\n]*|/\*.*?\*/|"[^"\n]*"|[{}()\[\];,|]|[^\s{}()\[\];,|"]+', re.S)
_VOCABULARY = [
    "{", "}", "(", ")", "[", "]", ";", ",", "|", '"', "//", "/*", "*/", "\n", " ", "variable", "probability",
    "network", "type", "discrete", "table", "default", "property", "²", "٢", "\ufeff", "1e308", "1e309", "-1",
    "nan", "inf", "0", "0.5", "99999999999999999999", "0x1", "1_0", "é", "\x00", "x y", '"a b"', "a/b",
]
_NUMBERS = ["0", "1", "0.5", "-0.5", "1e308", "1e-320", "nan", "-0", "2", "²", "1" + "0" * 400]
_KEEP = 6  # the first _KEEP edit kinds below keep the network as it is
MAX_TABLE_SIZE = 4096  # small: mutated headers that multiply tables end in a size error, also tested
MiB = 2**20


def _bundled(name: str) -> str:
    return network_path(name).read_text()


ORIGINAL = {name: _bundled(name) for name in ("asia", "alarm")}
PARSED = {name: read_bif(text.encode()) for name, text in ORIGINAL.items()}


# ------------------------------------------------------------------------------------------- edits
def _comment(rng, tokens, nodes, names):
    """A comment or blank after a '{', ';' or '}' (never inside a property's free text, which ends at ';')."""
    at = [i for i, t in enumerate(tokens) if t in ("{", ";", "}")] or [-1]
    blank = rng.choice([" /* ok; } { */ ", "\n// note { ; }\n", "\t", "\n\n", " /**/"])
    tokens.insert(rng.choice(at) + 1, blank)


def _crlf(rng, tokens, nodes, names):
    tokens[:] = ["".join(tokens).replace("\n", "\r\n")]


def _bom(rng, tokens, nodes, names):
    if tokens[:1] != ["\ufeff"]:  # one byte-order mark; a second one is content
        tokens.insert(0, "\ufeff")


def _blank_lines(rng, tokens, nodes, names):
    tokens.append("\n" * rng.randint(1, 3) + rng.choice(["", "// end\n", "/* end */"]))


def _gzip(rng, tokens, nodes, names):
    pass  # applied to the bytes in _case


def _nothing(rng, tokens, nodes, names):
    pass


def _delete(rng, tokens, nodes, names):
    if tokens:
        del tokens[rng.randrange(len(tokens))]


def _duplicate(rng, tokens, nodes, names):
    if tokens:
        i = rng.randrange(len(tokens))
        tokens.insert(i, tokens[i])


def _swap(rng, tokens, nodes, names):
    if len(tokens) > 1:
        i = rng.randrange(len(tokens) - 1)
        tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]


def _insert(rng, tokens, nodes, names):
    tokens.insert(rng.randrange(len(tokens) + 1), rng.choice(_VOCABULARY))


def _rename(rng, tokens, nodes, names):
    """A variable or state name replaced by another name of the file (cycles, duplicates, unknown states).

    Every edit takes the random source, the file's tokens (edited in place), its nodes and all its names."""
    at = [i for i, t in enumerate(tokens) if t in names]
    if at:
        tokens[rng.choice(at)] = rng.choice(sorted(names))


def _number(rng, tokens, nodes, names):
    at = [i for i, t in enumerate(tokens) if t[:1].isdigit()]
    if at:
        tokens[rng.choice(at)] = rng.choice(_NUMBERS)


def _more_parents(rng, tokens, nodes, names):
    """Parents added to a probability header: tables grow (up to a size error) and rows no longer fit."""
    at = [i for i, t in enumerate(tokens) if t == ")" and "probability" in "".join(tokens[max(0, i - 12):i])]
    i = rng.choice(at) if at else 0
    tokens[i:i] = [" , " + rng.choice(sorted(names)) for _ in range(rng.randint(1, 6))]


def _many_parents(rng, tokens, nodes, names):
    """Tens of distinct parents: a table of 2^30 entries or more must be refused, never allocated."""
    at = [i for i, t in enumerate(tokens) if t == "|"]
    if at:
        i = rng.choice(at)
        header = set(tokens[i - 4:i + 20])  # the child and its parents (or more): not added again
        new = [n for n in nodes if n not in header]
        tokens[i + 1:i + 1] = [" " + ", ".join(rng.sample(new, min(len(new), rng.randint(20, 70)))) + ","]


def _count(rng, tokens, nodes, names):
    """A state count replaced: non-ASCII digits, thousands of digits, zero, one too many."""
    at = [i for i in range(2, len(tokens)) if tokens[i][:1].isdigit() and "[" in tokens[i - 2:i]]
    if at:
        i = rng.choice(at)
        tokens[i] = rng.choice(["²", "٢", "0", "9" * 5000, str(int(tokens[i]) + 1), "-1", "2.0"])


def _line_edit(rng, tokens, nodes, names):
    text = "".join(tokens).split("\n")
    i, j = rng.randrange(len(text)), rng.randrange(len(text))
    kind = rng.randrange(3)
    if kind == 0:
        text.insert(i, text[j])  # e.g. a second 'type' line, a row given twice
    elif kind == 1:
        del text[i]
    else:
        text[i], text[j] = text[j], text[i]
    tokens[:] = ["\n".join(text)]


def _cut(rng, tokens, nodes, names):
    """The text cut short at a random point (a truncated download)."""
    text = "".join(tokens)
    tokens[:] = [text[: rng.randrange(len(text) + 1)]]


EDITS = [_comment, _crlf, _bom, _blank_lines, _gzip, _nothing,  # keep the network (_KEEP of them)
         _delete, _duplicate, _swap, _insert, _rename, _number, _more_parents, _many_parents, _count,
         _line_edit, _cut]


def _case(name: str, seed: int) -> tuple[bytes, bool, list[str]]:
    """The mutated file's bytes, whether its network must equal the original, and the edits' names
    (an edit with nothing to edit, e.g. no number left in a cut file, does nothing)."""
    rng = random.Random(f"{name}-{seed}")
    text = ORIGINAL[name]
    tokens = _TOKENS.findall(text)
    assert "".join(tokens) == text
    bn = PARSED[name]
    names = set(bn.nodes) | {str(s) for n in bn.nodes for s in bn.states(n)}
    keep = rng.random() < 0.25
    edits = [rng.choice(EDITS[:_KEEP] if keep else EDITS) for _ in range(rng.randint(1, 3))]
    for edit in edits:
        edit(rng, tokens, list(bn.nodes), names)
    data = "".join(tokens).encode()
    if _gzip in edits:
        data = gzip.compress(data, mtime=0)
    return data, all(EDITS.index(e) < _KEEP for e in edits), [e.__name__ for e in edits]


def _token_by_token(data: bytes):
    """read_bif(data) with the parser's one-match fast paths off: the network, or the error's text."""
    Parser.FAST = False
    try:
        return read_bif(data, max_table_size=MAX_TABLE_SIZE)
    except BIFError as e:
        return str(e)
    finally:
        Parser.FAST = True


def _check(name: str, seed: int) -> str:
    """Parse one mutated file; returns "error", "same" or "other" (a valid, different network). The reader
    with its fast paths (plain blocks in one match, all tables checked at once) and without them must give
    the same network or the same error, at the same line and column."""
    data, same, edits = _case(name, seed)
    where = f"{name} seed {seed} edits {edits}"
    slow = _token_by_token(data)
    try:
        with within(20), peak_memory() as mem:
            bn = read_bif(data, max_table_size=MAX_TABLE_SIZE)
    except BIFError as e:
        assert str(e) == slow, f"{where}: fast paths: {e}; token by token: {slow}"
        assert not same, f"{where}: an edit that keeps the network was refused: {e}"
        lines = data.count(b"\n") + 1 if data[:2] != b"\x1f\x8b" else 10**9
        assert 1 <= e.line <= lines and e.column >= 1, f"{where}: {e}"
        assert isinstance(e, ProbgenError) and isinstance(e, ValueError)
        return "error"
    except Exception as e:  # noqa: BLE001 - the assertion: anything else is a bug, reported with its seed
        raise AssertionError(f"{where}: {type(e).__name__}: {e}") from e
    assert mem["peak"] < 32 * MiB + 2000 * len(data), f"{where}: peak memory {mem['peak']} bytes"
    assert not isinstance(slow, str) and _same(slow, bn), f"{where}: token by token: {slow}"
    assert _same(read_bif(bif_string(bn)), bn), where
    if same:
        assert _same(bn, PARSED[name]), f"{where}: an edit that keeps the network changed it"
        return "same"
    return "other"


@pytest.mark.parametrize("name, block", [("asia", b) for b in range(8)] + [("alarm", b) for b in range(4)])
def test_mutated_bundled_files_parse_or_raise_bif_error(name, block):
    """300 mutations of asia and 100 of alarm in all (25 per block of seeds)."""
    outcomes = [_check(name, seed) for seed in range(25 * block, 25 * block + 25)]
    assert "error" in outcomes  # the edits do reach the error paths
