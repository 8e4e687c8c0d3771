"""A page with Segment's analytics.js snippet and tracker.js: both work, neither takes the other's global.

The snippet is Segment's queue stub (window.analytics as an array of queued calls, a method per
call, load() adding analytics.js); the analytics.js it loads is a local stand-in that replays the
queue as the real one does. Nothing is fetched from outside the stack (page.watch.foreign).
"""

import secrets

import pytest

from tests.browser.test_tracker import wait_rows

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SEGMENT_SNIPPET = """
!function(){var analytics=window.analytics=window.analytics||[];if(!analytics.initialize)if(analytics.invoked)
window.console&&console.error&&console.error("Segment snippet included twice.");else{analytics.invoked=!0;analytics.methods=["track","identify","page","reset","group","alias","ready","debug","on","once","off"];
analytics.factory=function(e){return function(){var t=Array.prototype.slice.call(arguments);t.unshift(e);analytics.push(t);return analytics}};
for(var i=0;i<analytics.methods.length;i++){var key=analytics.methods[i];analytics[key]=analytics.factory(key)}
analytics.load=function(key){var t=document.createElement("script");t.type="text/javascript";t.async=!0;
t.src="/segment-analytics.js";var n=document.getElementsByTagName("script")[0];n.parentNode.insertBefore(t,n);analytics._writeKey=key};
analytics.SNIPPET_VERSION="4.15.3";analytics.load("SEGMENT_WRITE_KEY");analytics.track("Signed Up",{plan:"pro"})}}();
"""
# What analytics.js does on load, in small: replay the snippet's queue, then answer calls itself.
SEGMENT_LIBRARY = """
(function () {
  var queued = window.analytics, real = {};
  window.segmentCalls = [];
  queued.methods.forEach(function (m) {
    real[m] = function () { window.segmentCalls.push([m].concat([].slice.call(arguments))); };
  });
  queued.forEach(function (call) { real[call[0]].apply(real, call.slice(1)); });
  window.analytics = real;
})();
"""


def serve_page(page, stack, body: str) -> None:
    page.route(f"{stack.url}/both.html", lambda route: route.fulfill(body=body, content_type="text/html"))
    page.route(f"{stack.url}/segment-analytics.js", lambda route: route.fulfill(body=SEGMENT_LIBRARY, content_type="text/javascript"))
    page.goto(f"{stack.url}/both.html")


def test_segments_snippet_and_the_tracker_both_work_on_one_page(page, stack, pg):
    user_id = f"both_{secrets.token_hex(4)}"
    key = stack.keys()["write_key"]
    serve_page(
        page,
        stack,
        f"""<!doctype html><html><head><script>{SEGMENT_SNIPPET}</script>
        <script src="/dist/tracker.min.js" data-key="{key}" data-user="{user_id}"></script></head>
        <body><button data-analytics-element="like_button">Like</button></body></html>""",
    )
    page.wait_for_function("window.segmentCalls !== undefined", timeout=10_000)
    page.evaluate("analytics.track('Video Played', {element: 'video_player'})")
    assert page.evaluate("window.segmentCalls") == [
        ["track", "Signed Up", {"plan": "pro"}],
        ["track", "Video Played", {"element": "video_player"}],
    ]

    page.click("text=Like")
    page.evaluate("analyticsEngine.track('play', 'video_player', {duration: 3}); analyticsEngine.flush()")
    rows = wait_rows(page, pg, user_id, 2)
    assert sorted((action, element) for _, action, element, *_ in rows) == [("click", "like_button"), ("play", "video_player")]
    assert page.evaluate("window.analytics !== window.analyticsEngine")
    assert page.watch.errors == []
    assert page.watch.foreign == []


def test_the_tracker_takes_the_name_analytics_only_when_asked(page, stack):
    key = stack.keys()["write_key"]
    serve_page(page, stack, f'<!doctype html><script src="/dist/tracker.min.js" data-key="{key}" data-global="analytics"></script>')
    page.wait_for_function("window.analyticsEngine !== undefined", timeout=10_000)
    assert page.evaluate("window.analytics === window.analyticsEngine && typeof analytics.track === 'function'")
    assert page.watch.errors == []
