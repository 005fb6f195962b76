"""Reading and writing BIF files (the Bayesian Interchange Format used by the bnlearn repository).

The reader is a small recursive-descent parser over a regular-expression scanner: it never evaluates its
input, every loop consumes input (so it cannot hang), and any malformed input raises :class:`BIFError`
with a line and column. It accepts what the format allows: ``//`` and ``/* */`` comments, ``property``
lines, quoted names, odd state names such as ``0-3_days`` or ``<5``, ``,`` and ``|`` as optional
separators, ``table`` entries (the child varies slowest, then the parents in order, as JavaBayes and pgmpy
write them), per-parent-configuration rows, ``default`` rows, and gzip (``.gz``) files.

The network is built in one pass from checked parts, as fast for 20,000 small variables as for one large
table (``bench/bif.py``): all tables are written into one array and checked together (a failing table is
then rebuilt by ``TabularCPD`` for its message), the topological order is found once, and the graph is
handed to ``BayesNet`` without a second validation.

Network and variable properties are kept (``bn.graph.graph["properties"]`` and
``bn.graph.nodes[n]["properties"]``), so ``read -> write -> read`` gives an identical network.

Format: F. G. Cozman, "The Interchange Format for Bayesian Networks" (1998), as used by bnlearn.
"""

from __future__ import annotations

import gc
import gzip
import itertools
import math
import os
import re
import zlib
from pathlib import Path

import networkx as nx
import numpy as np

from probgen.bayesnet.io.bif_parser import BIFError, Parser
from probgen.bayesnet.model.graph import topological_order
from probgen.bayesnet.model.limits import MAX_TABLE_SIZE, check_max_table_size
from probgen.checks import check_output_file

__all__ = ["BIFError", "read_bif", "read_bif_string", "write_bif", "bif_string"]

_TEXT_PER_ENTRY = 16  # bytes of decompressed text allowed per entry of max_table_size


def _read_source(source, max_bytes: float) -> tuple[str, str]:
    """(text, name) of a path, a BIF text or bytes (see ``read_bif``)."""
    if isinstance(source, bytes | bytearray | memoryview):
        return _decode(bytes(source), "<bytes>", max_bytes), "<bytes>"
    if isinstance(source, str) and "\n" in source:
        return source, "<string>"
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            hint = "; to read BIF text, call read_bif_string(text)" if isinstance(source, str) and (
                "{" in source or not source.strip()) else ""
            raise FileNotFoundError(f"no BIF file at {str(path)!r}{hint}")
        return _decode(path.read_bytes(), path.name, max_bytes), path.name
    raise TypeError(f"read_bif takes a path, a BIF text or bytes, got {type(source).__name__}")


def _decode(data: bytes, name: str, max_bytes: float) -> str:
    """Text of a file's bytes: gzip (by its magic number) decompressed up to ``max_bytes``, UTF-8 or else
    Latin-1 (a byte-order mark is dropped by ``_parse``)."""
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, name, max_bytes)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _gunzip(data: bytes, name: str, max_bytes: float) -> bytes:
    """Decompress every gzip member of ``data``, refusing more than ``max_bytes`` of output (a 10 KB file
    can hold gigabytes of zeros) before they are allocated."""
    out, size, left = [], 0, data
    while left[:2] == b"\x1f\x8b":
        z = zlib.decompressobj(wbits=31)
        try:
            while not z.eof:
                chunk = z.decompress(left, int(min(max_bytes - size, 2**26)) + 1)
                size += len(chunk)
                if size > max_bytes:
                    raise BIFError(f"gzip data decompresses to more than {max_bytes:.3g} bytes "
                                   f"({_TEXT_PER_ENTRY} x max_table_size); raise max_table_size to read it",
                                   1, 1, name)
                if not chunk and len(z.unconsumed_tail) >= len(left):
                    raise BIFError("corrupt gzip data (truncated)", 1, 1, name)
                out.append(chunk)
                left = z.unconsumed_tail
        except zlib.error as e:
            raise BIFError(f"corrupt gzip data ({e})", 1, 1, name) from None
        left = z.unused_data
    return b"".join(out)


def read_bif(source, *, normalize: bool = False, max_table_size: float = MAX_TABLE_SIZE):
    """Read a BIF network from a file, its bytes or its text.

    What ``source`` is decides how it is read, never its contents alone: ``bytes`` are the file's content;
    an ``os.PathLike`` is a path; a ``str`` is a path unless it contains a newline (a BIF text; paths with
    a newline in them must be given as ``pathlib.Path``). A path such as ``"/data/{x}/net.bif"`` is read
    as a path. ``read_bif_string(text)`` reads a text of any form, one line included.

    Args:
        source: a path (``.bif``, or gzip-compressed ``.bif.gz``: detected by its magic number), the bytes
            of such a file, or a BIF text containing a newline.
        normalize: rescale rows that do not sum to one instead of raising (see ``TabularCPD``).
        max_table_size: the most entries of one conditional table, and of all of them together; larger
            ones are refused before they are allocated (``probgen.bayesnet.model.limits``; the same knob
            as exact inference's). gzip data may decompress to at most 16 bytes per entry of it.

    Returns:
        A ``BayesNet``; its graph's nodes are in the file's declaration order and its states are strings.

    Raises:
        BIFError: malformed input, with the line and column (also for a cycle, a missing probability block,
            rows that do not sum to one, or a table over ``max_table_size``).
        FileNotFoundError: no file at the path.
    """
    max_table_size = check_max_table_size(max_table_size)
    text, name = _read_source(source, _TEXT_PER_ENTRY * max_table_size)
    return _parse(text, name, normalize, max_table_size)


def read_bif_string(text: str, *, normalize: bool = False, max_table_size: float = MAX_TABLE_SIZE,
                    source: str = "<string>"):
    """Read a BIF network from its text (never a path); ``source`` names it in error messages.
    Other arguments as ``read_bif``."""
    if not isinstance(text, str):
        raise TypeError(f"read_bif_string takes the text of a BIF file (str), got {type(text).__name__}; "
                        "use read_bif for paths and bytes")
    return _parse(text, source, normalize, check_max_table_size(max_table_size))


def _parse(text: str, name: str, normalize: bool, max_table_size: float):
    # a file of 20,000 small variables makes some 10^6 objects that all live on: the cyclic garbage
    # collector's passes over them took half the time, and there is no cycle to collect
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _read(text, name, normalize, max_table_size)
    finally:
        if enabled:
            gc.enable()


def _read(text: str, name: str, normalize: bool, max_table_size: float):
    from probgen.bayesnet.model.network import RESERVED_NAMES, BayesNet

    doc = Parser(text.removeprefix("\ufeff"), name).parse()  # a UTF-8 byte-order mark is not content
    doc.check_sizes(max_table_size)
    for var in doc.variables.values():
        if var.name not in doc.blocks:
            doc.fail(f"variable {var.name!r} has no probability block", var.pos)
        if var.name in RESERVED_NAMES:
            doc.fail(f"variable name {var.name!r} is reserved (it names the Pyro plate over data rows); "
                     "rename it", var.pos)
    order = _topological_order(doc)
    cpds = _cpds(doc, normalize)
    g = nx.DiGraph(name=doc.name, properties=doc.properties)
    g.add_nodes_from((var.name, {"properties": var.properties, "cpd": cpd})
                     for var, cpd in zip(doc.variables.values(), cpds))
    g.add_edges_from((p, child) for child, block in doc.blocks.items() for p in block.parents)
    # everything BayesNet checks was checked above: names, a CPD per node, acyclicity, parents = in-edges
    return BayesNet._from_checked(g, order)


def _topological_order(doc) -> list[str]:
    """The variables in the order ``BayesNet`` gives a graph (``model.graph.topological_order``,
    declaration order breaking ties); a cycle is a located error."""
    names = list(doc.variables)
    order = topological_order(names, lambda n: doc.blocks[n].parents)
    if len(order) < len(names):
        g = nx.DiGraph()
        g.add_nodes_from(names)
        g.add_edges_from((p, n) for n in names for p in doc.blocks[n].parents)
        cycle = nx.find_cycle(g)
        path = " -> ".join([u for u, _ in cycle] + [cycle[0][0]])
        doc.fail(f"the parents form a cycle {path}", doc.blocks[cycle[0][1]].pos)
    return order


def _cpds(doc, normalize: bool) -> list:
    """The variables' TabularCPDs, in declaration order. All tables are written into one array and checked
    together (non-negative rows summing to one, or rescaled when ``normalize``); a table that fails is built
    the checked way for its message, which names the variable and the row."""
    import torch

    from probgen.bayesnet.model.cpd import ROW_SUM_TOL, TabularCPD

    variables = list(doc.variables.values())
    card = {v.name: len(v.states) for v in variables}
    blocks = [doc.blocks[v.name] for v in variables]
    shapes = [(*map(card.__getitem__, b.parents), card[b.child]) for b in blocks]
    sizes = [math.prod(shape) for shape in shapes]
    flat = np.empty(sum(sizes), dtype=np.float64)
    views, start = [], 0  # each table as a (rows, card) view of flat
    for block, shape, size in zip(blocks, shapes, sizes):
        views.append(doc.table(block, shape[:-1], flat[start:start + size].reshape(-1, shape[-1])))
        start += size
    # every row's sum, by its first entry: rows are card[v] long, one table after the other
    row_len = np.repeat([shape[-1] for shape in shapes],
                        [size // shape[-1] for shape, size in zip(shapes, sizes)])
    row_start = np.cumsum(row_len) - row_len
    sums = np.add.reduceat(flat, row_start)
    bad_entries = row_start[(sums <= 0) if normalize else (np.abs(sums - 1) > ROW_SUM_TOL)]
    bad_entries = np.concatenate([bad_entries, (flat < 0).nonzero()[0]])
    bad = set((np.searchsorted(np.cumsum(sizes), bad_entries, side="right")).tolist())
    if normalize:
        with np.errstate(divide="ignore", invalid="ignore"):  # rows summing to zero are refused below
            flat /= np.repeat(sums, row_len)
    for i in sorted(bad):  # in declaration order; the checked constructor says what is wrong
        var, cards = variables[i], list(shapes[i][:-1])
        block = doc.blocks[var.name]
        table = doc.table(block, cards)
        try:
            TabularCPD(var.states, table if cards else table[0], block.parents, normalize=normalize,
                       parent_cards=cards)
        except ValueError as e:
            doc.fail(f"probability of {var.name!r}: {e}", block.pos)
    # a copy each: a table is its own tensor, not a view of one array shared by all (torch.save of a view
    # writes the whole array)
    return [TabularCPD._from_checked(var.states, torch.from_numpy(view.reshape(shape).copy()), block.parents)
            for var, block, view, shape in zip(variables, blocks, views, shapes)]


# ------------------------------------------------------------------------------------------- writer
_BARE = re.compile(r"(?:[^\s{}()\[\];,|\"/]|/(?![/*]))+")  # what the scanner reads as one word


def _quote(name) -> str:
    """The name as written: bare when the scanner reads it back as one word, else in double quotes."""
    s = str(name)
    if _BARE.fullmatch(s):
        return s
    if '"' in s or "\n" in s or not s:
        raise ValueError(f"name {s!r} cannot be written to BIF (empty, or it contains a quote or a newline)")
    return f'"{s}"'


def _numbers(values: np.ndarray) -> str:
    return ", ".join(repr(float(v)) for v in values)  # repr: the shortest text that reads back bit for bit


def bif_string(bn) -> str:
    """The BIF text of a network (bnlearn style: ``table`` for roots, one row per parent configuration)."""
    gattr = bn.graph.graph
    out = [f"network {_quote(gattr.get('name') or 'unknown')} {{"]
    out += [f"  property {p} ;" for p in gattr.get("properties", [])]
    out.append("}")
    for n in bn.graph.nodes:
        states = ", ".join(_quote(s) for s in bn.states(n))
        if len({str(s) for s in bn.states(n)}) != bn.card(n):
            raise ValueError(f"node {n!r}: states {bn.states(n)} are not distinct once written as text")
        out += [f"variable {_quote(n)} {{", f"  type discrete [ {bn.card(n)} ] {{ {states} }};"]
        out += [f"  property {p} ;" for p in bn.graph.nodes[n].get("properties", [])]
        out.append("}")
    for n in bn.graph.nodes:
        parents = bn.parents(n)
        head = _quote(n) + (" | " + ", ".join(_quote(p) for p in parents) if parents else "")
        out.append(f"probability ( {head} ) {{")
        table = bn.cpt(n).numpy().reshape(-1, bn.card(n))  # (prod(parent_cards), card), first parent slowest
        if not parents:
            out.append(f"  table {_numbers(table[0])};")
        else:
            configs = itertools.product(*(bn.states(p) for p in parents))
            for config, row in zip(configs, table):
                out.append(f"  ({', '.join(_quote(s) for s in config)}) {_numbers(row)};")
        out.append("}")
    return "\n".join(out) + "\n"


def write_bif(bn, path=None):
    """Write a network as BIF to ``path`` (gzip-compressed if it ends in ``.gz``); returns the path, or the
    text when ``path`` is None. ``read_bif(write_bif(bn, p))`` equals ``bn`` (tables bit for bit)."""
    text = bif_string(bn)
    if path is None:
        return text
    path = check_output_file("path", path)  # a folder, or a file where a folder should be: a ValueError
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)
    return path
