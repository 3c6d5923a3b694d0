"""A small, strict JQL: parse a query, then filter and sort issues through field adapters.

The sandbox answers only the subset below and refuses everything else with a 400, so a
query it cannot evaluate never returns a silently wrong answer.

- clauses joined by AND / OR, grouped with parentheses (NOT is refused);
- operators =, !=, IN, NOT IN, <, <=, >, >=, IS EMPTY, IS NOT EMPTY (`= EMPTY` too);
- values: words, "quoted" or 'quoted' strings, lists `(a, b)`, EMPTY / NULL, the functions
  currentUser(), now() and linkedIssues(issueKey[, linkType]), relative times like -48h, -2d,
  30m, -1w;
- ORDER BY one or more fields, ASC / DESC.

Which fields exist and how their values compare is the caller's business (see `FieldAdapter`).
JQL reference: https://support.atlassian.com/jira-software-cloud/docs/jql-operators/
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)

PREFIX = "Error in the JQL Query: "
ORDERING_OPERATORS = ("<", "<=", ">", ">=")
VALID_OPERATORS_TEXT = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', "
    "'IS' and 'IS NOT'."
)
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|<=|>=|!~|=|<|>|~)
      | (?P<punct>[(),])
      | (?P<word>[^\s=!<>~(),"']+)
    )""",
    re.VERBOSE,
)
_RESERVED = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}
_UNSUPPORTED_KEYWORDS = {"was", "changed", "during", "before", "after", "on", "from", "to"}


class JqlError(ValueError):
    """A query the sandbox refuses; the message is what Jira's errorMessages carries."""


@dataclass(frozen=True)
class Token:
    """One lexical token and where it starts (1-based character, as Jira reports)."""

    kind: str  # string, op, punct, word, end
    text: str
    position: int

    @property
    def lower(self) -> str:
        """The token text, lower-cased for keyword checks."""
        return self.text.lower()


@dataclass(frozen=True)
class Function:
    """A JQL function call like currentUser() or linkedIssues("XD-1"), its name lower-cased."""

    name: str
    args: tuple[str, ...] = ()


# The functions the sandbox knows, with how many arguments each takes (Jira's own counts:
# https://support.atlassian.com/jira-software-cloud/docs/jql-functions/).
FUNCTIONS = {"currentuser": (0, 0), "now": (0, 0), "linkedissues": (1, 2)}


class Empty:
    """The EMPTY / NULL operand."""

    def __repr__(self) -> str:
        return "EMPTY"


EMPTY = Empty()
Operand = str | Function | Empty


@dataclass(frozen=True)
class Clause:
    """`field operator value(s)`."""

    field: str
    operator: str
    operands: tuple[Operand, ...]
    is_list: bool = False


@dataclass(frozen=True)
class Junction:
    """AND / OR of sub-expressions."""

    kind: str  # "and" | "or"
    parts: tuple[Node, ...]


Node = Clause | Junction


@dataclass(frozen=True)
class SortKey:
    """One ORDER BY entry."""

    field: str
    descending: bool


@dataclass(frozen=True)
class Query:
    """A parsed query: an optional condition and the ORDER BY list."""

    where: Node | None
    order_by: tuple[SortKey, ...]


class FieldAdapter(Protocol[T_contra]):
    """How one field of an issue is read and compared; built by the Jira fake."""

    name: str
    ordered: bool

    def values(self, issue: T_contra) -> list[Any]:
        """The field's values on an issue; an empty list means EMPTY."""
        ...

    def coerce(self, operand: Operand, operator: str) -> Any:
        """Turn a query operand into a value comparable with `values`, or raise JqlError."""
        ...

    def sort_key(self, issue: T_contra) -> Any:
        """A comparable key, or None when the field is empty."""
        ...


def tokenize(text: str) -> list[Token]:
    """Split a query into tokens; an unterminated string is a syntax error."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise JqlError(
                f"{PREFIX}The quoted string starting at character {pos + 1} is not closed."
            )
        kind = match.lastgroup or "word"
        start = match.start(kind) + 1
        tokens.append(Token(kind, match.group(kind), start))
        pos = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def parse(text: str) -> Query:
    """Parse a JQL string into a Query or raise JqlError with Jira's kind of message."""
    return _Parser(tokenize(text)).parse()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, expecting: str) -> JqlError:
        token = self.current
        got = "the end of the query" if token.kind == "end" else f"'{token.text}'"
        return JqlError(
            f"{PREFIX}Expecting {expecting} but got {got}. (line 1, character {token.position})"
        )

    def parse(self) -> Query:
        where: Node | None = None
        if not self.at_keyword("order") and self.current.kind != "end":
            where = self.parse_or()
        order_by: list[SortKey] = []
        if self.at_keyword("order"):
            self.advance()
            if not self.at_keyword("by"):
                raise self.error("'by'")
            self.advance()
            while True:
                field = self.parse_field_name()
                descending = False
                if self.at_keyword("asc") or self.at_keyword("desc"):
                    descending = self.advance().lower == "desc"
                order_by.append(SortKey(field, descending))
                if self.current.kind == "punct" and self.current.text == ",":
                    self.advance()
                    continue
                break
        if self.current.kind != "end":
            raise self.error("either 'OR' or 'AND'" if where is not None else "a field name")
        return Query(where, tuple(order_by))

    def at_keyword(self, word: str) -> bool:
        return self.current.kind == "word" and self.current.lower == word

    def parse_or(self) -> Node:
        parts = [self.parse_and()]
        while self.at_keyword("or"):
            self.advance()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Junction("or", tuple(parts))

    def parse_and(self) -> Node:
        parts = [self.parse_term()]
        while self.at_keyword("and"):
            self.advance()
            parts.append(self.parse_term())
        return parts[0] if len(parts) == 1 else Junction("and", tuple(parts))

    def parse_term(self) -> Node:
        token = self.current
        if token.kind == "punct" and token.text == "(":
            self.advance()
            node = self.parse_or()
            if not (self.current.kind == "punct" and self.current.text == ")"):
                raise self.error("')'")
            self.advance()
            return node
        if self.at_keyword("not"):
            raise JqlError(
                f"{PREFIX}the sandbox does not support NOT (character {token.position})."
            )
        return self.parse_clause()

    def parse_field_name(self) -> str:
        token = self.current
        if token.kind == "string":
            self.advance()
            return _unquote(token.text)
        if token.kind == "word" and token.lower not in _RESERVED:
            self.advance()
            return token.text
        raise self.error("a field name")

    def parse_clause(self) -> Clause:
        field = self.parse_field_name()
        operator = self.parse_operator()
        if operator in ("is", "is not"):
            if not (self.at_keyword("empty") or self.at_keyword("null")):
                raise self.error("'EMPTY' or 'NULL'")
            self.advance()
            return Clause(field, operator, (EMPTY,))
        if operator in ("in", "not in"):
            if self.current.kind == "word" and self.current.lower not in _RESERVED:
                return Clause(
                    field, operator, (self.parse_operand(),), is_list=True
                )  # in membersOf(...)
            if not (self.current.kind == "punct" and self.current.text == "("):
                raise self.error("'('")
            self.advance()
            operands = [self.parse_operand()]
            while self.current.kind == "punct" and self.current.text == ",":
                self.advance()
                operands.append(self.parse_operand())
            if not (self.current.kind == "punct" and self.current.text == ")"):
                raise self.error("')'")
            self.advance()
            return Clause(field, operator, tuple(operands), is_list=True)
        return Clause(field, operator, (self.parse_operand(),))

    def parse_operator(self) -> str:
        token = self.current
        if token.kind == "op":
            if token.text in ("~", "!~"):
                raise JqlError(
                    f"{PREFIX}the sandbox does not support the text-search operator "
                    f"'{token.text}' (character {token.position})."
                )
            self.advance()
            return token.text
        if token.kind == "word":
            word = token.lower
            if word == "in":
                self.advance()
                return "in"
            if word == "is":
                self.advance()
                if self.at_keyword("not"):
                    self.advance()
                    return "is not"
                return "is"
            if word == "not":
                self.advance()
                if self.at_keyword("in"):
                    self.advance()
                    return "not in"
                raise self.error("'IN'")
            if word in _UNSUPPORTED_KEYWORDS:
                raise JqlError(
                    f"{PREFIX}the sandbox does not support the history operator "
                    f"'{token.text.upper()}' (character {token.position})."
                )
        raise JqlError(
            f"{PREFIX}Expecting operator but got '{token.text}'. {VALID_OPERATORS_TEXT} "
            f"(line 1, character {token.position})"
        )

    def parse_operand(self) -> Operand:
        token = self.current
        if token.kind == "string":
            self.advance()
            return _unquote(token.text)
        if token.kind == "word":
            if token.lower in ("empty", "null"):
                self.advance()
                return EMPTY
            if token.lower in _RESERVED:
                raise self.error("either a value, list or function")
            self.advance()
            if self.current.kind == "punct" and self.current.text == "(":
                return self.parse_function(token)
            return token.text
        raise self.error("either a value, list or function")

    def parse_function(self, name: Token) -> Function:
        """The arguments of a function call, its name already read and `(` next."""
        self.advance()
        args: list[str] = []
        while not (self.current.kind == "punct" and self.current.text == ")"):
            token = self.current
            if token.kind == "string":
                args.append(_unquote(token.text))
            elif token.kind == "word" and token.lower not in _RESERVED:
                args.append(token.text)
            else:
                raise self.error("a function argument")
            self.advance()
            if self.current.kind == "punct" and self.current.text == ",":
                self.advance()
            elif not (self.current.kind == "punct" and self.current.text == ")"):
                raise self.error("',' or ')'")
        self.advance()
        lowered = name.text.lower()
        if lowered not in FUNCTIONS:
            raise JqlError(
                f"{PREFIX}the sandbox does not support the function '{name.text}' "
                f"(character {name.position}); it knows currentUser(), now() and linkedIssues()."
            )
        low, high = FUNCTIONS[lowered]
        if not low <= len(args) <= high:
            expected = f"'{low}'" if low == high else f"between '{low}' and '{high}'"
            raise JqlError(
                f"Function '{name.text}' expected {expected} arguments but received '{len(args)}'."
            )
        return Function(lowered, tuple(args))


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


# A clause's field adapter and coerced operands, by the clause's id: one query's worth.
Prepared = dict[int, tuple["FieldAdapter[Any]", list[Any]]]


def matches(
    node: Node,
    issue: T,
    resolve: Callable[[str], FieldAdapter[T]],
    prepared: Prepared | None = None,
) -> bool:
    """Whether an issue satisfies a parsed condition.

    Pass the same `prepared` dict for every issue of one query: each clause's field is resolved
    and its operands coerced once, not once per issue (`key in (...)` looks every key up).
    """
    if isinstance(node, Junction):
        results = (matches(part, issue, resolve, prepared) for part in node.parts)
        return all(results) if node.kind == "and" else any(results)
    operator = node.operator
    wants_empty = any(isinstance(op, Empty) for op in node.operands)
    empty_test = operator in ("is", "is not") or (operator in ("=", "!=") and wants_empty)
    cached = prepared.get(id(node)) if prepared is not None else None
    if cached is None:
        adapter: FieldAdapter[Any] = resolve(node.field)
        if not empty_test and operator in ORDERING_OPERATORS and not adapter.ordered:
            raise JqlError(
                f"The operator '{operator}' is not supported by the '{adapter.name}' field."
            )
        operands = [] if empty_test else node.operands
        coerced: list[Any] = []
        for op in operands:
            if not isinstance(op, Empty):
                value = adapter.coerce(op, operator)
                # A function standing for many values (linkedIssues) adds each of them.
                coerced.extend(value) if isinstance(value, frozenset) else coerced.append(value)
        cached = (adapter, coerced)
        if prepared is not None:
            prepared[id(node)] = cached
    adapter, targets = cached
    values = adapter.values(issue)
    if empty_test:
        empty = not values
        return empty if operator in ("is", "=") else not empty
    if operator in ("=", "in"):
        return any(v in targets for v in values) or (wants_empty and not values)
    if operator in ("!=", "not in"):
        # Like Jira, negative operators never match an empty field.
        return bool(values) and not any(v in targets for v in values)
    target = targets[0]
    compare = {
        "<": lambda a: a < target,
        "<=": lambda a: a <= target,
        ">": lambda a: a > target,
        ">=": lambda a: a >= target,
    }[operator]
    return any(_safe_compare(compare, v) for v in values)


def _safe_compare(compare: Callable[[Any], bool], value: Any) -> bool:
    try:
        return compare(value)
    except TypeError:
        return False


def validate(node: Node | None, resolve: Callable[[str], FieldAdapter[T]]) -> None:
    """Resolve every field and operand once, so a bad query fails even when no issue exists."""
    if node is None:
        return
    if isinstance(node, Junction):
        for part in node.parts:
            validate(part, resolve)
        return
    adapter = resolve(node.field)
    if node.operator in ORDERING_OPERATORS and not adapter.ordered:
        raise JqlError(
            f"The operator '{node.operator}' is not supported by the '{adapter.name}' field."
        )
    for operand in node.operands:
        if not isinstance(operand, Empty):
            adapter.coerce(operand, node.operator)


def sort(
    issues: Sequence[T], order_by: Sequence[SortKey], resolve: Callable[[str], FieldAdapter[T]]
) -> list[T]:
    """Sort issues by ORDER BY keys; empty values go last in ascending order, like Jira."""
    result = list(issues)
    for key in reversed(order_by):
        adapter = resolve(key.field)
        present = [i for i in result if adapter.sort_key(i) is not None]
        missing = [i for i in result if adapter.sort_key(i) is None]
        present.sort(key=adapter.sort_key, reverse=key.descending)
        result = missing + present if key.descending else present + missing
    return result
