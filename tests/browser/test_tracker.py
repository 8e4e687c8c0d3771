"""tracker.js in headless Chromium: clicks and engaged time become rows in PostgreSQL, once each."""

import json
import re
import secrets
import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CLICKS = [
    ("Play", "play", "video_player"),
    ("Like", "click", "like_button"),
    ("Share", "click", "share_button"),
    ("Subscribe", "click", "subscribe_button"),  # the click lands on a <span> inside the button
]


def rows_of(pg, user_id: str) -> list[tuple]:
    query = "SELECT event_id::text, action, element, duration, session_id, properties FROM events WHERE user_id = :user"
    return pg.run(query + " ORDER BY timestamp, action", user=user_id)


def wait_rows(page, pg, user_id: str, count: int, timeout: float = 15) -> list[tuple]:
    deadline = time.monotonic() + timeout
    while True:
        rows = rows_of(pg, user_id)
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        page.wait_for_timeout(200)  # not time.sleep: Playwright runs route handlers only while called


def open_test_page(page, stack, user_id: str) -> None:
    page.goto(f"{stack.url}/tracker-test.html?key={stack.keys()['write_key']}&user={user_id}")
    page.wait_for_selector("#tracker-state:text-is('tracker loaded')", timeout=10_000)


def test_clicks_make_one_row_each_even_when_the_answer_is_lost_and_the_batch_retried(page, stack, pg):
    user_id = f"tracker_{secrets.token_hex(4)}"
    posts = []

    def lose_first_answer(route):
        posts.append(json.loads(route.request.post_data))
        if len(posts) == 1:
            # The batch reaches ingest and is stored; the page never hears back, as on a
            # dropped connection, so the tracker must send it again.
            delivered = route.fetch()
            assert delivered.status == 202
            route.fulfill(status=503, json={"error": {"code": "unavailable", "message": "lost answer"}})
        else:
            route.continue_()

    page.route(re.compile(r"/events\?key="), lose_first_answer)
    answers = []
    page.on("response", lambda response: "/events?key=" in response.url and answers.append(response))
    open_test_page(page, stack, user_id)
    for label, _, _ in CLICKS:
        page.click(f"button:has-text('{label}')")
    page.click("h1")  # not marked: sends nothing

    wait_rows(page, pg, user_id, len(CLICKS))
    deadline = time.monotonic() + 10
    while len(answers) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    # Two drains that finished after the retry was answered: a duplicate would have landed by then.
    answered = pg.run("SELECT clock_timestamp()")[0][0]
    drains = "SELECT count(*) FROM task_runs WHERE task = 'stream-drain' AND started_at > :t"
    deadline = time.monotonic() + 15
    while pg.run(drains, t=answered)[0][0] < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert pg.run(drains, t=answered)[0][0] >= 2
    rows = rows_of(pg, user_id)

    assert sorted((action, element) for _, action, element, *_ in rows) == sorted((a, e) for _, a, e in CLICKS)
    assert len({event_id for event_id, *_ in rows}) == len(CLICKS)
    assert {properties["path"] for *_, properties in rows} == {"/tracker-test.html"}
    assert len({session for *_, session, _ in rows}) == 1
    # One batch, sent twice with the same event ids: the retry was answered as all duplicates.
    assert len(posts) == 2
    assert [e["event_id"] for e in posts[0]["events"]] == [e["event_id"] for e in posts[1]["events"]]
    assert {e["event_id"] for e in posts[0]["events"]} == {event_id for event_id, *_ in rows}
    assert all(body.get("sent_at") for body in posts)
    assert [answer.status for answer in answers] == [503, 202]
    assert (answers[1].json()["accepted"], answers[1].json()["duplicates"]) == (0, len(CLICKS))
    assert page.watch.foreign == []


def test_track_call_and_engaged_time_reach_the_database(page, stack, pg):
    user_id = f"tracker_{secrets.token_hex(4)}"
    open_test_page(page, stack, user_id)
    page.evaluate("analytics.track('play', 'video_player', {duration: 12.5, episode: 4}); analytics.flush()")
    page.wait_for_timeout(1500)  # the stimulus, not a wait: time spent on the page, visible and focused
    page.goto("about:blank")  # leaving: the engaged time goes by sendBeacon

    rows = wait_rows(page, pg, user_id, 2)
    assert [(action, element) for _, action, element, *_ in rows] == [("play", "video_player"), ("engage", "page")]
    play, engage = rows
    assert play[3] == 12.5 and play[5] == {"path": "/tracker-test.html", "episode": 4}
    assert 1.5 <= engage[3] < 30  # seconds on the page before leaving it
    assert engage[4] == play[4]  # same session
