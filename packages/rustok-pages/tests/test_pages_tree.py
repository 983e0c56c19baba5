"""A page tree: paths per locale, lookups by path, renames and moves that rewrite subtrees.

Real PostgreSQL through the real app; events are read back from the outbox and loaded
through the event registry.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rustok_testing.client import error_codes


async def about_tree(site: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    about = await site.create_page(
        {"locale": "en", "title": "About us", "segment": "about"},
        {"locale": "de", "title": "Über uns", "segment": "ueber-uns"},
    )
    team = await site.create_page(
        {"locale": "en", "title": "Our team"},
        {"locale": "de", "title": "Unser Team", "segment": "team"},
        parent=about,
    )
    jobs = await site.create_page({"locale": "en", "title": "Jobs"}, parent=about, position=1)
    return about, team, jobs


async def test_paths_follow_the_tree_in_every_locale_with_the_default_locale_as_fallback(site: Any) -> None:
    about, team, jobs = await about_tree(site)
    assert about["path"] == "about" and about["depth"] == 0
    # A segment is made from the title when none is given.
    assert (team["path"], team["segment"], team["parentId"], team["depth"]) == (
        "about/our-team",
        "our-team",
        about["id"],
        1,
    )
    assert await site.path(team, "de") == "ueber-uns/team"
    # Jobs has no German text: its path is the English one.
    assert await site.path(jobs, "de") == "about/jobs"

    # A German page below a page that only has English text hangs below its English path.
    vacancy = await site.create_page(
        {"locale": "en", "title": "Engineer", "segment": "engineer"},
        {"locale": "de", "title": "Ingenieur", "segment": "ingenieur"},
        parent=jobs,
    )
    assert await site.path(vacancy, "de") == "about/jobs/ingenieur"

    found = (await site.data(site.PAGE_BY_PATH, {"slug": "ueber-uns/team", "locale": "de"}, public=True))["page"]
    assert (found["id"], found["title"], found["locale"]) == (team["id"], "Unser Team", "de")
    # The English path finds the page too; it is served in the locale asked for.
    found = (await site.data(site.PAGE_BY_PATH, {"slug": "/about/our-team/", "locale": "de"}, public=True))["page"]
    assert (found["id"], found["path"]) == (team["id"], "ueber-uns/team")
    missing = await site.data(site.PAGE_BY_PATH, {"slug": "about/nobody"}, public=True)
    assert missing["page"] is None

    listed = await site.data(
        'query($p: UUID) { pages(parentId: $p, locale: "de") { edges { node { title path '
        "breadcrumbs { path } children { path } } } } }",
        {"p": about["id"]},
        public=True,
    )
    nodes = [edge["node"] for edge in listed["pages"]["edges"]]
    assert [(n["title"], n["path"]) for n in nodes] == [("Unser Team", "ueber-uns/team"), ("Jobs", "about/jobs")]
    assert [b["path"] for b in nodes[1]["breadcrumbs"]] == ["ueber-uns", "about/jobs"]
    assert nodes[1]["children"] == [{"path": "about/jobs/ingenieur"}]


async def test_drafts_are_hidden_from_the_public_but_not_from_editors(site: Any) -> None:
    draft = await site.create_page({"locale": "en", "title": "Secret plans"}, status="DRAFT")
    assert draft["status"] == "DRAFT"
    public = await site.data(site.PAGE_BY_PATH, {"slug": "secret-plans"}, public=True)
    assert public["page"] is None
    editor = await site.data(site.PAGE_BY_PATH, {"slug": "secret-plans"})
    assert editor["page"]["id"] == draft["id"]
    listed = await site.data("{ pages { edges { node { id } } } }", public=True)
    assert draft["id"] not in [edge["node"]["id"] for edge in listed["pages"]["edges"]]

    seen = await site.event_ids()
    published = await site.data("mutation($id: UUID!) { publishPage(id: $id) { status version } }", {"id": draft["id"]})
    assert published["publishPage"] == {"status": "PUBLISHED", "version": 2}
    events = await site.events_since(seen)
    assert [(e.event_type, e.payload["node_id"], e.payload["kind"]) for e in events] == [
        ("content.node.published", draft["id"], "page")
    ]
    public = await site.data(site.PAGE_BY_PATH, {"slug": "secret-plans"}, public=True)
    assert public["page"]["id"] == draft["id"]


async def test_moving_a_subtree_rewrites_every_path_below_it_in_one_change(site: Any) -> None:
    about, team, jobs = await about_tree(site)
    company = await site.create_page(
        {"locale": "en", "title": "Company"}, {"locale": "de", "title": "Firma", "segment": "firma"}
    )
    before = {p["id"]: (await site.page_by_id(p["id"]))["version"] for p in (about, team, jobs)}
    seen = await site.event_ids()

    moved = await site.update_page(about, {"parentId": company["id"]})
    assert "errors" not in moved, moved
    assert moved["data"]["updatePage"]["path"] == "company/about"
    assert await site.path(about, "de") == "firma/ueber-uns"
    assert await site.path(team, "en") == "company/about/our-team"
    assert await site.path(team, "de") == "firma/ueber-uns/team"
    assert await site.path(jobs, "de") == "company/about/jobs"
    for page in (about, team, jobs):
        assert (await site.page_by_id(page["id"]))["version"] == before[page["id"]] + 1
    assert (await site.page_by_id(team["id"]))["depth"] == 2

    events = await site.events_since(seen)
    assert site.kinds(events) == {"content.node.updated": 3}
    assert sorted(e.payload["node_id"] for e in events) == sorted(p["id"] for p in (about, team, jobs))
    assert all(e.payload["kind"] == "page" for e in events)

    # Old paths are gone, new ones are found.
    gone = await site.data(site.PAGE_BY_PATH, {"slug": "about/our-team"}, public=True)
    assert gone["page"] is None
    found = await site.data(site.PAGE_BY_PATH, {"slug": "firma/ueber-uns/team", "locale": "de"}, public=True)
    assert found["page"]["id"] == team["id"]

    # Back to the top level (parentId: null) and a new German segment in the same change.
    back = await site.update_page(about, {"parentId": None, "translations": [{"locale": "de", "segment": "wir"}]})
    assert "errors" not in back, back
    assert await site.path(team, "de") == "wir/team"
    assert await site.path(team, "en") == "about/our-team"


async def test_renaming_a_segment_rewrites_the_pages_below_only_in_that_locale(site: Any) -> None:
    about, team, jobs = await about_tree(site)
    seen = await site.event_ids()
    renamed = await site.update_page(about, {"translations": [{"locale": "en", "segment": "who-we-are"}]})
    assert "errors" not in renamed, renamed
    assert await site.path(team, "en") == "who-we-are/our-team"
    assert await site.path(team, "de") == "ueber-uns/team"
    assert await site.path(jobs, "en") == "who-we-are/jobs"
    assert site.kinds(await site.events_since(seen)) == {"content.node.updated": 3}

    # Adding a locale to the parent gives the children that fall back to its default
    # path their own path in that locale.
    seen = await site.event_ids()
    await site.update_page(jobs, {"translations": [{"locale": "de", "title": "Stellen", "segment": "stellen"}]})
    vacancy = await site.create_page(
        {"locale": "en", "title": "Designer"}, {"locale": "de", "title": "Gestalter"}, parent=jobs
    )
    assert await site.path(vacancy, "de") == "ueber-uns/stellen/gestalter"
    removed = await site.update_page(jobs, {"removeLocales": ["de"]})
    assert "errors" not in removed, removed
    assert await site.path(vacancy, "de") == "who-we-are/jobs/gestalter"
    kinds = site.kinds(await site.events_since(seen))
    assert kinds == {"content.node.created": 1, "content.node.published": 1, "content.node.updated": 3}


async def test_a_path_collision_anywhere_refuses_the_whole_move_and_changes_nothing(site: Any) -> None:
    about, team, jobs = await about_tree(site)
    target = await site.create_page(
        {"locale": "en", "title": "Elsewhere"}, {"locale": "de", "title": "Woanders", "segment": "woanders"}
    )
    # An English-only branch whose German child falls back to English paths:
    # its German path is the one about/team would get below the target.
    decoy_root = await site.create_page({"locale": "en", "title": "Woanders"})
    decoy = await site.create_page({"locale": "en", "title": "x", "segment": "ueber-uns"}, parent=decoy_root)
    clash = await site.create_page(
        {"locale": "en", "title": "q"}, {"locale": "de", "title": "Team", "segment": "team"}, parent=decoy
    )
    assert await site.path(clash, "de") == "woanders/ueber-uns/team"
    before = {p["id"]: await site.page_by_id(p["id"], "de") for p in (about, team, jobs)}
    seen = await site.event_ids()

    refused = await site.update_page(about, {"parentId": target["id"]})
    assert error_codes(refused) == ["CONFLICT"]
    extensions = refused["errors"][0]["extensions"]
    assert extensions["reason"] == "PATH_TAKEN"
    assert extensions["paths"] == [{"locale": "de", "path": "woanders/ueber-uns/team"}]
    assert extensions["fieldErrors"][0]["path"] == ["input", "parentId"]
    for page in (about, team, jobs):
        assert await site.page_by_id(page["id"], "de") == before[page["id"]]
    assert await site.events_since(seen) == []

    # A collision of the page itself points at the segment that caused it.
    taken = await site.update_page(jobs, {"translations": [{"locale": "en", "segment": "our-team"}]})
    assert error_codes(taken) == ["CONFLICT"]
    assert taken["errors"][0]["extensions"]["fieldErrors"] == [
        {"path": ["input", "translations", 0, "segment"], "message": "the path 'about/our-team' is taken in en"}
    ]
    assert await site.events_since(seen) == []


async def test_pages_added_while_their_parent_moves_all_get_the_new_path(site: Any) -> None:
    about, team, _ = await about_tree(site)
    company = await site.create_page({"locale": "en", "title": "Company"})

    version = (await site.page_by_id(about["id"]))["version"]

    async def add(n: int) -> Any:
        await asyncio.sleep(0.004 * n)  # staggered: before, during and after the move
        return await site.gql(
            site.CREATE_PAGE,
            {"input": {"parentId": team["id"], "translations": [{"locale": "en", "title": f"Member {n}"}]}},
        )

    move = site.gql(site.UPDATE_PAGE, {"id": about["id"], "version": version, "input": {"parentId": company["id"]}})
    moved, *added = await asyncio.gather(move, *(add(n) for n in range(12)))
    assert "errors" not in moved, moved
    # An addition that committed first was rewritten by the move; one that waited for
    # the move's locks found its parent moved, ran again and read the new path.
    assert [error_codes(body) for body in added] == [[]] * len(added)
    listed = await site.data(
        "query($p: UUID) { pages(parentId: $p, first: 50) { edges { node { path } } } }", {"p": team["id"]}
    )
    paths = [edge["node"]["path"] for edge in listed["pages"]["edges"]]
    assert len(paths) == len(added)
    assert all(path.startswith("company/about/our-team/") for path in paths), paths


async def test_bad_tree_input_is_refused_with_the_field_that_is_wrong(site: Any) -> None:
    about, team, _ = await about_tree(site)

    async def refused(document: str, variables: dict[str, Any]) -> list[Any]:
        body = await site.gql(document, variables)
        assert error_codes(body) == ["VALIDATION"], body
        return [e["path"] for e in body["errors"][0]["extensions"]["fieldErrors"]]

    assert await refused(site.UPDATE_PAGE, {"id": about["id"], "version": 1, "input": {"parentId": team["id"]}}) == [
        ["input", "parentId"]
    ]
    create = site.CREATE_PAGE
    assert await refused(create, {"input": {"translations": [{"locale": "en", "title": "A", "segment": "a/b"}]}}) == [
        ["input", "translations", 0, "segment"]
    ]
    assert await refused(create, {"input": {"translations": [{"locale": "fr", "title": "A"}]}}) == [
        ["input", "translations", 0, "locale"]
    ]
    assert await refused(
        create,
        {
            "input": {
                "translations": [{"locale": "en", "title": "A"}],
                "parentId": "0" * 8 + "-0000-0000-0000-" + "0" * 12,
            }
        },
    ) == [["input", "parentId"]]
    assert await refused(
        create, {"input": {"translations": [{"locale": "en", "title": "A"}], "metadata": {"_pages": 1}}}
    ) == [["input", "metadata", "_pages"]]
    stale = await site.gql(site.UPDATE_PAGE, {"id": about["id"], "version": 99, "input": {"position": 3}})
    assert error_codes(stale) == ["CONFLICT"]
