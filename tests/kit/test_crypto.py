from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from herald.kit.crypto import (
    CryptoError,
    EncryptedJSON,
    EncryptedString,
    Keyring,
    current_keyring,
    load_keyring,
    parse_keys,
    read_keyring_file,
    use_keyring,
)
from herald.settings import Settings


def b64key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


class TestKeyring:
    def test_round_trip(self) -> None:
        ring = Keyring.generate("main")
        token = ring.encrypt("çà marche 🔐".encode())
        assert token.startswith("v1:main:")
        assert "marche" not in token
        assert ring.decrypt(token).decode() == "çà marche 🔐"

    def test_nonces_differ(self) -> None:
        ring = Keyring.generate("main")
        assert ring.encrypt(b"same") != ring.encrypt(b"same")

    def test_tampered_ciphertext(self) -> None:
        ring = Keyring.generate("main")
        version, kid, nonce, sealed = ring.encrypt(b"secret").split(":")
        raw = bytearray(base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4)))
        raw[0] ^= 1
        forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
        with pytest.raises(CryptoError, match="altered"):
            ring.decrypt(f"{version}:{kid}:{nonce}:{forged}")

    def test_kid_is_authenticated(self) -> None:
        """Relabelling a token with another key id of the same ring fails: the kid is bound."""
        key = os.urandom(32)
        ring = Keyring({"a": key, "b": key})
        token = ring.encrypt(b"secret")
        with pytest.raises(CryptoError, match="altered"):
            ring.decrypt(token.replace("v1:a:", "v1:b:"))

    def test_unknown_kid(self) -> None:
        token = Keyring.generate("old").encrypt(b"secret")
        with pytest.raises(CryptoError, match="No key 'old'"):
            Keyring.generate("new").decrypt(token)

    @pytest.mark.parametrize("token", ["plain text", "v2:k:AAAA:AAAA", "v1:k:!!:AAAA"])
    def test_not_a_token(self, token: str) -> None:
        with pytest.raises(CryptoError):
            Keyring.generate("k").decrypt(token)

    def test_new_primary_keeps_old_keys(self) -> None:
        old = Keyring.generate("old")
        token = old.encrypt(b"secret")
        new = old.with_new_primary("new")
        assert new.primary == "new"
        assert list(new.keys) == ["new", "old"]
        assert new.decrypt(token) == b"secret"
        assert new.encrypt(b"x").startswith("v1:new:")

    def test_bad_keys(self) -> None:
        with pytest.raises(CryptoError, match="empty"):
            Keyring({})
        with pytest.raises(CryptoError, match="32"):
            Keyring({"short": b"x" * 16})
        with pytest.raises(CryptoError, match="Key id"):
            Keyring({"no spaces": os.urandom(32)})


class TestConfiguration:
    def test_parse_keys(self) -> None:
        ring = parse_keys(f"k2:{b64key()}, k1:{b64key()}")
        assert ring.primary == "k2"
        assert set(ring.keys) == {"k1", "k2"}

    @pytest.mark.parametrize(
        ("spec", "message"), [("nocolon", "kid:base64key"), ("k:@@@@", "base64|32")]
    )
    def test_parse_bad_keys(self, spec: str, message: str) -> None:
        with pytest.raises(CryptoError, match=message):
            parse_keys(spec)

    def test_settings_keys_win(self, tmp_path: Path) -> None:
        ring = load_keyring(Settings(data_dir=tmp_path, encryption_keys=f"env:{b64key()}"))
        assert ring.primary == "env"
        assert not (tmp_path / "keyring.json").exists()

    def test_keyring_file_created_once(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path / "data", encryption_keys=None)
        first = load_keyring(settings)
        path = tmp_path / "data" / "keyring.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert load_keyring(settings) == first
        assert read_keyring_file(path) == first

    def test_unreadable_file(self, tmp_path: Path) -> None:
        (tmp_path / "keyring.json").write_text("{not json")
        with pytest.raises(CryptoError, match="unreadable"):
            load_keyring(Settings(data_dir=tmp_path, encryption_keys=None))


class TestColumnTypes:
    def test_string_and_json_use_the_process_keyring(self) -> None:
        outer, ring = Keyring.generate("outer"), Keyring.generate("col")
        text_type, json_type = EncryptedString(), EncryptedJSON()
        dialect = None  # the types ignore the dialect
        with use_keyring(outer):
            with use_keyring(ring):
                assert current_keyring() is ring
                token = text_type.process_bind_param("hunter2", dialect)  # type: ignore[arg-type]
                assert token is not None and token.startswith("v1:col:")
                plain = text_type.process_result_value(token, dialect)  # type: ignore[arg-type]
                assert plain == "hunter2"
                doc = {"sid": "AC1", "token": "t"}
                sealed = json_type.process_bind_param(doc, dialect)  # type: ignore[arg-type]
                assert sealed is not None and "AC1" not in sealed
                assert json_type.process_result_value(sealed, dialect) == doc  # type: ignore[arg-type]
                assert text_type.process_bind_param(None, dialect) is None  # type: ignore[arg-type]
            assert current_keyring() is outer
