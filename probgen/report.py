"""A self-contained HTML page from the demo's Markdown: every image embedded as a data URI, no scripts.

Only the Markdown the demo sections write is understood: ``#``-headings, paragraphs, ``- `` lists,
pipe tables, ``![alt](path)`` images (paths relative to the report folder), links, ``**bold**``,
``_italic_`` and ```code```. Anything else is shown as text (escaped). The page needs no network and no
other file: it can be mailed or opened from anywhere.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

__all__ = ["markdown_to_html", "write_html"]

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #222; }
h1, h2, h3 { line-height: 1.2; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; margin-top: 2.5rem; }
img { max-width: 100%; height: auto; image-rendering: pixelated; border: 1px solid #eee; }
figure { margin: 1rem 0; } figcaption { font-size: .9rem; color: #555; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .92rem; }
th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: left; } th { background: #f4f4f4; }
code { background: #f4f4f4; padding: 0 .2rem; border-radius: 3px; }
nav { background: #f8f8f8; padding: .5rem 1rem; border-radius: 6px; }
"""
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml",
         ".gif": "image/gif"}
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def data_uri(path: Path, data: bytes | None = None) -> str:
    """``data:<mime>;base64,...`` of an image file (``data``: its bytes, if already read)."""
    mime = _MIME.get(path.suffix.lower())
    if mime is None:
        raise ValueError(f"cannot embed {str(path)!r}: not an image ({sorted(_MIME)})")
    data = path.read_bytes() if data is None else data
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _inline(text: str, base: Path) -> str:
    """Escape ``text`` and turn the inline Markdown into HTML (images embedded from ``base``)."""
    parts, last = [], 0
    for m in _IMAGE.finditer(text):
        parts.append(_spans(text[last:m.start()]))
        alt, path = html.escape(m.group(1)), base / m.group(2)
        data = path.read_bytes() if path.suffix.lower() in _MIME else None  # else data_uri refuses it
        parts.append(f'<img src="{data_uri(path, data)}" alt="{alt}" title="{alt}"{_size(path, data)}>')
        last = m.end()
    parts.append(_spans(text[last:]))
    return "".join(parts)


def _size(path: Path, data: bytes, min_width: int = 360) -> str:
    """A width attribute that scales a small PNG (an image grid of 8x8 digits) up to be readable."""
    head = data[:24]
    if path.suffix.lower() != ".png" or head[12:16] != b"IHDR":
        return ""
    width = int.from_bytes(head[16:20], "big")
    scale = min(8, -(-min_width // max(width, 1)))
    return f' width="{width * scale}"' if scale > 1 else ""


def _spans(text: str) -> str:
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"(?<![\w/])_([^_]+)_(?![\w/])", r"<em>\1</em>", out)
    return _LINK.sub(lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>', out)


def _table(rows: list[str], base: Path) -> str:
    cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
    head, body = cells[0], [r for r in cells[1:] if not all(set(c) <= set("-: ") for c in r)]
    th = "".join(f"<th>{_inline(c, base)}</th>" for c in head)
    trs = "".join("<tr>" + "".join(f"<td>{_inline(c, base)}</td>" for c in r) + "</tr>" for r in body)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def _blocks(markdown: str) -> list[list[str]]:
    """Blank-line separated blocks; a heading is a block of its own."""
    blocks: list[list[str]] = [[]]
    for line in markdown.splitlines():
        if not line.strip() or line.startswith("#"):
            blocks.append([])
        if line.strip():
            blocks[-1].append(line)
        if line.startswith("#"):
            blocks.append([])
    return [b for b in blocks if b]


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def markdown_to_html(markdown: str, base: str | Path) -> str:
    """The body HTML of ``markdown``; image paths are read relative to ``base`` and embedded."""
    base, out = Path(base), []
    for block in _blocks(markdown):
        first = block[0]
        if first.startswith("#"):
            level = min(len(first) - len(first.lstrip("#")), 4)
            title = first.lstrip("#").strip()
            out.append(f'<h{level} id="{_anchor(title)}">{_inline(title, base)}</h{level}>')
        elif all(line.lstrip().startswith("|") for line in block):
            out.append(_table(block, base))
        elif all(line.startswith(("- ", "  ")) for line in block) and first.startswith("- "):
            items = "\n".join(block).split("\n- ")
            lis = "".join(f"<li>{_inline(i.removeprefix('- ').strip(), base)}</li>" for i in items)
            out.append(f"<ul>{lis}</ul>")
        elif len(block) == 1 and _IMAGE.fullmatch(first.strip()):
            m = _IMAGE.fullmatch(first.strip())
            out.append(f"<figure>{_inline(first.strip(), base)}<figcaption>{html.escape(m.group(1))}"
                       "</figcaption></figure>")
        else:
            out.append(f"<p>{_inline(' '.join(line.strip() for line in block), base)}</p>")
    return "\n".join(out)


def write_html(markdown: str, base: str | Path, path: str | Path, title: str = "probgen demo") -> Path:
    """Write one self-contained page: ``markdown`` rendered, a contents list of its ``##`` sections."""
    sections = [line[3:].strip() for line in markdown.splitlines() if line.startswith("## ")]
    nav = " · ".join(f'<a href="#{_anchor(s)}">{html.escape(s)}</a>' for s in sections)
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n"
            f"<nav>{nav}</nav>\n{markdown_to_html(markdown, base)}\n</body></html>\n")
    path = Path(path)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path
