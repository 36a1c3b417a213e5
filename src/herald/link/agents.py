"""Who clicked: a person, or a crawler or link-preview fetcher that must not count as one.

Messaging apps fetch every link they display to draw its preview; counting those as clicks
would report a click for nearly every message delivered. ``crawlerdetect`` carries a maintained
list of crawler user agents; the preview fetchers of the apps our messages land in are named
here as well, so that they stay refused whatever that list becomes.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

from crawlerdetect import CrawlerDetect  # type: ignore[import-untyped]

PREVIEW_AGENTS = re.compile(
    r"WhatsApp|facebookexternalhit|Facebot|Slackbot|Slack-LinkExpanding|TelegramBot"
    r"|Twitterbot|Applebot|Discordbot|LinkedInBot|SkypeUriPreview|Googlebot|bingbot",
    re.IGNORECASE,
)
MAX_AGENT_LENGTH = 512
"""Longer user agents are judged on their start: keeps regex work and the cache bounded."""

_detector = CrawlerDetect()


class Visitor(StrEnum):
    human = "human"
    preview = "preview"
    crawler = "crawler"
    probe = "probe"
    """A HEAD request: checks the link without following it."""


@lru_cache(maxsize=4096)
def classify_agent(user_agent: str) -> Visitor:
    """Cached: clicks arrive from a few hundred distinct user agents, and the crawler list is a
    large regular expression."""
    if PREVIEW_AGENTS.search(user_agent):
        return Visitor.preview
    if not user_agent.strip() or _detector.isCrawler(user_agent):
        return Visitor.crawler
    return Visitor.human


def classify(method: str, user_agent: str | None) -> Visitor:
    if method == "HEAD":
        return Visitor.probe
    return classify_agent((user_agent or "")[:MAX_AGENT_LENGTH])
