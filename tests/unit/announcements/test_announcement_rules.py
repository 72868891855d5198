"""Announcement rules: what is valid, and which banners show when (pure)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from fapiao.announcements.feed import atom, rss, tag_uri
from fapiao.announcements.rules import Draft, Notice, as_utc, banners, problems

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def notice(**fields: object) -> Notice:
    base = Notice(
        id=1,
        kind="maintenance",
        title_zh="升级",
        title_en="Upgrade",
        body_zh="",
        body_en="",
        starts_at=NOW + timedelta(days=2),
        ends_at=NOW + timedelta(days=2, hours=3),
        read_only=False,
        banner=False,
        published_at=NOW,
        created_by="officer",
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_a_valid_draft_has_no_problems_and_bare_times_are_beijing_time() -> None:
    assert problems(Draft(kind="release", title_zh="新版本", title_en="New")) == []
    assert as_utc(datetime(2026, 12, 1, 10, 0)) == NOW


def test_every_problem_is_named_at_once() -> None:
    draft = Draft(
        kind="maintenance",
        title_zh="",
        title_en="x" * 201,
        starts_at=NOW,
        ends_at=NOW,
    )
    found = {(error.field, error.code) for error in problems(draft)}
    assert found == {
        ("title_zh", "FIELD_REQUIRED"),
        ("title_en", "TOO_LONG"),
        ("ends_at", "ANNOUNCEMENT_ENDS_BEFORE_STARTS"),
    }
    window = Draft(
        kind="maintenance",
        title_zh="a",
        title_en="a",
        starts_at=NOW,
        ends_at=NOW + timedelta(days=32),
        read_only=True,
    )
    assert [error.code for error in problems(window)] == ["MAINTENANCE_TOO_LONG"]
    assert problems(replace(window, read_only=False)) == []  # only a pause is bounded


def test_maintenance_banner_from_the_lead_time_to_the_end() -> None:
    item = notice()
    lead = timedelta(hours=72)
    assert banners([item], NOW - timedelta(days=1), "en", lead=lead) == []  # unpublished then
    (before,) = banners([item], NOW, "en", lead=lead)
    assert before.level == "info"
    assert before.text == "Upgrade: 2026-12-03 10:00 to 2026-12-03 13:00 (Beijing time)"
    assert banners([item], NOW, "en", lead=timedelta(hours=24)) == []
    assert banners([item], item.starts_at, "en")[0].level == "warning"  # type: ignore[arg-type]
    assert banners([item], item.ends_at, "en") == []  # type: ignore[arg-type]
    paused = banners([replace(item, read_only=True)], NOW, "zh-CN")[0]
    assert paused.level == "warning" and "暂停" in paused.text
    assert banners([replace(item, published_at=None)], NOW, "en") == []


def test_flagged_notices_show_for_their_days_newest_first() -> None:
    old = notice(id=2, kind="notice", banner=True, starts_at=None, ends_at=None)
    new = replace(old, id=3, published_at=NOW + timedelta(days=1))
    unflagged = replace(old, id=4, banner=False)
    later = NOW + timedelta(days=2)
    assert [b.id for b in banners([old, new, unflagged], later, "en")] == [3, 2]
    assert [b.id for b in banners([old, new], NOW + timedelta(days=7), "en")] == [3]
    ended = replace(old, ends_at=NOW + timedelta(hours=1))
    assert banners([ended], NOW + timedelta(hours=1), "en") == []
    item = banners([old], NOW, "en")[0].as_dict()
    assert item == {**item, "level": "info", "text": "Upgrade", "starts_at": None}


def test_feeds_escape_everything_and_drop_what_xml_cannot_carry() -> None:
    hostile = notice(
        kind="release",
        title_en='<script>alert("x")</script> & ]]>\x01',
        body_en="a\x0bb <![CDATA[c]]>",
    )
    for build in (atom, rss):
        document = build([hostile], "en", "http://example.test", "fapiao.test", NOW)
        root = ET.fromstring(document)  # well-formed
        texts = [element.text for element in root.iter()]
        assert '<script>alert("x")</script> & ]]>' in texts
        assert "ab <![CDATA[c]]>" in texts
    assert tag_uri("fapiao.test", hostile) == "tag:fapiao.test,2026-12-01:announcement/1"
