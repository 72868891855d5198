"""The help centre: articles written once per language (Markdown under articles/LOCALE/),
rendered to safe HTML.

Articles are whole texts rather than catalogue messages because they are read as prose and
translated as prose; tests/unit/test_helpcentre.py keeps both languages in step (same
articles, same section anchors). Raw HTML in an article is not rendered.

Two extensions to Markdown:
- a heading may end with `{#anchor}`, which becomes its id (links from trace answers land there);
- a link to `trace:CODE` is a link to the trace page, for the reader's own invoice when the
  page was opened with one (`number`), else to the empty trace form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from urllib.parse import quote, urlencode

from markdown_it import MarkdownIt
from markdown_it.token import Token

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
GUIDE = "not-visible"  # the troubleshooting guide "发票在系统中查不到怎么办"
TRACE_PAGE = "/ui/trace"
_ANCHOR = re.compile(r"\s*\{#([a-z0-9-]+)\}\s*$")
_FILE = re.compile(r"^(\d{2})-([a-z0-9-]+)\.md$")

# Each code of the trace diagnosis (trace/service.py) explained by a section of the guide.
CODE_SECTIONS: dict[str, str] = {
    "NOT_ISSUED": "not-issued",
    "ISSUED": "not-issued",
    "TAXPAYER_NOT_FOUND": "not-issued",
    "NUMBER_MALFORMED": "number-malformed",
    "OTHER_REGION": "number-malformed",
    "WRONG_BUYER_TAX_ID": "wrong-buyer-tax-id",
    "NO_BUYER_ACCOUNT": "wrong-buyer-tax-id",
    "BUYER_NOT_REGISTERED": "wrong-buyer-tax-id",
    "NOT_A_PARTY": "not-a-party",
    "VOIDED": "voided-or-reversed",
    "REVERSED": "voided-or-reversed",
    "PENDING_DELIVERY": "pending-delivery",
    "DELIVERY_FAILED": "pending-delivery",
    "REPLICA_BEHIND": "replica-behind",
    "VERIFY_LIMIT_REACHED": "query",
    "MAINTENANCE": "maintenance",
    "VISIBLE": "query",
}


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str


@dataclass(frozen=True)
class Article:
    slug: str
    order: int
    title: str
    sections: tuple[Section, ...]
    source: str


def normalise(locale: str | None) -> str:
    """The article language for a request locale ("en", "en-US", "zh-CN", …)."""
    if locale and locale.replace("-", "_").lower().startswith("en"):
        return "en"
    return DEFAULT_LOCALE


@cache
def _articles(locale: str) -> dict[str, Article]:
    folder = resources.files("fapiao.helpcentre").joinpath("articles", locale)
    found: dict[str, Article] = {}
    for entry in folder.iterdir():
        match = _FILE.match(entry.name)
        if match is None:
            continue
        source = entry.read_text(encoding="utf-8")
        title, sections = _outline(source)
        found[match.group(2)] = Article(
            match.group(2), int(match.group(1)), title, sections, source
        )
    return dict(sorted(found.items(), key=lambda item: item[1].order))


def _outline(source: str) -> tuple[str, tuple[Section, ...]]:
    title = ""
    sections = []
    for line in source.splitlines():
        if line.startswith("# ") and not title:
            title = line[2:].strip()
        elif line.startswith("## "):
            anchor = _ANCHOR.search(line)
            if anchor is None:
                raise ValueError(f"help section without an {{#anchor}}: {line!r}")
            sections.append(Section(anchor.group(1), _ANCHOR.sub("", line[3:]).strip()))
    return title, tuple(sections)


def articles(locale: str | None) -> list[Article]:
    """Every article in the reader's language, in reading order."""
    return list(_articles(normalise(locale)).values())


def article(slug: str, locale: str | None) -> Article | None:
    return _articles(normalise(locale)).get(slug)


def trace_link(code: str = "", number: str | None = None) -> str:
    """Where a `trace:CODE` link of an article leads: the trace of the reader's invoice
    `number` if known, else the trace form."""
    query = {"number": number} if number else {}
    if code:
        query["cause"] = code
    return TRACE_PAGE + ("?" + urlencode(query) if query else "")


def guide_link(code: str) -> str | None:
    """The guide section that explains trace diagnosis `code`, if one does."""
    section = CODE_SECTIONS.get(code)
    return f"/ui/help/{GUIDE}#{section}" if section else None


def _parser() -> MarkdownIt:
    # "js-default" without raw HTML: article text cannot inject markup.
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def render(item: Article, number: str | None = None) -> str:
    """The article body as HTML (without its title, which the page shows itself)."""
    parser = _parser()
    tokens = parser.parse(item.source)
    tokens = _drop_title(tokens)
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and index + 1 < len(tokens):
            inline = tokens[index + 1]
            anchor = _ANCHOR.search(inline.content)
            if anchor is not None:
                token.attrSet("id", anchor.group(1))
                _strip_anchor(inline)
        if token.type == "inline" and token.children:
            for child in token.children:
                if child.type == "link_open":
                    _rewrite_link(child, number)
    return parser.renderer.render(tokens, parser.options, {})


def _drop_title(tokens: list[Token]) -> list[Token]:
    if len(tokens) >= 3 and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
        return tokens[3:]
    return tokens


def _strip_anchor(inline: Token) -> None:
    inline.content = _ANCHOR.sub("", inline.content)
    if inline.children:
        last = inline.children[-1]
        if last.type == "text":
            last.content = _ANCHOR.sub("", last.content)


def _rewrite_link(link: Token, number: str | None) -> None:
    href = str(link.attrGet("href") or "")
    if href.startswith("trace:"):
        link.attrSet("href", trace_link(href.removeprefix("trace:"), number))
    elif not href.startswith(("/", "#")):
        # Articles link only inside the product; anything else is a mistake in the text.
        link.attrSet("href", "#" + quote(href))
