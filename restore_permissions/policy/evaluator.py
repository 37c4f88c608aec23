"""A small offline evaluator of identity-based IAM policies, for ``restore-permissions diff``.

No maintained Python package evaluates identity policies with their
conditions (principalmapper, the tests' oracle, was last released in 2022), so
this one is ours, and deliberately small: it knows the elements and condition
operators that the rendered policies and templates use, and answers
"unknown" for anything else instead of guessing.

What it evaluates:

* ``Effect`` Allow and Deny (an explicit Deny wins, as in IAM);
* ``Action`` and ``NotAction``, with ``*`` and ``?`` wildcards, case-insensitive;
* ``Resource`` and ``NotResource``, with ``*`` and ``?``, case-sensitive;
* policy variables ``${key}`` in resources and condition values, from the
  request context (``${*}``, ``${?}`` and ``${$}`` are the literal characters);
* the condition operators ``StringEquals``, ``StringNotEquals``,
  ``StringEqualsIgnoreCase``, ``StringNotEqualsIgnoreCase``, ``StringLike``,
  ``StringNotLike``, ``ArnEquals``, ``ArnLike``, ``ArnNotEquals``,
  ``ArnNotLike``, ``Bool`` and ``Null``, each with ``IfExists``, and the
  positive ones with ``ForAnyValue:`` and ``ForAllValues:``.

What it answers "unknown" for: any other operator, a negated operator under a
set prefix, a multi-valued context key without one, a policy variable the
context does not give, a ``Principal`` in an identity policy, and any value
left :class:`Unknown` by the template resolver (an unresolved ``Ref``). An
unknown part can still be decided when the rest of the statement is: a
statement whose action does not match is no match, whatever its resources.

What it does not model: resource-based policies, permissions boundaries,
SCPs, session policies, and the request context IAM adds by itself (it sees
only the keys it is given).
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class Unknown(str):
    """A template value that could not be resolved: its text, with each unresolved part marked.

    ``str(value)`` is what a reader sees (``arn:aws:s3:::${BucketName}``);
    :attr:`wildcard` is the same with each unresolved part as ``*``, so that a
    pattern that could not match whatever the value is, is still a no match.
    """

    wildcard: str

    def __new__(cls, text: str, wildcard: str = "*") -> Unknown:
        value = super().__new__(cls, text)
        value.wildcard = wildcard
        return value


class Outcome(enum.Enum):
    ALLOWED = "allowed"
    DENIED = "denied"
    UNKNOWN = "unknown"


#: Three-valued truth: True, False, or None for "cannot tell".
Truth = bool | None

#: A request context: each key (case-insensitive) with one value or several.
Context = Mapping[str, str | Sequence[str]]


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one request, and the statements that decided it."""

    outcome: Outcome
    #: Sids (or ``#N``) of the Allow statements that match.
    allowed_by: tuple[str, ...] = ()
    #: Sids of the Deny statements that match.
    denied_by: tuple[str, ...] = ()
    #: Why the outcome is unknown, one phrase per undecided statement.
    unknown: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOWED


class _UndecidedError(Exception):
    """A part of a statement the evaluator does not know how to evaluate."""


_POSITIVE = {
    "StringEquals",
    "StringEqualsIgnoreCase",
    "StringLike",
    "ArnEquals",
    "ArnLike",
    "Bool",
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def evaluate(
    documents: Sequence[Mapping[str, Any]], action: str, resource: str, context: Context
) -> Evaluation:
    """Whether the policy ``documents`` together allow ``action`` on ``resource`` in ``context``."""
    lowered = {key.lower(): value for key, value in context.items()}
    allows: list[str] = []
    denies: list[str] = []
    maybe_allows: list[str] = []
    maybe_denies: list[str] = []
    for document in documents:
        statements = document.get("Statement", [])
        for number, statement in enumerate(
            statements if isinstance(statements, list) else [statements], 1
        ):
            sid = str(statement.get("Sid") or f"#{number}")
            try:
                matched = _statement_matches(statement, action, resource, lowered)
                reason = ""
            except _UndecidedError as undecided:
                matched, reason = None, f"{sid}: {undecided}"
            deny = statement.get("Effect") == "Deny"
            if statement.get("Effect") not in ("Allow", "Deny"):
                matched, reason = None, f"{sid}: Effect {statement.get('Effect')!r}"
            if matched is True:
                (denies if deny else allows).append(sid)
            elif matched is None:
                (maybe_denies if deny else maybe_allows).append(reason or sid)
    if denies:
        return Evaluation(Outcome.DENIED, tuple(allows), tuple(denies))
    if allows and not maybe_denies:
        return Evaluation(Outcome.ALLOWED, tuple(allows))
    if allows or maybe_allows:
        return Evaluation(Outcome.UNKNOWN, tuple(allows), (), tuple(maybe_allows + maybe_denies))
    return Evaluation(Outcome.DENIED)


def matches_action(statement: Mapping[str, Any], action: str) -> Truth:
    """Whether the statement's Action or NotAction covers ``action`` (None: cannot tell)."""
    try:
        return _action_matches(statement, action)
    except _UndecidedError:
        return None


def _statement_matches(
    statement: Mapping[str, Any], action: str, resource: str, context: Context
) -> Truth:
    if "Principal" in statement or "NotPrincipal" in statement:
        raise _UndecidedError("a Principal in an identity policy")
    # An element that does not match settles the statement, even if another is undecided.
    undecided: _UndecidedError | None = None
    parts: tuple[Callable[[], Truth], ...] = (
        lambda: _action_matches(statement, action),
        lambda: _resource_matches(statement, resource, context),
        lambda: _conditions_hold(statement.get("Condition", {}), context),
    )
    for part in parts:
        try:
            found = part()
        except _UndecidedError as error:
            found, undecided = None, error
        if found is False:
            return False
        if found is None and undecided is None:
            undecided = _UndecidedError("a template value that could not be resolved")
    if undecided is not None:
        raise undecided
    return True


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _action_matches(statement: Mapping[str, Any], action: str) -> Truth:
    if ("Action" in statement) == ("NotAction" in statement):
        raise _UndecidedError("neither or both of Action and NotAction")
    negated = "NotAction" in statement
    patterns = _values(statement["NotAction" if negated else "Action"])
    found = _any_match(patterns, action, ignore_case=True, context={})
    return None if found is None else found is not negated


def _resource_matches(statement: Mapping[str, Any], resource: str, context: Context) -> Truth:
    if ("Resource" in statement) == ("NotResource" in statement):
        raise _UndecidedError("neither or both of Resource and NotResource")
    negated = "NotResource" in statement
    patterns = _values(statement["NotResource" if negated else "Resource"])
    found = _any_match(patterns, resource, ignore_case=False, context=context)
    return None if found is None else found is not negated


def _any_match(
    patterns: Sequence[Any], value: str, *, ignore_case: bool, context: Context
) -> Truth:
    """Whether any pattern matches ``value``: True as soon as one does, None if one might."""
    return _any(_glob(p, value, ignore_case=ignore_case, context=context) for p in patterns)


def _glob(pattern: Any, value: str, *, ignore_case: bool, context: Context) -> Truth:
    """``*`` and ``?`` wildcards, with policy variables substituted from ``context``."""
    if not isinstance(pattern, str):
        raise _UndecidedError(f"a non-string pattern {pattern!r}")
    if isinstance(pattern, Unknown):
        if value == str(pattern):
            # The request names the same unresolved value (a bucket taken from the policy).
            return True
        # No match whatever the unresolved part is: no match; otherwise unknown.
        return None if _compiled(pattern.wildcard, ignore_case).fullmatch(value) else False
    regex = _compiled(_substitute(pattern, context), ignore_case)
    return regex.fullmatch(value) is not None


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_LITERALS = {"*": "\x01", "?": "\x02", "$": "$"}


def _substitute(pattern: str, context: Context) -> str:
    """The pattern with ``${key}`` replaced by the context's value (wildcards kept literal)."""

    def value_of(match: re.Match[str]) -> str:
        key = match.group(1).strip()
        if key in _LITERALS:
            return _LITERALS[key]
        found = context.get(key.lower())
        if found is None or not isinstance(found, str):
            raise _UndecidedError(f"the policy variable ${{{key}}} is not in the request context")
        # A value's own * and ? are not wildcards.
        return found.replace("*", "\x01").replace("?", "\x02")

    return _VARIABLE.sub(value_of, pattern) if "${" in pattern else pattern


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        elif char == "\x01":
            parts.append(re.escape("*"))
        elif char == "\x02":
            parts.append(re.escape("?"))
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _conditions_hold(condition: Any, context: Context) -> Truth:
    if not isinstance(condition, Mapping):
        raise _UndecidedError("a Condition that is not an object")
    results: list[Truth] = []
    for operator, block in condition.items():
        if not isinstance(block, Mapping):
            raise _UndecidedError(f"{operator} is not an object")
        for key, values in block.items():
            result = _condition(str(operator), str(key), _values(values), context)
            if result is False:
                return False
            results.append(result)
    if None in results:
        raise _UndecidedError("a condition value that is not resolved")
    return True


def _condition(operator: str, key: str, policy_values: list[Any], context: Context) -> Truth:
    prefix, _, base = operator.rpartition(":")
    if prefix not in ("", "ForAnyValue", "ForAllValues"):
        raise _UndecidedError(f"the operator {operator}")
    if_exists = base.endswith("IfExists") and base != "IfExists"
    base = base.removesuffix("IfExists") if if_exists else base
    found = context.get(key.lower())
    present: list[str] | None = None
    if found is not None:
        present = [found] if isinstance(found, str) else list(found)
    if base == "Null":
        if prefix or if_exists:
            raise _UndecidedError(f"the operator {operator}")
        wanted = {str(v).lower() for v in policy_values}
        if wanted - {"true", "false"} or len(wanted) != 1:
            raise _UndecidedError(f"Null with values {policy_values!r}")
        return (present is None) is (wanted == {"true"})
    negated = base in _NEGATED
    positive = _NEGATED.get(base, base)
    if positive not in _POSITIVE:
        raise _UndecidedError(f"the operator {operator}")
    if prefix and negated:
        raise _UndecidedError(f"the operator {operator}")
    if prefix == "ForAllValues":
        # True for a missing or empty key, as IAM documents.
        return _all(_matches_some(positive, v, policy_values, context) for v in present or [])
    if prefix == "ForAnyValue":
        return _any(_matches_some(positive, v, policy_values, context) for v in present or [])
    if present is None:
        # A missing key: IfExists holds; a negated operator holds; a positive one fails.
        return True if if_exists else negated
    if len(present) != 1:
        raise _UndecidedError(f"{key} has several values and {operator} has no set operator")
    found_match = _matches_some(positive, present[0], policy_values, context)
    return (None if found_match is None else not found_match) if negated else found_match


def _any(truths: Iterable[Truth]) -> Truth:
    return _settle(truths, decisive=True)


def _all(truths: Iterable[Truth]) -> Truth:
    return _settle(truths, decisive=False)


def _settle(truths: Iterable[Truth], *, decisive: bool) -> Truth:
    """``decisive`` as soon as one truth is; None if any is undecided; else its opposite."""
    undecided = False
    for truth in truths:
        if truth is decisive:
            return decisive
        undecided = undecided or truth is None
    return None if undecided else not decisive


def _matches_some(operator: str, value: str, policy_values: list[Any], context: Context) -> Truth:
    return _any(_one(operator, value, policy_value, context) for policy_value in policy_values)


def _one(operator: str, value: str, given: Any, context: Context) -> Truth:
    policy_value: str = given if isinstance(given, str) else str(given)
    if isinstance(given, bool):
        policy_value = "true" if given else "false"
    if operator == "Bool":
        if isinstance(policy_value, Unknown):
            return None
        return value.lower() == policy_value.lower()
    if operator in ("StringLike", "ArnLike", "ArnEquals"):
        # ArnEquals takes wildcards too (IAM user guide, ARN condition operators).
        return _glob(policy_value, value, ignore_case=False, context=context)
    if isinstance(policy_value, Unknown):
        return None if _compiled(policy_value.wildcard, True).fullmatch(value) else False
    expected = _substitute(policy_value, context).replace("\x01", "*").replace("\x02", "?")
    if operator == "StringEqualsIgnoreCase":
        return value.lower() == expected.lower()
    return value == expected


__all__ = ["Context", "Evaluation", "Outcome", "Truth", "Unknown", "evaluate", "matches_action"]
