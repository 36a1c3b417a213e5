"""How an SMS body is encoded and how many segments it costs, until ``herald.sms.encoding``
(the one place Herald counts SMS, with smart replacements) is available to this domain.

GSM-7 packs a character in one septet (two for the extension table); any other character
sends the whole message as UCS-2, one UTF-16 unit per character (two for most emoji). One
segment carries 160 septets or 70 units; concatenated segments carry 153 or 67.
"""

from __future__ import annotations

import math

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")
LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


def sms_shape(body: str) -> tuple[str, int]:
    """``(encoding, segments)`` of ``body``: ``GSM-7`` or ``UCS-2``, at least one segment."""
    if all(c in GSM_BASIC or c in GSM_EXTENSION for c in body):
        encoding, units = "GSM-7", len(body) + sum(c in GSM_EXTENSION for c in body)
    else:
        encoding, units = "UCS-2", len(body.encode("utf-16-le")) // 2
    single, multi = LIMITS[encoding]
    return encoding, 1 if units <= single else math.ceil(units / multi)
