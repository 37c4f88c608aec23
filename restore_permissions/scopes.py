"""A construct's stack, root stack and singleton children, looked up once per process.

Each of these is a jsii round trip to the Node.js process, and every
RestorePermissions asks for them several times: with 100 customers in a
stack, that was about 1,000 round trips for answers that never change. A
construct's stack is fixed when it is created, and so is a child once it
exists (the library never removes one), so the answers are kept, keyed by
the Python object of the construct.
"""

from __future__ import annotations

import weakref

from aws_cdk import Stack
from constructs import IConstruct, Node

from .errors import KNOWN_NODES, KNOWN_PATHS

_STACKS: weakref.WeakKeyDictionary[IConstruct, Stack] = weakref.WeakKeyDictionary()
_ROOT_STACKS: weakref.WeakKeyDictionary[Stack, Stack] = weakref.WeakKeyDictionary()
_ROOTS: weakref.WeakKeyDictionary[Stack, IConstruct] = weakref.WeakKeyDictionary()
_PATHS = KNOWN_PATHS
_CHILDREN: weakref.WeakKeyDictionary[IConstruct, dict[str, IConstruct]] = (
    weakref.WeakKeyDictionary()
)
_NODES: weakref.WeakKeyDictionary[IConstruct, Node] = KNOWN_NODES


def node_of(scope: IConstruct) -> Node:
    """``scope.node``, asked of CDK once per construct: a construct's node never changes."""
    if scope not in _NODES:
        _NODES[scope] = scope.node
    return _NODES[scope]


def stack_of(scope: IConstruct) -> Stack:
    """``Stack.of(scope)``, asked of CDK once per construct."""
    if isinstance(scope, Stack):
        return scope
    if scope not in _STACKS:
        _STACKS[scope] = Stack.of(scope)
    return _STACKS[scope]


def adopt(child: IConstruct, parent: IConstruct, path: str | None = None) -> None:
    """Record that ``child``, created in ``parent`` and not a stack, is in ``parent``'s stack
    (and that its path is ``path``, when the caller knows it)."""
    if not isinstance(child, Stack):
        _STACKS[child] = stack_of(parent)
    if path is not None:
        _PATHS[child] = path


def root_stack(scope: IConstruct) -> Stack:
    """The top-level stack of ``scope``: a nested stack's resources deploy with its parent."""
    stack = stack_of(scope)
    if stack not in _ROOT_STACKS:
        root = stack
        while root.nested_stack_parent is not None:
            root = root.nested_stack_parent
        _ROOT_STACKS[stack] = root
    return _ROOT_STACKS[stack]


def app_root(scope: IConstruct) -> IConstruct:
    """The root of the construct tree (the App) that ``scope`` is in."""
    stack = stack_of(scope)
    if stack not in _ROOTS:
        _ROOTS[stack] = node_of(stack).root
    return _ROOTS[stack]


def find_child(parent: IConstruct, construct_id: str) -> IConstruct | None:
    """``parent.node.try_find_child(construct_id)``; a child once found is kept."""
    known = _CHILDREN.setdefault(parent, {})
    if construct_id not in known:
        found = node_of(parent).try_find_child(construct_id)
        if found is None:
            return None
        known[construct_id] = found
    return known[construct_id]


def path_of(scope: IConstruct) -> str:
    """``scope.node.path``, asked of CDK once per construct: a path never changes."""
    if scope not in _PATHS:
        _PATHS[scope] = node_of(scope).path
    return _PATHS[scope]
