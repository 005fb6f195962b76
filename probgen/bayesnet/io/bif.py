"""Reading and writing BIF files (the Bayesian Interchange Format used by the bnlearn repository).

The reader is a small recursive-descent parser over a regular-expression scanner: it never evaluates its
input, every loop consumes input (so it cannot hang), and any malformed input raises :class:`BIFError`
with a line and column. It accepts what the format allows: ``//`` and ``/* */`` comments, ``property``
lines, quoted names, odd state names such as ``0-3_days`` or ``<5``, ``,`` and ``|`` as optional
separators, ``table`` entries (the child varies slowest, then the parents in order, as JavaBayes and pgmpy
write them), per-parent-configuration rows, ``default`` rows, and gzip (``.gz``) files.

Network and variable properties are kept (``bn.graph.graph["properties"]`` and
``bn.graph.nodes[n]["properties"]``), so ``read -> write -> read`` gives an identical network.

Format: F. G. Cozman, "The Interchange Format for Bayesian Networks" (1998), as used by bnlearn.
"""

from __future__ import annotations

import gzip
import itertools
import os
import re
from pathlib import Path

import networkx as nx
import numpy as np

from probgen.bayesnet.io.bif_parser import BIFError, Parser

__all__ = ["BIFError", "read_bif", "write_bif", "bif_string"]


def _read_text(source) -> tuple[str, str]:
    """(text, name) of a path, a BIF text, or bytes (gzip is detected by its magic number)."""
    if isinstance(source, bytes):
        data, name = source, "<bytes>"
    elif isinstance(source, os.PathLike) or (isinstance(source, str) and "{" not in source
                                             and "\n" not in source):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no BIF file at {str(path)!r}")
        data, name = path.read_bytes(), path.name
    elif isinstance(source, str):
        return source, "<string>"
    else:
        raise TypeError(f"read_bif takes a path, a BIF text or bytes, got {type(source).__name__}")
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise BIFError(f"corrupt gzip data ({e})", 1, 1, name) from None
    try:
        return data.decode("utf-8"), name
    except UnicodeDecodeError:
        return data.decode("latin-1"), name


def read_bif(source, *, normalize: bool = False):
    """Read a BIF network.

    Args:
        source: a path (``str`` or ``os.PathLike``; ``.bif`` or gzip-compressed ``.bif.gz``), the text of a
            BIF file (a ``str`` containing ``{``), or its bytes.
        normalize: rescale rows that do not sum to one instead of raising (see ``TabularCPD``).

    Returns:
        A :class:`~probgen.bayesnet.BayesNet`; its graph's nodes are in the file's declaration order and its
        states are strings.

    Raises:
        BIFError: malformed input, with the line and column (also for a cycle, a missing probability block
            or rows that do not sum to one).
    """
    from probgen.bayesnet.model.network import BayesNet

    text, name = _read_text(source)
    doc = Parser(text, name).parse()
    graph = _to_graph(doc, normalize)
    try:
        return BayesNet(graph)
    except ValueError as e:  # anything left (e.g. a reserved node name) is still the file's fault
        raise BIFError(str(e), 1, 1, name) from None


def _to_graph(doc, normalize: bool) -> nx.DiGraph:
    from probgen.bayesnet.model.cpd import TabularCPD

    g = nx.DiGraph(name=doc.name, properties=doc.properties)
    for var in doc.variables.values():
        g.add_node(var.name, properties=var.properties)
    for var in doc.variables.values():
        block = doc.blocks.get(var.name)
        if block is None:
            doc.fail(f"variable {var.name!r} has no probability block", var.pos)
        g.add_edges_from((p, var.name) for p in block.parents)
    if not nx.is_directed_acyclic_graph(g):
        cycle = nx.find_cycle(g)
        path = " -> ".join([u for u, _ in cycle] + [cycle[0][0]])
        doc.fail(f"the parents form a cycle {path}", doc.blocks[cycle[0][1]].pos)
    for var in doc.variables.values():
        block = doc.blocks[var.name]
        cards = [len(doc.variables[p].states) for p in block.parents]
        table = doc.table(block, cards)  # (prod(cards), card)
        try:
            g.nodes[var.name]["cpd"] = TabularCPD(var.states, table if cards else table[0], block.parents,
                                                  normalize=normalize, parent_cards=cards)
        except ValueError as e:
            doc.fail(f"probability of {var.name!r}: {e}", block.pos)
    return g


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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)
    return path
