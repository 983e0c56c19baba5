"""Query limits: depth and cost, on by default.

Depth counts nested selections of an operation, following fragments; introspection
fields (``__schema``, ``__type``) are not counted, so explorers keep working. Cost
uses Ariadne's cost validator: every field costs 1 unless it declares ``@cost``, and
list fields multiply by their ``first``/``last`` arguments where declared.
"""

from __future__ import annotations

from typing import Any

from ariadne.validation import cost_validator
from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
)

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"


def depth_limit_rule(max_depth: int) -> type[ASTValidationRule]:
    """A validation rule refusing operations nested deeper than ``max_depth``."""

    class DepthLimitRule(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            depth = _depth(node.selection_set, self.context, 0, set())  # type: ignore[arg-type]
            if depth > max_depth:
                name = f"'{node.name.value}'" if node.name else "the operation"
                self.report_error(
                    GraphQLError(
                        f"{name} is nested {depth} levels deep; the maximum is {max_depth}",
                        node,
                        extensions={"reason": QUERY_TOO_DEEP, "depth": depth, "maxDepth": max_depth},
                    )
                )

    return DepthLimitRule


def _depth(
    selection_set: SelectionSetNode | None,
    context: ValidationContext,
    level: int,
    visiting: set[str],
) -> int:
    if selection_set is None:
        return level
    deepest = level
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue
            deepest = max(deepest, _depth(selection.selection_set, context, level + 1, visiting))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, context, level, visiting))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in visiting:
                continue  # cycles are reported by the standard NoFragmentCycles rule
            fragment: FragmentDefinitionNode | None = context.get_fragment(name)
            if fragment is not None:
                deepest = max(deepest, _depth(fragment.selection_set, context, level, visiting | {name}))
    return deepest


def cost_limit_rule(max_cost: int, variables: dict[str, Any] | None) -> type[ASTValidationRule]:
    """Ariadne's cost validator configured for this platform (every field costs 1)."""
    rule: type[ASTValidationRule] = cost_validator(maximum_cost=max_cost, default_cost=1, variables=variables)
    return rule
