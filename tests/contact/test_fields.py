"""The field rules module: in step with the model, and light enough for import workers."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import String

from herald.contact.fields import EMAIL_MAX_LENGTH, GENDER_WORDS, MAX_LENGTHS
from herald.contact.models import Contact, Gender


def test_gender_words_name_every_gender() -> None:
    assert set(GENDER_WORDS) == {g.value for g in Gender}


def test_columns_hold_what_the_rules_accept() -> None:
    lengths = {
        name: column.type.length
        for name, column in Contact.__table__.c.items()
        if isinstance(column.type, String)
    }
    assert {name: lengths[name] for name in MAX_LENGTHS} == MAX_LENGTHS
    assert lengths["email"] >= EMAIL_MAX_LENGTH


def test_the_import_workers_do_not_load_sqlalchemy() -> None:
    """A spawned normalizing process imports ``herald.imports.normalize`` and what it needs."""
    code = "import sys, herald.imports.normalize; print('sqlalchemy' in sys.modules)"
    loaded = subprocess.run(  # noqa: S603 - our own interpreter and a constant script
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "False"
