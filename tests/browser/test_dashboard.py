"""The dashboard in headless Chromium against a running stack.

The tests share one stack and run in file order: the first sees an empty database.
"""

import os
import signal
import time
from contextlib import contextmanager

import pytest

from tests.browser.conftest import PHONE
from tests.browser.measure import record

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

LIVE = "#status[data-state='live']"
TILES = ("active_users", "events_per_min", "avg_duration", "total_events")


def open_dashboard(page, stack):
    page.goto(f"{stack.url}/")
    page.wait_for_selector(LIVE, timeout=15_000)


def tile(page, name: str) -> str:
    return page.inner_text(f"[data-tile='{name}']")


def element_events(page, element: str) -> int:
    found = page.query_selector(f"#elements li[data-element='{element}']")
    return int(found.get_attribute("data-events")) if found else 0


def signature(page) -> dict:
    """What each tile and chart shows now."""
    shown = {name: tile(page, name) for name in TILES}
    shown["per-minute chart"] = page.get_attribute("#per-minute", "data-events")
    shown["top elements"] = page.inner_text("#elements")
    shown["heatmap"] = page.inner_text("#heatmap-total")
    shown["engaged users"] = page.inner_text("#users")
    return shown


def page_errors(page) -> list[str]:
    """Console errors other than the browser's own line for an HTTP error the test provoked."""
    return [e for e in page.watch.errors if not e.startswith("Failed to load resource: the server responded with a status of")]


def tally(page, name: str) -> int:
    return int(page.inner_text(f"[data-tally='{name}']"))


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.1)


@contextmanager
def stopped(pid: int, group: bool = False):
    """SIGSTOP a process (or its group) for the block; SIGCONT whatever happens."""
    send = os.killpg if group else os.kill
    send(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        send(pid, signal.SIGCONT)


def test_page_loads_clean_and_explains_the_empty_database(page, stack, artifacts):
    open_dashboard(page, stack)
    page.wait_for_load_state("networkidle")
    assert page.is_visible("#empty")
    assert "No events yet" in page.inner_text("#empty")
    assert page.get_attribute("#empty a[href='#generator']", "href") == "#generator"
    assert [tile(page, name) for name in TILES] == ["0", "0", "0 s", "0"]
    assert page.is_hidden("#banner")
    assert page.inner_text("[data-fresh='backlog']") == "0 events"

    watch = page.watch
    assert watch.errors == []
    assert watch.foreign == []
    assert [(r.url, r.status) for r in watch.responses if r.status >= 400] == []
    sizes = [r.request.sizes() for r in watch.responses]
    transfer = sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes)
    static = sum(
        s["responseBodySize"] + s["responseHeadersSize"] for r, s in zip(watch.responses, sizes, strict=True) if "/metrics" not in r.url
    )
    record(artifacts, page_transfer_bytes=transfer, page_static_bytes=static, page_requests=len(sizes))
    assert transfer < 200_000, f"the page moved {transfer} bytes"


def test_simulated_traffic_brings_every_tile_and_chart_alive_within_10_s(page, stack, artifacts):
    open_dashboard(page, stack)
    before = signature(page)
    page.click("#simulate")
    clicked = time.monotonic()
    assert page.get_attribute("#simulate", "aria-checked") == "true"

    def all_changed():
        now = signature(page)
        return all(now[key] != before[key] for key in before) and now

    after = wait_until(all_changed, 10, "every tile and chart changed")
    alive_in = time.monotonic() - clicked
    assert page.is_hidden("#empty")
    record(artifacts, simulate_alive_seconds=round(alive_in, 2))

    # Let it run until the screenshots show traffic, then check the tally.
    wait_until(lambda: tally(page, "sent") >= 30, 20, "30 simulated events sent")
    page.screenshot(path=str(artifacts / "dashboard-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_function(f"document.documentElement.clientWidth === {PHONE['width']}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than a phone
    page.screenshot(path=str(artifacts / "dashboard-phone.png"), full_page=True)
    record(artifacts, screenshots=[str(artifacts / "dashboard-desktop.png"), str(artifacts / "dashboard-phone.png")])

    page.click("#simulate")
    assert page.get_attribute("#simulate", "aria-checked") == "false"
    # A batch in flight when switched off still lands: wait until every one is answered.
    wait_until(lambda: tally(page, "accepted") + tally(page, "failed") == tally(page, "sent"), 10, "every batch answered")
    sent, accepted = tally(page, "sent"), tally(page, "accepted")
    assert sent > 0 and accepted == sent
    assert tally(page, "failed") == 0
    # Off means off: two ticks of the page's clock later (the generator ticks faster), nothing more was sent.
    polled = page.inner_text("#updated")
    for _ in range(2):
        wait_until(lambda before=polled: page.inner_text("#updated") != before, 15, "the page's clock to tick")
        polled = page.inner_text("#updated")
    assert tally(page, "sent") == sent
    assert int(after["active_users"]) >= 1
    assert page.watch.errors == [] and page.watch.foreign == []


def test_a_generator_click_raises_the_events_tile_and_top_elements_within_10_s(page, stack):
    open_dashboard(page, stack)
    events_before = int(page.get_attribute("[data-tile='events_per_min']", "data-value"))
    shares_before = element_events(page, "share_button")
    page.click("#kinds [data-kind='share']")
    wait_until(lambda: "share on share_button: accepted" in page.inner_text("#generator-status"), 5, "the ingest API's answer shown")
    wait_until(
        lambda: (
            int(page.get_attribute("[data-tile='events_per_min']", "data-value")) > events_before
            and element_events(page, "share_button") == shares_before + 1
        ),
        10,
        "the events tile and the top-elements chart counted the click",
    )
    assert page.inner_text("[data-tally='accepted']") == "1"
    assert page.watch.errors == []


def test_api_unreachable_banner_appears_when_metrics_is_down_and_goes_when_back(page, stack, artifacts):
    open_dashboard(page, stack)
    # The supervisor would restart a killed function within a second, quicker than a poll
    # notices: hold the supervisor still, kill the metrics function, then let it restart it.
    metrics = stack.state()["children"]["metrics"]
    with stopped(stack.process.pid):
        os.killpg(metrics, signal.SIGKILL)
        page.wait_for_selector("#banner[data-kind='unreachable']", timeout=10_000)
        assert page.inner_text("#banner-title") == "API unreachable: the metrics function is not answering"
        assert "restarted within seconds" in page.inner_text("#banner-text")
        assert page.get_attribute("#status", "data-state") == "down"
        assert page.get_attribute("main", "data-stale") == "true"  # the last numbers stay, faded
        page.screenshot(path=str(artifacts / "dashboard-unreachable.png"))
    page.wait_for_selector("#banner", state="hidden", timeout=20_000)
    page.wait_for_selector(LIVE, timeout=5_000)
    assert page.get_attribute("main", "data-stale") == "false"
    assert stack.state()["children"]["metrics"] != metrics
    assert page_errors(page) == []


def test_slow_answers_are_shown_and_clear(page, stack):
    open_dashboard(page, stack)
    with stopped(stack.state()["children"]["metrics"], group=True):
        # Worst case: the next poll starts 3 s later, is slow after 2 s, shown at the next 1 s
        # tick: 6 s exactly, so allow a margin for a busy machine.
        page.wait_for_selector("#status[data-state='slow']", timeout=10_000)
        assert page.inner_text("#status-text").startswith("Slow: waiting")
        assert page.is_hidden("#banner")  # slow is not down
    page.wait_for_selector(LIVE, timeout=15_000)
    assert page.is_hidden("#banner")
    assert page_errors(page) == []


def test_a_missing_or_refused_read_key_says_which_and_how_to_fix(page, stack):
    # As in production: no /local-config, so the page asks for the keys.
    page.route("**/local-config", lambda route: route.fulfill(status=404, json={"error": {"code": "not_found"}}))
    page.goto(f"{stack.url}/")
    page.wait_for_selector("#banner[data-kind='unauthorized']", timeout=10_000)
    assert page.inner_text("#banner-title") == "A read key is needed"
    assert ".local/keys.json" in page.inner_text("#banner-text")
    assert page.is_visible("#generator-disabled") and page.is_disabled("#simulate")

    page.click("#banner-action")
    page.fill("#read-key", "not-the-read-key-0000")
    page.press("#read-key", "Enter")
    page.wait_for_selector("#banner-title:text-is('The read key was refused (401)')", timeout=10_000)
    assert page.get_attribute("#status", "data-state") == "down"

    keys = stack.keys()
    page.click("#keys-button")
    page.fill("#read-key", keys["read_key"])
    page.fill("#write-key", keys["write_key"])
    page.press("#write-key", "Enter")
    page.wait_for_selector(LIVE, timeout=10_000)
    assert page.is_hidden("#banner") and page.is_enabled("#simulate")

    page.reload()  # kept in localStorage
    page.wait_for_selector(LIVE, timeout=10_000)
    assert page.is_hidden("#banner")
    assert page_errors(page) == []


def test_keyboard_alone_reaches_the_definitions_and_the_simulate_switch(page, stack):
    open_dashboard(page, stack)
    assert page.is_hidden("#def-active")

    def tab_to(selector: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"{selector} is not reachable with Tab")

    tab_to("[aria-describedby='def-active']")
    assert page.is_visible("#def-active")  # the definition shows on focus, not only on hover
    tab_to("#simulate")
    page.keyboard.press("Space")
    assert page.get_attribute("#simulate", "aria-checked") == "true"
    wait_until(lambda: int(page.inner_text("[data-tally='accepted']")) > 0, 5, "simulated events accepted")
    page.keyboard.press("Space")
    assert page.get_attribute("#simulate", "aria-checked") == "false"


FORMATS = [
    ("count", 0, "0"),
    ("count", 950, "950"),
    ("count", 1234, "1.2k"),
    ("count", 9960, "10k"),
    ("count", 125_400, "125k"),
    ("count", 999_600, "1M"),
    ("count", 1_250_000, "1.3M"),
    ("rate", 0.2, "0.2"),
    ("rate", 42.4, "42.4"),
    ("rate", 150.25, "150"),
    ("rate", 1234.5, "1.2k"),
    ("seconds", 0.4, "0.4 s"),
    ("seconds", 8.2, "8.2 s"),
    ("seconds", 8.0, "8 s"),
    ("seconds", 42.4, "42 s"),
    ("seconds", 150, "2.5 min"),
    ("seconds", 5400, "1.5 h"),
    ("ago", 0.3, "just now"),
    ("ago", 3.9, "3 s ago"),
    ("ago", 125, "2 min ago"),
    ("ago", None, "never"),
    ("span", 300, "5 min"),
    ("span", 3600, "1 h"),
    ("span", 45, "45 s"),
]


def test_numbers_are_formatted_for_people(page, stack):
    page.goto(f"{stack.url}/tracker-test.html")
    cases = [[name, value] for name, value, _ in FORMATS]
    shown = page.evaluate("async (cases) => { const f = await import('/js/format.js'); return cases.map(([n, v]) => f[n](v)); }", cases)
    assert shown == [expected for _, _, expected in FORMATS]
