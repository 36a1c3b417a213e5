"""Time-ordered UUIDs (v7): index-friendly primary keys generated in Python."""

from uuid import UUID

import uuid_utils.compat


def new_id() -> UUID:
    return uuid_utils.compat.uuid7()
