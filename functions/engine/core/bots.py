"""Known crawlers, by their user agent: the bot list of Matomo's Device Detector (the
`device-detector` package, the list Plausible's UAInspector also reads).

That list names crawlers, spiders, link previewers, monitors and scanners; it does not name
HTTP libraries (curl, python-requests, Go-http-client, okhttp, the server-side SDKs), which
send real events on their users' behalf. Only its bot parser runs, not the whole device
detection: a browser's agent is refused by its keyword prefilter in microseconds.
"""

from __future__ import annotations

from functools import lru_cache

from device_detector.parser.device.bot import Bot
from device_detector.utils import clean_ua

# Why an event was dropped at ingest: the ops counter's label and the X-Analytics-Dropped value.
DROP_REASON = "bot"
DROPPED_HEADER = "X-Analytics-Dropped"
# Distinct user agents remembered: a site sees few (browser builds and a long tail of bots), and
# the same one repeats on every event of a visit.
CACHE_AGENTS = 4096


@lru_cache(maxsize=CACHE_AGENTS)
def is_bot(user_agent: str) -> bool:
    """True when the user agent is a known crawler's; an empty one is not (a server may send none)."""
    if not user_agent.strip():
        return False
    return Bot(clean_ua(user_agent, user_agent.lower()), None).parse().is_bot()
