"""The BIF parser: a regular-expression scanner and a recursive-descent reader of the three block kinds.

Grammar (``,`` and ``|`` are optional separators between names; comments may appear between tokens)::

    file        := (network | variable | probability)*
    network     := "network" NAME? "{" property* "}"
    variable    := "variable" NAME "{" (type | property)* "}"
    type        := "type" "discrete" "[" INT "]" "{" NAME+ "}" ";"
    probability := "probability" "(" NAME NAME* ")" "{" entry* "}"
    entry       := "table" NUMBER+ ";" | "default" NUMBER+ ";" | "(" NAME+ ")" NUMBER+ ";" | property
    property    := "property" <any text but ";"> ";"

Every step consumes at least one character and looks at each character a bounded number of times, so
parsing is linear in the size of the text and a malformed file ends in a ``BIFError``, never a hang. Tables
are allocated only after their size is checked against ``max_table_size`` (``Parser.check_sizes``).

Speed: a block in its plain form (bare names, numbers, no comments, quotes or properties: what bnlearn and
pgmpy write) is read by one anchored regular-expression match per block and per entry (``_fast_variable``,
``_fast_probability``). Any other block, or a plain one with something wrong in it, is read token by token
from its start, so errors keep their line and column; ``Parser.FAST = False`` reads every block that way
(the tests check that both give the same network or the same error).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from probgen.bayesnet.model.limits import format_bytes
from probgen.errors import ProbgenError

# One match per token: whitespace and comments first, then the token (none at the end of the text, or at an
# unterminated comment or quote).
_TOKEN = re.compile(r"""
    (?:\s+|//[^\n]*|/\*.*?\*/)*
    (?: "(?P<string>[^"\n]*)"
      | (?P<punct>[{}()\[\];,|])
      | (?P<word>(?:[^\s{}()\[\];,|"/]|/(?![/*]))+) )?
""", re.S | re.X)
# Fast path of a name list: plain words and separators up to ')' or '}' (no quotes, comments or slashes)
_PLAIN_NAMES = {close: re.compile(r"[^(){}\[\];\"/]*" + re.escape(close)) for close in ")}"}
# Fast path of a type line after 'type': plain words only (no quotes, comments or slashes)
_PLAIN_TYPE = re.compile(r"\s+discrete\s*\[\s*([0-9]+)\s*\]\s*\{([^(){}\[\];\"/]*)\}\s*;")
_NUMBER_TEXT = re.compile(r"[^\s,]+")
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_COUNT = re.compile(r"[0-9]+")  # ASCII digits only: str.isdigit() also accepts '²'
# Fast paths of whole blocks in their plain form (bare names; no comments, quotes or properties): one match
# per block instead of a token at a time. Anything else falls back to the token-by-token reader, which gives
# the same result or the located error.
_NAME = r"[^\s{}()\[\];,|\"/]+"
_LIST = r"[^(){}\[\];\"/]*"  # plain names and separators
_FAST_VARIABLE = re.compile(r"\s*(variable)\s+(" + _NAME + r")\s*\{\s*type\s+discrete\s*\[\s*([0-9]+)\s*\]\s*"
                            r"\{(" + _LIST + r")\}\s*;\s*\}")
_FAST_PROBABILITY = re.compile(r"\s*(probability)\s*\((" + _LIST + r")\)\s*\{([^{}\"/]*)\}")
_FAST_ENTRY = re.compile(r"\s*(?:(table|default)(?=[\s,])|\((" + _LIST + r")\))\s*"
                         r"((?:[^\s;(){}\[\]\"/][^;(){}\[\]\"/]*)?);")  # numbers start at a non-space


class BIFError(ProbgenError):
    """Malformed BIF input. ``line`` and ``column`` (1-based) locate it in ``source``."""

    def __init__(self, message: str, line: int, column: int, source: str = "<string>") -> None:
        super().__init__(f"{source}, line {line}, column {column}: {message}")
        self.line, self.column, self.source, self.reason = line, column, source, message


@dataclass(slots=True)
class Variable:
    name: str
    pos: int
    states: list | None = None  # None until its 'type' line
    properties: list = field(default_factory=list)
    index: dict | None = field(default=None, repr=False, compare=False)  # state -> code, when first needed


@dataclass(slots=True)
class Block:
    """A probability block: the child, its parents and the entries (kind, parent states, values, pos)."""

    child: str
    parents: list
    pos: int
    entries: list = field(default_factory=list)


class Parser:
    """Parse BIF ``text`` into a network name, properties, variables and probability blocks."""

    #: Try the one-match forms of plain blocks first (False: token by token only; the tests compare the two).
    FAST = True

    def __init__(self, text: str, source: str = "<string>") -> None:
        self.text, self.source, self.pos = text, source, 0
        self.fast = self.FAST
        self.name: str | None = None
        self.properties: list[str] = []
        self.variables: dict[str, Variable] = {}
        self.blocks: dict[str, Block] = {}

    # --------------------------------------------------------------------------------- scanning
    def fail(self, message: str, pos: int | None = None):
        pos = self.pos if pos is None else min(pos, len(self.text))
        line = self.text.count("\n", 0, pos) + 1
        column = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        raise BIFError(message, line, column, self.source)

    def next(self) -> tuple[str, str | None, int]:
        """The next token as (kind, value, start): kind is 'name', 'punct' or 'eof'; comments skipped."""
        m = _TOKEN.match(self.text, self.pos)
        kind = m.lastgroup
        if kind is None:
            self.pos = m.end()
            if self.pos >= len(self.text):
                return "eof", None, self.pos
            what = {"/*": "unterminated /* comment", '"': "unterminated quoted name"}
            key = "/*" if self.text.startswith("/*", self.pos) else self.text[self.pos]
            self.fail(what.get(key, f"unexpected character {self.text[self.pos]!r}"))
        self.pos = m.end()
        return ("punct" if kind == "punct" else "name"), m.group(kind), m.start(kind) - (kind == "string")

    def expect(self, punct: str) -> int:
        kind, value, start = self.next()
        if kind != "punct" or value != punct:
            self.fail(f"expected {punct!r}, got {_show(kind, value)}", start)
        return start

    def ident(self, what: str) -> tuple[str, int]:
        kind, value, start = self.next()
        if kind != "name":
            self.fail(f"expected {what}, got {_show(kind, value)}", start)
        return value, start

    def names_until(self, close: str, what: str) -> list[str]:
        """Names up to the punctuation ``close`` (``,`` and ``|`` between them are skipped)."""
        plain = _PLAIN_NAMES[close].match(self.text, self.pos) if close in _PLAIN_NAMES else None
        if plain is not None:  # one regex and one split instead of a token at a time
            self.pos = plain.end()
            return _split_names(plain.group()[:-1])
        out = []
        while True:
            kind, value, start = self.next()
            if kind == "name":
                out.append(value)
            elif kind == "punct" and value == close:
                return out
            elif not (kind == "punct" and value in ",|"):
                self.fail(f"expected {what} or {close!r}, got {_show(kind, value)}", start)

    def block_entries(self):
        """``(kind, value, start)`` of the first token of each entry of a ``{ ... }`` block, up to the
        closing brace (consumed); the caller reads the rest of each entry."""
        while True:
            kind, value, start = self.next()
            if (kind, value) == ("punct", "}"):
                return
            yield kind, value, start

    def raw_until_semicolon(self) -> str:
        end = self.text.find(";", self.pos)
        # a '}' before the ';' is an error; look for it only up to the ';' (linear, not quadratic, in a block
        # of many properties)
        brace = self.text.find("}", self.pos, len(self.text) if end < 0 else end)
        if end < 0 or brace >= 0:
            self.fail("missing ';' after property")
        raw, self.pos = self.text[self.pos:end].strip(), end + 1
        return raw

    def numbers(self) -> tuple[np.ndarray, int]:
        """A list of numbers up to ';' (a fast path: one slice, one conversion), and its start."""
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1
        start, end = self.pos, self.text.find(";", self.pos)
        chunk = self.text[start:end] if end >= 0 else self.text[start:]
        for ch in "{}()":
            if ch in chunk:
                self.fail(f"expected numbers then ';', found {ch!r}", start + chunk.index(ch))
        if end < 0:
            self.fail("expected numbers then ';', reached the end of the file", len(self.text))
        if "/" in chunk:
            chunk = _COMMENT.sub(lambda m: " " * len(m.group()), chunk)
        parts = chunk.replace(",", " ").split()
        try:
            values = np.array(parts, dtype=np.float64)
        except ValueError:
            values = None
        if values is None or not np.isfinite(values).all() or not parts:
            for m in _NUMBER_TEXT.finditer(chunk):
                try:
                    ok = np.isfinite(float(m.group()))
                except ValueError:
                    ok = False
                if not ok:
                    self.fail(f"expected a probability, got {m.group()!r}", start + m.start())
            self.fail("expected at least one number before ';'", start)
        self.pos = end + 1
        return values, start

    # --------------------------------------------------------------------------------- fast paths
    def _fast_variable(self) -> bool:
        """Read a plain ``variable NAME { type discrete [ n ] { names }; }`` block in one match."""
        m = _FAST_VARIABLE.match(self.text, self.pos)
        if m is None:
            return False
        name, at = m.group(2), m.start(2)
        if name in self.variables:
            self.fail(f"variable {name!r} declared twice", at)
        var = Variable(name, at)
        self._set_states(var, m.group(3), m.start(3), _split_names(m.group(4)))
        self.variables[name] = var
        self.pos = m.end()
        return True

    def _fast_probability(self) -> bool:
        """Read a plain probability block (bare names, numbers, no comments or properties) with one match
        per entry; False (nothing consumed) for any other form, which the token reader then reads."""
        m = _FAST_PROBABILITY.match(self.text, self.pos)
        if m is None:
            return False
        body, base, at, entries = m.group(3), m.start(3), 0, []
        while (e := _FAST_ENTRY.match(body, at)) is not None:  # anchored: finditer's search is quadratic
            keyword, states, numbers = e.groups()
            try:
                values = list(map(float, numbers.replace(",", " ").split()))
            except ValueError:
                return False
            total = sum(values)
            if total - total != 0 or not values:  # NaN or infinite (or an overflowing sum), or none
                return False
            entries.append((keyword, None, values, base + e.start(3)) if keyword else
                           ("row", _split_names(states), values, base + e.start(2) - 1))
            at = e.end()
        names = _split_names(m.group(2))
        if not names or body[at:].strip():
            return False
        start = m.start(1)
        self._check_header(names[0], names[1:], start)
        self.blocks[names[0]] = Block(names[0], names[1:], start, entries)
        self.pos = m.end()
        return True

    # --------------------------------------------------------------------------------- blocks
    def parse(self) -> Parser:
        while True:
            if self.fast and (self._fast_variable() or self._fast_probability()):
                continue
            kind, value, start = self.next()
            if kind == "eof":
                break
            block = {"network": self.network, "variable": self.variable, "probability": self.probability}
            if kind != "name" or value not in block:
                self.fail(f"expected 'network', 'variable' or 'probability', got {_show(kind, value)}", start)
            block[value](start)
        if not self.variables:
            self.fail("no variables declared", 0)
        for block in self.blocks.values():
            for n in [block.child, *block.parents]:
                if n not in self.variables:
                    self.fail(f"probability block uses undeclared variable {n!r}", block.pos)
        return self

    def network(self, start: int) -> None:
        if self.name is not None:
            self.fail("a second network block", start)
        kind, value, at = self.next()
        if kind == "name":
            self.name = value
            at = self.expect("{")
        elif (kind, value) != ("punct", "{"):
            self.fail(f"expected the network name or '{{', got {_show(kind, value)}", at)
        self.name = self.name or "unknown"
        for kind, value, at in self.block_entries():
            if (kind, value) != ("name", "property"):
                self.fail(f"expected 'property' or '}}' in the network block, got {_show(kind, value)}", at)
            self.properties.append(self.raw_until_semicolon())

    def variable(self, start: int) -> None:
        name, at = self.ident("a variable name")
        if name in self.variables:
            self.fail(f"variable {name!r} declared twice", at)
        var = self.variables[name] = Variable(name, at)
        self.expect("{")
        for kind, value, at in self.block_entries():
            if (kind, value) == ("name", "property"):
                var.properties.append(self.raw_until_semicolon())
            elif (kind, value) == ("name", "type"):
                if var.states is not None:
                    self.fail(f"variable {name!r} has a second 'type' line; give its states once", at)
                self.variable_type(var)
            else:
                self.fail(f"expected 'type', 'property' or '}}' in variable {name!r}, "
                          f"got {_show(kind, value)}", at)
        if var.states is None:
            self.fail(f"variable {name!r} has no 'type discrete [ n ] {{ ... }};' line", start)

    def variable_type(self, var: Variable) -> None:
        plain = _PLAIN_TYPE.match(self.text, self.pos)  # the common form, in one match
        if plain is not None:
            self.pos, count, at = plain.end(), plain.group(1), plain.start(1)
            states = _split_names(plain.group(2))
        else:
            count, at, states = self._type_tokens(var)
        self._set_states(var, count, at, states)

    def _set_states(self, var: Variable, count: str, at: int, states: list[str]) -> None:
        if (count.lstrip("0") or "0") != str(len(states)):  # compared as text: int() of 5,000 digits fails
            listed = states if len(states) <= 20 else states[:20] + ["..."]
            self.fail(f"variable {var.name!r} declares {_cut(count)} states but lists {len(states)}: "
                      f"{listed}", at)
        if not states:
            self.fail(f"variable {var.name!r} has no states; a variable needs at least one", at)
        if len(set(states)) != len(states):  # linear, not quadratic
            dups = sorted(s for s, k in Counter(states).items() if k > 1)
            self.fail(f"variable {var.name!r} lists the state(s) {dups[:20]} more than once", at)
        var.states = states

    def _type_tokens(self, var: Variable) -> tuple[str, int, list[str]]:
        """``discrete [ n ] { names } ;`` read token by token (comments, quotes; errors located)."""
        kind_name, at = self.ident("'discrete'")
        if kind_name != "discrete":
            self.fail(f"variable {var.name!r} is of type {kind_name!r}; only 'discrete' is supported", at)
        self.expect("[")
        count, at = self.ident("the number of states")
        if not _COUNT.fullmatch(count):
            self.fail(f"expected the number of states, got {_cut(count)!r} (digits 0-9 only)", at)
        self.expect("]")
        self.expect("{")
        states = self.names_until("}", "a state name")
        self.expect(";")
        return count, at, states

    def probability(self, start: int) -> None:
        self.expect("(")
        names = self.names_until(")", "a variable name")
        if not names:
            self.fail("empty probability ( ) header", start)
        child, parents = names[0], names[1:]
        self._check_header(child, parents, start)
        block = self.blocks[child] = Block(child, parents, start)
        self.expect("{")
        for kind, value, at in self.block_entries():
            if (kind, value) == ("name", "property"):
                self.raw_until_semicolon()  # properties of a probability block carry no network content
            elif kind == "name" and value in ("table", "default"):
                block.entries.append((value, None, *self.numbers()))
            elif (kind, value) == ("punct", "("):
                states = self.names_until(")", "a parent state")
                block.entries.append(("row", states, *self.numbers()[:1], at))
            else:
                self.fail(f"expected 'table', 'default', '(' or '}}' in the probability of {child!r}, got "
                          f"{_show(kind, value)}", at)

    def _check_header(self, child: str, parents: list[str], start: int) -> None:
        if child in self.blocks:
            self.fail(f"a second probability block for {child!r}", start)
        if child in parents or len(set(parents)) != len(parents):
            self.fail(f"probability of {child!r}: parents {parents} repeat a name or include {child!r}",
                      start)

    # --------------------------------------------------------------------------------- tables
    def check_sizes(self, max_table_size: float) -> None:
        """Refuse, before any table is allocated, a table (or all tables together) of more than
        ``max_table_size`` entries, naming the node and the size. Sizes are summed as base-2 logarithms
        first: the product of 63 binary cardinalities overflows int64 (and of 60,000 is a 60,000-bit int)."""
        total = 0
        for block in self.blocks.values():
            cards = [len(self.variables[p].states) for p in block.parents]
            card = len(self.variables[block.child].states)
            log2 = sum(map(math.log2, cards)) + math.log2(card)
            size = math.prod(cards) * card if log2 < 63 else None  # numpy cannot index 2^63 entries
            if size is None or size > max_table_size:
                configs = f"{size // card:.3g} configurations" if size else "the configurations"
                self.fail(f"the table of {block.child!r} would have {_size(size, log2)} ({card} states x "
                          f"{configs} of {len(cards)} parents), above max_table_size="
                          f"{max_table_size:.3g}; raise max_table_size if the machine has the memory",
                          block.pos)
            total += size
            if total > max_table_size:
                self.fail(f"the tables up to that of {block.child!r} would have {_size(total)} in all, above "
                          f"max_table_size={max_table_size:.3g}; raise max_table_size if the machine has the "
                          "memory", block.pos)

    def table(self, block: Block, cards: list[int], out: np.ndarray | None = None) -> np.ndarray:
        """The block's table (prod(cards), card), one row per parent configuration (C order), written into
        ``out`` (a float64 array of that shape) or a new array. Its values are not checked here."""
        card = len(self.variables[block.child].states)
        rows = math.prod(cards)
        out = np.empty((rows, card)) if out is None else out
        tables = [e for e in block.entries if e[0] == "table"]
        if tables:
            if len(block.entries) > 1:
                self.fail(f"probability of {block.child!r} mixes 'table' with other entries", block.pos)
            _, _, values, at = tables[0]
            if len(values) != rows * card:
                self.fail(f"probability of {block.child!r}: 'table' has {len(values)} numbers, expected "
                          f"{rows * card} ({card} states x {rows} parent configurations)", at)
            # the child varies slowest in a 'table'
            out[:] = values if rows == 1 else np.asarray(values, dtype=np.float64).reshape(card, rows).T
            return out
        self._rows(block, cards, card, rows, out)
        return out

    def _index(self, name: str) -> dict:
        var = self.variables[name]
        if var.index is None:
            var.index = {s: i for i, s in enumerate(var.states)}
        return var.index

    def _rows(self, block: Block, cards: list[int], card: int, rows: int, out: np.ndarray) -> None:
        parents = block.parents
        index = [self._index(p) for p in parents]
        if len(parents) == 1:  # the common case: a parent state's code is the row
            code = index[0]
            row_of = lambda states: code[states[0]]  # noqa: E731
        else:
            strides = [math.prod(cards[i + 1:]) for i in range(len(cards))]
            row_of = lambda states: sum([idx[s] * k for s, idx, k in zip(states, index, strides)])  # noqa: E731
        # the rows by position: a list when there are entries enough to fill it, else (a 'default' for the
        # rest) a dict, so that a short block cannot ask for a list of 10^8 rows
        dense = rows <= len(block.entries)
        default, given, filled = None, [None] * rows if dense else {}, 0
        for kind, states, values, at in block.entries:
            if len(values) != card:
                self.fail(f"probability of {block.child!r}: {len(values)} numbers for {card} states", at)
            if kind == "default":
                default = values
                continue
            if len(states) != len(parents):
                self.fail(f"probability of {block.child!r}: row ({', '.join(states)}) names {len(states)} "
                          f"parent states, expected {len(parents)} ({', '.join(parents)})", at)
            try:
                row = row_of(states) if parents else 0
            except KeyError:
                p, s = next((p, s) for p, s, idx in zip(parents, states, index) if s not in idx)
                self.fail(f"unknown state {s!r} of parent {p!r} (states: {self.variables[p].states})", at)
            if (given[row] is not None) if dense else (row in given):
                self.fail(f"probability of {block.child!r}: row ({', '.join(states)}) given twice", at)
            given[row] = values
            filled += 1
        if filled == rows:
            out[:] = given
            return
        if default is None:
            missing = next(k for k in range(rows) if (given[k] is None if dense else k not in given))
            config = np.unravel_index(missing, cards) if cards else ()
            names = [self.variables[p].states[i] for p, i in zip(parents, config)]
            self.fail(f"probability of {block.child!r} has no row for ({', '.join(names)}) and no "
                      f"'default' entry", block.pos)
        out[:] = default
        for row, values in enumerate(given) if dense else given.items():
            if values is not None:
                out[row] = values


def _split_names(text: str) -> list[str]:
    """The names of a plain list: ``,``, ``|`` and whitespace separate them (``str.split`` and the
    scanner's ``\\s`` agree on what is whitespace)."""
    return text.replace(",", " ").replace("|", " ").split()


def _show(kind: str, value) -> str:
    return "the end of the file" if kind == "eof" else repr(_cut(value))


def _cut(text, k: int = 40):
    """``text`` cut to ``k`` characters for a message (a 2 MB token is echoed as its start)."""
    return text if not isinstance(text, str) or len(text) <= k else text[:k] + "..."


def _size(entries: int | None, log2: float = 0.0) -> str:
    """Entries as text with their size in float64, e.g. ``'5.37e+08 entries = 4 GiB in float64'``;
    ``None``: too many to count, about ``2 ** log2``."""
    if entries is None:
        return f"about 2^{log2:.0f} entries"
    return f"{entries:.3g} entries = {format_bytes(8 * entries)} in float64" if entries >= 1e6 else \
        f"{entries} entries"
