"""Plans of the fast path: a query operation compiled into value-completing functions.

A plan exists only for operations whose every step graphql-core would take is known:

* root fields whose resolver has a storefront read (``rustok_index.graphql.STOREFRONT_READS``)
  and ``__typename``;
* below them, object types without ``is_type_of`` whose fields take no arguments and
  resolve by key — graphql-core's default resolver (the field's name) or Ariadne's
  ``resolve_to`` (the snake_case name, found by probing the resolver once);
* scalars and enums (completed with the type's own ``coerce_output_value``), lists,
  non-null wrappers, aliases, repeated fields (merged), ``__typename``;
* fragment spreads and inline fragments whose type condition is the exact object type.

Anything else — ``@skip``/``@include`` or any other directive, fragments on interfaces
or unions, fragment variables, abstract types, introspection, custom resolvers — has no
plan and is executed by graphql-core. Plans do not depend on variables, so one is
compiled per document and operation and kept with the document.

Each object position's needs are a :class:`Selection` carrying its completion, so a read
can complete rows ahead of the plan (and keep their JSON); a completion returns such
an ``orjson.Fragment`` as it is.

Completion functions raise :class:`Fallback` when a value is one graphql-core would
treat specially (a null in a non-null position, a value its scalar refuses, a
callable, a list or object of an unexpected kind): the caller then executes normally,
which produces graphql-core's exact answer, errors included.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableDefinitionNode,
)
from graphql.pyutils import Undefined
from orjson import Fragment

Complete = Callable[[Any], Any]
Read = Callable[..., Any]
Needs = Mapping[str, "Needs"]
"""The source keys a selection reads, each with what it reads below it (``{}`` for leaves)."""


class Selection(dict[str, Needs]):
    """The needs of an object position, with the plan's completion of an object there.

    A read may complete an object there with it ahead of the plan and hand over the JSON
    as an :class:`orjson.Fragment` (kept per row version, see
    :mod:`rustok_index.services.rendered`); object completions pass a fragment through
    unchanged. Only the fast path's reads, given this completion, make fragments.
    """

    __slots__ = ("complete",)

    def __init__(self, needs: Mapping[str, Needs], complete: Complete) -> None:
        super().__init__(needs)
        self.complete = complete


MAX_INT = 2_147_483_647
MIN_INT = -2_147_483_648


class NotPlannable(Exception):
    """The operation uses something the fast path does not reproduce."""


class Fallback(Exception):
    """A value the plan would not complete exactly like graphql-core."""


@dataclass(frozen=True, slots=True)
class RootField:
    key: str
    """The response key (alias or name)."""
    field: GraphQLField | None
    """``None`` for ``__typename``."""
    node: FieldNode
    read: Read | None
    complete: Complete
    takes_arguments: bool
    needs: Needs
    """What the completion reads of the read's value: the read may build only that."""


@dataclass(frozen=True, slots=True)
class OperationPlan:
    variable_definitions: Sequence[VariableDefinitionNode]
    roots: tuple[RootField, ...]


def compile_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    reads: Mapping[Callable[..., Any], Read],
) -> OperationPlan:
    """The plan of ``operation`` (validated); raises :class:`NotPlannable`."""
    query = schema.query_type
    if query is None or operation.directives:
        raise NotPlannable("operation directives")
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    roots = []
    for key, nodes in _collect([operation.selection_set], query, fragments).items():
        name = nodes[0].name.value
        if name == "__typename":
            roots.append(RootField(key, None, nodes[0], None, _constant(query.name), False, {}))
            continue
        field = query.fields.get(name)
        read = reads.get(field.resolve) if field is not None and field.resolve is not None else None
        if field is None or read is None:
            raise NotPlannable(f"root field {name} has no storefront read")
        takes_arguments = bool(field.args) or any(node.arguments for node in nodes)
        complete, needs = _complete(field.type, nodes, fragments)
        roots.append(RootField(key, field, nodes[0], read, complete, takes_arguments, needs))
    return OperationPlan(tuple(operation.variable_definitions or ()), tuple(roots))


def _collect(
    selection_sets: Sequence[SelectionSetNode],
    parent: GraphQLObjectType,
    fragments: Mapping[str, FragmentDefinitionNode],
) -> dict[str, list[FieldNode]]:
    """Fields by response key, in graphql-core's order (first appearance; fragments inline)."""
    grouped: dict[str, list[FieldNode]] = {}
    visited: set[str] = set()

    def visit(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if selection.directives:
                raise NotPlannable("directives")
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is not None and condition.name.value != parent.name:
                    raise NotPlannable("inline fragment on another type")
                visit(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in visited:
                    continue
                fragment = fragments.get(name)
                if (
                    fragment is None
                    or fragment.directives
                    or fragment.variable_definitions
                    or fragment.type_condition.name.value != parent.name
                ):
                    raise NotPlannable(f"fragment {name}")
                visited.add(name)
                visit(fragment.selection_set)
            else:
                raise NotPlannable(f"selection {type(selection).__name__}")

    for selection_set in selection_sets:
        visit(selection_set)
    return grouped


def _complete(
    type_: GraphQLOutputType, nodes: Sequence[FieldNode], fragments: Mapping[str, FragmentDefinitionNode]
) -> tuple[Complete, Needs]:
    """The completion of ``nodes``' values of ``type_``, and the source keys it reads (one walk)."""
    nullable = True
    if isinstance(type_, GraphQLNonNull):
        nullable = False
        type_ = type_.of_type
    if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
        return _leaf(type_, nullable=nullable), {}
    if isinstance(type_, GraphQLList):
        return _list(type_.of_type, nodes, fragments, nullable=nullable)
    if isinstance(type_, GraphQLObjectType):
        return _object(type_, nodes, fragments, nullable=nullable)
    raise NotPlannable(f"type {type_}")


def _list(
    item_type: GraphQLOutputType,
    nodes: Sequence[FieldNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    *,
    nullable: bool,
) -> tuple[Complete, Needs]:
    if isinstance(item_type, GraphQLNonNull) and (item_type.of_type is GraphQLString or item_type.of_type is GraphQLID):
        # [String!]: a list of str is its own completion.
        item = _leaf(item_type.of_type, nullable=False)

        def strings(value: Any) -> Any:
            if type(value) is list and all(type(element) is str for element in value):
                return value
            if value is None:
                if nullable:
                    return None
                raise Fallback("null in a non-null position")
            if type(value) is not list and type(value) is not tuple:
                raise Fallback("not a list")
            return [item(element) for element in value]

        return strings, {}
    item, needs = _complete(item_type, nodes, fragments)

    def complete_list(value: Any) -> Any:
        if type(value) is list or type(value) is tuple:
            return [item(element) for element in value]
        if value is None:
            if nullable:
                return None
            raise Fallback("null in a non-null position")
        raise Fallback("not a list")

    return complete_list, needs


def _object(
    type_: GraphQLObjectType,
    nodes: Sequence[FieldNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    *,
    nullable: bool,
) -> tuple[Complete, Needs]:
    if type_.is_type_of is not None:
        raise NotPlannable(f"{type_.name} checks is_type_of")
    selection_sets = [node.selection_set for node in nodes if node.selection_set is not None]
    fields: list[tuple[str, str | None, Complete]] = []
    needs: dict[str, Needs] = {}
    for key, field_nodes in _collect(selection_sets, type_, fragments).items():
        name = field_nodes[0].name.value
        if name == "__typename":
            fields.append((key, None, _constant(type_.name)))
            continue
        field = type_.fields.get(name)
        if field is None or field.args or any(node.arguments for node in field_nodes):
            raise NotPlannable(f"{type_.name}.{name}")
        source = _source_key(field, name)
        complete, below = _complete(field.type, field_nodes, fragments)
        fields.append((key, source, complete))
        needs[source] = _merged(needs[source], below) if source in needs else below
    complete = _object_completion(tuple(fields), type_.name, nullable)
    return complete, Selection(needs, complete)


def _object_completion(plan: Sequence[tuple[str, str | None, Complete]], type_name: str, nullable: bool) -> Complete:
    """One function completing an object of this selection: a dict of the response keys, in order.

    Generated as Python source (like a template engine compiles a template): the
    value of each field is taken with one ``get`` and kept when its inline check
    (the scalar's own fast case, e.g. ``type(v) is str``) passes, else completed by the
    field's function, so the common case costs no call per field. The result is the
    same as calling each field's completion in order.
    """
    namespace: dict[str, Any] = {"Fallback": Fallback, "Fragment": Fragment, "nullable": nullable}
    lines = ["def complete_object(value):", "    if type(value) is dict:", "        get = value.get"]
    for n, (_key, source, complete) in enumerate(plan):
        if source is None:  # __typename
            lines.append(f"        v{n} = {type_name!r}")
            continue
        namespace[f"c{n}"] = complete
        lines.append(f"        v{n} = get({source!r})")
        check = _INLINE_CHECKS.get(complete)
        if check is None:
            lines.append(f"        v{n} = c{n}(v{n})")
        else:
            lines.append(f"        if not ({check.format(v=f'v{n}')}):")
            lines.append(f"            v{n} = c{n}(v{n})")
    entries = ", ".join(f"{key!r}: v{n}" for n, (key, _source, _complete) in enumerate(plan))
    lines += [
        f"        return {{{entries}}}",
        "    if type(value) is Fragment:",
        "        return value",
        "    if value is None:",
        "        if nullable:",
        "            return None",
        "        raise Fallback('null in a non-null position')",
        "    raise Fallback('not a dict')",
    ]
    # The source holds only repr() of names and keys, and names of this namespace.
    exec(compile("\n".join(lines), f"<completion of {type_name}>", "exec"), namespace)
    completion: Complete = namespace["complete_object"]
    return completion


_INLINE_CHECKS: weakref.WeakKeyDictionary[Complete, str] = weakref.WeakKeyDictionary()
"""Leaf completions with the expression (``{v}``: the value) under which they return the value unchanged."""


def _merged(a: Needs, b: Needs) -> Needs:
    """Two fields read the same source key (aliases): what either reads."""
    return {key: _merged(a[key], b[key]) if key in a and key in b else a.get(key, b.get(key, {})) for key in {*a, *b}}


def _constant(value: str) -> Complete:
    def constant(_: Any) -> str:
        return value

    return constant


class _Probe(dict[str, Any]):
    """A source that records which key a resolver reads."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[object] = []

    def get(self, key: Any, default: Any = None) -> Any:
        self.asked.append(key)
        return _PROBED


_PROBED = object()


def _source_key(field: GraphQLField, name: str) -> str:
    """The key of a parent dict that graphql-core would read for the field."""
    resolve = field.resolve
    if resolve is None:
        return name  # graphql-core's default resolver: source.get(field name)
    if getattr(resolve, "_ariadne_alias_resolver", False):
        probe = _Probe()
        if resolve(probe, None) is _PROBED and len(probe.asked) == 1 and isinstance(probe.asked[0], str):
            return probe.asked[0]
    raise NotPlannable(f"field {name} has a resolver of its own")


def _leaf(type_: GraphQLScalarType | GraphQLEnumType, *, nullable: bool) -> Complete:
    coerce = type_.coerce_output_value

    def general(value: Any) -> Any:
        if value is None:
            if nullable:
                return None
            raise Fallback("null in a non-null position")
        if callable(value):
            raise Fallback("a callable value (resolvers call it)")
        try:
            coerced = coerce(value)
        except Exception as exc:
            raise Fallback(f"{type_.name} refuses the value") from exc
        if coerced is None or coerced is Undefined:
            raise Fallback(f"{type_.name} made nothing of the value")
        return coerced

    # The common cases graphql-core's own scalars return unchanged, without a call.
    if type_ is GraphQLString or type_ is GraphQLID:

        def string(value: Any) -> Any:
            return value if type(value) is str else general(value)

        _INLINE_CHECKS[string] = "type({v}) is str"
        return string
    if type_ is GraphQLInt:

        def integer(value: Any) -> Any:
            return value if type(value) is int and MIN_INT <= value <= MAX_INT else general(value)

        _INLINE_CHECKS[integer] = f"type({{v}}) is int and {MIN_INT} <= {{v}} <= {MAX_INT}"
        return integer
    if type_ is GraphQLBoolean:

        def boolean(value: Any) -> Any:
            return value if type(value) is bool else general(value)

        _INLINE_CHECKS[boolean] = "type({v}) is bool"
        return boolean
    return general
