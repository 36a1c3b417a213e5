"""Segment rules: JSON → validated tree → SQLAlchemy ``WHERE`` expression over ``contacts``.

Rules are ``{"all": [...]}``, ``{"any": [...]}`` or ``{"not": node}``, nested, whose leaves are
conditions ``{"field": ..., "op": ..., "value": ...}`` (custom fields also take ``"type"``).
Every field names a *family* that declares the operators it accepts, how each operator's value
is checked, and how it compiles. Nothing from the user ever becomes SQL text: column names come
from the field table below, and values — custom field keys included — are bound parameters.

Validation collects every problem with its JSON path (``rules.all[2].op``) instead of stopping
at the first one, so a form can show them all at once.

Engagement conditions (received / clicked / replied to a campaign in the last N days) slot in
as one more family whose compile function returns an ``EXISTS`` over the message events table,
once that table exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Integer,
    Numeric,
    and_,
    any_,
    case,
    cast,
    extract,
    false,
    func,
    literal,
    literal_column,
    or_,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from herald.contact.models import ConsentStatus, Contact, Gender
from herald.kit.errors import Unprocessable

MAX_DEPTH = 8
MAX_CONDITIONS = 200
MAX_LIST = 1000
MAX_TEXT = 500
MAX_DAYS = 36_500
MAX_LISTED = 50
"""Problems listed in a 422 at most: enough to fix a form, not a way to echo a huge body."""
CUSTOM_PREFIX = "custom."

GroupKind = Literal["all", "any", "not"]
GROUP_KINDS: tuple[GroupKind, ...] = ("all", "any", "not")


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any
    custom_key: str | None = None
    custom_type: str | None = None


@dataclass(frozen=True)
class Group:
    kind: GroupKind
    children: tuple[Node, ...]


Node = Condition | Group


@dataclass(frozen=True)
class CompileContext:
    """What relative conditions are relative to: the tenant's local date and time zone."""

    now: datetime
    tz: ZoneInfo

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    @classmethod
    def for_timezone(cls, timezone: str, now: datetime | None = None) -> CompileContext:
        return cls(now=now or datetime.now(UTC), tz=ZoneInfo(timezone))

    def day_start(self, day: date) -> datetime:
        return datetime.combine(day, time(0), self.tz)


# --- value checkers: return the normalized value or raise ValueError(what to send) ----------

ValueCheck = Callable[[Any], Any]
_ABSENT = object()


def _no_value(value: Any) -> None:
    if value is not _ABSENT and value is not None:
        raise ValueError("this operator takes no value; leave 'value' out")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    if len(value) > MAX_TEXT:
        raise ValueError(f"expected at most {MAX_TEXT} characters")
    return value


def _list_of(check: ValueCheck, label: str) -> ValueCheck:
    def checked(value: Any) -> list[Any]:
        if not isinstance(value, list) or not value:
            raise ValueError(f"expected a non-empty list of {label}")
        if len(value) > MAX_LIST:
            raise ValueError(f"expected at most {MAX_LIST} items")
        return [check(item) for item in value]

    return checked


def _choice(choices: Sequence[str]) -> ValueCheck:
    def checked(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return str(value)

    return checked


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _optional_boolean(value: Any) -> bool:
    return True if value is _ABSENT or value is None else _boolean(value)


NUMBER_LIMIT = 10**15
"""Beyond this, comparisons would overflow PostgreSQL's numeric types; no real field needs it."""


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a number")
    if not -NUMBER_LIMIT <= value <= NUMBER_LIMIT:
        raise ValueError(f"expected a number between -{NUMBER_LIMIT} and {NUMBER_LIMIT}")
    return value


def _integer(low: int, high: int) -> ValueCheck:
    def checked(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"expected a whole number from {low} to {high}")
        return value

    return checked


EARLIEST_DATE, LATEST_DATE = date(1000, 1, 1), date(9998, 12, 31)
"""Dates a day is added to or taken from must stay within what Python and PostgreSQL hold."""


def _iso_date(value: Any) -> date:
    if not isinstance(value, str):
        raise ValueError("expected an ISO date such as '2026-01-31'")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value[:40]!r} is not an ISO date such as '2026-01-31'") from None
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise ValueError(f"expected a date between {EARLIEST_DATE} and {LATEST_DATE}")
    return parsed


def _date_range(value: Any) -> tuple[date, date]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError("expected [first_day, last_day], two ISO dates")
    first, last = _iso_date(value[0]), _iso_date(value[1])
    if first > last:
        raise ValueError("the first day comes after the last day")
    return first, last


_days = _integer(0, MAX_DAYS)


# --- families: the operators a kind of field accepts and how they compile -------------------

Expr = ColumnElement[Any]
Compile = Callable[[Expr, str, Any, CompileContext], ColumnElement[bool]]


@dataclass(frozen=True)
class Family:
    ops: Mapping[str, ValueCheck]
    compile: Compile


def _scalar(expr: Expr, op: str, value: Any, _ctx: CompileContext) -> ColumnElement[bool]:
    """Comparisons shared by columns and typed custom fields. ``ne`` and ``not_in`` treat a
    missing value as different, as a person reading "is not Bob" expects."""
    result: ColumnElement[bool]
    match op:
        case "eq":
            result = expr == value
        case "ne":
            result = expr.is_distinct_from(value)
        case "in":
            result = expr.in_(value)
        case "not_in":
            result = or_(expr.is_(None), expr.not_in(value))
        case "lt":
            result = expr < value
        case "lte":
            result = expr <= value
        case "gt":
            result = expr > value
        case "gte":
            result = expr >= value
        case "contains":
            result = expr.icontains(value, autoescape=True)
        case "starts_with":
            result = expr.istartswith(value, autoescape=True)
        case "is_set":
            result = expr.is_not(None)
        case "is_not_set":
            result = expr.is_(None)
        case _:
            raise AssertionError(op)
    return result


def _timestamp(expr: Expr, op: str, value: Any, ctx: CompileContext) -> ColumnElement[bool]:
    """Absolute days are whole days in the tenant's time zone; relative ones count from now."""
    result: ColumnElement[bool]
    match op:
        case "before":
            result = expr < ctx.day_start(value)
        case "after":
            result = expr >= ctx.day_start(value + timedelta(days=1))
        case "between":
            first, last = value
            result = and_(expr >= ctx.day_start(first), expr < ctx.day_start(last + timedelta(1)))
        case "within_last_days":
            result = expr >= ctx.now - timedelta(days=value)
        case "more_than_days_ago":
            result = expr < ctx.now - timedelta(days=value)
        case _:
            result = _scalar(expr, op, value, ctx)
    return result


def _calendar_date(expr: Expr, op: str, value: Any, ctx: CompileContext) -> ColumnElement[bool]:
    result: ColumnElement[bool]
    match op:
        case "before":
            result = expr < value
        case "after":
            result = expr > value
        case "between":
            result = expr.between(*value)
        case _:
            result = _scalar(expr, op, value, ctx)
    return result


def _tags(expr: Expr, op: str, value: Any, _ctx: CompileContext) -> ColumnElement[bool]:
    result: ColumnElement[bool]
    match op:
        case "any":
            result = expr.overlap(value)
        case "all":
            result = expr.contains(value)
        case "none":
            result = ~expr.overlap(value)
        case "empty":
            result = func.cardinality(expr) == 0 if value else func.cardinality(expr) > 0
        case _:
            raise AssertionError(op)
    return result


FIRST_BIRTH_YEAR = 1900


def birthday_key(birth_date: Expr) -> ColumnElement[int]:
    """``month * 100 + day`` of a birth date."""
    hundred: ColumnElement[int] = literal_column("100")
    month, day = extract("month", birth_date), extract("day", birth_date)
    return cast(month, Integer) * hundred + cast(day, Integer)


def upcoming_birthdays(today: date, days: int) -> set[int]:
    """The ``birthday_key`` of each day from ``today`` to ``today + days``. People born on
    29 February celebrate on 28 February in common years, so that day brings in 229 too."""
    keys: set[int] = set()
    for n in range(min(days, 365) + 1):
        day = today + timedelta(days=n)
        keys.add(day.month * 100 + day.day)
        if (day.month, day.day) == (2, 28) and not _is_leap(day.year):
            keys.add(229)
    return keys


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _born_on(birth_date: Expr, keys: set[int], ctx: CompileContext) -> ColumnElement[bool]:
    """Birth dates whose month and day are among ``keys``.

    Row-level security keeps non-leakproof functions (``EXTRACT``, casts) out of index
    conditions, so an expression index on month and day would never serve the app. Instead
    the condition lists the actual dates of every year since ``FIRST_BIRTH_YEAR`` — one array
    parameter that the (tenant_id, birth_date) index answers with leakproof ``=`` — and
    matches the rare older dates by month and day.
    """
    dates = [
        date(year, key // 100, key % 100)
        for year in range(FIRST_BIRTH_YEAR, ctx.today.year + 1)
        for key in sorted(keys)
        if key != 229 or _is_leap(year)
    ]
    older = and_(
        birth_date < date(FIRST_BIRTH_YEAR, 1, 1),
        birthday_key(birth_date) == any_(literal(sorted(keys), ARRAY(Integer))),
    )
    return or_(birth_date == any_(literal(dates, ARRAY(Date))), older)


def _birthday(expr: Expr, op: str, value: Any, ctx: CompileContext) -> ColumnElement[bool]:
    keys: set[int]
    match op:
        case "month_is":
            keys = {value * 100 + day for day in range(1, 32) if _valid_day(value, day)}
        case "day_is":
            keys = {month * 100 + value for month in range(1, 13) if _valid_day(month, value)}
        case "in_next_days":
            keys = upcoming_birthdays(ctx.today, value)
        case _:
            raise AssertionError(op)
    return _born_on(expr, keys, ctx)


def _valid_day(month: int, day: int) -> bool:
    """Whether ``month``/``day`` exists in some year (29 February does, in leap years)."""
    try:
        date(2000, month, day)
    except ValueError:
        return False
    return True


_NULL_CHECKS: dict[str, ValueCheck] = {"is_set": _no_value, "is_not_set": _no_value}
_ORDER_OPS = ("lt", "lte", "gt", "gte")


def _ops(check: ValueCheck, names: Sequence[str], label: str) -> dict[str, ValueCheck]:
    """Operators taking ``check``'s value; ``in``/``not_in`` take a list of them."""
    return {name: _list_of(check, label) if name in ("in", "not_in") else check for name in names}


TEXT = Family(
    {
        **_ops(_text, ("eq", "ne", "in", "not_in", "contains", "starts_with"), "strings"),
        **_NULL_CHECKS,
    },
    _scalar,
)
NUMBER = Family(_ops(_number, ("eq", "ne", *_ORDER_OPS), "numbers"), _scalar)
FLAG = Family(_ops(_boolean, ("eq", "ne"), "booleans"), _scalar)
TIMESTAMP = Family(
    {
        "before": _iso_date,
        "after": _iso_date,
        "between": _date_range,
        "within_last_days": _days,
        "more_than_days_ago": _days,
        **_NULL_CHECKS,
    },
    _timestamp,
)
CALENDAR_DATE = Family(
    {"before": _iso_date, "after": _iso_date, "between": _date_range, **_NULL_CHECKS},
    _calendar_date,
)
TAGS = Family(
    {
        "any": _list_of(_text, "tags"),
        "all": _list_of(_text, "tags"),
        "none": _list_of(_text, "tags"),
        "empty": _optional_boolean,
    },
    _tags,
)
BIRTHDAY = Family(
    {"month_is": _integer(1, 12), "day_is": _integer(1, 31), "in_next_days": _integer(0, 366)},
    _birthday,
)
GENDER = Family(
    {
        **_ops(_choice([g.value for g in Gender]), ("eq", "ne", "in", "not_in"), "genders"),
        **_NULL_CHECKS,
    },
    _scalar,
)
CONSENT = Family(
    _ops(_choice([s.value for s in ConsentStatus]), ("eq", "ne", "in"), "consent statuses"),
    _scalar,
)


@dataclass(frozen=True)
class FieldSpec:
    family: Family
    expr: Expr


FIELDS: dict[str, FieldSpec] = {
    **{
        name: FieldSpec(TEXT, getattr(Contact, name).expression)
        for name in (
            "first_name",
            "last_name",
            "email",
            "phone_e164",
            "timezone",
            "language",
            "company",
            "source",
        )
    },
    "gender": FieldSpec(GENDER, Contact.gender.expression),
    "blocked": FieldSpec(FLAG, Contact.blocked.expression),
    "unread_count": FieldSpec(NUMBER, Contact.unread_count.expression),
    **{
        name: FieldSpec(TIMESTAMP, getattr(Contact, name).expression)
        for name in ("created_at", "updated_at", "last_message_at", "last_sent_at")
    },
    "birth_date": FieldSpec(CALENDAR_DATE, Contact.birth_date.expression),
    "birthday": FieldSpec(BIRTHDAY, Contact.birth_date.expression),
    "tags": FieldSpec(TAGS, Contact.tags.expression),
    "sms_status": FieldSpec(CONSENT, Contact.sms_status.expression),
    "whatsapp_status": FieldSpec(CONSENT, Contact.whatsapp_status.expression),
}


# --- custom fields: JSONB values extracted by a bound key, compared by declared type --------


def _custom_value(key: str, kind: str) -> Expr:
    """The custom field as ``kind``, NULL when the stored value is not of that kind.

    JSON numbers, booleans and dates often arrive as strings (CSV imports), so a string that
    reads as the declared type counts too; anything else is NULL rather than a cast error.
    """
    element = Contact.custom_fields[key]
    as_text: ColumnElement[str] = Contact.custom_fields[key].astext
    json_type = func.jsonb_typeof(element)
    if kind == "string":
        return as_text
    if kind == "number":
        return case(
            (json_type == "number", as_text.cast(Numeric)),
            (
                and_(json_type == "string", func.pg_input_is_valid(as_text, "numeric")),
                as_text.cast(Numeric),
            ),
        )
    if kind == "boolean":
        return case(
            (json_type == "boolean", as_text.cast(Boolean)),
            (
                and_(json_type == "string", func.lower(as_text).in_(["true", "false"])),
                as_text.cast(Boolean),
            ),
        )
    day = func.left(as_text, 10)
    return case((and_(json_type == "string", func.pg_input_is_valid(day, "date")), day.cast(Date)))


def _custom(key: str, kind: str) -> Compile:
    def compile_custom(
        _expr: Expr, op: str, value: Any, ctx: CompileContext
    ) -> ColumnElement[bool]:
        if op == "exists":
            present: ColumnElement[bool] = Contact.custom_fields.has_key(key)
            return present if value else ~present
        return _scalar(_custom_value(key, kind), op, value, ctx)

    return compile_custom


_EXISTS: dict[str, ValueCheck] = {"exists": _optional_boolean}
CUSTOM_OPS: dict[str, dict[str, ValueCheck]] = {
    "string": {
        **_ops(
            _text, ("eq", "ne", "in", "not_in", *_ORDER_OPS, "contains", "starts_with"), "strings"
        ),
        **_EXISTS,
    },
    "number": {**_ops(_number, ("eq", "ne", "in", "not_in", *_ORDER_OPS), "numbers"), **_EXISTS},
    "boolean": {**_ops(_boolean, ("eq", "ne"), "booleans"), **_EXISTS},
    "date": {**_ops(_iso_date, ("eq", "ne", *_ORDER_OPS), "ISO dates"), **_EXISTS},
}
MAX_CUSTOM_KEY = 100


# --- parsing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


class _Parser:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.conditions = 0

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def node(self, raw: Any, path: str, depth: int) -> Node | None:
        if not isinstance(raw, dict):
            self.fail(path, "expected an object: a condition or an all/any/not group")
            return None
        kinds = [k for k in GROUP_KINDS if k in raw]
        if kinds:
            return self.group(raw, path, depth, kinds)
        if "field" in raw:
            return self.condition(raw, path)
        self.fail(path, "expected {'all': [...]}, {'any': [...]}, {'not': ...} or a condition")
        return None

    def group(
        self, raw: dict[str, Any], path: str, depth: int, kinds: list[GroupKind]
    ) -> Group | None:
        if len(raw) != 1:
            self.fail(path, "a group has exactly one key: all, any or not")
            return None
        kind = kinds[0]
        if depth > MAX_DEPTH:
            self.fail(path, f"groups nest at most {MAX_DEPTH} levels deep")
            return None
        inner = raw[kind]
        if kind == "not":
            child = self.node(inner, f"{path}.not", depth + 1)
            return Group("not", (child,)) if child is not None else None
        if not isinstance(inner, list):
            self.fail(f"{path}.{kind}", "expected a list of conditions or groups")
            return None
        if kind == "any" and not inner:
            self.fail(f"{path}.any", "'any' needs at least one condition")
            return None
        children = [self.node(c, f"{path}.{kind}[{i}]", depth + 1) for i, c in enumerate(inner)]
        kept = tuple(c for c in children if c is not None)
        return Group(kind, kept) if len(kept) == len(children) else None

    def condition(self, raw: dict[str, Any], path: str) -> Condition | None:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            return None  # reported once by parse_rules; checking the rest would only cost time
        unknown = sorted(str(key)[:40] for key in set(raw) - {"field", "op", "value", "type"})
        if unknown:
            self.fail(
                path, f"unknown keys {', '.join(map(repr, unknown))}; use field, op, value, type"
            )
        name = raw["field"]
        if not isinstance(name, str):
            self.fail(f"{path}.field", "expected a field name")
            return None
        if name.startswith(CUSTOM_PREFIX):
            return self.custom(raw, path, name)
        spec = FIELDS.get(name)
        if spec is None:
            self.fail(
                f"{path}.field",
                f"unknown field {name[:60]!r}; use one of {', '.join(FIELDS)}, or custom.<key>",
            )
            return None
        if "type" in raw:
            self.fail(f"{path}.type", "only custom fields take a type")
        return self.operation(raw, path, name, spec.family.ops)

    def custom(self, raw: dict[str, Any], path: str, name: str) -> Condition | None:
        key = name[len(CUSTOM_PREFIX) :]
        if not key or len(key) > MAX_CUSTOM_KEY:
            self.fail(f"{path}.field", f"a custom field key has 1 to {MAX_CUSTOM_KEY} characters")
            return None
        kind = raw.get("type", "string")
        ops = CUSTOM_OPS.get(kind) if isinstance(kind, str) else None
        if ops is None:
            self.fail(f"{path}.type", f"expected one of {', '.join(CUSTOM_OPS)}")
            return None
        parsed = self.operation(raw, path, name, ops)
        if parsed is None:
            return None
        return Condition(name, parsed.op, parsed.value, custom_key=key, custom_type=kind)

    def operation(
        self, raw: dict[str, Any], path: str, name: str, ops: Mapping[str, ValueCheck]
    ) -> Condition | None:
        op = raw.get("op")
        check = ops.get(op) if isinstance(op, str) else None
        if check is None:
            self.fail(
                f"{path}.op",
                f"unknown operator {str(op)[:40]!r} for {name[:60]!r}; use one of {', '.join(ops)}",
            )
            return None
        try:
            value = check(raw.get("value", _ABSENT))
        except ValueError as exc:
            self.fail(f"{path}.value", f"{op}: {exc}")
            return None
        return Condition(name, str(op), value)


def parse_rules(raw: Any, path: str = "rules") -> Node:
    """Validate ``raw`` rules; raise 422 listing every problem with its JSON path."""
    parser = _Parser()
    node = parser.node(raw, path, 1)
    if parser.conditions > MAX_CONDITIONS:
        limit = f"at most {MAX_CONDITIONS} conditions; this has {parser.conditions}"
        parser.problems.insert(0, Problem(path, limit))
    if parser.problems or node is None:
        summary = "; ".join(f"{p.path}: {p.message}" for p in parser.problems[:5])
        more = len(parser.problems) - 5
        raise Unprocessable(
            f"The segment rules are invalid. {summary}"
            + (f" (and {more} more)" if more > 0 else ""),
            errors=[{"field": p.path, "message": p.message} for p in parser.problems[:MAX_LISTED]],
        )
    return node


# --- compiling ----------------------------------------------------------------------------


def compile_node(node: Node, ctx: CompileContext) -> ColumnElement[bool]:
    """The ``WHERE`` expression of a parsed tree. ``not`` uses ``IS NOT TRUE`` so that a
    condition that is unknown for a contact (a NULL column) counts as not matching inside it."""
    if isinstance(node, Condition):
        return _compile_condition(node, ctx)
    parts = [compile_node(child, ctx) for child in node.children]
    if node.kind == "not":
        return parts[0].is_not(true())
    if node.kind == "any":
        return or_(false(), *parts)
    return and_(true(), *parts)


def _compile_condition(cond: Condition, ctx: CompileContext) -> ColumnElement[bool]:
    if cond.custom_key is not None:
        compile_custom = _custom(cond.custom_key, cond.custom_type or "string")
        return compile_custom(Contact.custom_fields.expression, cond.op, cond.value, ctx)
    spec = FIELDS[cond.field]
    return spec.family.compile(spec.expr, cond.op, cond.value, ctx)


def compile_rules(raw: Any, ctx: CompileContext) -> ColumnElement[bool]:
    return compile_node(parse_rules(raw), ctx)
