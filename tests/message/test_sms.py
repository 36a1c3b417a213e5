"""Encoding and segment counts of SMS bodies."""

from __future__ import annotations

import pytest

from herald.message.sms import sms_shape


@pytest.mark.parametrize(
    ("body", "shape"),
    [
        ("Hi", ("GSM-7", 1)),
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        ("€" * 80, ("GSM-7", 1)),
        ("€" * 81, ("GSM-7", 2)),
        ("Ça coûte 5€ à Zürich", ("UCS-2", 1)),
        ("ü" * 160, ("GSM-7", 1)),
        ("é" * 70 + "ê", ("UCS-2", 2)),
        ("ж" * 70, ("UCS-2", 1)),
        ("ж" * 134, ("UCS-2", 2)),
        ("ж" * 135, ("UCS-2", 3)),
        ("🙂" * 35, ("UCS-2", 1)),
        ("🙂" * 36, ("UCS-2", 2)),
    ],
)
def test_shape(body: str, shape: tuple[str, int]) -> None:
    assert sms_shape(body) == shape
