"""The explore view in headless Chromium: every number it shows is the analytics API's answer.

Each test fetches the route itself (with the read key, as any client) and compares the answer
with the cells the page rendered. The events are sent through POST /events like any client's,
with actions of their own (fx_*) so that the dashboard tests' simulated traffic cannot touch them.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import http.client
import io
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from tests.browser.conftest import PHONE
from tests.browser.measure import STATIC, record
from tests.e2e.stack import call, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PEOPLE = 12
DAYS = 7
STEPS = ("fx_view", "fx_cart:cart_button", "fx_buy")


def seed_events(now: dt.datetime) -> list[dict]:
    """Twelve people over the last 7 days: most come back on some days; half add to the cart, a quarter buy."""
    base = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=30)
    events = []
    for person in range(1, PEOPLE + 1):
        for day in range(DAYS):
            if (person + day) % 3 == 0:
                continue
            start = base - dt.timedelta(days=day, minutes=person)
            session = f"fx-{person}-{day}" if person % 5 else None  # some send no session id
            steps = [("fx_view", "catalog", 0), ("fx_cart", "cart_button", 2), ("fx_buy", "checkout", 5)][
                : 1 + (person % 2 == 0) + (person % 4 == 0)
            ]
            for action, element, minutes in steps:
                event = {
                    "user_id": f"fx_user_{person:02d}",
                    "action": action,
                    "element": element,
                    "duration": round(0.5 * person, 1),
                    "timestamp": (start + dt.timedelta(minutes=minutes)).isoformat(),
                }
                if session:
                    event["session_id"] = session
                events.append(event)
    return events


def api(stack, path: str) -> dict:
    status, body = call("GET", f"{stack.url}{path}", headers={"Authorization": f"Bearer {stack.keys()['read_key']}"})
    assert status == 200, (path, status, body)
    return body


def api_csv(stack, path: str) -> bytes:
    parts = urlsplit(stack.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {stack.keys()['read_key']}"})
        answer = connection.getresponse()
        assert answer.status == 200, path
        return answer.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def seeded(stack):
    """The events, sent and drained: the 7-day breakdown by action counts every one of them."""
    events = seed_events(dt.datetime.now(dt.UTC))
    status, body = call("POST", f"{stack.url}/events", events, {"X-Write-Key": stack.keys()["write_key"]})
    assert status == 202 and body["accepted"] == len(events), body
    expected = {}
    for event in events:
        expected[event["action"]] = expected.get(event["action"], 0) + 1
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=DAYS + 1)).isoformat()
    query = urlencode({"from": since, "by": "action", "limit": 50, "action": list(expected)}, doseq=True)

    def drained():
        rows = api(stack, f"/metrics/breakdown?{query}")["rows"]
        return {row["value"]: row["events"] for row in rows} == expected

    wait_for(drained, 30, 0.5)
    return events


def settled(page, before: int = 0) -> None:
    """Wait until the view has rendered after `before` renders, for the state in the URL."""
    page.wait_for_function(
        """(before) => {
            const root = document.querySelector('#explore');
            return root.dataset.busy === 'false' && Number(root.dataset.renders || 0) > before && root.dataset.view === location.search;
        }""",
        arg=before,
        timeout=20_000,
    )


def renders(page) -> int:
    return int(page.get_attribute("#explore", "data-renders") or 0)


def open_view(page, stack, query: str) -> None:
    page.goto(f"{stack.url}/?{query}")
    settled(page)


def panel_path(page, route: str) -> str:
    path = page.get_attribute(f"[data-csv='{route}']", "data-path")
    assert path and path.startswith(f"/metrics/{route}?"), path
    return path


def formatted(page, name: str, value) -> str:
    return page.evaluate("async ([n, v]) => (await import('/js/format.js'))[n](v)", [name, value])


def breakdown_shown(page) -> list[list[str]]:
    return page.eval_on_selector_all(
        "#breakdown-rows tr", "rows => rows.map(r => [r.dataset.value, ...[...r.cells].slice(1).map(c => c.textContent)])"
    )


def breakdown_expected(page, body: dict) -> list[list[str]]:
    return [
        [row["value"], f"{row['events']:,}", f"{row['users']:,}", formatted(page, "seconds", row["avg_duration"])] for row in body["rows"]
    ]


def assert_panels_match_the_api(page, stack) -> dict:
    """Every panel against the answer of the path it shows: chart, breakdown, sessions, retention (and funnel)."""
    series = api(stack, panel_path(page, "timeseries"))
    assert page.get_attribute("#range-chart", "data-points") == str(len(series["points"]))
    assert page.get_attribute("#range-chart", "data-events") == str(sum(p["events"] for p in series["points"]))
    breakdown = api(stack, panel_path(page, "breakdown"))
    assert breakdown_shown(page) == breakdown_expected(page, breakdown)
    sessions = api(stack, panel_path(page, "sessions"))
    for name in ("sessions", "median_seconds", "mean_seconds", "bounce_rate", "events_per_session"):
        assert float(page.get_attribute(f"[data-session='{name}']", "data-value")) == sessions[name], name
    retention = api(stack, panel_path(page, "retention"))
    assert retention_shown(page) == [[c["start"], f"{c['size']:,}", *(f"{n:,}" for n in c["active"])] for c in retention["cohorts"]]
    return {"timeseries": series, "breakdown": breakdown, "sessions": sessions, "retention": retention}


def retention_shown(page) -> list[list[str]]:
    return page.eval_on_selector_all(
        "#retention-rows tr", "rows => rows.map(r => [r.dataset.cohort, ...[...r.cells].slice(1).map(c => c.textContent)])"
    )


def test_each_preset_of_the_range_picker_shows_the_apis_numbers(page, stack, seeded):
    open_view(page, stack, "range=7d&tz=UTC&by=action&action=fx_view&action=fx_cart&action=fx_buy")
    shown = assert_panels_match_the_api(page, stack)
    assert {row["value"] for row in shown["breakdown"]["rows"]} == {"fx_view", "fx_cart", "fx_buy"}
    assert sum(p["events"] for p in shown["timeseries"]["points"]) == len(seeded)
    for preset, interval in (("1h", "minute"), ("today", "hour"), ("30d", "day"), ("7d", "day")):
        before = renders(page)
        page.click(f"[data-range='{preset}']")
        settled(page, before)
        assert page.get_attribute(f"[data-range='{preset}']", "aria-pressed") == "true"
        assert f"range={preset}" in page.evaluate("location.search")
        assert f"interval={interval}" in panel_path(page, "timeseries")
        if preset == "today":  # the API reads a bare date as that day's midnight in tz
            assert panel_path(page, "breakdown").startswith(f"/metrics/breakdown?from={dt.datetime.now(dt.UTC).date()}&to=")
        assert_panels_match_the_api(page, stack)
    assert page.watch.errors == [] and page.watch.foreign == []


def test_a_custom_range_in_another_timezone_asks_for_exactly_that_range(page, stack, seeded):
    open_view(page, stack, "range=7d&tz=UTC")
    page.click("[data-range='custom']")
    end = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    page.fill("#range-from", f"{end - dt.timedelta(days=7)}T00:00")
    page.fill("#range-to", f"{end}T00:00")
    before = renders(page)
    page.click("#custom-range button[type='submit']")
    settled(page, before)
    before = renders(page)
    page.select_option("#tz", "America/New_York")
    settled(page, before)
    expected = urlencode({"from": f"{end - dt.timedelta(days=7)}T00:00", "to": f"{end}T00:00", "tz": "America/New_York"})
    assert panel_path(page, "breakdown") == f"/metrics/breakdown?{expected}&by=element&limit=10"
    shown = assert_panels_match_the_api(page, stack)
    assert shown["timeseries"]["points"][0]["t"] == f"{end - dt.timedelta(days=7)}T00:00:00-05:00"  # local midnight
    assert page.get_attribute("#explore-live", "data-live") == "false"
    assert page.inner_text("#explore-live") == "Fixed range"


def test_a_filter_narrows_every_panel_to_what_the_api_answers_for_it(page, stack, seeded):
    open_view(page, stack, "range=7d&tz=UTC")
    before = renders(page)
    page.select_option("#filter-name", "action")
    page.fill("#filter-value", "fx_cart")
    page.press("#filter-value", "Enter")
    settled(page, before)
    assert page.inner_text("#filters") == "action = fx_cart ×"
    assert "action=fx_cart" in page.evaluate("location.search")
    shown = assert_panels_match_the_api(page, stack)
    carts = [e for e in seeded if e["action"] == "fx_cart"]
    assert shown["breakdown"]["rows"] == [row for row in shown["breakdown"]["rows"] if row["value"] == "cart_button"]
    assert shown["breakdown"]["rows"][0]["events"] == len(carts)
    assert shown["breakdown"]["rows"][0]["users"] == len({e["user_id"] for e in carts})


def test_a_three_step_funnel_built_on_the_page_shows_the_apis_people(page, stack, seeded, artifacts):
    open_view(page, stack, "range=7d&tz=UTC&action=fx_view&action=fx_cart&action=fx_buy")
    assert page.is_visible("#funnel-hint") and page.is_hidden("#funnel-result")
    for step in STEPS:
        before = renders(page)
        page.fill("#funnel-step", step)
        page.click("#funnel-form button[type='submit']")
        settled(page, before)
    assert page.evaluate("new URLSearchParams(location.search).get('steps')") == ",".join(STEPS)
    funnel = api(stack, panel_path(page, "funnel"))
    shown = page.eval_on_selector_all("#funnel-result li", "items => items.map(i => [i.dataset.step, i.dataset.people])")
    assert shown == [[step["step"], str(step["people"])] for step in funnel["steps"]]
    people = [step["people"] for step in funnel["steps"]]
    assert people == [PEOPLE, PEOPLE // 2, PEOPLE // 4]  # every person views; the even ones add to the cart; every fourth buys
    texts = page.eval_on_selector_all("#funnel-result [data-role='people']", "nodes => nodes.map(n => n.textContent)")
    assert texts == [f"{s['people']:,} · {100 * s['conversion_from_first']:.1f}".removesuffix(".0") + " %" for s in funnel["steps"]]
    assert texts == ["12 · 100 %", "6 · 50 %", "3 · 25 %"]


def test_the_retention_grid_shows_the_apis_cohorts(page, stack, seeded):
    open_view(page, stack, "range=7d&tz=UTC&action=fx_view")
    retention = api(stack, panel_path(page, "retention"))
    assert "period=day" in panel_path(page, "retention")
    assert retention_shown(page) == [[c["start"], f"{c['size']:,}", *(f"{n:,}" for n in c["active"])] for c in retention["cohorts"]]
    assert sum(c["size"] for c in retention["cohorts"]) == PEOPLE  # each person in the cohort of their first day
    headers = page.eval_on_selector_all("#retention-head th", "cells => cells.map(c => c.textContent)")
    assert headers == ["Cohort (day)", "People", *(str(k) for k in range(retention["periods"] + 1))]


def test_the_view_lives_in_the_url_a_reload_restores_it_and_back_returns(page, stack, seeded):
    open_view(page, stack, "range=30d&tz=UTC&within=120")
    first = page.evaluate("location.search")
    assert first == "?range=30d&tz=UTC&within=120" and page.input_value("#funnel-within") == "120"
    steps = [
        ("click", "[data-range='7d']"),
        ("tz", "Asia/Tokyo"),
        ("filter", "fx_buy"),
        ("by", "user_id"),
    ]
    views = [first]
    for kind, value in steps:
        before = renders(page)
        if kind == "click":
            page.click(value)
        elif kind == "tz":
            page.select_option("#tz", value)
        elif kind == "filter":
            page.fill("#filter-value", value)
            page.press("#filter-value", "Enter")
        else:
            page.select_option("#breakdown-by", value)
        settled(page, before)
        views.append(page.evaluate("location.search"))
    assert views[-1] == "?range=7d&tz=Asia%2FTokyo&action=fx_buy&within=120&by=user_id"
    shown = breakdown_shown(page)
    assert {row[0] for row in shown} == {f"fx_user_{p:02d}" for p in range(4, PEOPLE + 1, 4)}  # the buyers

    before = renders(page)
    page.reload()
    settled(page)
    assert page.evaluate("location.search") == views[-1]
    assert page.input_value("#tz") == "Asia/Tokyo" and page.input_value("#breakdown-by") == "user_id"
    assert page.inner_text("#filters") == "action = fx_buy ×"
    assert breakdown_shown(page) == shown

    for expected in reversed(views[:-1]):
        before = renders(page)
        page.go_back()
        settled(page, before)
        assert page.evaluate("location.search") == expected
    assert page.get_attribute("[data-range='30d']", "aria-pressed") == "true"
    assert page.input_value("#tz") == "UTC" and page.inner_text("#filters") == "" and page.input_value("#funnel-within") == "120"
    assert_panels_match_the_api(page, stack)


def test_each_panels_csv_downloads_what_the_api_answers_with_the_read_key(page, stack, seeded):
    open_view(page, stack, f"range=7d&tz=UTC&action=fx_view&action=fx_cart&action=fx_buy&steps={','.join(STEPS)}")
    for route in ("timeseries", "breakdown", "sessions", "funnel", "retention"):
        with page.expect_download() as waiting:
            page.click(f"[data-csv='{route}']")
        download = waiting.value
        assert download.suggested_filename == f"{route}.csv"
        saved = Path(download.path()).read_bytes()
        assert saved == api_csv(stack, panel_path(page, route) + "&format=csv")
        assert len(list(csv.reader(io.StringIO(saved.decode("utf-8"))))) >= 2  # a header and rows
    assert [r.url for r in page.watch.responses if "key=" in r.url] == []  # the key never travels in a URL


def test_a_range_ending_now_is_live_and_shows_new_events(page, stack, seeded):
    open_view(page, stack, "range=1h&tz=UTC&by=action&action=fx_live")
    assert page.get_attribute("#explore-live", "data-live") == "true"
    assert breakdown_shown(page) == []
    event = {"user_id": "fx_live_user", "action": "fx_live", "element": "live_button", "timestamp": dt.datetime.now(dt.UTC).isoformat()}
    status, _ = call("POST", f"{stack.url}/events", [event], {"X-Write-Key": stack.keys()["write_key"]})
    assert status == 202
    page.wait_for_selector("#breakdown-rows tr[data-value='fx_live']", timeout=30_000)
    assert breakdown_shown(page)[0][:3] == ["fx_live", "1", "1"]


def test_screenshots_and_time_to_first_render(browser, stack, seeded, artifacts):
    query = f"range=7d&tz=Europe/Berlin&action=fx_view&action=fx_cart&action=fx_buy&steps={','.join(STEPS)}"
    for name, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.goto(f"{stack.url}/?{query}")
        settled(page)
        page.wait_for_selector("#status[data-state='live']", timeout=15_000)
        if name == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than a phone
        else:
            timings = page.evaluate(
                """() => {
                    const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? null;
                    return {fcp: at('first-contentful-paint'), live: at('live-first-render'), panel: at('explore-first-panel'),
                            explore: at('explore-first-render')};
                }"""
            )
            assert all(value is not None for value in timings.values()), timings
            stored = api(stack, "/metrics/users")["total"]["events"]
            record(
                artifacts,
                explore_first_contentful_paint_ms=round(timings["fcp"]),
                explore_live_first_render_ms=round(timings["live"]),
                explore_first_panel_ms=round(timings["panel"]),
                explore_first_render_ms=round(timings["explore"]),
                explore_first_render_events_stored=stored,
            )
        path = artifacts / f"explore-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        record(artifacts, **{f"explore_screenshot_{name}": str(path)})
        context.close()


@pytest.mark.parametrize("path", ["/", "/js/explore.js", "/dist/app.css"])
def test_the_gateway_sends_static_files_gzipped_only_to_clients_that_accept_it(stack, path):
    file = STATIC / ("index.html" if path == "/" else path.lstrip("/"))
    parts = urlsplit(stack.url)
    for accept in ("gzip, deflate, br", None):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            connection.request("GET", path, headers={"Accept-Encoding": accept} if accept else {"Accept-Encoding": "identity"})
            answer = connection.getresponse()
            body = answer.read()
        finally:
            connection.close()
        assert answer.status == 200
        assert answer.getheader("Vary") == "Accept-Encoding"
        assert int(answer.getheader("Content-Length")) == len(body)
        if accept:
            assert answer.getheader("Content-Encoding") == "gzip"
            assert gzip.decompress(body) == file.read_bytes()
        else:
            assert answer.getheader("Content-Encoding") is None
            assert body == file.read_bytes()


def test_transfer_sizes_of_the_page_with_and_without_gzip(browser, stack, artifacts):
    sizes = {}
    for name, headers in (("gzip", {}), ("identity", {"Accept-Encoding": "identity"})):
        context = browser.new_context(extra_http_headers=headers)
        page = context.new_page()
        responses = []
        page.on("response", lambda response, found=responses: found.append(response))
        page.goto(f"{stack.url}/")
        page.wait_for_load_state("networkidle")
        static = [r for r in responses if "/metrics" not in r.url and "/local-config" not in r.url]
        sizes[name] = sum(r.request.sizes()["responseBodySize"] + r.request.sizes()["responseHeadersSize"] for r in static)
        context.close()
    record(artifacts, page_static_bytes_gzip=sizes["gzip"], page_static_bytes_identity=sizes["identity"])
    assert sizes["gzip"] < sizes["identity"] / 2, sizes


STATES = [
    # (query string given, the URL the page keeps for it)
    ("", "?range=7d&tz=UTC"),
    ("range=today&tz=Asia%2FTokyo&action=a&action=b&element=e&steps=x,y:z&within=3600&by=user_id",
     "?range=today&tz=Asia%2FTokyo&action=a&action=b&element=e&steps=x%2Cy%3Az&within=3600&by=user_id"),
    ("range=custom&from=2026-11-01T00:00&to=2026-11-08T00:00&tz=America%2FNew_York",
     "?range=custom&from=2026-11-01T00%3A00&to=2026-11-08T00%3A00&tz=America%2FNew_York"),
    ("range=custom&from=yesterday&to=2026-11-08", "?range=7d&tz=UTC"),  # a malformed custom range: the default
    ("range=never&tz=Mars%2FOlympus&by=password&within=-5", "?range=7d&tz=UTC"),
]  # fmt: skip


def test_the_url_state_reads_back_what_it_wrote_and_ignores_what_it_cannot_read(browser, stack):
    context = browser.new_context(timezone_id="UTC")  # the default timezone is the browser's
    page = context.new_page()
    page.goto(f"{stack.url}/tracker-test.html")  # a page without the dashboard: the module alone
    kept = page.evaluate(
        "async (queries) => { const s = await import('/js/state.js'); return queries.map((q) => s.serialize(s.parse(q))); }",
        [query for query, _ in STATES],
    )
    assert kept == [url for _, url in STATES]
    assert (
        page.evaluate("async (urls) => { const s = await import('/js/state.js'); return urls.map((u) => s.serialize(s.parse(u))); }", kept)
        == kept
    )
    context.close()


def test_the_range_of_each_preset_is_asked_in_the_chosen_timezone(page, stack):
    page.goto(f"{stack.url}/tracker-test.html")
    now = "2026-11-01T03:30:20Z"  # 2026-10-31 23:30 in New York, 2026-11-01 12:30 in Tokyo
    asked = page.evaluate(
        """async (now) => {
            const s = await import('/js/state.js');
            const at = new Date(now);
            const view = (range, tz) => ({ ...s.parse(''), range, tz });
            return [['today', 'America/New_York'], ['today', 'Asia/Tokyo'], ['1h', 'UTC'], ['30d', 'UTC']]
                .map(([range, tz]) => [s.common(view(range, tz), at).toString(), s.interval(view(range, tz), at), s.retention(view(range, tz), at)]);
        }""",
        now,
    )
    assert asked == [
        ["from=2026-10-31&to=2026-11-01T03%3A31%3A00.000Z&tz=America%2FNew_York", "hour", {"period": "day", "periods": 7}],
        ["from=2026-11-01&to=2026-11-01T03%3A31%3A00.000Z&tz=Asia%2FTokyo", "hour", {"period": "day", "periods": 7}],
        ["from=2026-11-01T02%3A31%3A00.000Z&to=2026-11-01T03%3A31%3A00.000Z&tz=UTC", "minute", {"period": "day", "periods": 7}],
        ["from=2026-10-02T03%3A31%3A00.000Z&to=2026-11-01T03%3A31%3A00.000Z&tz=UTC", "day", {"period": "day", "periods": 7}],
    ]
