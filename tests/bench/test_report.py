import datetime as dt
import json
import math

from local.bench.figures import Figure, Goal
from local.bench.report import HEADER, document, render_table, summary_line, write_json

FIGURES = [
    Figure("post_event", "POST /event", "req/s", 2400.0, Goal(min_ratio=0.8), 3000.0, "hello"),
    Figure("view_refresh", "view refresh", "s", 12.5, Goal(max_value=10)),
    Figure("metrics_p50", "GET /metrics p50", "ms", 4.2, floor=1.4, floor_name="healthz", note="2 errors"),
]


def test_table_is_markdown_with_one_aligned_line_per_figure():
    lines = render_table(FIGURES).splitlines()
    assert len(lines) == 2 + len(FIGURES)
    assert [cell.strip() for cell in lines[0].strip("|").split("|")] == list(HEADER)
    assert set(lines[1].replace("|", "").replace(" ", "")) == {"-"}
    assert len({len(line) for line in lines}) == 1  # every column padded to one width
    assert "| POST /event " in lines[2]
    assert "3,000 req/s (hello)" in lines[2]
    assert "| 0.80 " in lines[2]
    assert "| yes " in lines[2]
    assert "| **no** " in lines[3]
    assert "GET /metrics p50 (2 errors)" in lines[4]


def test_summary_line_names_missed_goals():
    assert summary_line(FIGURES) == "1 of 2 goals met; missed: view refresh"
    assert summary_line(FIGURES[:1]) == "1 of 1 goals met"


def test_json_is_written_timestamped_and_as_latest(tmp_path):
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    figures = [*FIGURES, Figure("fresh", "freshness p99", "s", math.inf, Goal(max_value=2))]
    path = write_json(document(figures, {"mode": "quick"}), tmp_path / "bench", now)
    assert path.name == "bench-20260102T030405Z.json"
    written = json.loads(path.read_text())
    assert written == json.loads((tmp_path / "bench" / "latest.json").read_text())
    assert written["mode"] == "quick"
    assert [f["key"] for f in written["figures"]] == ["post_event", "view_refresh", "metrics_p50", "fresh"]
    assert written["figures"][3]["value"] is None  # never seen: not a number JSON can hold
    assert written["figures"][3]["met"] is False
    assert written["summary"].startswith("1 of 3 goals met")
