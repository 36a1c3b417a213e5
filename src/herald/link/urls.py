"""Target URLs: what a link may point at, and the redirect URL built from it once, at creation.

The redirect is computed when a link is made (UTM parameters merged in, or the tenant's
discount URL wrapped around the target), so a click needs nothing but the link's own row.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, quote, urlencode, urlsplit


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
