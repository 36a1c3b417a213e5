"""Which targets a link may have, and the redirect URL built from them."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from herald.kit.urls import check_target
from herald.link.urls import discount_wrapped, redirect_for, with_utm

UTM = {"source": "herald", "medium": "sms", "campaign": "spring sale", "content": None}


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example/sale",
        "http://shop.example:8080/a?b=c#d",
        "HTTPS://Shop.Example",
        "https://xn--bcher-kva.example/",
    ],
)
def test_http_targets_are_accepted(url: str) -> None:
    assert check_target(url) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("javascript:alert(1)", "only http"),
        ("JavaScript://shop.example/%0aalert(1)", "only http"),
        ("data:text/html,<script>alert(1)</script>", "only http"),
        ("ftp://files.example/a", "only http"),
        ("https:///path-only", "no host"),
        ("/relative/path", "only http"),
        ("https://user:secret@shop.example/", "credentials"),
        ("https://shop.example@evil.example/", "credentials"),
        ("https://shop.example/a b", "spaces"),
        ("https://shop.example/\x00", "control"),
        ("https://shop.example\\@evil.example/", "backslash"),
        ("https://shop.example:99999/", "malformed"),
        ("https://shop.example/" + "a" * 2048, "at most 2048"),
    ],
)
def test_unsafe_targets_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_target(url)


def test_utm_is_appended_and_blank_values_skipped() -> None:
    url = with_utm("https://shop.example/sale", UTM)
    assert url == (
        "https://shop.example/sale?utm_source=herald&utm_medium=sms&utm_campaign=spring+sale"
    )


def test_utm_keeps_the_existing_query_byte_for_byte_and_the_fragment_last() -> None:
    url = with_utm("https://shop.example/p?color=r%C3%A9d&size=&x=1#reviews", UTM)
    assert url.startswith("https://shop.example/p?color=r%C3%A9d&size=&x=1&utm_source=herald")
    assert url.endswith("#reviews")
    assert urlsplit(url).fragment == "reviews"


def test_utm_never_overwrites_what_the_target_carries() -> None:
    url = with_utm("https://shop.example/?utm_source=newsletter&UTM_MEDIUM=email", UTM)
    query = parse_qs(urlsplit(url).query)
    assert query["utm_source"] == ["newsletter"]
    assert "utm_medium" not in query
    assert query["utm_campaign"] == ["spring sale"]


def test_nothing_to_add_leaves_the_url_alone() -> None:
    assert with_utm("https://shop.example/a?#", {"source": None}) == "https://shop.example/a?#"


def test_discount_wraps_the_path_and_query_and_escapes_the_code() -> None:
    template = "https://shop.example/discount/{code}?redirect={path}"
    url = discount_wrapped(template, "SAVE 10/%", "https://shop.example/products/hat?size=m#top")
    assert url == (
        "https://shop.example/discount/SAVE%2010%2F%25?redirect=/products/hat%3Fsize%3Dm"
    )


def test_redirect_wraps_only_with_both_a_code_and_a_template() -> None:
    template = "https://shop.example/discount/{code}?redirect={path}"
    target = "https://shop.example/"
    tagged = "https://shop.example/?utm_source=herald"
    utm = {"source": "herald"}
    assert redirect_for(target, utm, None, template) == tagged
    assert redirect_for(target, utm, "SAVE", None) == tagged
    assert redirect_for(target, utm, "SAVE", template) == (
        "https://shop.example/discount/SAVE?redirect=/%3Futm_source%3Dherald"
    )
