from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from herald.auth.access import decode_access_token, issue_access_token, signing_key
from herald.kit.context import Role
from herald.kit.ids import new_id
from herald.kit.mailer import ConsoleMailer, Mail, SmtpMailer, build_mailer
from herald.settings import Settings


class TestSigningKey:
    def test_generated_once_into_the_data_dir(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path / "data", secret_key=None)
        key = signing_key(settings)
        path = tmp_path / "data" / "secret_key"
        assert path.read_text().strip() == key and len(key) >= 32
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert signing_key(Settings(data_dir=tmp_path / "data", secret_key=None)) == key

    def test_tokens_round_trip(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path, secret_key=None)
        user_id, tenant_id = new_id(), new_id()
        claims = decode_access_token(
            settings, issue_access_token(settings, user_id, tenant_id, Role.agent)
        )
        assert (claims.user_id, claims.tenant_id, claims.role) == (user_id, tenant_id, Role.agent)


class _SmtpSink:
    """Just enough of an SMTP server to receive one plain (no TLS, no auth) message."""

    def __init__(self) -> None:
        self.data: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink\r\n")
        while line := (await reader.readline()).decode():
            verb = line[:4].upper()
            if verb == "DATA":
                writer.write(b"354 go on\r\n")
                body = []
                while (chunk := (await reader.readline()).decode()) != ".\r\n":
                    body.append(chunk)
                self.data.append("".join(body))
                writer.write(b"250 queued\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


class TestMailers:
    def test_chosen_by_settings(self) -> None:
        assert isinstance(build_mailer(Settings(mailer="console")), ConsoleMailer)
        assert isinstance(build_mailer(Settings(mailer="smtp")), SmtpMailer)
        with pytest.raises(ValueError, match="console"):
            build_mailer(Settings(mailer="pigeon"))

    async def test_console_mailer_logs(self, capsys: pytest.CaptureFixture[str]) -> None:
        await ConsoleMailer().send(Mail(to="a@example.com", subject="Hi", text="link"))
        assert "a@example.com" in capsys.readouterr().err

    async def test_smtp_mailer_delivers(self) -> None:
        sink = _SmtpSink()
        server = await asyncio.start_server(sink.handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        settings = Settings(
            mailer="smtp", smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False
        )
        async with server:
            await SmtpMailer(settings).send(
                Mail(to="b@example.com", subject="Sign in", text="Your link")
            )
        (message,) = sink.data
        assert "To: b@example.com" in message
        assert "Subject: Sign in" in message
        assert "Your link" in message
