"""The size of a value as stored, for bounds on free-form JSON."""

from __future__ import annotations

import json
from typing import Any


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON. The standard library's encoder, not orjson:
    a request may carry integers past 64 bits, which orjson refuses with a ``TypeError``
    that validation would not turn into a 422."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
