"""Scenario ``sms-inspect``: characterise ``size`` SMS bodies with ``herald.sms.encoding.inspect``.

Bodies are made deterministically, ``CHUNK`` at a time (so a million of them never sit in
memory at once), as slices 20-400 characters long of a marketing text with links, at offsets
that make nearly every body distinct: 75% plain GSM, 8% with an extension character (€, braces,
brackets…), 7% with a curly quote or dash (UCS-2 unless smart encoding replaces it) and 10% with
an emoji or a Cyrillic word (UCS-2 whatever happens).

Timed: ``inspect`` over every body, with smart encoding off (the reported rate) and on
(``smart_rate`` in the details). Baseline: the naive count a quick integration does — the
length and ``str.isascii()`` of each body, ``len / 160`` or ``len / 70`` segments — in the same
Python loop shape, so the ratio says what correct GSM 03.38 accounting (extension characters,
headers of concatenated segments, surrogate pairs, the parts' texts) costs over guessing.
The database is not used. The work is pure computation in one thread, so it is timed in that
thread's CPU time (``time.thread_time``): the same as wall time on an idle machine, and not
inflated when other processes share the cores.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from herald.bench.types import BenchContext, Measurement
from herald.sms.encoding import SmsInspection, inspect

CHUNK = 10_000
SEED = 20_260_101
PHRASES = (
    "Hi {name}, our summer sale starts today: {pct}% off everything at "
    "https://shop.example/s/{code} until Sunday.",
    "{name}, your order #{code} has shipped! Track it here: https://t.example/{code}",
    "Last chance: buy 2 get 1 free on all tees, ends at midnight. Code {code} at checkout.",
    "New arrivals are in. Be the first to shop the fall collection: https://shop.example/new",
    "Thanks for being a VIP, {name}! Here is {pct}% off your next order with code {code}.",
    "Reply STOP to opt out. Msg & data rates may apply.",
)
NAMES = ("Ana", "Bob", "Chloe", "Dev", "Emma", "Femi", "Gus", "Hana")
EXTENSION = "€{}[]~^|\\"
LOOK_ALIKES = ("\u2019", "\u201c", "\u201d", "\u2014", "\u2013", "\u2026", "\u00a0")
UCS2_PIECES = ("🎉", "😀", "🔥", "👍🏽", " Спасибо", " ¡Olé! ça", " 限时")


def corpus(rng: random.Random, length: int = 200_000) -> str:
    """A long GSM marketing text to cut bodies from."""
    pieces: list[str] = []
    size = 0
    while size < length:
        phrase = rng.choice(PHRASES).format(
            name=rng.choice(NAMES), pct=rng.randrange(5, 70, 5), code=f"{rng.getrandbits(32):x}"
        )
        pieces.append(phrase)
        size += len(phrase) + 1
    return " ".join(pieces)


def bodies(size: int) -> Iterator[list[str]]:
    """``size`` bodies in lists of ``CHUNK``, the same on every run and machine."""
    rng = random.Random(SEED)
    text = corpus(rng)
    made = 0
    while made < size:
        count = min(CHUNK, size - made)
        yield [_body(rng, text) for _ in range(count)]
        made += count


def _body(rng: random.Random, text: str) -> str:
    length = rng.randint(20, 400)
    start = rng.randrange(len(text) - length)
    body = text[start : start + length]
    kind = rng.random()
    if kind < 0.75:
        return body
    at = rng.randrange(len(body))
    if kind < 0.83:
        extra = rng.choice(EXTENSION)
    elif kind < 0.90:
        extra = rng.choice(LOOK_ALIKES)
    else:
        extra = rng.choice(UCS2_PIECES)
    return body[:at] + extra + body[at:]


def naive_segments(body: str) -> int:
    """The baseline: a guess from the length alone."""
    return -(-len(body) // (160 if body.isascii() else 70))


def inspect_smart(body: str) -> SmsInspection:
    return inspect(body, smart=True)


def _timed(call: Callable[[str], Any], chunk: list[str]) -> tuple[float, list[Any]]:
    started = time.thread_time()
    results = list(map(call, chunk))
    return time.thread_time() - started, results


async def run(ctx: BenchContext, size: int) -> Measurement:
    seconds = smart_seconds = baseline_seconds = 0.0
    gsm = segments = smart_gsm = 0
    for chunk in bodies(size):
        spent, found = _timed(inspect, chunk)
        seconds += spent
        spent, smart = _timed(inspect_smart, chunk)
        smart_seconds += spent
        spent, _ = _timed(naive_segments, chunk)
        baseline_seconds += spent
        gsm += sum(i.encoding == "GSM-7" for i in found)
        segments += sum(i.segments for i in found)
        smart_gsm += sum(i.encoding == "GSM-7" for i in smart)
    extra = {
        "smart_rate": round(size / smart_seconds, 1) if smart_seconds else 0.0,
        "gsm_share": round(gsm / size, 3),
        "gsm_share_smart": round(smart_gsm / size, 3),
        "mean_segments": round(segments / size, 3),
    }
    return Measurement(size, seconds, baseline_seconds, unit="bodies", extra=extra)
