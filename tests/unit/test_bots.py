import pytest

from engine.config import load_settings
from engine.core import bots
from engine.core.errors import ConfigError

CRAWLERS = {
    "googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "googlebot smartphone": (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    ),
    "bingbot": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "gptbot": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "ahrefs": "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "facebook preview": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
}
SENDERS = {
    "chrome": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "firefox": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "safari ios": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Mobile/15E148 Safari/604.1"
    ),
    "curl": "curl/8.5.0",
    "python-requests": "python-requests/2.32.3",
    "python-urllib": "Python-urllib/3.11",
    "go": "Go-http-client/1.1",
    "okhttp": "okhttp/4.12.0",
    "segment python sdk": "analytics-python/2.3.3",
    "segment node sdk": "analytics-node-next/latest",
    "flask test client": "Werkzeug/3.1.3",
    "none": "",
    "blank": "   ",
}


@pytest.mark.parametrize("agent", CRAWLERS.values(), ids=CRAWLERS.keys())
def test_known_crawlers_are_bots(agent):
    assert bots.is_bot(agent) is True


@pytest.mark.parametrize("agent", SENDERS.values(), ids=SENDERS.keys())
def test_browsers_http_libraries_and_sdks_are_not_bots(agent):
    assert bots.is_bot(agent) is False


def test_the_answer_for_an_agent_is_remembered():
    bots.is_bot.cache_clear()
    agent = CRAWLERS["bingbot"]
    assert [bots.is_bot(agent) for _ in range(3)] == [True, True, True]
    info = bots.is_bot.cache_info()
    assert (info.misses, info.hits) == (1, 2)


@pytest.mark.parametrize(("value", "expected"), [("0", False), ("off", False), ("false", False), ("1", True), ("on", True), ("TRUE", True)])
def test_drop_bots_switch(value, expected):
    assert load_settings({"ANALYTICS_DROP_BOTS": value}).drop_bots is expected


def test_drop_bots_is_on_by_default_and_a_bad_value_names_the_variable():
    assert load_settings({}).drop_bots is True
    with pytest.raises(ConfigError, match="ANALYTICS_DROP_BOTS must be one of"):
        load_settings({"ANALYTICS_DROP_BOTS": "maybe"})
