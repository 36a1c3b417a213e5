"""Target URLs: what a link may point at, and the redirect URL built from it once, at creation.

The redirect is computed when a link is made (UTM parameters merged in, or the tenant's
discount URL wrapped around the target), so a click needs nothing but the link's own row.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

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


def with_utm(url: str, utm: Mapping[str, str | None]) -> str:
    """``url`` with ``utm_<name>=value`` appended for each given value the URL does not already
    carry. The existing query string is kept byte for byte and the fragment stays last."""
    parts = urlsplit(url)
    present = {name.lower() for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
    extra = [
        (f"utm_{name}", value)
        for name, value in utm.items()
        if value and f"utm_{name}" not in present
    ]
    if not extra:
        return url
    query = "&".join(part for part in (parts.query, urlencode(extra)) if part)
    return parts._replace(query=query).geturl()


def discount_wrapped(template: str, code: str, target: str) -> str:
    """The tenant's discount URL (``{code}`` and ``{path}`` placeholders) applying ``code``, then
    sending the shopper on to the target's path and query, as stores' discount links expect."""
    parts = urlsplit(target)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return template.replace("{code}", quote(code, safe="")).replace("{path}", quote(path, safe="/"))


def redirect_for(
    target: str,
    utm: Mapping[str, str | None],
    discount_code: str | None,
    discount_template: str | None,
) -> str:
    """Where a click on a link with these properties goes."""
    tagged = with_utm(target, utm)
    if discount_code and discount_template:
        return discount_wrapped(discount_template, discount_code, tagged)
    return tagged
