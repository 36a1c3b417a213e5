"""Link tokens: short, random, and refused when forged — by the key alone."""

from __future__ import annotations

import secrets

import pytest

from herald.link.tokens import ALPHABET, TOKEN_LENGTH, is_genuine, new_token, token_key
from herald.settings import Settings

KEY = secrets.token_bytes(32)


def test_a_token_is_short_base62_and_genuine() -> None:
    token = new_token(KEY)
    assert len(token) == TOKEN_LENGTH <= 22
    assert set(token) <= set(ALPHABET)
    assert is_genuine(KEY, token)


def test_tokens_do_not_repeat() -> None:
    assert len({new_token(KEY) for _ in range(10_000)}) == 10_000


def test_every_single_character_change_is_refused() -> None:
    token = new_token(KEY)
    for position in range(TOKEN_LENGTH):
        for char in "0aZ":
            forged = token[:position] + char + token[position + 1 :]
            if forged != token:
                assert not is_genuine(KEY, forged), forged


def test_another_key_refuses_the_token() -> None:
    assert not is_genuine(secrets.token_bytes(32), new_token(KEY))


@pytest.mark.parametrize(
    "token",
    ["", "abc", "z" * TOKEN_LENGTH, "!" * TOKEN_LENGTH, "0" * (TOKEN_LENGTH + 1), "é" * 21],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    assert not is_genuine(KEY, token)


def test_the_key_follows_the_secret_and_is_stable() -> None:
    one = Settings(secret_key="first-secret-long-enough-for-the-test", demo=False)
    same = Settings(secret_key="first-secret-long-enough-for-the-test", demo=False)
    other = Settings(secret_key="second-secret-long-enough-for-the-test", demo=False)
    assert token_key(one) == token_key(same) != token_key(other)
    assert is_genuine(token_key(same), new_token(token_key(one)))
