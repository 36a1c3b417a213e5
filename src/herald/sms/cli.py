"""``herald sms inspect``: count an SMS by hand, or a stream of them (``--batch``)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Annotated, BinaryIO

import orjson
import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from herald.kit.console import console, errors
from herald.sms.encoding import SmsInspection, inspect
from herald.sms.schemas import MAX_TEXT

app = typer.Typer(help="SMS encoding and segments.", no_args_is_help=True)

FLUSH_EVERY = 1024
"""Lines answered per write: output keeps pace with input without a syscall per line."""


@app.command("inspect")
def inspect_command(
    text: Annotated[str | None, typer.Argument(help="The SMS body (omit with --batch).")] = None,
    smart: Annotated[bool, typer.Option("--smart", help="Try GSM look-alikes first.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    batch: Annotated[
        bool,
        typer.Option(
            "--batch",
            help="Read one JSON string per line from standard input; write one JSON object "
            "per line, in order (a bad line gets an object with an 'error').",
        ),
    ] = False,
) -> None:
    """Show how a text is encoded (GSM-7 or UCS-2), its segments and what forces UCS-2."""
    if batch:
        if text is not None:
            raise typer.BadParameter("give either TEXT or --batch, not both")
        try:
            write_batch(answer_lines(sys.stdin.buffer, smart=smart), sys.stdout.buffer)
        except OSError as exc:
            errors.print(f"[red]Could not read standard input:[/] {exc}")
            raise typer.Exit(1) from exc
        return
    if text is None:
        raise typer.BadParameter("give the TEXT to inspect, or --batch to read standard input")
    if len(text) > MAX_TEXT:
        raise typer.BadParameter(f"TEXT has {len(text):,} characters; the limit is {MAX_TEXT:,}")
    found = inspect(text, smart=smart)
    if as_json:
        sys.stdout.write(orjson.dumps(found).decode() + "\n")
    else:
        show(found)


def answer_lines(lines: Iterable[bytes], *, smart: bool) -> Iterator[bytes]:
    """One compact JSON answer per input line, in order; a bad line never stops the rest."""
    for number, line in enumerate(lines, start=1):
        yield orjson.dumps(_answer(line, number, smart)) + b"\n"


_JSON_KINDS = {dict: "an object", list: "an array", bool: "a boolean", type(None): "null"}


def _answer(line: bytes, number: int, smart: bool) -> SmsInspection | dict[str, str]:
    try:
        text = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return {"error": f"line {number}: not valid JSON ({exc.msg}); write a JSON string"}
    if not isinstance(text, str):
        kind = _JSON_KINDS.get(type(text), "a number")
        return {"error": f"line {number}: expected a JSON string, got {kind}"}
    if len(text) > MAX_TEXT:
        return {"error": f"line {number}: {len(text):,} characters; the limit is {MAX_TEXT:,}"}
    return inspect(text, smart=smart)


def write_batch(answers: Iterable[bytes], out: BinaryIO) -> None:
    """Write answers as they come, flushing every ``FLUSH_EVERY`` lines and at the end."""
    pending: list[bytes] = []
    for answer in answers:
        pending.append(answer)
        if len(pending) >= FLUSH_EVERY:
            out.write(b"".join(pending))
            out.flush()
            pending.clear()
    out.write(b"".join(pending))
    out.flush()


def show(found: SmsInspection) -> None:
    summary = Table.grid(padding=(0, 2))
    summary.add_row("Encoding", f"[bold]{found.encoding}[/]")
    summary.add_row("Segments", str(found.segments))
    summary.add_row("Characters", str(found.characters))
    unit = "septets" if found.encoding == "GSM-7" else "UCS-2 units"
    summary.add_row("Units", f"{found.units} {unit}")
    if found.ucs2_characters:
        forcing = " ".join(f"{escape(repr(c))} (U+{ord(c):04X})" for c in found.ucs2_characters)
        summary.add_row("Forcing UCS-2", forcing)
    if found.smart:
        for r in found.smart_replacements:
            swap = f"{r.character!r} → {r.replacement!r}, {r.count} times"
            summary.add_row("Replaced", escape(swap))
        summary.add_row("Saved", f"{found.segments_saved} of {found.original_segments} segments")
    console.print(summary)
    parts = Table("#", "part", show_header=True, header_style="bold")
    for number, part in enumerate(found.parts, start=1):
        parts.add_row(str(number), Text(part))
    if found.parts:
        console.print(parts)
