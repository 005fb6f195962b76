"""``probgen demo --quick``: every section in one self-contained report.html, checked in a headless browser.

The browser check (skipped where no chromium is installed; `.ci/run` installs Debian's) opens a copy of the
page with a probe script added, and reads back what the probe saw: how many images decoded
(``naturalWidth > 0``) and any error event or ``console.error`` call. The page itself has no script.
"""

import json
import re
import shutil
import subprocess

import pytest

from probgen.demo import SECTIONS, run_demo

PROBE = """<script>
window.__errors = [];
window.addEventListener("error", (e) => window.__errors.push("error: " + (e.message ||
  (e.target && e.target.tagName + " " + (e.target.alt || "")))), true);
window.addEventListener("unhandledrejection", (e) => window.__errors.push("rejection: " + e.reason));
const __consoleError = console.error;
console.error = (...a) => { window.__errors.push("console.error: " + a.join(" ")); __consoleError(...a); };
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  const bad = imgs.filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.alt);
  const out = document.createElement("pre");
  out.id = "probe-result";
  out.textContent = JSON.stringify({images: imgs.length, bad: bad, errors: window.__errors});
  document.body.appendChild(out);
});
</script>"""


def _chromium() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def browser_check(page, tmp_path) -> dict:
    """Open a copy of ``page`` with the probe in headless chromium: what the probe saw, console errors."""
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text().replace("<head>", "<head>" + PROBE, 1))
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000", "--dump-dom",
           probed.as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    m = re.search(r'<pre id="probe-result">(.*?)</pre>', done.stdout, re.S)
    assert m, f"the probe did not report (status {done.returncode}): {done.stderr[-2000:]}"
    found = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    console = [ln for ln in done.stderr.splitlines() if "CONSOLE" in ln and "ERROR" in ln.upper()]
    found["errors"] += console
    return found


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return run_demo(out, quick=True)


def test_quick_demo_writes_every_section_into_one_self_contained_page(quick_report):
    html = quick_report.read_text()
    headings = re.findall(r"<h2 id=[^>]*>(.*?)</h2>", html)
    assert len(headings) == len(SECTIONS), headings
    for word in ("Data", "VAE", "Bayesian", "GAN", "comparison", "KL", "Diffusion"):
        assert any(word in h for h in headings), (word, headings)
    assert "<script" not in html.lower(), "the report must not need scripts"
    srcs = re.findall(r'<img src="([^"]{0,40})', html)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs), srcs[:3]
    assert not re.search(r'(href|src)="(?!data:|#)', html), "the page links to another file"
    assert (quick_report.parent / "report.md").exists()


def test_quick_demo_records_the_time_of_every_section(quick_report):
    # The one-minute bound of --quick is a benchmark figure (`python bench/demo.py --quick`,
    # docs/benchmarks.md "Demo"), not a test: tests never assert wall time.
    timings = json.loads((quick_report.parent / "timings.json").read_text())
    assert list(timings["seconds"]) == [s.name for s in SECTIONS], timings
    assert all(t > 0 for t in timings["seconds"].values()), timings
    assert timings["total"] >= sum(timings["seconds"].values()), timings


@pytest.mark.skipif(_chromium() is None, reason="no chromium installed (apt-get install chromium)")
def test_report_renders_in_a_browser(quick_report, tmp_path):
    found = browser_check(quick_report, tmp_path)
    assert found["images"] >= 8 and found["bad"] == [] and found["errors"] == [], found


@pytest.mark.skipif(_chromium() is None, reason="no chromium installed (apt-get install chromium)")
def test_browser_check_catches_a_broken_image(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><head></head><body><img src="data:image/png;base64,AAAA" alt="x">'
                    "</body></html>")
    found = browser_check(page, tmp_path)
    assert found["bad"] == ["x"] and found["errors"], found
