"""The committed static build: small, in step with its sources, vendored with its license.

No browser needed: these run everywhere.
"""

import json
import re
import shutil

import pytest

from tests.browser.conftest import chromium_path
from tests.browser.measure import STATIC, TRACKER_BUDGET_BYTES, css_sources, gzipped_size, record, source_stamp

REBUILD = "rebuild with `make css` (needs Node and npm) and commit static/dist"


def test_tracker_is_under_2_kb_minified_and_gzipped(artifacts):
    size = gzipped_size(STATIC / "dist" / "tracker.min.js")
    record(artifacts, tracker_min_bytes=(STATIC / "dist" / "tracker.min.js").stat().st_size, tracker_gzip_bytes=size)
    assert size < TRACKER_BUDGET_BYTES, f"tracker.min.js is {size} bytes gzipped"


@pytest.mark.parametrize(
    ("built", "sources"),
    [("dist/tracker.min.js", lambda: [STATIC / "tracker.js"]), ("dist/app.css", css_sources)],
)
def test_built_files_are_in_step_with_their_sources(built, sources):
    first_line = (STATIC / built).read_text().splitlines()[0]
    stamp = re.search(r"sha256 ([0-9a-f]{16})", first_line)
    assert stamp, f"{built} carries no source stamp: {REBUILD}"
    assert stamp.group(1) == source_stamp(*sources()), f"{built} is older than its sources: {REBUILD}"


def test_uplot_is_vendored_pinned_with_its_license():
    pinned = json.loads((STATIC / "package.json").read_text())["devDependencies"]["uplot"]
    locked = json.loads((STATIC / "package-lock.json").read_text())["packages"]["node_modules/uplot"]["version"]
    vendor = STATIC / "vendor" / "uplot"
    assert pinned == locked
    assert (vendor / "VERSION").read_text().startswith(f"uPlot {pinned},")
    assert (vendor / "uPlot.iife.min.js").read_text().startswith(f"/*! https://github.com/leeoniya/uPlot (v{pinned}) */")
    assert "MIT License" in (vendor / "LICENSE").read_text()


@pytest.mark.parametrize("page", ["index.html", "tracker-test.html"])
def test_pages_name_no_other_host(page):
    html = re.sub(r"<!--.*?-->", "", (STATIC / page).read_text(), flags=re.S)  # examples in comments name other hosts
    links = re.findall(r"""(?:src|href)=["']([^"']+)""", html)
    assert links, "the pattern found nothing: it would prove nothing"
    assert [link for link in links if re.match(r"(?:[a-z]+:)?//", link)] == []
    assert "connect-src 'self'" in html and "default-src 'self'" in html


def test_without_chromium_the_browser_tests_skip_with_how_to_install_it(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"^chromium is not installed: `sudo apt-get install -y chromium`"):
        chromium_path()


def test_without_chromium_on_ci_the_browser_tests_fail(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="CI is set and chromium is not installed"):
        chromium_path()
