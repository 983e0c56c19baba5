"""Which query operations may be answered by the :class:`~rustok_core.interfaces.GraphQLResponder`.

An operation qualifies when it is a query, each of its root selections is a
``@storefrontCached`` field (or ``__typename``), and every field selected below them —
through fragments too — was declared by the owner of its type and asks for no sign-in
or permission. A field a module adds to another owner's type is refused: its owner
may compute it from data the read model does not follow, or per caller. Decisions
are made once per document and operation (they do not depend on variables: a field
that ``@skip`` may drop still counts).
"""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)

from rustok_server.graphql.schema import ComposedSchema


class CachePolicy:
    """Decides whether an operation of a validated document is cacheable."""

    def __init__(self, composed: ComposedSchema) -> None:
        self.schema = composed.schema
        self.root_fields = composed.cached_fields
        # Fields whose answer may depend on the caller or on data of another owner.
        self.unsafe = frozenset(
            key
            for key, access in composed.fields.items()
            if access.permission is not None or access.authenticated or composed.type_owners.get(key[0]) != access.owner
        )

    def allows(self, operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]) -> bool:
        """Whether ``operation`` (of a document that passed validation) is cacheable."""
        if operation.operation is not OperationType.QUERY or not self.root_fields:
            return False
        query_type = self.schema.query_type
        if query_type is None:
            return False
        return self._selection_allowed(operation.selection_set, query_type, fragments, set(), root=True)

    def _selection_allowed(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLObjectType,
        fragments: dict[str, FragmentDefinitionNode],
        visiting: set[str],
        *,
        root: bool,
    ) -> bool:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name == "__typename":
                    continue
                if root:
                    # Root fields belong to modules, never to Query's owner: the mark decides.
                    if name not in self.root_fields:
                        return False
                elif (parent.name, name) in self.unsafe:
                    return False
                field = parent.fields.get(name)
                if field is None:
                    return False
                if selection.selection_set is not None:
                    child = _object_type(get_named_type(field.type))
                    if child is None:
                        return False
                    if not self._selection_allowed(selection.selection_set, child, fragments, visiting, root=False):
                        return False
            elif isinstance(selection, InlineFragmentNode):
                if selection.type_condition is not None and selection.type_condition.name.value != parent.name:
                    return False
                if not self._selection_allowed(selection.selection_set, parent, fragments, visiting, root=root):
                    return False
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or fragment.type_condition.name.value != parent.name:
                    return False
                if name in visiting:
                    continue
                if not self._selection_allowed(fragment.selection_set, parent, fragments, visiting | {name}, root=root):
                    return False
        return True


def _object_type(named: GraphQLNamedType) -> GraphQLObjectType | None:
    # Interfaces and unions are refused: which owner answers depends on the runtime type.
    return named if isinstance(named, GraphQLObjectType) else None
