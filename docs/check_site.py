"""Check a built mkdocs site (``make docs`` -> ``site/``) for Sphinx markup that the renderer left as text.

Usage: ``python docs/check_site.py [site]``; exit status 1 and one line per finding when a page shows a
raw role (``:class:``, ``:func:`` ...), a doctest (``>>>``) outside a code block (as text or as the nested
quotes Markdown makes of it), or a reST ``::`` literal-block marker.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

ROLES = ("class", "func", "meth", "mod", "attr", "data", "exc", "obj", "const", "ref", "doc", "term")
RAW_ROLE = re.compile(r":(?:py:)?(?:" + "|".join(ROLES) + r"):(?:<code>|`)")
_PRE = re.compile(r"<(pre|code)\b.*?</\1>", re.S)
_TAG = re.compile(r"<[^>]+>")
_QUOTED = re.compile(r"<blockquote>\s*<blockquote>\s*<blockquote>.{0,120}", re.S)  # ">>> x" as Markdown
_LITERAL = re.compile(r"<p>[^<]{0,60}::</p>|[^<]{0,60}::</p>")


def problems(page: str) -> list[str]:
    """What is wrong in one page's HTML: raw roles, and doctest prompts in running text."""
    found = [f"raw role {m.group(0)!r}" for m in RAW_ROLE.finditer(page)]
    text = html.unescape(_TAG.sub(" ", _PRE.sub(" ", page)))
    found += [f"doctest prompt in running text: {line.strip()[:80]!r}" for line in text.splitlines()
              if ">>>" in line]
    found += [f"doctest rendered as nested quotes: {html.unescape(_TAG.sub(' ', m.group(0)))[:80]!r}"
              for m in _QUOTED.finditer(page)]
    found += [f"reST literal-block marker '::' in {m.group(0)[-60:]!r}" for m in _LITERAL.finditer(page)]
    return found


def check_site(site: Path) -> list[str]:
    """Every problem of every HTML page under ``site``, as ``path: problem``."""
    if not (site / "index.html").exists():
        raise SystemExit(f"{site} holds no built site (index.html); run `make docs` first")
    return [f"{page.relative_to(site)}: {p}" for page in sorted(site.rglob("*.html"))
            for p in problems(page.read_text(encoding="utf-8"))]


def main(argv: list[str]) -> int:
    found = check_site(Path(argv[0] if argv else "site"))
    for line in found:
        print(line)
    print(f"docs check: {len(found)} problem(s)", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
