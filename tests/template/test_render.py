"""The sandboxed renderer: variables, limits, refused escapes, syntax errors with positions."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from herald.kit.errors import Unprocessable
from herald.template.render import (
    MAX_OUTPUT,
    MAX_SOURCE,
    RenderContext,
    render_template,
    require_known_variables,
    validate_template,
)

CONTEXT = RenderContext(
    contact={"first_name": "Ann", "tags": ["vip", "eu"], "birth_date": date(1990, 6, 15)},
    custom={"size": "M"},
    business_name="Shop",
    link="https://s.example/l/abc",
    discount_code="SAVE10",
    opt_out="Reply STOP to opt out",
)


def refused(source: str) -> Unprocessable:
    """The error a template gets at save or, failing that, at render."""
    with pytest.raises(Unprocessable) as caught:
        check = validate_template(source)
        require_known_variables(check)
        render_template(source, CONTEXT)
    return caught.value


class TestRendering:
    def test_fields_filters_and_message_values(self) -> None:
        source = (
            'Hi {{ first_name }} {{ last_name | default("") }}- size {{ custom.size }}, '
            "{{ tags | join(',') | upper }} {{ birth_date.year }} {{ business_name }} "
            "{{ discount_code }} {{ link }} {{ opt_out }}"
        )
        assert render_template(source, CONTEXT) == (
            "Hi Ann - size M, VIP,EU 1990 Shop SAVE10 https://s.example/l/abc Reply STOP to opt out"
        )

    def test_lists_print_as_text(self) -> None:
        assert render_template("Tags: {{ tags }}", CONTEXT) == "Tags: vip, eu"

    def test_missing_values_render_empty(self) -> None:
        source = "[{{ company }}][{{ custom.nothing }}][{{ custom_fields['x'] }}]"
        assert render_template(source, CONTEXT) == "[][][]"

    def test_default_for_a_missing_or_blank_name(self) -> None:
        source = 'Hi {{ first_name | default("there") }}'
        assert render_template(source, RenderContext()) == "Hi there"
        assert render_template(source, RenderContext(contact={"first_name": ""})) == "Hi there"

    def test_context_from_a_contact_row(self) -> None:
        row = SimpleNamespace(
            first_name="Bo",
            last_name="Li",
            email=None,
            phone_e164="+447700900123",
            company=None,
            gender=None,
            birth_date=None,
            language="en",
            timezone=None,
            tags=[],
            custom_fields={"plan": "gold"},
        )
        context = RenderContext.for_contact(row, business_name="Shop")
        assert render_template("{{ first_name }} {{ phone }} {{ custom.plan }}", context) == (
            "Bo +447700900123 gold"
        )

    def test_reading_methods_and_operators(self) -> None:
        source = (
            "{{ first_name.upper() }} {{ custom.get('size') }} {{ 'a,b'.split(',') | join('-') }}"
            " {% for t in tags %}{{ loop.index }}{{ loop.cycle('x', 'y') }}{% endfor %}"
            " {{ 1 + 2 }} {{ first_name ~ '!' }} {{ 7 % 3 }} {{ 2 ** 3 }}"
        )
        assert render_template(source, CONTEXT) == "ANN M a-b 1x2y 3 Ann! 1 8"

    def test_loops_and_conditions_within_limits(self) -> None:
        source = "{% for t in tags %}{% if loop.first %}#{% endif %}{{ t }} {% endfor %}"
        assert render_template(source, CONTEXT) == "#vip eu "


class TestCheck:
    def test_reports_variables_custom_fields_and_unknown_names(self) -> None:
        check = validate_template("{{ first_name }} {{ custom.size }} {{ nickname }} {{ link }}")
        assert check.unknown_variables == ("nickname",)
        assert check.custom_fields == ("size",)
        assert check.uses_link and not check.uses_opt_out and not check.uses_discount_code

    def test_unknown_variables_are_listed(self) -> None:
        with pytest.raises(Unprocessable) as caught:
            require_known_variables(validate_template("{{ nickname }} {{ shoe_size }}"))
        assert caught.value.extra["unknown_variables"] == ["nickname", "shoe_size"]
        assert "nickname, shoe_size" in caught.value.detail

    def test_locally_set_names_are_not_unknown(self) -> None:
        check = validate_template("{% set greeting = 'Hi' %}{{ greeting }} {{ first_name }}")
        assert check.unknown_variables == ()

    @pytest.mark.parametrize(
        ("source", "line", "column"),
        [
            ("Hi\n  {{ first_name last_name }}", 2, 17),
            ("{% for x in %}{% endfor %}", 1, 13),
            ("ok\nok\n{{ first_name | shout }}", 3, 17),
            ("{% if first_name %}never closed", 1, None),
        ],
    )
    def test_syntax_error_names_line_and_column(
        self, source: str, line: int, column: int | None
    ) -> None:
        with pytest.raises(Unprocessable) as caught:
            validate_template(source)
        assert caught.value.extra["line"] == line
        if column is not None:
            assert caught.value.extra["column"] == column
            assert f"line {line}, column {column}" in caught.value.detail

    def test_source_size(self) -> None:
        assert "limit is 5,000" in refused("x" * (MAX_SOURCE + 1)).detail


ESCAPES = [
    "{{ first_name.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ first_name.mro() }}",
    "{{ first_name['__class__'] }}",
    "{{ first_name.upper.__self__ }}",
    "{{ link.__init__.__globals__ }}",
    "{{ self }}",
    "{{ self._TemplateReference__context }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ joiner }}",
    "{{ namespace() }}",
    "{{ lipsum() }}",
    "{{ '{0.__class__}'.format(first_name) }}",
    "{{ '{0}'.format_map(custom) }}",
    "{{ '%s' % first_name }}",
    "{{ first_name | attr('__class__') }}",
    "{% include 'other' %}",
    "{% extends 'base' %}",
    "{% import 'macros' as m %}",
    "{% from 'macros' import m %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{% for x in tags recursive %}{{ loop(tags) }}{% endfor %}",
    "{% for t in tags %}{{ loop.__class__ }}{% endfor %}",
]

BOMBS = [
    "{{ range(10**10) | length }}",
    "{{ range(100000) | list | length }}",
    "{{ 'a' * 10**9 }}",
    "{{ 'a' * 1000000000 }}",
    "{{ tags * 100000000 }}",
    "{{ 9 ** 99999999 }}",
    "{{ (2**64) * (2**64) * (2**64) * (2**64) * (2**64) * (2**64) * (2**64) * (2**64) * (2**64)"
    " * (2**64) * (2**64) * (2**64) * (2**64) * (2**64) * (2**64) * (2**64) * (2**64) }}",
    "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
    "{% endfor %}{% endfor %}{% endfor %}",
    "{% for a in range(1000) %}{% for b in range(1000) %}x{% endfor %}{% endfor %}",
    "{% set s = 'x' * 4000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
    "{{ range(1000) | join(',') * 5 }}",
    "{{ ('x' * 5000) | replace('x', 'yyyy') }}",
    "{{ 'a' | center(1000000000) }}",
    "{{ 'a' | indent(1000000000) }}",
    "{{ 'a'.ljust(1000000000) }}",
    "{{ first_name.center(10**8) }}",
    "{{ (1).to_bytes(1000000000, 'big') }}",
    "{{ ('\t' * 100).expandtabs(10**7) }}",
    "{{ first_name.replace('A', 'B' * 5000) }}",
    "{% set a = 'xxxxxxxxxx' %}" + "{% set a = a ~ a %}" * 40 + "{{ a | length }}",
    "{% set a = 'xxxxxxxxxx' %}" + "{% set a = a + a %}" * 40 + "{{ a | length }}",
    "{% set a = ['x'] %}" + "{% set a = a + a %}" * 40 + "{{ a | length }}",
    "{% set a = 'xxxxxxxxxx' %}" + "{% set a %}{{ a }}{{ a }}{% endset %}" * 40,
    "{{ int('9' * 4999) }}",
    "{{ " + "(" * 1500 + "1" + ")" * 1500 + " }}",
    "{{ " + "-" * 4900 + "1 }}",
    "{{ " + "[" * 1500 + "]" * 1500 + " }}",
    "{% for x in tags %}" * 100 + "{% endfor %}" * 100,
]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("source", ESCAPES + BOMBS)
def test_escapes_and_bombs_are_refused(source: str) -> None:
    error = refused(source)
    assert error.status == 422
    assert error.detail


@pytest.mark.timeout(10)
def test_output_is_bounded() -> None:
    source = "{% for i in range(1000) %}" + "x" * 20 + "{% endfor %}"
    assert f"{MAX_OUTPUT:,} characters" in refused(source).detail


@pytest.mark.timeout(10)
def test_a_refused_render_leaves_the_next_one_unaffected() -> None:
    refused(BOMBS[7])
    assert render_template("{% for i in range(3) %}{{ i }}{% endfor %}", CONTEXT) == "012"
