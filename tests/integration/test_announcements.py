"""Announcements: officers write and publish them; anyone reads the published ones through
the API and the Atom and RSS feeds; banners show before and during a maintenance window;
a read-only maintenance notice pauses changes exactly from its start to its end; every
officer act is audited. SQLite and PostgreSQL."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from conftest import START, World, invoice_body
from fapiao.announcements import service, views
from fapiao.audit.models import AuditEntry
from fapiao.cli.context import CliState
from fapiao.cli.demo import seed_announcements
from fapiao.cli.main import app
from fapiao.kit.clock import FixedClock

ATOM = "{http://www.w3.org/2005/Atom}"
TRICKY = 'Release <b>2.0</b> & "more" ]]> 发布'


def clock(world: World) -> FixedClock:
    assert isinstance(world.platform.clock, FixedClock)
    return world.platform.clock


def beijing(moment: datetime) -> str:
    return moment.isoformat()


def write(world: World, expect: int = 201, **fields: Any) -> Any:
    body = {"kind": "release", "title_zh": "新版本", "title_en": "New release", **fields}
    response = world.client.post("/api/v1/announcements", json=body, headers=world.as_("officer"))
    assert response.status_code == expect, response.text
    return response.json()


def publish(world: World, item_id: int) -> Any:
    response = world.client.post(
        f"/api/v1/announcements/{item_id}/publish", headers=world.as_("officer")
    )
    assert response.status_code == 200, response.text
    return response.json()


def issue(world: World) -> int:
    return world.client.post(
        "/api/v1/invoices", json=invoice_body(), headers=world.as_("seller")
    ).status_code


def rfc3339(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.tzinfo is not None and ("T" in text) and text.endswith(("Z", "+00:00"))
    return moment


def test_published_ones_show_in_the_api_and_the_feeds_drafts_do_not(world: World) -> None:
    draft = write(world, title_en=TRICKY, body_zh="修复若干问题", body_en="Fixes <script>")
    assert draft["status"] == "draft" and draft["created_by"] == "officer"
    client = world.client
    assert client.get("/api/v1/announcements").json()["items"] == []
    hidden = client.get(f"/api/v1/announcements/{draft['id']}")
    assert hidden.status_code == 404 and hidden.json()["code"] == "ANNOUNCEMENT_NOT_FOUND"
    seller = client.get(f"/api/v1/announcements/{draft['id']}", headers=world.as_("seller"))
    assert seller.status_code == 404
    seen = client.get(f"/api/v1/announcements/{draft['id']}", headers=world.as_("officer"))
    assert seen.status_code == 200 and seen.json()["status"] == "draft"
    assert b"<entry>" not in client.get("/announcements.atom").content

    clock(world).advance(timedelta(minutes=5))
    published = publish(world, draft["id"])
    assert published["published_at"] == (START + timedelta(minutes=5)).isoformat()
    page = client.get("/api/v1/announcements", headers={"Accept-Language": "en"}).json()
    (item,) = page["items"]
    assert item["title"] == TRICKY and item["title_zh"] == "新版本"
    assert item["body"] == "Fixes <script>" and item["body_zh"] == "修复若干问题"
    assert "created_by" not in item and page["next_cursor"] is None
    chinese = client.get(f"/api/v1/announcements/{draft['id']}").json()
    assert chinese["title"] == "新版本" and chinese["body"] == "修复若干问题"

    atom = client.get("/announcements.atom?lang=en")
    assert atom.status_code == 200
    assert atom.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert "content-security-policy" in atom.headers
    feed = ET.fromstring(atom.content)
    assert feed.tag == f"{ATOM}feed"
    rfc3339(feed.findtext(f"{ATOM}updated") or "")
    (entry,) = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == TRICKY
    assert entry.findtext(f"{ATOM}content") == "Fixes <script>"
    entry_id = entry.findtext(f"{ATOM}id") or ""
    assert entry_id.startswith("tag:") and entry_id.endswith(f":announcement/{draft['id']}")
    assert rfc3339(entry.findtext(f"{ATOM}updated") or "") == START + timedelta(minutes=5)
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    zh = ET.fromstring(client.get("/announcements.atom").content)
    assert zh.findtext(f"{ATOM}entry/{ATOM}title") == "新版本"

    rss = client.get("/announcements.rss?lang=en")
    assert rss.headers["content-type"] == "application/rss+xml; charset=utf-8"
    channel = ET.fromstring(rss.content).find("channel")
    assert channel is not None and channel.findtext("language") == "en"
    (node,) = channel.findall("item")
    assert node.findtext("title") == TRICKY and node.findtext("guid") == entry_id
    assert node.findtext("pubDate") == "Tue, 10 Nov 2026 02:05:00 GMT"
    bad = client.get("/announcements.rss?lang=fr")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "lang"

    withdrawn = client.post(
        f"/api/v1/announcements/{draft['id']}/withdraw", headers=world.as_("officer")
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "draft"
    assert client.get("/api/v1/announcements").json()["items"] == []
    assert ET.fromstring(client.get("/announcements.rss").content).find("channel/item") is None
    gone = client.delete(f"/api/v1/announcements/{draft['id']}", headers=world.as_("officer"))
    assert gone.status_code == 204
    again = client.get(f"/api/v1/announcements/{draft['id']}", headers=world.as_("officer"))
    assert again.status_code == 404


def test_paging_newest_first_and_by_kind(world: World) -> None:
    ids = []
    for index, kind in enumerate(("release", "notice", "release")):
        ids.append(publish(world, write(world, kind=kind, title_en=f"n{index}")["id"])["id"])
        clock(world).advance(timedelta(minutes=1))
    first = world.client.get("/api/v1/announcements?limit=2").json()
    assert [item["id"] for item in first["items"]] == [ids[2], ids[1]]
    rest = world.client.get(f"/api/v1/announcements?limit=2&cursor={first['next_cursor']}")
    assert [item["id"] for item in rest.json()["items"]] == [ids[0]]
    assert rest.json()["next_cursor"] is None
    releases = world.client.get("/api/v1/announcements?kind=release").json()["items"]
    assert [item["id"] for item in releases] == [ids[2], ids[0]]
    assert views.list_page(world.platform, "zh-CN", kind="release")["items"] == releases
    broken = world.client.get("/api/v1/announcements?cursor=abc")
    assert broken.status_code == 422 and broken.json()["errors"][0]["code"] == "CURSOR_INVALID"


def _banners(world: World, locale: str = "zh-CN") -> list[dict[str, Any]]:
    return views.banners_now(world.platform, locale)  # as the web pages call it


def test_banners_before_during_and_after_the_window(world: World) -> None:
    starts = START + timedelta(days=4)
    ends = starts + timedelta(hours=2)
    item = write(
        world,
        kind="maintenance",
        title_zh="数据库升级",
        title_en="Database upgrade",
        starts_at=beijing(starts),
        ends_at=beijing(ends),
    )
    note = write(world, kind="notice", title_en="New rates", banner=True)
    write(world, kind="notice", title_en="Not a banner")  # never published
    assert _banners(world) == []
    publish(world, item["id"])
    publish(world, note["id"])
    (shown,) = _banners(world, "en")  # four days ahead: only the notice
    assert shown == {**shown, "kind": "notice", "level": "info", "text": "New rates"}

    clock(world).set(starts - timedelta(hours=72))
    before = _banners(world, "en")
    assert [banner["kind"] for banner in before] == ["maintenance", "notice"]
    assert before[0]["level"] == "info"
    assert before[0]["text"].startswith("Database upgrade: 2026-11-14 10:00 to 2026-11-14 12:00")
    assert before[0]["starts_at"] == starts.isoformat()
    assert "数据库升级" in _banners(world)[0]["text"]

    clock(world).set(starts + timedelta(minutes=1))  # during; the notice is 4 days old
    during = _banners(world)
    assert [banner["level"] for banner in during] == ["warning", "info"]
    clock(world).set(ends)  # the window is over, the notice still in its week
    assert [banner["kind"] for banner in _banners(world)] == ["notice"]
    clock(world).set(START + timedelta(days=7))
    assert _banners(world) == []


def test_read_only_maintenance_pauses_writes_from_its_start_to_its_end(world: World) -> None:
    starts = START + timedelta(hours=1)
    ends = starts + timedelta(hours=2)
    item = write(
        world,
        kind="maintenance",
        title_zh="系统升级",
        title_en="Upgrade",
        starts_at=beijing(starts),
        ends_at=beijing(ends),
        read_only=True,
    )
    publish(world, item["id"])
    assert issue(world) == 201  # scheduled, not yet begun

    clock(world).set(starts - timedelta(milliseconds=500))
    assert issue(world) == 201  # this process now knows the window is about to start
    clock(world).advance(timedelta(milliseconds=500))  # its cache is still fresh
    refused = world.client.post(
        "/api/v1/invoices",
        json=invoice_body(),
        headers=world.as_("seller", **{"Accept-Language": "en"}),
    )
    assert refused.status_code == 503 and refused.json()["code"] == "MAINTENANCE"
    assert refused.headers["retry-after"] == "7200"
    assert refused.json()["notice"] == "Upgrade"
    listed = world.client.get("/api/v1/invoices", headers=world.as_("seller"))
    assert listed.status_code == 200
    assert world.client.get("/api/v1/announcements").status_code == 200
    assert world.client.get("/api/v1/maintenance").json()["active"] is True

    clock(world).set(ends - timedelta(seconds=1))
    assert issue(world) == 503
    clock(world).set(ends)
    assert issue(world) == 201


def test_officers_announce_during_maintenance_and_withdrawing_ends_it(world: World) -> None:
    starts = START + timedelta(minutes=30)
    fields = {"starts_at": beijing(starts), "ends_at": beijing(starts + timedelta(hours=2))}
    item = write(world, kind="maintenance", read_only=True, **fields)
    publish(world, item["id"])
    clock(world).set(starts + timedelta(minutes=1))
    assert issue(world) == 503
    extended = write(world, kind="notice", title_en="Running late", banner=True)
    publish(world, extended["id"])  # announcing is open during the window
    officer = world.as_("officer")
    ended = world.client.post(f"/api/v1/announcements/{item['id']}/withdraw", headers=officer)
    assert ended.status_code == 200
    assert issue(world) == 201
    assert world.client.get("/api/v1/maintenance").json()["active"] is False


def test_withdrawing_or_deleting_calls_the_window_off(world: World) -> None:
    def scheduled(hours: int) -> int:
        starts = START + timedelta(hours=hours)
        fields = {"starts_at": beijing(starts), "ends_at": beijing(starts + timedelta(hours=1))}
        item = write(world, kind="maintenance", read_only=True, **fields)
        publish(world, item["id"])
        return int(item["id"])

    withdrawn, deleted, moved = scheduled(1), scheduled(3), scheduled(5)
    officer = world.as_("officer")
    world.client.post(f"/api/v1/announcements/{withdrawn}/withdraw", headers=officer)
    clock(world).set(START + timedelta(hours=1, minutes=10))
    assert issue(world) == 201
    world.client.delete(f"/api/v1/announcements/{deleted}", headers=officer)
    clock(world).set(START + timedelta(hours=3, minutes=10))
    assert issue(world) == 201
    # Moved to the evening: the window moves with it.
    evening = START + timedelta(hours=8)
    changed = world.client.put(
        f"/api/v1/announcements/{moved}",
        json={
            "kind": "maintenance",
            "title_zh": "改期",
            "title_en": "Moved",
            "starts_at": beijing(evening),
            "ends_at": beijing(evening + timedelta(hours=1)),
            "read_only": True,
        },
        headers=officer,
    )
    assert changed.status_code == 200 and changed.json()["status"] == "published"
    clock(world).set(START + timedelta(hours=5, minutes=10))
    assert issue(world) == 201
    clock(world).set(evening + timedelta(minutes=10))
    assert issue(world) == 503


def test_invalid_ones_are_refused_naming_the_fields_in_both_languages(world: World) -> None:
    body = {
        "kind": "maintenance",
        "title_zh": "  ",
        "starts_at": "2026-11-12T10:00:00+08:00",
        "ends_at": "2026-11-12T09:00:00+08:00",
    }
    answers = {}
    for lang in ("zh-CN", "en"):
        response = world.client.post(
            "/api/v1/announcements",
            json=body,
            headers=world.as_("officer", **{"Accept-Language": lang}),
        )
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["code"] == "VALIDATION_FAILED"
        answers[lang] = {error["field"]: error for error in problem["errors"]}
    assert set(answers["en"]) == {"title_zh", "title_en", "ends_at"}
    assert answers["en"]["ends_at"]["code"] == "ANNOUNCEMENT_ENDS_BEFORE_STARTS"
    assert "2026-11-12 09:00" in answers["en"]["ends_at"]["message"]
    assert answers["en"]["title_zh"]["message"].startswith("An announcement needs a title")
    assert "标题" in answers["zh-CN"]["title_zh"]["message"]
    assert "结束" in answers["zh-CN"]["ends_at"]["message"]

    missing = write(world, 422, kind="maintenance")
    assert {error["field"] for error in missing["errors"]} == {"starts_at", "ends_at"}
    not_maintenance = write(world, 422, kind="notice", read_only=True)
    assert not_maintenance["errors"][0]["code"] == "READ_ONLY_NOT_MAINTENANCE"
    too_long = write(world, 422, title_en="x" * 201)
    assert too_long["errors"][0] == {**too_long["errors"][0], "field": "title_en"}
    assert write(world, 422, kind="bulletin")["errors"][0]["field"] == "kind"
    clerk = world.client.post(
        "/api/v1/announcements",
        json={"kind": "notice", "title_zh": "x", "title_en": "x"},
        headers=world.as_("seller"),
    )
    assert clerk.status_code == 403


def test_officer_acts_are_audited(world: World) -> None:
    item = write(world)
    publish(world, item["id"])
    world.client.delete(f"/api/v1/announcements/{item['id']}", headers=world.as_("officer"))
    world.client.get("/api/v1/announcements", headers=world.as_("officer"))
    world.client.app.state.audit.flush()  # type: ignore[attr-defined]
    with world.platform.database.transaction(write=False) as session:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "announcement")
            .order_by(AuditEntry.seq)
        ).all()
        found = [(row.action, row.object_id, row.username) for row in rows]
    key = str(item["id"])
    assert found == [
        ("announcement.create", key, "officer"),
        ("announcement.publish", key, "officer"),
        ("announcement.delete", key, "officer"),
    ]


def test_cli_add_list_publish_withdraw_and_demo(world: World) -> None:
    state = CliState()
    state._platform = world.platform
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, ["--lang", "en", "announcement", *args], obj=state)

    bad = run(
        "add", "--kind", "maintenance", "--title-zh", "升级", "--title-en", "Upgrade",
        "--starts", "2026-11-10T14:00", "--ends", "2026-11-10T13:00",
    )  # fmt: skip
    assert bad.exit_code == 1 and "ANNOUNCEMENT_ENDS_BEFORE_STARTS" in bad.output
    added = run(
        "add", "--kind", "maintenance", "--title-zh", "升级", "--title-en", "Upgrade",
        "--starts", "2026-11-10T11:00", "--ends", "2026-11-10T12:00", "--read-only",
    )  # fmt: skip
    assert added.exit_code == 0 and "written" in added.output, added.output
    listed = run("list")
    assert "draft, read-only" in listed.output and "2026-11-10 11:00" in listed.output
    assert world.client.get("/api/v1/announcements").json()["items"] == []  # a draft
    with world.platform.database.transaction(write=False) as session:
        (draft,) = service.every(session)
    published = run("publish", str(draft.id))
    assert published.exit_code == 0 and "published" in published.output
    clock(world).set(START + timedelta(hours=1, minutes=1))  # 11:01 Beijing time
    assert issue(world) == 503
    withdrawn = run("withdraw", str(draft.id))
    assert withdrawn.exit_code == 0 and "withdrawn" in withdrawn.output
    assert issue(world) == 201
    assert run("publish", "999").exit_code == 1
    with world.platform.database.transaction(write=False) as session:
        acts = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "announcement")
            .order_by(AuditEntry.seq)
        ).all()
    assert acts == ["announcement.create", "announcement.publish", "announcement.withdraw"]

    assert seed_announcements(world.platform) is True
    assert seed_announcements(world.platform) is False
    (note,) = world.client.get("/api/v1/announcements").json()["items"]
    assert note["kind"] == "release" and note["banner"] is True
