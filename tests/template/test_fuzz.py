"""Whatever text a tenant saves as a body, the answer is a 201 or a 422, never a 500."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from herald.kit.errors import Unprocessable
from herald.template.render import RenderContext, render_template, validate_template
from tests.conftest import TenantFixture

JINJA_BITS = st.sampled_from(
    [
        "{{",
        "}}",
        "{%",
        "%}",
        "{#",
        "#}",
        "|",
        ".",
        "(",
        ")",
        "[",
        "]",
        "'",
        '"',
        "~",
        "*",
        "**",
        " for ",
        " in ",
        " if ",
        " endfor ",
        " set ",
        "range(",
        "first_name",
        "__class__",
        "loop",
        "custom.",
        "link",
        "99999999",
        "\n",
        " ",
    ]
)
BODIES = st.lists(st.one_of(JINJA_BITS, st.text(max_size=8)), max_size=40).map("".join)


@pytest.mark.timeout(120)
@settings(max_examples=300, deadline=None)
@given(body=BODIES)
def test_renderer_raises_only_unprocessable(body: str) -> None:
    try:
        validate_template(body)
        render_template(body, RenderContext(contact={"first_name": "Ann"}))
    except Unprocessable:
        pass


@pytest.mark.timeout(240)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=st.one_of(st.text(min_size=1, max_size=200), BODIES.filter(bool)))
async def test_saving_any_body_is_201_or_422(
    client: httpx.AsyncClient, tenant: TenantFixture, body: str
) -> None:
    response = await client.post(
        "/v1/templates", json={"name": "fuzz", "body": body}, headers=tenant.headers
    )
    assert response.status_code in (201, 409, 422), response.text
    if response.status_code == 201:
        template_id = response.json()["id"]
        shown = await client.post(
            f"/v1/templates/{template_id}/preview", json={}, headers=tenant.headers
        )
        assert shown.status_code in (200, 422), shown.text
        await client.delete(f"/v1/templates/{template_id}", headers=tenant.headers)
