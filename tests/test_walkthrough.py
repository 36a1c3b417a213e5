"""docs/walkthrough.md, replayed: its shell blocks are read and every ``curl`` in them is made
against the app, in order, with the demo tenant ``herald up`` makes; the worker's part (sending
through the simulator) is the dispatcher's, run as the campaign end-to-end tests run it."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import aiohttp
import httpx
from fastapi import FastAPI

from herald.auth.service import issue_api_key
from herald.demo import create_demo
from herald.kit.context import Role
from herald.kit.database import Database
from tests.campaign.helpers import run_dispatch
from tests.conftest import TenantFixture
from tests.sim.server import SimServer, http, sim, sim_server

__all__ = ["http", "sim", "sim_server"]

PAGE = Path(__file__).parent.parent / "docs" / "walkthrough.md"
API = "http://herald.test"
CAPTURE = re.compile(r"^(\w+)=\$\((curl .*) \| jq -r '([^']+)'\)$")
HEREDOC = re.compile(r"^cat > (\S+) <<('?)EOF\2$")
VARIABLE = re.compile(r"\$\{?(\w+)\}?")


def shell_lines(page: str) -> list[str]:
    """The lines of the page's ``sh`` blocks, comments dropped."""
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", page, flags=re.DOTALL):
        for line in block.splitlines():
            kept = line if line.startswith(("{", " ", "}")) else line.split("  #")[0]
            lines.append(kept.rstrip())
    return lines


def jq_path(value: Any, path: str) -> Any:
    """The subset of jq the page captures with: ``.key``, ``.key[0]``, chained."""
    for key, index in re.findall(r"\.(\w+)(?:\[(\d+)\])?", path):
        value = value[key]
        if index:
            value = value[int(index)]
    return value


@dataclass
class Shell:
    """Just enough of a shell to run the page: variables, here-documents and curl."""

    client: httpx.AsyncClient
    variables: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)
    calls: list[tuple[str, str, httpx.Response]] = field(default_factory=list)

    def expand(self, text: str) -> str:
        return VARIABLE.sub(lambda m: self.variables[m.group(1)], text)

    async def run(self, lines: list[str]) -> None:
        rest = iter(lines)
        for line in rest:
            if heredoc := HEREDOC.match(line):
                body = "\n".join(iter(lambda: next(rest), "EOF")) + "\n"
                expands = heredoc.group(2) == ""
                self.files[heredoc.group(1)] = (self.expand(body) if expands else body).encode()
            elif capture := CAPTURE.match(line):
                answer = await self.curl(capture.group(2))
                self.variables[capture.group(1)] = str(jq_path(answer.json(), capture.group(3)))
            elif line.startswith("curl "):
                await self.curl(line.split(" | ")[0])

    async def curl(self, command: str) -> httpx.Response:
        words = shlex.split(self.expand(command))[1:]
        method, url, headers = None, "", {}
        data: bytes | None = None
        form: dict[str, str] = {}
        upload: dict[str, tuple[str, bytes, str]] = {}
        options = iter(words)
        for word in options:
            if word == "-X":
                method = next(options)
            elif word == "-H":
                name, _, value = next(options).partition(": ")
                headers[name] = value
            elif word == "-d":
                data = self.files[next(options).removeprefix("@")]
            elif word == "-F":
                name, _, value = next(options).partition("=")
                if value.startswith("@"):
                    upload[name] = (value[1:], self.files[value[1:]], "text/csv")
                else:
                    form[name] = value
            elif word != "-s":
                url = word
        posting = data is not None or bool(upload)
        answer = await self.client.request(
            method or ("POST" if posting else "GET"),
            url.removeprefix(API),
            content=data,
            data=form or None,
            files=upload or None,
            headers=headers,
        )
        assert answer.is_success, f"{command}\n{answer.status_code} {answer.text}"
        self.calls.append((answer.request.method, url.removeprefix(API), answer))
        return answer


async def test_the_walkthrough_runs_as_written(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    sim: SimServer,
    http: aiohttp.ClientSession,
    other_tenant: TenantFixture,
) -> None:
    assert app is not None
    demo = await create_demo(db, sim.url.removesuffix("/sim"))
    shell = Shell(client, {"API": API, "AUTH": f"Authorization: Bearer {demo.api_key}"})
    lines = shell_lines(PAGE.read_text())
    sending = next(n for n, line in enumerate(lines) if "/send" in line)

    await shell.run(lines[: sending + 1])
    await run_dispatch(db, http, shell.variables["CAMPAIGN"])
    await shell.run(lines[sending + 1 :])

    answers = {(method, path): answer.json() for method, path, answer in shell.calls[:-1]}
    variables = shell.variables
    assert variables["CHANNEL"] == demo.channel_id
    imported = answers[("GET", f"/v1/imports/{variables['IMPORT']}")]
    assert imported["status"] == "completed" and imported["counts"]["created"] == 3
    campaign = f"/v1/campaigns/{variables['CAMPAIGN']}"
    preflight = answers[("GET", f"{campaign}/preflight")]
    assert preflight["recipients"] == 3 and preflight["warnings"] == []
    assert answers[("POST", f"{campaign}/send")]["messages"] == 3
    read = answers[("GET", campaign)]
    assert read["status"] == "completed"
    assert read["stats"]["sent"] == 3 and read["stats"]["queued"] == 0
    assert read["variants"][0]["template_id"] == variables["TEMPLATE"]
    report = answers[("GET", f"{campaign}/report")]
    assert report["sent"] == 3 and report["cost"] > 0
    export = shell.calls[-1][2].text.splitlines()
    assert export[0].startswith("message_id,") and len(export) == 4
    received = {m.to: m.body for m in sim.sim.state.messages}
    assert sorted(received) == ["+447911123401", "+447911123402", "+447911123403"]
    assert received["+447911123402"].startswith("Demo Shop sale starts now!")
    assert all(
        f"{name}, use WEEKEND30: https://shop.example/sale" in received[phone]
        for phone, name in zip(sorted(received), ["Ann", "Bob", "Chloe"], strict=True)
    )
    stranger = await client.get(campaign, headers=other_tenant.headers)
    assert stranger.status_code == 404
    async with db.tenant_session(UUID(demo.tenant_id)) as session:
        issued = await issue_api_key(session, UUID(demo.tenant_id), "viewer key", Role.viewer)
    viewer = {"Authorization": f"Bearer {issued.secret}"}
    assert (await client.get(campaign, headers=viewer)).status_code == 200
    assert (await client.post(f"{campaign}/send", headers=viewer)).status_code == 403
