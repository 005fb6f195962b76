"""probgen.report (the demo's self-contained HTML) and the docs-site checks (docs/check_site.py, the hook)."""

import importlib.util
from pathlib import Path

import pytest
import torch

from probgen.plot import save_image_grid
from probgen.report import markdown_to_html, write_html

ROOT = Path(__file__).resolve().parent.parent


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_markdown_subset_renders_and_embeds_images(tmp_path):
    save_image_grid(torch.rand(4, 1, 8, 8), tmp_path / "f" / "grid.png", nrow=2)
    md = ("# Title\n\n## A section\n\nSome **bold**, `code` and _italic_ text <b>.\n\n- one\n- two\n\n"
          "| a | b |\n| --- | --- |\n| 1 | 2 |\n\n![a grid](f/grid.png)\n")
    out = markdown_to_html(md, tmp_path)
    assert '<h2 id="a-section">A section</h2>' in out and "<strong>bold</strong>" in out
    assert "<code>code</code>" in out and "<em>italic</em>" in out and "&lt;b&gt;" in out
    assert "<ul><li>one</li><li>two</li></ul>" in out and "<td>1</td><td>2</td>" in out
    assert '<img src="data:image/png;base64,' in out and "<figcaption>a grid</figcaption>" in out
    assert 'width="' in out  # a small grid is scaled up to be readable


def test_write_html_is_one_page_with_contents(tmp_path):
    page = write_html("# T\n\n## First\n\ntext\n\n## Second\n", tmp_path, tmp_path / "r.html")
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and '<a href="#first">First</a>' in html
    assert "<script" not in html and not list(tmp_path.glob("*.tmp"))


def test_a_missing_or_non_image_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError):
        markdown_to_html("![x](nope.png)", tmp_path)
    (tmp_path / "t.txt").write_text("x")
    with pytest.raises(ValueError, match="t.txt"):
        markdown_to_html("![x](t.txt)", tmp_path)


def test_docs_hook_renders_sphinx_roles_and_literal_markers():
    hook = _load(ROOT / "docs" / "hooks" / "sphinx_roles.py")
    html = ("<p>See :class:<code>~probgen.data.ImageData</code> and :func:<code>probgen.kl.kl_term</code>"
            " or :py:meth:<code>save</code>. Build it::</p><p>::</p><pre><code>x = 1</code></pre>")
    out = hook.on_page_content(html, page=None, config=None, files=None)
    assert "<code>ImageData</code>" in out and "<code>probgen.kl.kl_term</code>" in out
    assert "<code>save</code>" in out and ":class:" not in out and "Build it:</p>" in out
    assert "<p>::</p>" not in out


def test_site_check_finds_raw_markup_and_passes_clean_pages(tmp_path):
    check = _load(ROOT / "docs" / "check_site.py")
    (tmp_path / "index.html").write_text("<p>clean <code>x</code></p><pre><code>&gt;&gt;&gt; 1</code></pre>")
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "a.html").write_text(
        "<p>A :class:<code>X</code>.</p><p>&gt;&gt;&gt; f(1)</p>"
        "<blockquote><blockquote><blockquote><p>ev = 1</p></blockquote></blockquote></blockquote><p>::</p>")
    found = check.check_site(tmp_path)
    assert len(found) == 4 and all(f.startswith("api") for f in found), found
    assert check.main([str(tmp_path)]) == 1
    (tmp_path / "api" / "a.html").unlink()
    assert check.main([str(tmp_path)]) == 0
