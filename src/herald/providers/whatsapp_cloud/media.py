"""Downloading a media a contact sent: the Cloud API gives a media id in the webhook; ``GET
/{media-id}`` answers a short-lived URL, fetched with the same bearer token.

Like ``send``, ``download_media`` never raises on the provider's answer: it returns the file or
``MediaUnavailable`` saying why.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp

from herald.kit.urls import check_target
from herald.providers.http import Answer, call
from herald.providers.whatsapp_cloud.config import WhatsAppCloudConfig

MAX_MEDIA_BYTES = 16 * 1024 * 1024
"""WhatsApp's limit for images, audio and video; a larger document is refused rather than
held in the API process's memory."""
MEDIA_ID_CHARS = frozenset("0123456789")


@dataclass(frozen=True, slots=True)
class MediaFile:
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class MediaUnavailable:
    code: str
    reason: str


async def download_media(
    http: aiohttp.ClientSession, config: WhatsAppCloudConfig, media_id: str
) -> MediaFile | MediaUnavailable:
    if not media_id or not set(media_id) <= MEDIA_ID_CHARS:
        return MediaUnavailable("bad_media_id", f"{media_id!r} is not a Cloud API media id")
    headers = {"Authorization": f"Bearer {config.access_token.get_secret_value()}"}
    answer = await call(
        http, "GET", config.graph_url(media_id), within=config.timeout(), headers=headers
    )
    if not isinstance(answer, Answer):
        return MediaUnavailable(answer.code, answer.reason)
    body = answer.json()
    url = body.get("url") if isinstance(body, dict) else None
    if answer.status != 200 or not isinstance(url, str):
        return MediaUnavailable(str(answer.status), _graph_reason(body, answer.status))
    try:
        check_target(url)
    except ValueError as exc:
        return MediaUnavailable("bad_media_url", f"Meta's media URL was refused: {exc}")
    mime = str(body.get("mime_type") or "application/octet-stream")
    return await _fetch(http, config, url, headers, mime)


async def _fetch(
    http: aiohttp.ClientSession,
    config: WhatsAppCloudConfig,
    url: str,
    headers: dict[str, str],
    mime: str,
) -> MediaFile | MediaUnavailable:
    """The file itself, at most ``MAX_MEDIA_BYTES``; redirects are not followed (the URL was
    checked, a redirect's target would not be)."""
    try:
        async with http.get(
            url, headers=headers, timeout=config.timeout(), allow_redirects=False
        ) as response:
            if response.status != 200:
                return MediaUnavailable(
                    str(response.status), f"the media URL answered {response.status}"
                )
            data = await response.content.read(MAX_MEDIA_BYTES + 1)
            content_type = response.headers.get("Content-Type") or mime
    except TimeoutError:
        return MediaUnavailable("timeout", f"no answer within {config.timeout_seconds} s")
    except asyncio.CancelledError:
        raise
    except aiohttp.ClientError as exc:
        return MediaUnavailable("connection_error", f"{type(exc).__name__}: {exc}")
    if len(data) > MAX_MEDIA_BYTES:
        return MediaUnavailable("too_large", f"the media is larger than {MAX_MEDIA_BYTES} bytes")
    return MediaFile(content_type.split(";")[0].strip() or mime, data)


def _graph_reason(body: object, status: int) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return f"HTTP {status}"
