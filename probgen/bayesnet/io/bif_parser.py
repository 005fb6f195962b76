"""The BIF parser: a regular-expression scanner and a recursive-descent reader of the three block kinds.

Grammar (``,`` and ``|`` are optional separators between names; comments may appear between tokens)::

    file        := (network | variable | probability)*
    network     := "network" NAME? "{" property* "}"
    variable    := "variable" NAME "{" (type | property)* "}"
    type        := "type" "discrete" "[" INT "]" "{" NAME+ "}" ";"
    probability := "probability" "(" NAME NAME* ")" "{" entry* "}"
    entry       := "table" NUMBER+ ";" | "default" NUMBER+ ";" | "(" NAME+ ")" NUMBER+ ";" | property
    property    := "property" <any text but ";"> ";"

Every step consumes at least one character, so a malformed file ends in a :class:`BIFError`, never a hang.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from probgen.errors import ProbgenError

_TOKEN = re.compile(r"""
    (?P<skip>(?:\s+|//[^\n]*|/\*.*?\*/)+)
  | "(?P<string>[^"\n]*)"
  | (?P<punct>[{}()\[\];,|])
  | (?P<word>(?:[^\s{}()\[\];,|"/]|/(?![/*]))+)
""", re.S | re.X)
_NUMBER_TEXT = re.compile(r"[^\s,]+")
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)


class BIFError(ProbgenError):
    """Malformed BIF input. ``line`` and ``column`` (1-based) locate it in ``source``."""

    def __init__(self, message: str, line: int, column: int, source: str = "<string>") -> None:
        super().__init__(f"{source}, line {line}, column {column}: {message}")
        self.line, self.column, self.source, self.reason = line, column, source, message


@dataclass
class Variable:
    name: str
    pos: int
    states: list = field(default_factory=list)
    properties: list = field(default_factory=list)


@dataclass
class Block:
    """A probability block: the child, its parents and the entries (kind, parent states, values, pos)."""

    child: str
    parents: list
    pos: int
    entries: list = field(default_factory=list)


class Parser:
    """Parse BIF ``text`` into a network name, properties, variables and probability blocks."""

    def __init__(self, text: str, source: str = "<string>") -> None:
        self.text, self.source, self.pos = text, source, 0
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
        while True:
            if self.pos >= len(self.text):
                return "eof", None, self.pos
            m = _TOKEN.match(self.text, self.pos)
            if m is None:
                what = {"/*": "unterminated /* comment", '"': "unterminated quoted name"}
                key = "/*" if self.text.startswith("/*", self.pos) else self.text[self.pos]
                self.fail(what.get(key, f"unexpected character {self.text[self.pos]!r}"))
            start, self.pos = self.pos, m.end()
            kind = m.lastgroup
            if kind == "skip":
                continue
            return ("punct" if kind == "punct" else "name"), m.group(kind), start

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
        brace = self.text.find("}", self.pos)
        if end < 0 or 0 <= brace < end:
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

    # --------------------------------------------------------------------------------- blocks
    def parse(self) -> Parser:
        while True:
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
                self.variable_type(var)
            else:
                self.fail(f"expected 'type', 'property' or '}}' in variable {name!r}, "
                          f"got {_show(kind, value)}", at)
        if not var.states:
            self.fail(f"variable {name!r} has no 'type discrete [ n ] {{ ... }};' line", start)

    def variable_type(self, var: Variable) -> None:
        kind_name, at = self.ident("'discrete'")
        if kind_name != "discrete":
            self.fail(f"variable {var.name!r} is of type {kind_name!r}; only 'discrete' is supported", at)
        self.expect("[")
        count, at = self.ident("the number of states")
        if not count.isdigit():
            self.fail(f"expected the number of states, got {count!r}", at)
        self.expect("]")
        self.expect("{")
        var.states = self.names_until("}", "a state name")
        self.expect(";")
        if len(var.states) != int(count):
            self.fail(f"variable {var.name!r} declares {count} states but lists {len(var.states)}: "
                      f"{var.states}", at)
        dups = sorted({s for s in var.states if var.states.count(s) > 1})
        if dups:
            self.fail(f"variable {var.name!r} lists the state(s) {dups} more than once", at)

    def probability(self, start: int) -> None:
        self.expect("(")
        names = self.names_until(")", "a variable name")
        if not names:
            self.fail("empty probability ( ) header", start)
        child, parents = names[0], names[1:]
        if child in self.blocks:
            self.fail(f"a second probability block for {child!r}", start)
        if child in parents or len(set(parents)) != len(parents):
            self.fail(f"probability of {child!r}: parents {parents} repeat a name or include {child!r}",
                      start)
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

    # --------------------------------------------------------------------------------- tables
    def table(self, block: Block, cards: list[int]) -> np.ndarray:
        """The block's table as an array (prod(cards), card), one row per parent configuration (C order)."""
        card = len(self.variables[block.child].states)
        rows = int(np.prod(cards)) if cards else 1
        tables = [e for e in block.entries if e[0] == "table"]
        if tables:
            if len(block.entries) > 1:
                self.fail(f"probability of {block.child!r} mixes 'table' with other entries", block.pos)
            _, _, values, at = tables[0]
            if values.size != rows * card:
                self.fail(f"probability of {block.child!r}: 'table' has {values.size} numbers, expected "
                          f"{rows * card} ({card} states x {rows} parent configurations)", at)
            return values.reshape(card, rows).T  # the child varies slowest in a 'table'
        return self._rows(block, cards, card, rows)

    def _rows(self, block: Block, cards: list[int], card: int, rows: int) -> np.ndarray:
        out = np.full((rows, card), np.nan)
        index = [{s: i for i, s in enumerate(self.variables[p].states)} for p in block.parents]
        strides = [int(np.prod(cards[i + 1:])) for i in range(len(cards))]
        default = None
        for kind, states, values, at in block.entries:
            if values.size != card:
                self.fail(f"probability of {block.child!r}: {values.size} numbers for {card} states", at)
            if kind == "default":
                default = values
                continue
            if len(states) != len(block.parents):
                self.fail(f"probability of {block.child!r}: row ({', '.join(states)}) names {len(states)} "
                          f"parent states, expected {len(block.parents)} ({', '.join(block.parents)})", at)
            flat = 0
            for p, s, idx, stride in zip(block.parents, states, index, strides):
                if s not in idx:
                    self.fail(f"unknown state {s!r} of parent {p!r} (states: {list(idx)})", at)
                flat += idx[s] * stride
            if not np.isnan(out[flat, 0]):
                self.fail(f"probability of {block.child!r}: row ({', '.join(states)}) given twice", at)
            out[flat] = values
        missing = np.isnan(out[:, 0])
        if missing.any():
            if default is None:
                k = int(missing.nonzero()[0][0])
                config = np.unravel_index(k, cards) if cards else ()
                names = [self.variables[p].states[i] for p, i in zip(block.parents, config)]
                self.fail(f"probability of {block.child!r} has no row for ({', '.join(names)}) and no "
                          f"'default' entry", block.pos)
            out[missing] = default
        return out


def _show(kind: str, value) -> str:
    return "the end of the file" if kind == "eof" else repr(value)
