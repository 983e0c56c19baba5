"""No N+1: a page of nodes with every relation costs the same number of SQL queries at any size."""

from __future__ import annotations

from typing import Any

from rustok_content.services import (
    BodyInput,
    CategoryService,
    CategoryText,
    MetaInput,
    MetaService,
    NewNode,
    NodeService,
)
from rustok_content.services import TranslationInput as T
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient
from rustok_testing.events import deliver_events
from rustok_testing.queries import count_queries

LIST = """
query($first: Int!) {
  nodes(kind: "article", first: $first, locale: "de", order: PUBLISHED) {
    edges { node {
      id title slug excerpt locale availableLocales
      body { html }
      translations { locale title body { format } }
      author { displayName }
      category { name translations { locale name } }
      tags { slug }
      meta { title }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def test_listing_nodes_with_all_relations_costs_a_constant_number_of_queries(
    rustok_client: RustokClient, rustok_platform: Platform, make_tenant: Any, make_user: Any
) -> None:
    tenant = await make_tenant(locales=["en", "de"])
    authors = [await make_user(tenant, role="editor") for _ in range(3)]
    categories = [
        await CategoryService(rustok_platform.ctx).create(
            tenant, translations=[CategoryText("en", f"Cat {n}"), CategoryText("de", f"Kat {n}")], actor_id=None
        )
        for n in range(4)
    ]
    nodes = NodeService(rustok_platform.ctx)
    for n in range(55):
        created = await nodes.create(
            tenant,
            NewNode(
                kind="article",
                status="published",
                author_id=authors[n % 3].id,
                category_id=categories[n % 4].id,
                tags=[f"tag {n % 5}", "common"],
                translations=[
                    T("en", f"Post {n}", body=BodyInput("markdown", f"Body **{n}**")),
                    T("de", f"Beitrag {n}", body=BodyInput("markdown", f"Text **{n}**")),
                ],
            ),
            actor_id=None,
        )
        if n % 2:
            await MetaService(rustok_platform.ctx).upsert(
                tenant, "node", created.id, "de", MetaInput(title=f"SEO {n}"), actor_id=None
            )

    # The index applies the writes' events in the background: let it finish first, then
    # warm the caches (tenant, grants) so that both measured requests do the same work.
    await deliver_events(rustok_platform)
    await rustok_client.graphql_data(LIST, {"first": 1}, headers=authors[0].headers)
    counts = {}
    for size in (5, 50):
        async with count_queries(rustok_platform) as counted:
            data = await rustok_client.graphql_data(LIST, {"first": size}, headers=authors[0].headers)
        edges = data["nodes"]["edges"]
        assert len(edges) == size
        assert all(e["node"]["locale"] == "de" and e["node"]["author"] and e["node"]["category"] for e in edges)
        counts[size] = counted.count
    assert counts[5] == counts[50], counts
    # list + translations + bodies + users + categories + category translations + tags + meta (+ auth/tenant)
    assert counts[50] <= 12, counts
