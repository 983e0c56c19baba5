"""Query limits: depth and cost, on by default.

Depth counts nested selections of an operation, following fragments; introspection
fields (``__schema``, ``__type``) are not counted, so explorers keep working. Cost
uses Ariadne's cost validator: every field costs 1 unless it declares ``@cost``, and
list fields multiply by their ``first``/``last`` arguments where declared. The cost
depends on variables, so it is checked per request with :func:`cost_errors`.
"""

from __future__ import annotations

from typing import Any

from ariadne.validation import cost_validator
from ariadne.validation.query_cost import CostValidator
from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeInfo,
    ValidationContext,
)
from graphql.validation.validate import ValidationAbortedError

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
MAX_ERRORS = 100
"""graphql-core's ``validate`` stops after this many errors, and so does :func:`cost_errors`."""


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


def cost_errors(
    schema: GraphQLSchema, document: DocumentNode, max_cost: int, variables: dict[str, Any] | None
) -> list[GraphQLError]:
    """What ``validate(schema, document, [cost_limit_rule(max_cost, variables)])`` reports, faster.

    The cost rule acts on operation definitions only (it walks their selections itself),
    so the full visitor, which tracks type information through every node, costs
    several times the rule's own work. This calls the rule's operation hooks in the
    order the visitor would, with the same error limit.
    """
    errors: list[GraphQLError] = []

    def on_error(error: GraphQLError) -> None:
        if len(errors) >= MAX_ERRORS:
            raise ValidationAbortedError("Too many validation errors, error limit reached. Validation aborted.")
        errors.append(error)

    context = ValidationContext(schema, document, TypeInfo(schema), on_error)
    rule = CostValidator(context, maximum_cost=max_cost, default_cost=1, variables=variables)
    try:
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                # Ariadne leaves these hooks unannotated.
                rule.enter_operation_definition(definition, None, None, [], [])  # type: ignore[no-untyped-call]
                rule.leave_operation_definition(definition, None, None, [], [])  # type: ignore[no-untyped-call]
    except ValidationAbortedError as error:
        error.__context__ = None
        errors.append(error.with_traceback(None))
    return errors
