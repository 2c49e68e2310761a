"""ConnectWise ``conditions`` query strings: parse once, evaluate against JSON objects.

Grammar (keywords case-insensitive, ``and`` binds tighter than ``or``)::

    expr       := term ("or" term)*
    term       := factor ("and" factor)*
    factor     := "(" expr ")" | comparison
    comparison := FIELD OP value | FIELD ["not"] ("in" | "like" | "contains") value
    OP         := = | != | <> | < | <= | > | >=
    value      := "string" | 'string' | [datetime] | number | true | false | null
                | "(" value ("," value)* ")"

Fields are paths such as ``board/id`` or ``company/identifier``; ``lastUpdated``,
``dateEntered``, ``enteredBy`` and ``updatedBy`` are looked up under ``_info`` as
ConnectWise does. Evaluation follows SQL (ConnectWise runs these on SQL Server): text
compares case-insensitively, and a missing field satisfies only ``= null``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

INFO_FIELDS = {"lastupdated": "lastUpdated", "dateentered": "dateEntered"}
INFO_FIELDS.update({"enteredby": "enteredBy", "updatedby": "updatedBy"})


class ConditionError(ValueError):
    """A condition ConnectWise would refuse; ``message`` is the text of its 400 answer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A ``[datetime]`` value, normalized to ``YYYY-MM-DDTHH:MM:SSZ`` (UTC) so that it
    compares with ConnectWise timestamps as text."""

    text: str


Scalar = str | int | float | bool | None | Timestamp


@dataclass(frozen=True, slots=True)
class Comparison:
    field: str  # as written
    path: tuple[str, ...]
    op: str  # = != < <= > >= in "not in" like "not like" contains "not contains"
    value: Scalar | tuple[Scalar, ...]


@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[Condition, ...]


Condition = Comparison | AllOf | AnyOf

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.|"")*"|'(?:[^'\\]|\\.|'')*')
      | \[(?P<date>[^\]]*)\]
      | (?P<number>-?\d+(?:\.\d+)?(?![\w/.]))
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][\w/.]*)
    )""",
    re.VERBOSE,
)
_KEYWORD_OPS = ("in", "like", "contains")


def _timestamp(text: str) -> Timestamp:
    raw = text.strip()
    try:
        moment = datetime.fromisoformat(raw[:-1] + "+00:00" if raw[-1:] in "Zz" else raw)
    except (ValueError, IndexError):
        raise ConditionError(f"[{text}] is not a valid date.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return Timestamp(moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _unquote(token: str) -> str:
    quote, body = token[0], token[1:-1]
    body = body.replace(quote * 2, quote)
    return re.sub(r"\\(.)", r"\1", body)


class _Parser:
    def __init__(self, text: str, known: Callable[[tuple[str, ...]], bool] | None) -> None:
        self.known = known
        self.tokens: list[tuple[str, str]] = []
        position = 0
        stripped = text.rstrip()
        while position < len(stripped):
            match = _TOKEN.match(stripped, position)
            if match is None or match.end() == position:
                raise ConditionError(f"Unexpected text at position {position}: {text[position:]}")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.i += 1
        return token

    def keyword(self, *words: str) -> bool:
        kind, text = self.peek()
        return kind == "word" and text.lower() in words

    def parse(self) -> Condition:
        if not self.tokens:
            raise ConditionError("conditions is empty.")
        condition = self.expr()
        if self.i < len(self.tokens):
            raise ConditionError(f"Unexpected '{self.peek()[1]}' in conditions.")
        return condition

    def expr(self) -> Condition:
        parts = [self.term()]
        while self.keyword("or"):
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def term(self) -> Condition:
        parts = [self.factor()]
        while self.keyword("and"):
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def factor(self) -> Condition:
        if self.peek() == ("punct", "("):
            self.take()
            inner = self.expr()
            if self.take() != ("punct", ")"):
                raise ConditionError("Missing ')' in conditions.")
            return inner
        return self.comparison()

    def comparison(self) -> Condition:
        kind, field = self.take()
        if kind != "word" or field.lower() in ("and", "or", "not", *_KEYWORD_OPS):
            raise ConditionError(f"Expected a field name but found '{field}'.")
        path = tuple(field.split("/"))
        if self.known is not None and not self.known(path):
            raise ConditionError(f"{field} is not a recognized name.")
        negated = self.keyword("not")
        if negated:
            self.take()
        kind, op = self.take()
        if kind == "word" and op.lower() in _KEYWORD_OPS:
            op = ("not " if negated else "") + op.lower()
        elif kind != "op" or negated:
            raise ConditionError(f"Expected an operator after {field} but found '{op}'.")
        op = "!=" if op == "<>" else op
        value = self.value()
        if isinstance(value, tuple) != op.endswith("in"):
            raise ConditionError(f"Operator {op} does not fit the value given for {field}.")
        return Comparison(field, path, op, value)

    def value(self) -> Scalar | tuple[Scalar, ...]:
        kind, text = self.take()
        if kind == "punct" and text == "(":
            values: list[Scalar] = []
            while True:
                item = self.value()
                if isinstance(item, tuple):
                    raise ConditionError("Lists cannot be nested.")
                values.append(item)
                separator = self.take()
                if separator == ("punct", ")"):
                    return tuple(values)
                if separator != ("punct", ","):
                    raise ConditionError("Expected ',' or ')' in a list.")
        if kind == "string":
            return _unquote(text)
        if kind == "date":
            return _timestamp(text)
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "word" and text.lower() in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text.lower()]
        raise ConditionError(f"Expected a value but found '{text or 'the end'}'.")


def parse_conditions(
    text: str, *, known: Callable[[tuple[str, ...]], bool] | None = None
) -> Condition:
    """Parse ``text``; ``known(path)`` rejects fields the resource does not have."""
    return _Parser(text, known).parse()


def resolve(record: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` (case-insensitive keys; ``_info`` fields found at the top)."""
    current: Any = record
    for depth, key in enumerate(path):
        if not isinstance(current, Mapping):
            return None
        if key in current:
            current = current[key]
            continue
        folded = key.lower()
        if depth == 0 and folded in INFO_FIELDS and isinstance(current.get("_info"), Mapping):
            current = current["_info"].get(INFO_FIELDS[folded])
            continue
        current = next((v for k, v in current.items() if k.lower() == folded), None)
    return current


def _comparable(actual: Any, wanted: Scalar) -> tuple[Any, Any] | None:
    """Both sides in one comparable form, or None when they cannot be compared."""
    if isinstance(wanted, Timestamp):
        return (actual, wanted.text) if isinstance(actual, str) else None
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return (actual, wanted) if isinstance(actual, bool) and isinstance(wanted, bool) else None
    if isinstance(wanted, int | float):
        if isinstance(actual, int | float):
            return actual, wanted
        try:
            return float(actual), wanted
        except (TypeError, ValueError):
            return None
    if isinstance(wanted, str):
        if isinstance(actual, str):
            return actual.casefold(), wanted.casefold()
        if isinstance(actual, int | float):
            return str(actual), wanted
    return None


def _like(actual: str, pattern: str) -> bool:
    parts = [re.escape(part) for part in re.split(r"[%*]", pattern)]
    return re.fullmatch(".*".join(parts), actual, re.IGNORECASE | re.DOTALL) is not None


def _compare(actual: Any, op: str, wanted: Scalar) -> bool:
    if wanted is None or actual is None:
        if op == "=":
            return actual is None and wanted is None
        if op == "!=":
            return wanted is None and actual is not None
        return False
    if op in ("like", "contains"):
        if not isinstance(actual, str) or not isinstance(wanted, str):
            return False
        return _like(actual, wanted) if op == "like" else wanted.casefold() in actual.casefold()
    pair = _comparable(actual, wanted)
    if pair is None:
        return False
    left, right = pair
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def matches(condition: Condition, record: Mapping[str, Any]) -> bool:
    if isinstance(condition, AllOf):
        return all(matches(part, record) for part in condition.parts)
    if isinstance(condition, AnyOf):
        return any(matches(part, record) for part in condition.parts)
    actual = resolve(record, condition.path)
    op, wanted = condition.op, condition.value
    if isinstance(wanted, tuple):
        if actual is None:
            return False
        found = any(_compare(actual, "=", item) for item in wanted)
        return found != (op == "not in")
    if op.startswith("not "):
        return actual is not None and not _compare(actual, op[4:], wanted)
    return _compare(actual, op, wanted)


def fields_named(condition: Condition) -> set[str]:
    """The first parts of every field path in ``condition``, as written."""
    if isinstance(condition, Comparison):
        return {condition.path[0]}
    return set().union(*(fields_named(part) for part in condition.parts))


def split_lower_bound(
    condition: Condition, field: str
) -> tuple[tuple[str, bool] | None, Condition | None]:
    """When every match needs ``field > [T]`` (or ``>= [T]``): ``((T, inclusive), rest)``,
    where ``rest`` is what remains to check once the bound holds (None: nothing). Lets a
    caller narrow candidates with an index before evaluating anything else."""
    parts = condition.parts if isinstance(condition, AllOf) else (condition,)
    bound: tuple[str, bool] | None = None
    rest: list[Condition] = []
    for part in parts:
        if (
            isinstance(part, Comparison)
            and isinstance(part.value, Timestamp)
            and part.op in (">", ">=")
            and len(part.path) == 1
            and part.path[0].casefold() == field.casefold()
        ):
            candidate = (part.value.text, part.op == ">=")
            # The stricter bound wins: a later instant, or the same one exclusive.
            if bound is None or (candidate[0], not candidate[1]) > (bound[0], not bound[1]):
                bound = candidate
        else:
            rest.append(part)
    if bound is None:
        return None, condition
    if not rest:
        return bound, None
    return bound, rest[0] if len(rest) == 1 else AllOf(tuple(rest))
