"""Outgoing email: sign-in links and invitations.

``settings.mailer`` picks the transport: ``console`` (the default) logs each mail, so a fresh
install works without an SMTP server; ``smtp`` delivers through ``settings.smtp_*``. The
application keeps one mailer on ``app.state.mailer``; tests swap in a ``MemoryMailer``.
"""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import structlog

from herald.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...


class ConsoleMailer:
    """Writes each mail to the log instead of sending it (development, demos)."""

    async def send(self, mail: Mail) -> None:
        log.info("mail", to=mail.to, subject=mail.subject, text=mail.text)


class MemoryMailer:
    """Keeps each mail in ``outbox`` (tests, and embedding Herald in another program)."""

    def __init__(self) -> None:
        self.outbox: list[Mail] = []

    async def send(self, mail: Mail) -> None:
        self.outbox.append(mail)


class SmtpMailer:
    """Delivers through an SMTP relay. smtplib blocks, so each mail is sent in a worker thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, mail: Mail) -> None:
        await asyncio.to_thread(self._send, self._message(mail))

    def _message(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.text)
        return message

    def _send(self, message: EmailMessage) -> None:
        s = self.settings
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username and s.smtp_password:
                smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
            smtp.send_message(message)


def build_mailer(settings: Settings) -> Mailer:
    if settings.mailer == "console":
        return ConsoleMailer()
    if settings.mailer == "smtp":
        return SmtpMailer(settings)
    raise ValueError(f"HERALD_MAILER must be 'console' or 'smtp', not {settings.mailer!r}.")
