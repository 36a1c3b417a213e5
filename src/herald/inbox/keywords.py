"""Reading a keyword out of an inbound text: STOP, START, HELP and the tenant's own words.

The rule, stated once (``match``):

1. The text is normalized: case-folded, accents dropped ("más" reads "mas"), compatibility
   forms folded (full-width letters), and every character that is not a letter or a digit
   becomes a space, so "Stop.", " STOP!! ", "opt-out" and "stop🙏" read as words.
2. A keyword (one word, or a phrase of a few words such as "opt out" or "no mas") matches when
   the words **start** with it and whatever follows is at most ``MAX_TAIL`` words, all of them
   courtesy words ("please", "thanks", "now"…). So "stop please" and "STOP. Thank you" opt out,
   while "don't stop the deals" or "stop sending me the blue ones" do not: a sentence that only
   contains a keyword is an ordinary reply for a person to read.
3. Opting out wins over the rest when a text could be read two ways, then help, then start.

Built-in words always apply, whatever the tenant configures (carriers and regulators expect
them in every language); a tenant adds words per language, and those words also pick the
language of the reply.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from herald.inbox.models import KeywordKind

STOP_WORDS = (
    "stop",
    "stopall",
    "unsubscribe",
    "cancel",
    "end",
    "quit",
    "revoke",
    "optout",
    "opt out",
)
START_WORDS = ("start", "unstop", "yes")
HELP_WORDS = ("help", "info")
BUILT_IN: dict[KeywordKind, tuple[str, ...]] = {
    KeywordKind.stop: STOP_WORDS,
    KeywordKind.help: HELP_WORDS,
    KeywordKind.start: START_WORDS,
}
PRECEDENCE = (KeywordKind.stop, KeywordKind.help, KeywordKind.start)
COURTESY = frozenset(
    {
        "please",
        "pls",
        "plz",
        "thanks",
        "thank",
        "you",
        "thx",
        "ty",
        "now",
        "it",
        "all",
        "me",
        "por",
        "favor",
        "gracias",
        "bitte",
        "danke",
        "merci",
    }
)
"""Words that may follow a keyword without turning the text into a sentence."""
MAX_TAIL = 3
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class KeywordMatch:
    kind: KeywordKind
    keyword: str
    language: str | None
    """The language of the tenant's word that matched; ``None`` for a built-in word."""


def words_of(text: str) -> list[str]:
    """The normalized words of ``text`` (see the module docstring, step 1)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_WORD.sub(" ", unicodedata.normalize("NFKC", bare)).split()


def _starts_with(words: list[str], keyword: str) -> bool:
    phrase = words_of(keyword)
    if not phrase or words[: len(phrase)] != phrase:
        return False
    tail = words[len(phrase) :]
    return len(tail) <= MAX_TAIL and all(word in COURTESY for word in tail)


def match(
    text: str | None, tenant_words: Mapping[str, Mapping[KeywordKind, Iterable[str]]]
) -> KeywordMatch | None:
    """The keyword ``text`` is, if any. ``tenant_words`` maps a language to its extra words per
    kind; built-in words are always tried too."""
    if not text:
        return None
    words = words_of(text)
    if not words:
        return None
    for kind in PRECEDENCE:
        for language, extra in tenant_words.items():
            for keyword in extra.get(kind, ()):
                if _starts_with(words, keyword):
                    return KeywordMatch(kind, keyword, language)
        for keyword in BUILT_IN[kind]:
            if _starts_with(words, keyword):
                return KeywordMatch(kind, keyword, None)
    return None


DEFAULT_REPLIES: dict[KeywordKind, str] = {
    KeywordKind.stop: (
        "{business}: You are unsubscribed and will receive no more messages. "
        "Reply START to resubscribe."
    ),
    KeywordKind.start: (
        "{business}: You are subscribed again. Msg frequency varies. Msg & data rates may apply. "
        "Reply HELP for help, STOP to opt out."
    ),
    KeywordKind.help: (
        "{business}: Msg frequency varies. Msg & data rates may apply. "
        "Reply STOP to opt out, START to opt back in."
    ),
}
"""English defaults; a tenant sets its own text per language. ``{business}`` is replaced by the
tenant's business name."""


def render_reply(template: str, business: str) -> str:
    """The reply with the business name in place (plain replacement: no format mini-language
    for a tenant's text to trip over)."""
    return template.replace("{business}", business)
