"""Content bodies: every format renders to HTML that keeps its structure and runs nothing.

The XSS corpus below is the contract of the sanitizer: each payload goes through
``render_body`` and the output is parsed (stdlib ``html.parser``) to check that only
allowed tags and attributes remain and that no URL can run script.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from rustok_content.rendering import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    BODY_FORMATS,
    MAX_BODY_CHARS,
    render_body,
    sanitize_html,
)
from rustok_core.errors import Validation

# --------------------------------------------------------------------------- helpers


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """The start tags of ``html`` with their (entity-decoded) attributes."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.elements


def tags(html: str) -> list[str]:
    return [tag for tag, _ in elements(html)]


def the(html: str, tag: str) -> dict[str, str | None]:
    """Attributes of the only ``tag`` element in ``html``."""
    found = [attrs for name, attrs in elements(html) if name == tag]
    assert len(found) == 1, (tag, html)
    return found[0]


FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "style", "svg", "math", "form", "meta", "link", "base"}
DANGEROUS_SCHEME = re.compile(r"^(javascript|vbscript|data):")
# A start tag whose attribute list (quoted values skipped) holds an on* handler.
EVENT_HANDLER = re.compile(
    r"""<[a-z][a-z0-9]*(?:\s+[^\s=>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"'][^\s>]*))?)*?\s+on\w+\s*="""
)


def _as_browser_reads(url: str) -> str:
    # Browsers drop tabs and newlines anywhere and spaces/controls at the ends.
    return re.sub(r"[\t\n\r]", "", url).strip("".join(map(chr, range(0x21)))).lower()


def assert_inert(html: str) -> None:
    """Nothing in ``html`` can run script or load active content."""
    lowered = html.lower()
    # Every "<" left in the output opens a real tag (text has "&lt;"), so these
    # substring checks cannot be fooled by escaped text.
    assert "<script" not in lowered
    assert not re.search(r"<(iframe|object|embed|style|svg|math|form|meta)\b", lowered)
    assert not EVENT_HANDLER.search(lowered)
    for tag, attrs in elements(html):
        assert tag not in FORBIDDEN_TAGS, html
        assert tag in ALLOWED_TAGS, html
        allowed = ALLOWED_ATTRIBUTES.get(tag, frozenset()) | ({"rel"} if tag == "a" else set())
        for name, value in attrs.items():
            assert not re.fullmatch(r"on\w+", name), html
            assert name in allowed, (tag, name, html)
            assert not DANGEROUS_SCHEME.match(_as_browser_reads(value or "")), (tag, name, value)
        if tag == "a":
            assert attrs.get("rel") == "noopener noreferrer nofollow", html


def doc(*blocks: dict[str, Any]) -> str:
    return json.dumps({"blocks": list(blocks)})


def field_paths(error: Validation) -> list[tuple[str | int, ...]]:
    return [item.path for item in error.field_errors]


# --------------------------------------------------------------------------- XSS corpus

XSS_CORPUS = [
    # script tags, plain and disguised
    pytest.param("html", "<script>alert(1)</script>", id="html-script"),
    pytest.param("html", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>", id="html-script-src-upper"),
    pytest.param("html", "<scr<script>ipt>alert(1)</script>", id="html-script-split"),
    pytest.param("html", "<<script>alert(1)//<</script>", id="html-script-double-open"),
    pytest.param("html", "<script>alert(1)", id="html-script-unclosed"),
    # event handler attributes
    pytest.param("html", "<img src=x onerror=alert(1)>", id="html-img-onerror"),
    pytest.param("html", '<img src="x" onerror="alert(1)"', id="html-img-onerror-unclosed"),
    pytest.param("html", "<body onload=alert(1)>", id="html-body-onload"),
    pytest.param("html", '<a href="https://ok.example" onmouseover="alert(1)">x</a>', id="html-link-onmouseover"),
    pytest.param("html", "<details open ontoggle=alert(1)>", id="html-details-ontoggle"),
    pytest.param("html", "<input onfocus=alert(1) autofocus>", id="html-input-onfocus"),
    pytest.param("html", '<video><source onerror="alert(1)"></video>', id="html-video-source-onerror"),
    pytest.param("html", "<p/onclick=alert(1)>x</p>", id="html-slash-separated-attribute"),
    # script URLs in href/src, in every disguise
    pytest.param("html", '<a href="javascript:alert(1)">x</a>', id="href-javascript"),
    pytest.param("html", '<a href="JaVaScRiPt:alert(1)">x</a>', id="href-mixed-case"),
    pytest.param(
        "html",
        '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
        id="href-decimal-entities",
    ),
    pytest.param("html", '<a href="&#x6A;avascript&#x3A;alert(1)">x</a>', id="href-hex-entities"),
    pytest.param(
        "html",
        '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058'
        'alert(1)">x</a>',
        id="href-padded-entities-no-semicolons",
    ),
    pytest.param("html", '<a href="javascript&colon;alert(1)">x</a>', id="href-named-colon-entity"),
    pytest.param("html", '<a href="jav&#x09;ascript:alert(1)">x</a>', id="href-encoded-tab"),
    pytest.param("html", '<a href="java\nscript:alert(1)">x</a>', id="href-newline-split"),
    pytest.param("html", '<a href=" &#14;  javascript:alert(1)">x</a>', id="href-leading-control"),
    pytest.param("html", "<img src=`javascript:alert(1)`>", id="src-backticks"),
    pytest.param("html", '<img src="vbscript:msgbox(1)">', id="src-vbscript"),
    pytest.param("html", '<img src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">', id="src-data-uri"),
    pytest.param("html", '<a href="data:text/html,<script>alert(1)</script>">x</a>', id="href-data-uri"),
    # svg and math
    pytest.param("html", "<svg onload=alert(1)>", id="svg-onload"),
    pytest.param("html", "<svg><script>alert(1)</script></svg>", id="svg-script"),
    pytest.param(
        "html", '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>', id="svg-xlink"
    ),
    pytest.param("html", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", id="math-mutation-xss"),
    pytest.param("html", '<math href="javascript:alert(1)">x</math>', id="math-href"),
    # styles
    pytest.param("html", '<style>body{background:url("javascript:alert(1)")}</style>', id="style-tag"),
    pytest.param("html", '<p style="background-image:url(javascript:alert(1))">x</p>', id="style-attribute"),
    pytest.param("html", '<div style="width: expression(alert(1))">x</div>', id="style-expression"),
    # embedding, navigation, forms
    pytest.param("html", '<iframe src="javascript:alert(1)"></iframe>', id="iframe-src"),
    pytest.param("html", '<iframe srcdoc="<script>alert(1)</script>"></iframe>', id="iframe-srcdoc"),
    pytest.param("html", '<object data="javascript:alert(1)"></object>', id="object-data"),
    pytest.param("html", '<embed src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">', id="embed"),
    pytest.param("html", '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', id="meta-refresh"),
    pytest.param("html", '<form action="javascript:alert(1)"><button>go</button></form>', id="form-action"),
    pytest.param("html", '<button formaction="javascript:alert(1)">x</button>', id="button-formaction"),
    pytest.param("html", '<base href="javascript:alert(1)//">', id="base-href"),
    pytest.param("html", '<link rel="stylesheet" href="javascript:alert(1)">', id="link-stylesheet"),
    pytest.param("html", '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>', id="table-background"),
    # parser confusion
    pytest.param(
        "html", '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>', id="noscript-breakout"
    ),
    pytest.param("html", "<!--<img src=x onerror=alert(1)>--><![CDATA[<script>]]>", id="comment-and-cdata"),
    pytest.param("html", "<code class='language-py\" onmouseover=alert(1)'>x</code>", id="class-quote-breakout"),
    # markdown
    pytest.param("markdown", "[click](javascript:alert(1))", id="md-link-javascript"),
    pytest.param("markdown", "[click](JaVaScRiPt:alert(1))", id="md-link-mixed-case"),
    pytest.param("markdown", "[click](&#x6A;avascript:alert(1))", id="md-link-entity"),
    pytest.param("markdown", "[click](<javascript:alert(1)>)", id="md-link-angle-destination"),
    pytest.param("markdown", "[click][ref]\n\n[ref]: javascript:alert(1)", id="md-reference-link"),
    pytest.param("markdown", "![x](javascript:alert(1))", id="md-image-javascript"),
    pytest.param("markdown", "![x](data:text/html;base64,PHNjcmlwdD4=)", id="md-image-data"),
    pytest.param("markdown", "<javascript:alert(1)>", id="md-autolink-javascript"),
    pytest.param("markdown", "<vbscript:msgbox(1)>", id="md-autolink-vbscript"),
    pytest.param("markdown", "Hello <img src=x onerror=alert(1)> world", id="md-inline-raw-html"),
    pytest.param("markdown", "<script>\nalert(1)\n</script>\n\ntext", id="md-block-raw-script"),
    pytest.param("markdown", '<a href="javascript:alert(1)">raw</a>', id="md-raw-link"),
    pytest.param("markdown", '[x](https://ok.example "t\\" onmouseover=\\"alert(1)")', id="md-title-breakout"),
    pytest.param("markdown", '```js" onmouseover="alert(1)\nx\n```', id="md-fence-info-breakout"),
    pytest.param("markdown", "| a |\n|---|\n| <img src=x onerror=alert(1)> |", id="md-raw-html-in-table"),
    # json documents
    pytest.param("json", doc({"type": "paragraph", "text": "<script>alert(1)</script>"}), id="json-script-text"),
    pytest.param(
        "json",
        doc({"type": "heading", "level": 2, "text": "&lt;script&gt;alert(1)&lt;/script&gt;"}),
        id="json-html-encoded-text",
    ),
    pytest.param(
        "json",
        doc(
            {
                "type": "image",
                "src": "https://ok.example/a.png",
                "alt": '"><script>alert(1)</script>',
                "caption": "<img src=x onerror=alert(1)>",
            }
        ),
        id="json-image-alt-and-caption",
    ),
    pytest.param(
        "json", doc({"type": "image", "src": '/a.png" onerror="alert(1)', "alt": "x"}), id="json-image-src-quote"
    ),
    pytest.param(
        "json",
        doc({"type": "code", "text": "</code></pre><script>alert(1)</script>", "language": "html"}),
        id="json-code-breakout",
    ),
    pytest.param(
        "json",
        doc(
            {"type": "list", "items": ["<svg onload=alert(1)>", "<a href=javascript:alert(1)>x</a>"]},
            {"type": "quote", "text": "<iframe src=javascript:alert(1)>", "cite": "<b onclick=alert(1)>me</b>"},
        ),
        id="json-list-and-quote",
    ),
]


def test_the_xss_corpus_is_large_enough():
    assert len(XSS_CORPUS) >= 25


@pytest.mark.parametrize(("body_format", "source"), XSS_CORPUS)
def test_xss_payload_renders_inert(body_format, source):
    assert_inert(render_body(body_format, source))


@pytest.mark.parametrize(
    "src",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " \tjava\nscript:alert(1)",
        "vbscript:msgbox(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "ftp://files.example/a.png",
    ],
)
def test_json_image_with_a_non_http_src_is_refused(src):
    source = doc({"type": "paragraph", "text": "ok"}, {"type": "image", "src": src, "alt": "x"})
    with pytest.raises(Validation) as caught:
        render_body("json", source)
    assert field_paths(caught.value) == [("body", "blocks", 1, "src")]


def test_sanitizer_drops_a_script_url_even_in_markup_a_json_image_would_produce():
    # Defence in depth: should the JSON validation ever let one through.
    html = sanitize_html('<figure><img src="javascript:alert(1)" alt="x"></figure>')
    assert_inert(html)
    assert the(html, "img") == {"alt": "x"}


def test_json_text_is_shown_as_text_not_markup():
    html = render_body("json", doc({"type": "paragraph", "text": "<b>bold</b> &amp; co"}))
    assert html == "<p>&lt;b&gt;bold&lt;/b&gt; &amp;amp; co</p>\n"


# --------------------------------------------------------------------------- benign content

ARTICLE = """\
# Title

## Section

Some *emphasis*, **strong**, ~~struck~~ and `inline code`.

- one
- two

1. first
2. second

| left | right |
|:-----|------:|
| a    | b     |

```python
print("hi")
```

> a quote

[docs](https://docs.example/page "Docs") and [home](/home) and [mail](mailto:team@example.com)

![A diagram](/media/diagram.png)

H<sub>2</sub>O and E = mc<sup>2</sup>
"""


def test_markdown_keeps_headings_lists_tables_code_and_quotes():
    html = render_body("markdown", ARTICLE)
    found = tags(html)
    for tag in ("h1", "h2", "em", "strong", "s", "code", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td"):
        assert tag in found, tag
    assert ("blockquote" in found) and ("pre" in found) and ("sub" in found) and ("sup" in found)
    assert "<h1>Title</h1>" in html
    assert '<pre><code class="language-python">print("hi")\n</code></pre>' in html


def test_markdown_table_alignment_survives_as_the_align_attribute():
    html = render_body("markdown", ARTICLE)
    cells = [attrs for tag, attrs in elements(html) if tag in {"th", "td"}]
    assert [cell.get("align") for cell in cells] == ["left", "right", "left", "right"]


def test_links_keep_their_url_and_get_rel():
    html = render_body("markdown", ARTICLE)
    links = [attrs for tag, attrs in elements(html) if tag == "a"]
    assert [link["href"] for link in links] == ["https://docs.example/page", "/home", "mailto:team@example.com"]
    assert all(link["rel"] == "noopener noreferrer nofollow" for link in links)
    assert links[0]["title"] == "Docs"


def test_images_keep_src_and_alt():
    html = render_body("markdown", ARTICLE)
    assert the(html, "img") == {"src": "/media/diagram.png", "alt": "A diagram"}


def test_markdown_does_not_linkify_bare_urls():
    html = render_body("markdown", "see https://example.com today")
    assert html == "<p>see https://example.com today</p>\n"


def test_markdown_raw_html_passes_through_the_sanitizer():
    html = render_body("markdown", 'A <span class="x">note</span>, <u>underline</u>, <font color="red">font</font>')
    assert html == "<p>A <span>note</span>, <u>underline</u>, font</p>\n"


def test_html_keeps_allowed_markup_and_unwraps_the_rest():
    source = (
        "<!-- internal note --><article><h2 id='x'>Heading</h2>"
        '<table><tbody><tr><td colspan="2" rowspan="1" align="center">cell</td></tr></tbody></table>'
        '<img src="https://cdn.example/a.png" alt="A" title="T" width="10" height="20" loading="lazy">'
        '<pre class="language-rust"><code class="language-rust hljs">fn main() {}</code></pre>'
        "</article>"
    )
    html = render_body("html", source)
    assert "internal note" not in html
    assert "article" not in html
    assert "<h2>Heading</h2>" in html
    assert the(html, "td") == {"colspan": "2", "rowspan": "1", "align": "center"}
    assert the(html, "img") == {
        "src": "https://cdn.example/a.png",
        "alt": "A",
        "title": "T",
        "width": "10",
        "height": "20",
    }
    assert the(html, "pre") == {"class": "language-rust"}
    assert the(html, "code") == {"class": "language-rust"}


@pytest.mark.parametrize("klass", ["hljs", "Language-Python", "language-", "language-py()", "x language_py"])
def test_a_class_that_is_not_a_code_language_is_dropped(klass):
    html = render_body("html", f'<code class="{klass}">x</code>')
    assert html == "<code>x</code>"


def test_only_the_language_names_of_a_class_are_kept():
    assert render_body("html", '<code class="hljs language-py x">x</code>') == '<code class="language-py">x</code>'


def test_links_with_their_own_rel_get_ours():
    html = render_body("html", '<a href="https://ok.example" rel="opener" target="_blank">x</a>')
    assert the(html, "a") == {"href": "https://ok.example", "rel": "noopener noreferrer nofollow"}


def test_json_document_renders_every_block_type():
    source = doc(
        {"type": "heading", "level": 2, "text": "Intro"},
        {"type": "paragraph", "text": "line one\nline two"},
        {"type": "list", "ordered": True, "items": ["a", "b"]},
        {"type": "list", "items": ["c"]},
        {"type": "quote", "text": "To be.", "cite": "Hamlet"},
        {"type": "code", "text": "x = 1 < 2", "language": "python"},
        {"type": "image", "src": "/media/a.png", "alt": "A cat", "caption": "Our cat"},
        {"type": "image", "src": "https://cdn.example/b.png?w=1&h=2", "alt": ""},
        {"type": "divider"},
    )
    assert render_body("json", source) == (
        "<h2>Intro</h2>\n"
        "<p>line one<br>\nline two</p>\n"
        "<ol><li>a</li><li>b</li></ol>\n"
        "<ul><li>c</li></ul>\n"
        "<blockquote><p>To be.</p><cite>Hamlet</cite></blockquote>\n"
        '<pre><code class="language-python">x = 1 &lt; 2</code></pre>\n'
        '<figure><img src="/media/a.png" alt="A cat"><figcaption>Our cat</figcaption></figure>\n'
        '<figure><img src="https://cdn.example/b.png?w=1&amp;h=2" alt=""></figure>\n'
        "<hr>\n"
    )


def test_an_empty_json_document_renders_nothing():
    assert render_body("json", '{"blocks": []}').strip() == ""


@pytest.mark.parametrize(("body_format", "source"), [("markdown", ARTICLE), ("html", ARTICLE), ("json", doc())])
def test_rendering_is_deterministic(body_format, source):
    assert render_body(body_format, source) == render_body(body_format, source)


def test_every_declared_format_renders():
    sources = {"markdown": "*x*", "html": "<em>x</em>", "json": doc({"type": "paragraph", "text": "x"})}
    assert set(sources) == set(BODY_FORMATS)
    for body_format, source in sources.items():
        assert "x" in render_body(body_format, source)


# --------------------------------------------------------------------------- refusals


def test_an_unknown_format_is_refused():
    with pytest.raises(Validation) as caught:
        render_body("rst", "x")
    assert field_paths(caught.value) == [("format",)]


def test_a_body_longer_than_the_limit_is_refused():
    assert render_body("markdown", "a" * MAX_BODY_CHARS)
    with pytest.raises(Validation) as caught:
        render_body("markdown", "a" * (MAX_BODY_CHARS + 1))
    assert field_paths(caught.value) == [("body",)]


@pytest.mark.parametrize(
    ("source", "path"),
    [
        ("{not json", ("body",)),
        ("[" * 100_000 + "]" * 100_000, ("body",)),
        ("[]", ("body",)),
        ('{"blocks": {}}', ("body", "blocks")),
        ('{"blocks": [], "version": 2}', ("body", "version")),
        (doc({"type": "paragraph"}), ("body", "blocks", 0, "text")),
        (doc({"type": "paragraph", "text": "x", "colour": "red"}), ("body", "blocks", 0, "colour")),
        (doc({"text": "x"}), ("body", "blocks", 0, "type")),
        (doc({"type": "video", "src": "x"}), ("body", "blocks", 0, "type")),
        (doc({"type": ["heading"]}), ("body", "blocks", 0, "type")),
        (json.dumps({"blocks": ["text"]}), ("body", "blocks", 0)),
        (doc({"type": "heading", "level": "2", "text": "x"}), ("body", "blocks", 0, "level")),
        (doc({"type": "heading", "level": 1, "text": ""}), ("body", "blocks", 0, "text")),
        (doc({"type": "list", "ordered": 1, "items": ["a"]}), ("body", "blocks", 0, "ordered")),
        (doc({"type": "list", "items": []}), ("body", "blocks", 0, "items")),
        (doc({"type": "list", "items": ["a", 3]}), ("body", "blocks", 0, "items", 1)),
        (doc({"type": "code", "text": "x", "language": "Py thon"}), ("body", "blocks", 0, "language")),
        (doc({"type": "image", "src": "/a.png"}), ("body", "blocks", 0, "alt")),
    ],
)
def test_an_invalid_json_document_is_refused_with_a_path_into_it(source, path):
    with pytest.raises(Validation) as caught:
        render_body("json", source)
    assert field_paths(caught.value) == [path]


def test_every_invalid_block_is_reported_at_its_index():
    source = doc(
        {"type": "paragraph", "text": "fine"},
        {"type": "paragraph", "text": "fine"},
        {"type": "paragraph", "text": "fine"},
        {"type": "heading", "level": 7, "text": "too deep"},
        {"type": "divider", "text": "dividers have no text"},
    )
    with pytest.raises(Validation) as caught:
        render_body("json", source)
    assert field_paths(caught.value) == [("body", "blocks", 3, "level"), ("body", "blocks", 4, "text")]
    assert "body.blocks.3.level" in caught.value.message
