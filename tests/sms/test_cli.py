"""``herald sms inspect``: one text for people or as JSON, and a stream with --batch."""

# ruff: noqa: RUF001 - look-alike characters are what these tests are about

from __future__ import annotations

import io
from collections.abc import Iterator

import orjson
from typer.testing import CliRunner

from herald.cli import app
from herald.sms import cli
from herald.sms.encoding import inspect
from herald.sms.schemas import MAX_TEXT

runner = CliRunner()


class TestOneText:
    def test_json(self) -> None:
        result = runner.invoke(app, ["sms", "inspect", "Hi [there] 😀", "--json"])
        assert result.exit_code == 0, result.output
        out = orjson.loads(result.stdout)
        assert out == orjson.loads(orjson.dumps(inspect("Hi [there] 😀")))
        assert (out["encoding"], out["segments"], out["units"]) == ("UCS-2", 1, 13)

    def test_smart_json(self) -> None:
        result = runner.invoke(app, ["sms", "inspect", "It’s on", "--smart", "--json"])
        out = orjson.loads(result.stdout)
        assert (out["encoding"], out["text"]) == ("GSM-7", "It's on")
        assert out["smart_replacements"] == [{"character": "’", "replacement": "'", "count": 1}]

    def test_for_people(self) -> None:
        result = runner.invoke(app, ["sms", "inspect", "Price [b]€5[/b] — now"])
        assert result.exit_code == 0, result.output
        assert "UCS-2" in result.stdout
        assert "U+2014" in result.stdout
        assert "Price [b]€5[/b] — now" in result.stdout  # shown as written, not as markup

    def test_smart_for_people_shows_the_saving(self) -> None:
        result = runner.invoke(app, ["sms", "inspect", "We’re open " * 10, "--smart"])
        assert result.exit_code == 0, result.output
        assert "GSM-7" in result.stdout
        assert "1 of 2 segments" in result.stdout
        assert "10 times" in result.stdout

    def test_needs_text_or_batch(self) -> None:
        result = runner.invoke(app, ["sms", "inspect"])
        assert result.exit_code == 2
        assert "--batch" in result.output

    def test_text_bound(self) -> None:
        result = runner.invoke(app, ["sms", "inspect", "x" * (MAX_TEXT + 1)])
        assert result.exit_code == 2
        assert "limit" in result.output


class TestBatch:
    def test_one_answer_per_line_in_order_bad_lines_included(self) -> None:
        lines = ['"hello"', "42", "not json", '"😀 ok"', "", "[1]", '"x' + "x" * MAX_TEXT + '"']
        result = runner.invoke(app, ["sms", "inspect", "--batch"], input="\n".join(lines) + "\n")
        assert result.exit_code == 0, result.output
        out = [orjson.loads(line) for line in result.stdout.splitlines()]
        assert len(out) == len(lines)
        assert (out[0]["encoding"], out[0]["segments"], out[0]["characters"]) == ("GSM-7", 1, 5)
        assert out[1] == {"error": "line 2: expected a JSON string, got a number"}
        assert out[2]["error"].startswith("line 3: not valid JSON")
        assert (out[3]["encoding"], out[3]["units"]) == ("UCS-2", 5)
        assert out[4]["error"].startswith("line 5: not valid JSON")
        assert out[5] == {"error": "line 6: expected a JSON string, got an array"}
        assert "limit is 10,000" in out[6]["error"]

    def test_invalid_utf8_is_a_bad_line_not_a_failure(self) -> None:
        result = runner.invoke(app, ["sms", "inspect", "--batch"], input=b'"\xff"\n"ok"\n')
        assert result.exit_code == 0, result.output
        bad, good = (orjson.loads(line) for line in result.stdout.splitlines())
        assert bad["error"].startswith("line 1: not valid JSON")
        assert good["parts"] == ["ok"]

    def test_smart_batch(self) -> None:
        result = runner.invoke(app, ["sms", "inspect", "--batch", "--smart"], input='"a…"\n')
        assert orjson.loads(result.stdout)["text"] == "a..."

    def test_text_and_batch_together_are_refused(self) -> None:
        result = runner.invoke(app, ["sms", "inspect", "hi", "--batch"], input='"x"\n')
        assert result.exit_code == 2

    def test_streams_in_flushed_chunks(self) -> None:
        """Answers leave as the input arrives: each full chunk is written before the next
        line is read."""
        written: list[int] = []

        class Out(io.BytesIO):
            def flush(self) -> None:
                written.append(self.getvalue().count(b"\n"))

        def lines() -> Iterator[bytes]:
            for n in range(cli.FLUSH_EVERY * 2 + 5):
                if n == cli.FLUSH_EVERY:
                    assert written == [cli.FLUSH_EVERY]
                yield b'"message %d"\n' % n

        out = Out()
        cli.write_batch(cli.answer_lines(lines(), smart=False), out)
        assert written == [cli.FLUSH_EVERY, cli.FLUSH_EVERY * 2, cli.FLUSH_EVERY * 2 + 5]
        last = orjson.loads(out.getvalue().splitlines()[-1])
        assert last["text"] == f"message {cli.FLUSH_EVERY * 2 + 4}"
