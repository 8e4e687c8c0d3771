"""The dashboard's time to first render on a database you already filled (10 M events, say).

    python -m local.render_figure --database-url postgresql://postgres@127.0.0.1:5432/analytics_10m

Starts the whole stack as `make run` does (`python -m local`, an embedded Redis of its own under a
temporary directory, the given PostgreSQL), opens the page in headless Chromium (Debian's
`chromium`, driven by Playwright) once per view, and prints, per view, the marks the page sets:
first contentful paint, the live board's first render, the explore view's first panel and its
whole first render (every panel), in ms from navigation, plus the wall time until the view settled.
The database gets the stack's keys (as `make run` registers them) and nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from local import generate
from local.run import READY_LINE
from local.stack import ROOT, free_port_block

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
MARKS = {"fcp": "first-contentful-paint", "live": "live-first-render", "panel": "explore-first-panel", "explore": "explore-first-render"}
SETTLED = """() => {
    const root = document.querySelector('#explore');
    return root.dataset.busy === 'false' && Number(root.dataset.renders || 0) > 0 && root.dataset.view === location.search;
}"""


def view_query(days: str, tz: str) -> str:
    """The explore view of the last `days` (7d, 30d...) in tz, with a 3-step funnel of the generator's actions."""
    return f"range={days}&tz={tz}&steps={','.join(generate.ACTIONS[:3])}"


def start_stack(database_url: str, local_dir: Path, port: int) -> tuple[subprocess.Popen, Path]:
    """`python -m local` on the given database, its own embedded Redis; returns once it says it is ready."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANALYTICS_")}
    env.update(ANALYTICS_LOCAL_DIR=str(local_dir), ANALYTICS_HTTP_PORT=str(port), ANALYTICS_DATABASE_URL=database_url)
    out = local_dir.parent / "run.out"
    with open(out, "w") as sink:
        process = subprocess.Popen([sys.executable, "-m", "local"], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if READY_LINE in out.read_text(errors="replace"):
            return process, out
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"error: make run did not start:\n{out.read_text(errors='replace')[-3000:]}")


def measure(browser, url: str, timeout_s: float) -> dict:
    """One fresh page (no cache) on url: the page's marks and the wall time until the view settled."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_function(SETTLED, timeout=timeout_s * 1000, polling=100)
    settled_ms = (time.perf_counter() - started) * 1000
    marks = page.evaluate(
        "(names) => Object.fromEntries(Object.entries(names).map(([k, n]) => [k, performance.getEntriesByName(n)[0]?.startTime ?? null]))",
        MARKS,
    )
    context.close()
    return {**{k: None if v is None else round(v) for k, v in marks.items()}, "settled": round(settled_ms)}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.render_figure", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="postgresql://... holding the events (migrated)")
    parser.add_argument("--views", default="7d,30d", help="ranges to open, comma-separated (7d,30d)")
    parser.add_argument("--tz", default="Europe/Berlin", help="the view's timezone (Europe/Berlin)")
    parser.add_argument("--runs", type=int, default=3, help="page loads per view; the median is reported (3)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a view may take to settle (600)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    chromium = shutil.which("chromium")
    if chromium is None:
        print("error: chromium is not installed: `sudo apt-get install -y chromium`", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="render-figure-"))
    port = free_port_block(8)
    process, out = start_stack(args.database_url, work / "local", port)
    report: dict = {"database_url": args.database_url, "views": {}}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            for days in args.views.split(","):
                url = f"http://127.0.0.1:{port}/?{view_query(days, args.tz)}"
                runs = []
                for run in range(args.runs):
                    runs.append(measure(browser, url, args.timeout))
                    print(f"  {days} run {run + 1}: {runs[-1]}", flush=True)
                median = {k: statistics.median(r[k] for r in runs) if all(r[k] is not None for r in runs) else None for k in runs[0]}
                report["views"][days] = {"url": url, "runs": runs, "median_ms": median}
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
