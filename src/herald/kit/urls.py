"""Web addresses Herald sends people to: only absolute http(s) URLs a browser can trust."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
SCHEMES = frozenset({"http", "https"})


def check_target(url: str) -> str:
    """``url`` if a browser may safely be sent there; otherwise ``ValueError`` saying why.

    Only absolute http(s) URLs with a host: no ``javascript:``/``data:``/``ftp:``, no
    credentials (``user:pass@`` hides the real host from the reader), no spaces or control
    characters (browsers and servers disagree on what they mean).
    """
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"the URL is {len(url)} characters; at most {MAX_URL_LENGTH}")
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        raise ValueError("the URL contains spaces or control characters; percent-encode them")
    if "\\" in url:
        raise ValueError("the URL contains a backslash; use '/' or percent-encode it")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"the URL is malformed ({exc})") from exc
    if parts.scheme.lower() not in SCHEMES:
        raise ValueError("only http:// and https:// URLs can be shortened")
    if not parts.hostname:
        raise ValueError("the URL has no host; write it in full, e.g. https://shop.example/sale")
    if "@" in parts.netloc:
        raise ValueError("the URL carries credentials (user@host); remove them")
    if port == 0:
        raise ValueError("the URL's port must be between 1 and 65535")
    return url
