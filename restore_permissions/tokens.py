"""Measuring and flattening strings that contain CDK tokens, one jsii call per distinct token."""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from aws_cdk import Aws, Fn, Stack, Token

T = TypeVar("T")

#: How CDK encodes a token inside a string.
TOKEN = re.compile(r"\$\{Token\[[^\]]+\]\}")


class ResolvedTokens(Generic[T]):
    """Maps each distinct token in strings to ``convert(stack.resolve(token))``, cached.

    A string's tokens resolve to the parts of the ``Fn::Join`` CloudFormation
    gets, so a per-token result combined with the literal text describes the
    whole string, with one jsii call per distinct token rather than per string.
    """

    def __init__(self, stack: Stack, convert: Callable[[Any], T]) -> None:
        self._stack = stack
        self._convert = convert
        self._cache: dict[str, T] = {}

    def of(self, token: str) -> T:
        if token not in self._cache:
            body = _SUB_BODIES.get(token)
            # A token of cfn_string resolves to its Fn::Sub: no need to ask CDK.
            resolved = {"Fn::Sub": body} if body is not None else self._stack.resolve(token)
            self._cache[token] = self._convert(resolved)
        return self._cache[token]

    def prefetch(self, values: Iterable[str]) -> None:
        """Resolve every token of ``values`` not yet known, all in one jsii call.

        Each jsii call is a round trip to the Node.js process; a policy's
        strings hold a dozen distinct tokens or more.
        """
        missing = list(
            dict.fromkeys(
                token
                for value in values
                if isinstance(value, str)
                for token in TOKEN.findall(value)
                if token not in self._cache and token not in _SUB_BODIES
            )
        )
        if not missing:
            return
        # Keyed rather than a list: CDK drops a value that resolves to nothing,
        # which would shift the rest of a list. A dropped token is resolved alone.
        resolved = self._stack.resolve({str(i): token for i, token in enumerate(missing)})
        for i, token in enumerate(missing):
            if str(i) in resolved:
                self._cache[token] = self._convert(resolved[str(i)])

    def split(self, value: str) -> tuple[str, list[T]]:
        """The literal text of ``value`` without its tokens, and what its tokens map to."""
        return TOKEN.sub("", value), [self.of(token) for token in TOKEN.findall(value)]

    def substitute(self, value: str, render: Callable[[T], str]) -> str:
        """``value`` with each token replaced by ``render`` of what it maps to."""
        return TOKEN.sub(lambda match: render(self.of(match.group(0))), value)


def is_unresolved(value: str) -> bool:
    """``Token.is_unresolved`` for strings, without a jsii call for plain text.

    CDK encodes every string token as ``${Token[...]}``, so text without that
    marker is literal; only text with it is asked of CDK.
    """
    return "${Token[" in value and bool(Token.is_unresolved(value))


#: Pseudo parameters written in Fn::Sub syntax. ARNs are built with these and
#: turned into one ``Fn::Sub`` each by :func:`cfn_string`, which CloudFormation
#: reads as a single short string, rather than a nested ``Fn::Join`` per ARN.
PARTITION = "${AWS::Partition}"
ACCOUNT = "${AWS::AccountId}"
URL_SUFFIX = "${AWS::URLSuffix}"
_PSEUDO = (PARTITION, ACCOUNT, URL_SUFFIX)


#: The body of each Fn::Sub token that :func:`cfn_string` made: what CDK resolves it to,
#: known without a jsii round trip.
_SUB_BODIES: dict[str, str] = {}


@functools.cache
def cfn_string(value: str) -> str:
    """``value`` with the pseudo-parameter placeholders made real.

    Without other tokens it becomes one ``Fn::Sub``; with them (a bucket name
    from a parameter, say), the placeholders become CDK's own pseudo tokens and
    CDK writes its usual ``Fn::Join``. Cached: one token per distinct string,
    so that the same ARN is the same token wherever it is compared.
    """
    if "${AWS::" not in value:
        return value
    if "${Token[" not in value:
        token = str(Fn.sub(value))
        _SUB_BODIES[token] = value
        return token
    return (
        value.replace(PARTITION, partition())
        .replace(ACCOUNT, str(Aws.ACCOUNT_ID))
        .replace(URL_SUFFIX, url_suffix())
    )


_ACCOUNTS: weakref.WeakKeyDictionary[Stack, str] = weakref.WeakKeyDictionary()


def account_of(stack: Stack) -> str:
    """The stack's account: the literal one of an env, or the placeholder (asked once per stack)."""
    if stack not in _ACCOUNTS:
        account = stack.account
        _ACCOUNTS[stack] = ACCOUNT if Token.is_unresolved(account) else account
    return _ACCOUNTS[stack]


@functools.cache
def partition() -> str:
    """The ``AWS::Partition`` token (one jsii call per process, not per ARN)."""
    return str(Aws.PARTITION)


@functools.cache
def url_suffix() -> str:
    """The ``AWS::URLSuffix`` token, for ``kms:ViaService`` values."""
    return str(Aws.URL_SUFFIX)
