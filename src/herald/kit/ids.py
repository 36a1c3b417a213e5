"""Time-ordered UUIDs (v7): index-friendly primary keys generated in Python."""

from uuid import UUID

import uuid_utils.compat


def new_id() -> UUID:
    return uuid_utils.compat.uuid7()


ID_BLOCK_ROOM = 1 << 61
"""How many ids one block can hold before its counter would reach the variant bits."""


def id_block() -> tuple[str, int]:
    """The start of a block of UUIDv7s for one set-based insert, whose rows add their ordinal
    (1, 2, …) to the low half: RFC 9562's monotonic-random method, a counter seeded with
    random bits. Returns the first 16 hex digits (time, version, random) and the low 64 bits
    as a signed bigint, with bit 61 cleared so that counting up never reaches the variant."""
    first = new_id()
    low = int(first.hex[16:], 16) & ~ID_BLOCK_ROOM
    return first.hex[:16], low - (1 << 64)
