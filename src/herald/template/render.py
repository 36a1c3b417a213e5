"""The SMS template language: Jinja2 in an immutable sandbox, bounded in size, time and steps.

Templates are written by tenants, so they are untrusted code. Four walls keep them harmless:
the parsed tree is checked before compiling (no includes, imports, macros, recursive loops,
``self``, private or blocklisted attributes such as ``mro`` and ``format``); the sandbox refuses
unsafe attributes at run time (raising, not rendering an empty string) and lets only reading
methods be called (``upper``, ``split``, ``get``…, never ``ljust`` or ``to_bytes``); the
operators and filters that can allocate (``*``, ``**``, ``+``, ``~``, ``%``, ``range``,
``replace``) are held to the output size; and every loop, call and chunk of output draws on a
per-render budget of steps and wall time. Breaking any wall is a 422 that says which."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.filters import FILTERS
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from herald.kit.errors import Unprocessable

MAX_SOURCE = 5_000
"""Characters of template source: ten concatenated SMS and then some."""
MAX_OUTPUT = 10_000
"""Characters a render may produce before it is stopped."""
MAX_STEPS = 20_000
"""Loop iterations, calls and operator uses of one render, all together: plenty for any SMS."""
MAX_SECONDS = 0.2
"""Wall time of one render."""
MAX_RANGE = 1_000
MAX_EXPONENT = 64
MAX_INT_BITS = 1_024

CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "gender",
    "birth_date",
    "language",
    "timezone",
    "tags",
)
CUSTOM = "custom"
TENANT_FIELDS = ("business_name",)
MESSAGE_FIELDS = ("link", "discount_code", "opt_out")
ALLOWED_VARIABLES = frozenset(
    (*CONTACT_FIELDS, CUSTOM, "custom_fields", *TENANT_FIELDS, *MESSAGE_FIELDS)
)

_REFUSED_NODES: dict[type[nodes.Node], str] = {
    nodes.Include: "{% include %}",
    nodes.Extends: "{% extends %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from … import %}",
    nodes.Macro: "{% macro %}",
    nodes.CallBlock: "{% call %}",
}
_REFUSED_ATTRIBUTES = frozenset({"mro", "format", "format_map", "translate", "maketrans"})
_SAFE_METHODS = frozenset(
    {
        "capitalize",
        "casefold",
        "count",
        "endswith",
        "find",
        "get",
        "index",
        "isalnum",
        "isalpha",
        "isdigit",
        "islower",
        "isnumeric",
        "isspace",
        "istitle",
        "isupper",
        "items",
        "keys",
        "lower",
        "lstrip",
        "partition",
        "removeprefix",
        "removesuffix",
        "rfind",
        "rpartition",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
        "values",
        "isoformat",
        "isoweekday",
        "strftime",
        "weekday",
        "cycle",
        "changed",
    }
)
"""Methods a template may call: reading ones, whose result is no bigger than their input."""
_SAFE_FILTERS = (
    "abs",
    "capitalize",
    "count",
    "d",
    "default",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "max",
    "min",
    "replace",
    "reverse",
    "round",
    "sort",
    "string",
    "sum",
    "title",
    "trim",
    "truncate",
    "unique",
    "upper",
    "wordcount",
)
"""Filters whose output is bounded by their input; ``replace`` is re-checked (see below).
Left out: those that pad or repeat (``center``, ``indent``, ``wordwrap``), ``format`` (a second
formatting language) and HTML/JSON helpers an SMS has no use for."""


class RenderLimitError(SecurityError):
    """A render broke a size, time or loop limit."""


@dataclass
class _Budget:
    deadline: float
    steps: int = 0

    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise RenderLimitError(f"the template ran more than {MAX_STEPS:,} steps")
        self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise RenderLimitError(f"rendering took longer than {int(MAX_SECONDS * 1000)} ms")


_budget: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


def _tick() -> None:
    budget = _budget.get()
    if budget is not None:
        budget.tick()


def _guarded(iterable: Iterable[Any]) -> Iterator[Any]:
    """What every ``{% for %}`` iterates: the original, one budget tick per item."""
    for item in iterable:
        _tick()
        yield item


def _range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise RenderLimitError(f"range() is limited to {MAX_RANGE:,} numbers")
    return result


def _replace(value: Any, old: str, new: str, count: int | None = None) -> str:
    text, old, new = str(value), str(old), str(new)
    hits = text.count(old) if old else len(text) + 1
    if count is not None and count >= 0:
        hits = min(hits, count)
    if len(text) + hits * (len(new) - len(old)) > MAX_OUTPUT:
        raise RenderLimitError(f"replace() would make a text longer than {MAX_OUTPUT:,} characters")
    return text.replace(old, new, -1 if count is None else count)


def _check_size(size: int) -> None:
    if size > MAX_OUTPUT:
        raise RenderLimitError(f"an expression would make more than {MAX_OUTPUT:,} items")


def _small(number: Any) -> Any:
    """Refuse integers past a few hundred digits: repeated products would grow them without
    bound, and an SMS has no use for them."""
    if isinstance(number, int) and number.bit_length() > MAX_INT_BITS:
        raise RenderLimitError("a number grew beyond the limit of a template")
    return number


def _blank(value: Any) -> Any:
    """How a value prints: ``None`` (say, a missing key of a custom field) as nothing, a list
    (``tags``) as "a, b" rather than Python's brackets; and nothing past the output limit (a
    ``{% set %}`` block that doubles itself)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return _sized(", ".join("" if item is None else str(item) for item in _sized(value)))
    return _sized(value)


def _sized(value: Any) -> Any:
    if isinstance(value, str | list | tuple):
        _check_size(len(value))
    return value


class SmsEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox with Herald's limits: see the module's docstring."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self) -> None:
        super().__init__(
            autoescape=False, undefined=ChainableUndefined, auto_reload=False, finalize=_blank
        )
        self.globals = {"range": _range}
        self.filters = {name: FILTERS[name] for name in _SAFE_FILTERS}
        self.filters["replace"] = _replace

    guard_loop = staticmethod(_guarded)
    guard_size = staticmethod(_sized)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """Data attributes (``birth_date.year``, ``loop.index``) are readable; of methods, only
        those that cannot allocate without bound (no ``ljust(10**9)``, ``to_bytes``)."""
        if attr in _REFUSED_ATTRIBUTES or (callable(value) and attr not in _SAFE_METHODS):
            return False
        return bool(super().is_safe_attribute(obj, attr, value))

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        """Raise instead of rendering nothing: an escape attempt must be reported."""
        raise SecurityError(f"access to {attribute!r} is not allowed in a template")

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _tick()
        if operator == "+":
            return _sized(left + right)
        if operator == "%":
            if isinstance(left, str):
                raise SecurityError("'%' formatting of text is not allowed; use ~ to join text")
            return _small(left % right)
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise RenderLimitError(f"exponents are limited to {MAX_EXPONENT}")
            return _small(left**right)
        if isinstance(left, str | list | tuple) and isinstance(right, int):
            _check_size(len(left) * right)
        elif isinstance(right, str | list | tuple) and isinstance(left, int):
            _check_size(len(right) * left)
        return _small(left * right)

    def call(
        __self,
        __context: Any,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        _tick()
        return super().call(__context, __obj, *args, **kwargs)


ENVIRONMENT = SmsEnvironment()


@dataclass(frozen=True)
class TemplateCheck:
    """What saving a template needs to know about its source."""

    variables: frozenset[str]
    """Top-level names the template reads."""
    unknown_variables: tuple[str, ...]
    custom_fields: tuple[str, ...]
    """``custom.<name>`` / ``custom_fields["name"]`` keys the template reads."""

    @property
    def uses_link(self) -> bool:
        return "link" in self.variables

    @property
    def uses_opt_out(self) -> bool:
        return "opt_out" in self.variables

    @property
    def uses_discount_code(self) -> bool:
        return "discount_code" in self.variables


def _syntax_error(source: str, exc: TemplateSyntaxError, token: Any) -> Unprocessable:
    line = exc.lineno or 1
    column = _column(source, line, token or _quoted_name(exc.message))
    where = f"line {line}" + (f", column {column}" if column else "")
    message = (exc.message or "syntax error").rstrip(".")
    return Unprocessable(
        f"The template has a syntax error at {where}: {message}. Fix the {{{{ }}}} or "
        "{% %} tag there.",
        line=line,
        column=column,
        errors=[{"field": "body", "message": message}],
    )


def _column(source: str, line: int, token: Any) -> int | None:
    """Jinja reports the line only: find the failing token on that line (1-based column)."""
    lines = source.splitlines() or [""]
    if line > len(lines):
        return None
    text = lines[line - 1]
    value = getattr(token, "value", None)
    token_line = getattr(token, "lineno", None)
    if token is not None and token_line in (None, line) and value not in (None, ""):
        position = text.find(str(value))
        if position >= 0:
            return position + 1
    opening = max(text.rfind("{{"), text.rfind("{%"))
    return opening + 1 if opening >= 0 else None


@dataclass(frozen=True)
class _Named:
    """Stands for the token an error message names (``No filter named 'x'``)."""

    lineno: int | None
    value: str


def _quoted_name(message: str | None) -> _Named | None:
    found = re.search(r"'([^']+)'", message or "")
    return _Named(None, found.group(1)) if found else None


def _parse(source: str) -> nodes.Template:
    if len(source) > MAX_SOURCE:
        raise Unprocessable(
            f"The template is {len(source):,} characters long; the limit is {MAX_SOURCE:,}.",
            errors=[{"field": "body", "message": "too long"}],
        )
    parser: Parser | None = None
    try:
        parser = Parser(ENVIRONMENT, source)
        return parser.parse()
    except TemplateSyntaxError as exc:
        token = parser.stream.current if parser is not None else None
        raise _syntax_error(source, exc, token) from None
    except (RecursionError, MemoryError):
        raise Unprocessable(
            "The template nests too deeply; simplify its expressions.",
            errors=[{"field": "body", "message": "nested too deeply"}],
        ) from None


def _refuse_constructs(tree: nodes.Template) -> None:
    for node in tree.find_all(nodes.Node):
        construct = _REFUSED_NODES.get(type(node))
        if construct is None and isinstance(node, nodes.For) and node.recursive:
            construct = "a recursive {% for %}"
        if construct is not None:
            raise _refused(f"{construct} is not available in SMS templates", node)
        if isinstance(node, nodes.Name) and node.name == "self":
            raise _refused("the name 'self' is reserved", node)
        attribute = _attribute_name(node)
        if attribute is not None and (
            attribute.startswith("_") or attribute in _REFUSED_ATTRIBUTES
        ):
            raise _refused(f"the attribute {attribute!r} is not allowed", node)


def _attribute_name(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Getattr):
        return str(node.attr)
    if (
        isinstance(node, nodes.Getitem)
        and isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, str)
    ):
        return node.arg.value
    return None


def _refused(reason: str, node: nodes.Node) -> Unprocessable:
    return Unprocessable(
        f"The template is refused at line {node.lineno}: {reason}.",
        line=node.lineno,
        errors=[{"field": "body", "message": reason}],
    )


def _custom_fields(tree: nodes.Template) -> tuple[str, ...]:
    names: list[str] = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        inner = getattr(node, "node", None)
        if isinstance(inner, nodes.Name) and inner.name in (CUSTOM, "custom_fields"):
            name = _attribute_name(node)
            if name is not None and name not in names:
                names.append(name)
    return tuple(names)


class _Guards(NodeTransformer):
    """Route every ``{% for %}`` through the step budget and every ``~`` through the size
    limit. ``EnvironmentAttribute`` compiles to ``environment.<name>``, a name no template can
    write."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = _guard("guard_loop", node.iter)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _guard("guard_size", node)


def _guard(name: str, node: nodes.Node) -> nodes.Call:
    call = nodes.Call(nodes.EnvironmentAttribute(name), [node], [], None, None)
    call.set_lineno(node.lineno)
    return call


def _checked_tree(source: str) -> tuple[nodes.Template, TemplateCheck]:
    tree = _parse(source)
    _refuse_constructs(tree)
    try:
        variables = frozenset(meta.find_undeclared_variables(tree))
    except TemplateSyntaxError as exc:  # an unknown filter or test, found while compiling
        raise _syntax_error(source, exc, None) from None
    unknown = sorted(variables - ALLOWED_VARIABLES - ENVIRONMENT.globals.keys())
    check = TemplateCheck(variables, tuple(unknown), _custom_fields(tree))
    return tree, check


def validate_template(source: str) -> TemplateCheck:
    """Parse, inspect and compile ``source``: 422 on a syntax error (with line and column) or a
    refused construct. Unknown variables are returned, not raised: the caller decides."""
    return compile_template(source).check


def require_known_variables(check: TemplateCheck) -> None:
    """422 listing each variable a template reads that Herald never provides."""
    if check.unknown_variables:
        names = ", ".join(check.unknown_variables)
        raise Unprocessable(
            f"The template uses unknown variables: {names}. Use contact fields "
            f"({', '.join(CONTACT_FIELDS)}), custom.<field>, business_name, link, "
            "discount_code or opt_out.",
            unknown_variables=list(check.unknown_variables),
            errors=[
                {"field": "body", "message": f"unknown variable {name!r}"}
                for name in check.unknown_variables
            ],
        )


@dataclass(frozen=True)
class RenderContext:
    """The values a template sees: a contact's (or sample) fields, the tenant's, and those of
    the one message (its short link, discount code and opt-out text)."""

    contact: Mapping[str, Any] = field(default_factory=dict)
    custom: Mapping[str, Any] = field(default_factory=dict)
    business_name: str | None = None
    link: str | None = None
    discount_code: str | None = None
    opt_out: str | None = None

    @classmethod
    def for_contact(cls, contact: Any, **values: Any) -> RenderContext:
        """From a ``herald.contact.models.Contact`` row (any object with its attributes)."""
        fields = {name: getattr(contact, name, None) for name in CONTACT_FIELDS if name != "phone"}
        fields["phone"] = contact.phone_e164
        return cls(contact=fields, custom=dict(contact.custom_fields or {}), **values)

    def variables(self) -> dict[str, Any]:
        """The template's names. Empty values (``None``, ``""``) are left out, so that they are
        undefined: they render as nothing and ``default(...)`` replaces them (a ``None`` would
        print "None")."""
        custom = {k: v for k, v in self.custom.items() if not _empty(v)}
        values = {
            **{name: self.contact.get(name) for name in CONTACT_FIELDS},
            CUSTOM: custom,
            "custom_fields": custom,
            "business_name": self.business_name,
            "link": self.link,
            "discount_code": self.discount_code,
            "opt_out": self.opt_out,
        }
        return {name: value for name, value in values.items() if not _empty(value)}


def _empty(value: Any) -> bool:
    return value is None or value == ""


SAMPLE_CONTACT: Mapping[str, Any] = {
    "first_name": "Alex",
    "last_name": "Taylor",
    "email": "alex@example.com",
    "phone": "+15555550123",
    "company": "Example Co",
    "gender": "unknown",
    "birth_date": date(1990, 6, 15),
    "language": "en",
    "timezone": "America/New_York",
    "tags": ["vip"],
}
"""What a preview without a contact shows (and what a sample's missing fields fall back to)."""


@dataclass(frozen=True)
class CompiledTemplate:
    """A checked, guarded and compiled template, reusable for any number of recipients."""

    check: TemplateCheck
    template: Template

    def render(self, context: RenderContext) -> str:
        """Render within the limits; every failure is a 422 saying which wall it hit."""
        budget = _Budget(deadline=time.monotonic() + MAX_SECONDS)
        token = _budget.set(budget)
        try:
            return _collect(self.template.generate(context.variables()), budget)
        except SecurityError as exc:
            raise _render_error(str(exc)) from None
        except (TemplateError, ArithmeticError, ValueError, TypeError, LookupError) as exc:
            raise _render_error(f"{type(exc).__name__}: {str(exc)[:200]}") from None
        except (RecursionError, MemoryError):
            raise _render_error("the template used too much memory or nested too deeply") from None
        finally:
            _budget.reset(token)


@lru_cache(maxsize=256)
def compile_template(source: str) -> CompiledTemplate:
    """Check and compile ``source`` once (a campaign renders one body per recipient); 422 on a
    syntax error, a refused construct or code too deeply nested to compile. Unknown variables
    are left to the caller (see ``require_known_variables``)."""
    tree, check = _checked_tree(source)
    _Guards().visit(tree)
    try:
        template = ENVIRONMENT.from_string(tree)
    except (RecursionError, MemoryError, SyntaxError):
        raise _render_error("the template nests too deeply") from None
    return CompiledTemplate(check, template)


def render_template(source: str, context: RenderContext) -> str:
    """Render ``source`` for one recipient (compiled once per distinct source)."""
    return compile_template(source).render(context)


def _collect(chunks: Iterator[str], budget: _Budget) -> str:
    parts: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise RenderLimitError(f"the text would exceed {MAX_OUTPUT:,} characters")
        parts.append(chunk)
        budget.check_time()
    return "".join(parts)


def _render_error(reason: str) -> Unprocessable:
    reason = reason.rstrip(".")
    return Unprocessable(
        f"The template cannot be rendered: {reason}. Change the template.",
        errors=[{"field": "body", "message": reason}],
    )
