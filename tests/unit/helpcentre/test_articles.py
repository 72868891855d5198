"""The help centre's articles: both languages in step, safe HTML, trace links."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from fapiao.helpcentre import service
from fapiao.helpcentre.service import Article


def test_both_languages_have_the_same_articles_and_sections() -> None:
    zh = service.articles("zh-CN")
    en = service.articles("en")
    assert [item.slug for item in zh] == [item.slug for item in en]
    assert len(zh) >= 9
    for chinese, english in zip(zh, en, strict=True):
        assert [s.anchor for s in chinese.sections] == [s.anchor for s in english.sections], (
            chinese.slug
        )
        assert chinese.title and english.title and chinese.title != english.title


def test_the_guide_explains_every_trace_code_in_a_section_it_has() -> None:
    from fapiao.trace import keys
    from fapiao.trace import service as trace

    codes: set[str] = set()
    for module in (trace, keys):
        text = Path(str(module.__file__)).read_text(encoding="utf-8")
        codes |= set(re.findall(r'Diagnosis\(\s*"([A-Z_]+)"', text))
    assert {"NOT_ISSUED", "NOT_A_PARTY", "WRONG_BUYER_TAX_ID", "ISSUED"} <= codes
    missing = codes - set(service.CODE_SECTIONS)
    assert not missing, f"trace codes without a guide section: {sorted(missing)}"
    guide = service.article(service.GUIDE, "zh-CN")
    assert guide is not None
    anchors = {section.anchor for section in guide.sections}
    assert set(service.CODE_SECTIONS.values()) <= anchors


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name == "id" and value:
                self.ids.append(value)
            if name == "href" and value:
                self.hrefs.append(value)


def _parse(html: str) -> _Collect:
    collected = _Collect()
    collected.feed(html)
    return collected


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_guide_links_each_cause_to_the_trace_of_the_readers_invoice(locale: str) -> None:
    guide = service.article(service.GUIDE, locale)
    assert guide is not None
    html = _parse(service.render(guide, number="26110000000000000001"))
    assert {s.anchor for s in guide.sections} <= set(html.ids)
    traces = [href for href in html.hrefs if href.startswith("/ui/trace")]
    assert "/ui/trace?number=26110000000000000001" in traces
    assert "/ui/trace?number=26110000000000000001&cause=WRONG_BUYER_TAX_ID" in traces
    assert len(traces) >= 9
    assert "h1" not in html.tags  # the page shows the title itself
    assert "{#" not in service.render(guide)


def test_without_a_number_trace_links_open_the_empty_form() -> None:
    guide = service.article(service.GUIDE, "en")
    assert guide is not None
    hrefs = _parse(service.render(guide)).hrefs
    assert "/ui/trace" in hrefs
    assert "/ui/trace?cause=NOT_A_PARTY" in hrefs


def test_markup_in_an_article_is_shown_as_text_and_outside_links_are_defused() -> None:
    item = Article(
        "x",
        1,
        "x",
        (),
        "# t\n\n<script>alert(1)</script>\n\n[away](https://example.invalid/)\n",
    )
    html = service.render(item)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="https://' not in html


def test_guide_link_names_the_section_for_a_code() -> None:
    assert service.guide_link("VOIDED") == "/ui/help/not-visible#voided-or-reversed"
    assert service.guide_link("NO_SUCH_CODE") is None
    assert service.normalise("en-US") == "en" and service.normalise(None) == "zh_CN"
    assert service.article("nope", "en") is None
