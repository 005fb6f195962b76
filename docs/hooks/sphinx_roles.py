"""mkdocs hook: render the Sphinx roles of probgen's docstrings (``:class:`~probgen.data.ImageData```) as
code, the way Sphinx shows them, instead of leaving ``:class:`` in the text of the API pages.

mkdocstrings' Google-style parser passes the roles through as text, and Markdown turns their backquoted
target into ``<code>``: the page shows ``:class:<code>~probgen.data.ImageData</code>``. This hook rewrites
that to ``<code>ImageData</code>`` (``~`` keeps the last dotted part, as in Sphinx). ``docs/check_site.py``
fails the build's check if a raw role is left anywhere in the built site.
"""

from __future__ import annotations

import re

ROLES = ("class", "func", "meth", "mod", "attr", "data", "exc", "obj", "const", "ref", "doc", "term")
_ROLE = re.compile(r":(?:py:)?(?:" + "|".join(ROLES) + r"):<code>(~?)([^<]+)</code>")


def render_roles(html: str) -> str:
    """``:role:<code>~a.b.C</code>`` -> ``<code>C</code>``; without ``~`` the whole target is kept."""
    return _ROLE.sub(lambda m: f"<code>{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}</code>",
                     html)


_LONE_LITERAL = re.compile(r"<p>::</p>\s*")
_TRAILING_LITERAL = re.compile(r"(?<=[^\s:]):(:</p>)")


def render_literal_markers(html: str) -> str:
    """reST's ``text::`` before a code block shows as ``text:``, and a lone ``::`` not at all (as in Sphinx)."""
    return _TRAILING_LITERAL.sub(r"\1", _LONE_LITERAL.sub("", html))


def on_page_content(html: str, **kwargs) -> str:
    return render_literal_markers(render_roles(html))
