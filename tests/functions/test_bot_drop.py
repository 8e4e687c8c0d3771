import asyncio
import base64

import flask
import pytest

from engine import groupappend, ingest
from tests.conftest import TASK, WRITE, WRITE_KEY, with_settings
from tests.factories import make_event

pytestmark = pytest.mark.integration
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
BOT = {**WRITE, "User-Agent": GOOGLEBOT}
BASIC_BOT = {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode(), "User-Agent": GOOGLEBOT}


def counters(apps) -> dict[str, float]:
    text = apps["ingest"].get("/internal/metrics", headers=TASK).text
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if not line.startswith("#")}


DROPPED = 'analytics_events_dropped_total{reason="bot"}'


def test_an_event_from_a_crawler_is_dropped_counted_and_signalled(apps, rclient, keys):
    response = apps["ingest"].post("/event", json=make_event(), headers=BOT)
    assert (response.status_code, response.json) == (202, {"event_id": None, "status": "dropped"})
    assert response.headers["X-Analytics-Dropped"] == "bot"
    assert rclient.xlen(keys.stream) == 0
    lines = counters(apps)
    assert lines[DROPPED] == 1
    assert lines["analytics_events_accepted_total"] == 0


def test_an_event_from_a_browser_is_appended_without_the_header(apps, rclient, keys):
    response = apps["ingest"].post("/event", json=make_event(), headers={**WRITE, "User-Agent": FIREFOX})
    assert (response.status_code, response.json["status"]) == (202, "accepted")
    assert "X-Analytics-Dropped" not in response.headers
    assert rclient.xlen(keys.stream) == 1
    assert DROPPED not in counters(apps)


def test_a_crawlers_batch_answers_202_with_nothing_accepted_and_its_invalid_events_rejected(apps, rclient, keys):
    response = apps["ingest"].post("/events", json=[make_event(), make_event(), {"user_id": "u"}], headers=BOT)
    assert response.status_code == 202
    assert response.json == {
        "accepted": 0,
        "duplicates": 0,
        "dropped": 2,
        "rejected": [{"index": 2, "errors": {"action": ["Missing data for required field."]}}],
        "event_ids": [None, None, None],
    }
    assert response.headers["X-Analytics-Dropped"] == "bot"
    assert rclient.xlen(keys.stream) == 0
    lines = counters(apps)
    assert (lines[DROPPED], lines['analytics_events_rejected_total{reason="invalid_event"}']) == (2, 1)


def test_a_crawler_still_needs_the_key_and_valid_input(apps, rclient, keys):
    no_key = apps["ingest"].post("/event", json=make_event(), headers={"User-Agent": GOOGLEBOT})
    assert no_key.status_code == 401
    invalid = apps["ingest"].post("/events", json=[{"user_id": "u"}], headers=BOT)
    assert (invalid.status_code, invalid.json["error"]["code"]) == (400, "validation_failed")
    assert "X-Analytics-Dropped" not in invalid.headers
    assert DROPPED not in counters(apps)


@pytest.mark.parametrize(
    ("path", "body", "dropped"),
    [
        ("/v1/track", {"userId": "u1", "event": "Video Played"}, 1),
        ("/v1/batch", {"batch": [{"type": "track", "userId": "u1", "event": "a"}, {"type": "identify", "userId": "u1"}]}, 2),
    ],
)
def test_segment_messages_from_a_crawler_answer_200_with_nothing_accepted(apps, rclient, keys, path, body, dropped):
    response = apps["ingest"].post(path, json=body, headers=BASIC_BOT)
    assert response.status_code == 200
    assert response.json == {"success": True, "accepted": 0, "duplicates": 0, "dropped": dropped, "rejected": []}
    assert response.headers["X-Analytics-Dropped"] == "bot"
    assert rclient.xlen(keys.stream) == 0
    assert counters(apps)[DROPPED] == dropped


def test_with_the_filter_off_a_crawlers_event_is_stored(settings, rclient, keys):
    off = with_settings(settings, drop_bots=False)
    app = flask.Flask(__name__)

    async def post() -> flask.Response:
        try:
            return await ingest.post_event(off, flask.request, "rid-off")
        finally:
            await groupappend.release()

    with app.test_request_context("/event", method="POST", json=make_event(action="crawled"), headers=BOT):
        response = asyncio.run(post())
    assert (response.status_code, response.get_json()["status"]) == (202, "accepted")
    assert "X-Analytics-Dropped" not in response.headers
    assert rclient.xlen(keys.stream) == 1
