"""Clicks by people count as human; crawlers, link previews and HEAD probes do not."""

from __future__ import annotations

import pytest

from herald.link.agents import Visitor, classify

PREVIEWS = [
    "WhatsApp/2.23.20.0 A",
    "WhatsApp/2.2337.7 i",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Facebot",
    "facebookexternalhit/1.1 Facebot Twitterbot/1.0",  # iMessage's link preview
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "TelegramBot (like TwitterBot)",
    "Twitterbot/1.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
]
BROWSERS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
]


@pytest.mark.parametrize("agent", PREVIEWS)
def test_preview_fetchers_are_not_people(agent: str) -> None:
    assert classify("GET", agent) is Visitor.preview


@pytest.mark.parametrize("agent", ["curl/8.4.0", "python-requests/2.31.0", "", None])
def test_crawlers_and_missing_agents_are_not_people(agent: str | None) -> None:
    assert classify("GET", agent) is Visitor.crawler


@pytest.mark.parametrize("agent", BROWSERS)
def test_browsers_are_people(agent: str) -> None:
    assert classify("GET", agent) is Visitor.human


def test_a_head_request_is_a_probe_whoever_sends_it() -> None:
    assert classify("HEAD", BROWSERS[0]) is Visitor.probe
