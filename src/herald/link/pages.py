"""The pages a person sees when a short link cannot take them anywhere."""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;
color:#222}}h1{{font-size:1.4rem}}</style></head>
<body><h1>{title}</h1><p>{message}</p></body></html>
"""
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _page(status: int, title: str, message: str) -> HTMLResponse:
    body = _PAGE.format(title=escape(title), message=escape(message))
    return HTMLResponse(body, status_code=status, headers=NO_STORE)


def expired_page() -> HTMLResponse:
    """410: the link existed. Where it led stays unsaid: the offer behind it has ended."""
    return _page(
        410,
        "This link has expired",
        "The offer or page this link led to is no longer available through it. "
        "If you still need it, ask the sender for a new link.",
    )


def unknown_page() -> HTMLResponse:
    return _page(
        404,
        "Link not found",
        "This link does not exist. Check that it was copied in full, without extra characters.",
    )
