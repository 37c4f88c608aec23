"""The library's synth-time checks of a stack, run by one node validation per stack.

Each check stays in the module of its concern (the resource and output limits,
the cdk-nag acknowledgments, the unscoped key grants) and is a Python callable
that returns error messages. They share one validation per stack rather than
one each: a validation is an object, an ``add_validation`` and a callback from
Node.js, jsii round trips that every stack of an app pays (an MSP's app has
hundreds). Errors name the stack's path, as a validation on the stack does.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import ClassVar

import jsii
from aws_cdk import Stack
from constructs import IConstruct, IValidation

from .scopes import node_of

Check = Callable[[], list[str]]


@jsii.implements(IValidation)
class StackChecks:
    """Runs every check added to a stack, in the order they were added."""

    _OF: ClassVar[weakref.WeakKeyDictionary[Stack, StackChecks]] = weakref.WeakKeyDictionary()

    @classmethod
    def add(cls, stack: Stack, check: Check) -> None:
        """Run ``check`` when ``stack`` is validated (at synth, after the aspects)."""
        checks = cls._OF.get(stack)
        if checks is None:
            checks = cls._OF[stack] = cls()
            node_of(stack).add_validation(checks)
        checks._checks.append(check)

    @classmethod
    def nodes(cls, stack: Stack) -> list[IConstruct]:
        """``stack.node.find_all()``, walked once per validation for all of its checks
        (validations run after the aspects: the tree no longer changes)."""
        checks = cls._OF.get(stack)
        if checks is None or checks._nodes is None:
            return node_of(stack).find_all()
        if not checks._nodes:
            checks._nodes.extend(node_of(stack).find_all())
        return checks._nodes

    def __init__(self) -> None:
        self._checks: list[Check] = []
        #: The walk shared by the checks while they run; None otherwise.
        self._nodes: list[IConstruct] | None = None

    def validate(self) -> list[str]:
        self._nodes = []
        try:
            # A check added while these run (a policy placed late) runs at the next synth.
            return [error for check in list(self._checks) for error in check()]
        finally:
            self._nodes = None
