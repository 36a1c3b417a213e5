"""The keyword rule, variant by variant."""

from __future__ import annotations

import pytest

from herald.inbox.keywords import KeywordMatch, match, render_reply, words_of
from herald.inbox.models import KeywordKind

STOP, START, HELP = KeywordKind.stop, KeywordKind.start, KeywordKind.help
SPANISH = {"es": {STOP: ["baja", "no mas"], START: ["alta"], HELP: ["ayuda"]}}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("STOP", STOP),
        ("stop", STOP),
        ("  Stop  ", STOP),
        ("Stop.", STOP),
        ("STOP!!!", STOP),
        ("stop please", STOP),
        ("Stop, thank you", STOP),
        ("please stop", None),
        ("STOPALL", STOP),
        ("Unsubscribe", STOP),
        ("cancel", STOP),
        ("END", STOP),
        ("quit", STOP),
        ("Revoke", STOP),
        ("OPTOUT", STOP),
        ("opt-out", STOP),
        ("Opt out please", STOP),
        ("\uff53\uff54\uff4f\uff50", STOP),  # full-width letters
        ("start", START),
        ("UNSTOP", START),
        ("Yes", START),
        ("yes please", START),
        ("HELP", HELP),
        ("info?", HELP),
        ("Don't stop the deals", None),
        ("stop sending me the blue ones", None),
        ("When does the sale end?", None),
        ("stopped by the shop today", None),
        ("stop please please thanks now", None),
        ("", None),
        ("!!!", None),
    ],
)
def test_built_in_words(text: str, kind: KeywordKind | None) -> None:
    found = match(text, {})
    assert (found.kind if found else None) is kind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BAJA", KeywordMatch(STOP, "baja", "es")),
        ("no más", KeywordMatch(STOP, "no mas", "es")),
        ("No mas, gracias", KeywordMatch(STOP, "no mas", "es")),
        ("Alta", KeywordMatch(START, "alta", "es")),
        ("ayuda por favor", KeywordMatch(HELP, "ayuda", "es")),
        ("stop", KeywordMatch(STOP, "stop", None)),
        ("bajar de peso", None),
    ],
)
def test_tenant_words_carry_their_language(text: str, expected: KeywordMatch | None) -> None:
    assert match(text, SPANISH) == expected


def test_stop_wins_over_a_tenant_start_word_that_reads_the_same() -> None:
    assert match("stop", {"en": {START: ["stop"]}}) == KeywordMatch(STOP, "stop", None)


def test_normalized_words() -> None:
    assert words_of("  STOP!! 🙏 ") == ["stop"]
    assert words_of("opt-out_now") == ["opt", "out", "now"]
    assert words_of("Ünsubscribe MÁS") == ["unsubscribe", "mas"]


def test_reply_is_filled_by_plain_replacement() -> None:
    assert render_reply("{business}: bye {0} {x}", "Shop") == "Shop: bye {0} {x}"
