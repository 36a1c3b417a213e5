"""How an SMS body is encoded and cut into segments: the one place Herald counts SMS.

GSM 03.38 (GSM-7) packs a character into one 7-bit septet; its extension table costs two (an
escape, then the character). Any character outside both tables sends the whole message as
UCS-2, where a character is one UTF-16 code unit, or two for a surrogate pair (most emoji).
One segment carries 140 octets: 160 septets or 70 UCS-2 units; a concatenated message spends
6 octets per segment on its header, leaving 153 septets or 67 units. A segment never splits an
escape sequence or a surrogate pair: the whole character moves to the next segment.

``inspect`` runs on the send path and in bulk, so the common case (plain GSM text) costs one
regular-expression scan and a few slices; further scans find extension characters, characters
outside GSM-7 and surrogate pairs only when the first one found something to look at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

Encoding = Literal["GSM-7", "UCS-2"]
GSM7: Final = "GSM-7"
UCS2: Final = "UCS-2"

GSM_BASIC: Final = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The 127 characters of the GSM 03.38 default alphabet (its 128th code is the escape)."""

GSM_EXTENSION: Final = "\f^{}\\[~]|€"
"""The extension table: each is sent as escape + character, two septets."""

GSM_SINGLE, GSM_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

_NOT_BASIC: Final = re.compile(f"[^{re.escape(GSM_BASIC)}]")
_NOT_GSM: Final = re.compile(f"[^{re.escape(GSM_BASIC + GSM_EXTENSION)}]")
_EXTENSION_RE: Final = re.compile(f"[{re.escape(GSM_EXTENSION)}]")
_ASTRAL_RE: Final = re.compile("[\U00010000-\U0010ffff]")
"""Characters outside the Basic Multilingual Plane: a surrogate pair, two UCS-2 units."""

_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
_SPACES += "\u202f\u205f\u3000\t"
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
SMART_REPLACEMENTS: Final[dict[str, str]] = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2035\u02bc\u02b9\u00b4`\uff07", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u2036\u02ba\u00ab\u00bb\uff02", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
    **dict.fromkeys(_SPACES, " "),
    **dict.fromkeys(_INVISIBLE, ""),
    **dict.fromkeys("\u2028\u2029", "\n"),
    "\u2026": "...",
    "\u2024": ".",
    "\u2025": "..",
    "\u2039": "<",
    "\u203a": ">",
    "\u2044": "/",
    "\u02c6": "^",
    "\u02dc": "~",
    "\u2022": "-",
}
"""Look-alikes outside GSM-7 and the GSM text that reads the same (invisible ones vanish)."""

_SMART_CHARS: Final = frozenset(SMART_REPLACEMENTS)


@dataclass(frozen=True, slots=True)
class SmartReplacement:
    """One kind of character smart encoding replaced, with what and how many times."""

    character: str
    replacement: str
    count: int


@dataclass(frozen=True, slots=True)
class SmsInspection:
    """What sending ``text`` as one SMS costs.

    ``characters`` counts code points and ``units`` the encoding's units (septets, extension
    characters counting two; or UTF-16 code units) of the text actually sent. ``parts`` are
    the segments' texts, which join back to ``text``. With smart encoding, ``original_segments``
    is what the unreplaced text would cost and ``segments_saved`` the difference.
    """

    text: str
    encoding: Encoding
    segments: int
    characters: int
    units: int
    ucs2_characters: tuple[str, ...]
    parts: tuple[str, ...]
    smart: bool = False
    smart_replacements: tuple[SmartReplacement, ...] = ()
    original_segments: int = 0
    segments_saved: int = 0


def inspect(text: str, *, smart: bool = False) -> SmsInspection:
    """Encode, count and cut ``text``; with ``smart``, first try GSM look-alikes.

    Smart replacements are used only when they make the whole message GSM-7 without costing
    more segments: a message that stays UCS-2 (an emoji, Cyrillic) keeps its curly quotes,
    since replacing them would change how it reads and save nothing.
    """
    encoding, units, forcing, parts = _measure(text)
    if smart and encoding == UCS2:
        return _smart(text, units, forcing, parts)
    return SmsInspection(
        text=text,
        encoding=encoding,
        segments=len(parts),
        characters=len(text),
        units=units,
        ucs2_characters=forcing,
        parts=parts,
        smart=smart,
        original_segments=len(parts),
    )


_Measure = tuple[Encoding, int, tuple[str, ...], tuple[str, ...]]
"""encoding, units, the characters forcing UCS-2, the segments' texts."""


def _measure(text: str) -> _Measure:
    first = _NOT_BASIC.search(text)
    if first is None:
        return GSM7, len(text), (), _cut(text, len(text), GSM_SINGLE, GSM_MULTI, _EXTENSION_RE)
    outside = _NOT_GSM.findall(text, first.start())
    if not outside:
        units = len(text) + len(_EXTENSION_RE.findall(text, first.start()))
        return GSM7, units, (), _cut(text, units, GSM_SINGLE, GSM_MULTI, _EXTENSION_RE)
    units = len(text) + len(_ASTRAL_RE.findall(text, first.start()))
    parts = _cut(text, units, UCS2_SINGLE, UCS2_MULTI, _ASTRAL_RE)
    return UCS2, units, tuple(dict.fromkeys(outside)), parts


def _cut(text: str, units: int, single: int, multi: int, wide: re.Pattern[str]) -> tuple[str, ...]:
    """Cut ``text`` (``units`` long) into the fewest segments, greedily: fill each with whole
    characters, one unit each, or two for those ``wide`` matches (extension characters in
    GSM-7, surrogate pairs in UCS-2)."""
    if units <= single:
        return (text,) if text else ()
    total = len(text)
    if units == total:
        return tuple(text[i : i + multi] for i in range(0, total, multi))
    parts: list[str] = []
    start = 0
    while start < total:
        end = min(start + multi, total)
        used = end - start + len(wide.findall(text, start, end))
        while used > multi:
            end -= 1
            used -= 2 if wide.match(text, end) else 1
        parts.append(text[start:end])
        start = end
    return tuple(parts)


def _smart(
    text: str, units: int, forcing: tuple[str, ...], parts: tuple[str, ...]
) -> SmsInspection:
    """``text`` needs UCS-2: send its look-alikes instead when that is GSM-7 and no longer.

    Every replacement is GSM text, so the result is GSM-7 exactly when each character that
    forces UCS-2 has a replacement; otherwise nothing is translated at all.
    """
    original_segments = len(parts)
    sent: str = text
    replacements: tuple[SmartReplacement, ...] = ()
    if _SMART_CHARS.issuperset(forcing):
        replaced = text
        for char in forcing:
            replaced = replaced.replace(char, SMART_REPLACEMENTS[char])
        candidate = _measure(replaced)
        if replaced and candidate[0] == GSM7 and len(candidate[3]) <= original_segments:
            replacements = tuple(
                SmartReplacement(c, SMART_REPLACEMENTS[c], text.count(c)) for c in forcing
            )
            sent, (_, units, forcing, parts) = replaced, candidate
    return SmsInspection(
        text=sent,
        encoding=UCS2 if forcing else GSM7,
        segments=len(parts),
        characters=len(sent),
        units=units,
        ucs2_characters=forcing,
        parts=parts,
        smart=True,
        smart_replacements=replacements,
        original_segments=original_segments,
        segments_saved=original_segments - len(parts),
    )
