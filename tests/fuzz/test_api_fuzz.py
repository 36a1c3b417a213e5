"""The whole API, fuzzed from its own OpenAPI document against a live server.

Every operation gets generated requests — valid ones and ones the schema forbids — sent with an
owner's key, with the key of the role just below the operation's minimum, and with no key. A
response fails the run if it is a server error, if its status, content type, headers or body are
not what the document declares for it, or if it lacks ``X-Request-ID``.

CI runs a fixed seed and a fixed budget per operation; ``make fuzz`` raises the budget
(``HERALD_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from herald.kit.context import Role
from tests.fuzz.conftest import Keys, LiveApi, api_document

EXAMPLES = int(os.environ.get("HERALD_FUZZ_EXAMPLES", "15"))
SCENARIOS = max(EXAMPLES, 10)  # stateful runs: each a chain of calls following the links
SEED = int(os.environ.get("HERALD_FUZZ_SEED", "20261201"))

# What a request the schema allows may answer: a success, or a refusal no schema can foresee
# (an unusable cursor or range, credentials, a missing or erased resource, a conflict, a lock,
# a throttle).
ACCEPTED = ["2xx", "400", "401", "403", "404", "409", "410", "423", "429"]

_BELOW = {
    Role.owner: Role.admin,
    Role.admin: Role.manager,
    Role.manager: Role.agent,
    Role.agent: Role.viewer,
}


@schemathesis.check
def request_id_present(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """Every answer, error or not, carries the id its log lines are filed under."""
    if not response.headers.get("x-request-id"):
        raise AssertionError(f"{response.status_code} without X-Request-ID")
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    request_id_present,
]
# With HERALD_FUZZ_STRICT=1 (``make fuzz STRICT=1``) the fuzzer also fails when a request the
# schema allows is refused for a reason the schema could state, or one it forbids is accepted.
# Not in CI yet: lax parsing (``0`` read as ``false`` or as a date) and cross-field rules (“either
# ``to`` or ``contact_id``”) still trip them; docs/testing.md lists what is left.
STRICT = os.environ.get("HERALD_FUZZ_STRICT") == "1"
if STRICT:
    CHECKS += [positive_data_acceptance, negative_data_rejection]


@pytest.fixture(scope="session")
def http() -> requests.Session:
    return requests.Session()


def _schema(mode: str) -> Any:
    config = {
        "seed": SEED,
        "generation": {"mode": mode, "max-examples": EXAMPLES},
        "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
    }
    return schemathesis.openapi.from_dict(DOCUMENT, config=schemathesis.Config.from_dict(config))


DOCUMENT = api_document()
schema = _schema("all")
# Lifecycles follow links from a create that succeeded: only requests the schema allows.
lifecycle_schema = _schema("positive")


def _credentials(case: schemathesis.Case, keys: Keys) -> list[dict[str, str]]:
    """An owner's key, the key just below the operation's minimum role, and none."""
    minimum = case.operation.definition.raw.get("x-minimum-role")
    if minimum is None and not case.operation.definition.raw.get("security"):
        return [{}]
    found = [keys.by_role[Role.owner], {}]
    below = _BELOW.get(Role(minimum)) if minimum else None
    if below is not None:
        found.insert(1, keys.by_role[below])
    return found


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)
def test_operation(
    case: schemathesis.Case, live_api: LiveApi, fuzz_keys: Keys, http: requests.Session
) -> None:
    offset = live_api.log_size()
    try:
        for headers in _credentials(case, fuzz_keys):
            case.call_and_validate(
                base_url=live_api.url, session=http, headers=headers, checks=CHECKS
            )
    except Exception as failure:
        failure.add_note(f"The API logged:\n{live_api.problems_since(offset)}")
        raise


@pytest.mark.skipif(
    "HERALD_FUZZ_EXAMPLES" not in os.environ,
    reason="make fuzz only: Hypothesis replays a chain to check it, and a chain's data depends "
    "on the server's answers (the ids it made), so a fixed-seed CI run is not reproducible",
)
def test_resource_lifecycles(live_api: LiveApi, fuzz_keys: Keys, http: requests.Session) -> None:
    """Chains of calls that follow the document's links: create a resource, then read, change,
    act on and delete that very one (by the id the create answered), with an owner's key."""
    owner = fuzz_keys.by_role[Role.owner]

    class Lifecycle(lifecycle_schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"base_url": live_api.url, "session": http, "headers": owner}

        def validate_response(
            self, response: schemathesis.Response, case: schemathesis.Case, *_: Any, **__: Any
        ) -> None:
            case.validate_response(response, checks=CHECKS)

    offset = live_api.log_size()
    try:
        run_state_machine_as_test(
            Lifecycle,
            settings=settings(
                max_examples=SCENARIOS,
                stateful_step_count=6,
                phases=[Phase.generate],
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    except Exception as failure:
        failure.add_note(f"The API logged:\n{live_api.problems_since(offset)}")
        raise
