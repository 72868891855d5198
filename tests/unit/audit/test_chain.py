"""The audit chain's pure parts: hashing, route names, safe cells and queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from fapiao.audit import chain, routes
from fapiao.audit.chain import GENESIS_HASH, Entry
from fapiao.audit.export import as_text
from fapiao.audit.middleware import safe_query

AT = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


def rows_of(entries: list[Entry]) -> list[dict[str, object]]:
    rows = [chain.normalised(entry) for entry in entries]
    links = chain.chain(GENESIS_HASH, 1, [chain.body(row) for row in rows])
    for row, (seq, prev, this) in zip(rows, links, strict=True):
        row.update(seq=seq, prev_hash=prev, entry_hash=this)
    return rows


def sample() -> list[Entry]:
    return [
        Entry(at=AT, action="auth.login", actor_id=1, username="clerk", role="clerk"),
        Entry(at=AT, action="invoice.void", result="refused", code="ELECTRONIC_NOT_VOIDABLE"),
        Entry(at=AT, action="officer.read", object_type="invoice", object_id="1" * 20),
    ]


def test_hash_covers_previous_hash_seq_and_body() -> None:
    body = chain.body(chain.normalised(sample()[0]))
    base = chain.entry_hash(GENESIS_HASH, 1, body)
    assert len(base) == 64 and base == chain.entry_hash(GENESIS_HASH, 1, body)
    assert chain.entry_hash("1" * 64, 1, body) != base
    assert chain.entry_hash(GENESIS_HASH, 2, body) != base
    assert chain.entry_hash(GENESIS_HASH, 1, body.replace("clerk", "admin")) != base


def test_body_is_canonical_and_independent_of_the_time_zone() -> None:
    utc = chain.normalised(sample()[0])
    beijing = chain.normalised(
        Entry(
            at=AT.astimezone(timezone(timedelta(hours=8))),
            action="auth.login",
            actor_id=1,
            username="clerk",
            role="clerk",
        )
    )
    assert chain.body(utc) == chain.body(beijing)
    assert " " not in chain.body(utc) and '"action":"auth.login"' in chain.body(utc)


def test_an_intact_chain_has_no_break() -> None:
    rows = rows_of(sample())
    problem, next_seq, prev = chain.first_break(rows, 1, GENESIS_HASH)
    assert problem is None and next_seq == 4 and prev == rows[-1]["entry_hash"]


def test_a_changed_field_a_missing_entry_and_a_relinked_entry_are_found() -> None:
    rows = rows_of(sample())
    rows[1]["code"] = None
    problem, _, _ = chain.first_break(rows, 1, GENESIS_HASH)
    assert problem is not None and problem.seq == 2 and "changed" in problem.message

    rows = rows_of(sample())
    del rows[1]
    problem, _, _ = chain.first_break(rows, 1, GENESIS_HASH)
    assert problem is not None and problem.params == {"missing": 2, "seq": 3}

    rows = rows_of(sample())
    # Rewriting an entry and recomputing its own hash breaks the next one's link.
    rows[1]["code"] = "OTHER"
    rows[1]["entry_hash"] = chain.entry_hash(rows[0]["entry_hash"], 2, chain.body(rows[1]))  # type: ignore[arg-type]
    problem, _, _ = chain.first_break(rows, 1, GENESIS_HASH)
    assert problem is not None and problem.seq == 3 and "link" in problem.message


def test_long_values_are_cut_before_hashing_and_bad_values_refused() -> None:
    row = chain.normalised(
        Entry(at=AT, action="x", user_agent="u" * 1000, detail={"k": "v" * 9000})
    )
    assert len(row["user_agent"]) == chain.LIMITS["user_agent"]
    assert len(row["detail"]) <= chain.MAX_DETAIL
    with pytest.raises(ValueError):
        chain.normalised(Entry(at=AT, action="x", result="maybe"))
    with pytest.raises(ValueError):
        chain.normalised(Entry(at=AT.replace(tzinfo=None), action="x"))


@pytest.mark.parametrize(
    ("method", "template", "params", "expected"),
    [
        ("POST", "/api/v1/invoices", {}, ("invoice.issue", "invoice", None)),
        (
            "POST",
            "/api/v1/invoices/{number}/void",
            {"number": "1"},
            ("invoice.void", "invoice", "1"),
        ),
        (
            "DELETE",
            "/api/v1/invoices/{number}/certify",
            {"number": "1"},
            ("invoice.uncertify", "invoice", "1"),
        ),
        ("POST", "/api/v1/red-letter-forms", {}, ("redletter.create", "redletter_form", None)),
        ("POST", "/api/v1/webhooks", {}, ("webhook.create", "webhook", None)),
        (
            "DELETE",
            "/api/v1/webhooks/{webhook_id}",
            {"webhook_id": 3},
            ("webhook.delete", "webhook", "3"),
        ),
        ("PUT", "/api/v1/maintenance", {}, ("maintenance.start", "maintenance", None)),
        # Routes nobody named yet get a derived name.
        (
            "POST",
            "/api/v1/gadgets/{gadget_id}/polish",
            {"gadget_id": "g"},
            ("gadget.polish", "gadget", "g"),
        ),
        (
            "PATCH",
            "/api/v1/policies/{policy_id}",
            {"policy_id": 9},
            ("policy.update", "policy", "9"),
        ),
        (
            "DELETE",
            "/api/v1/tokens/{token_id}/scopes",
            {"token_id": 1},
            ("token.scopes.delete", "token", "1"),
        ),
        (
            "GET",
            "/api/v1/invoices/{number}/trace",
            {"number": "2"},
            ("invoice.trace", "invoice", "2"),
        ),
    ],
)
def test_route_targets(
    method: str, template: str, params: dict[str, object], expected: tuple[str, str, str | None]
) -> None:
    found = routes.target(method, template, params)
    assert (found.action, found.object_type, found.object_id) == expected


def test_which_writes_are_audited() -> None:
    assert routes.audited_write("POST", "/api/v1/invoices")
    assert routes.audited_write("DELETE", "/api/v1/webhooks/1")
    assert not routes.audited_write("POST", "/api/v1/auth/token")
    assert not routes.audited_write("POST", "/api/v1/verify")
    assert not routes.audited_write("GET", "/api/v1/invoices")
    assert not routes.audited_write("POST", "/healthz")


def test_spreadsheet_formulas_become_text() -> None:
    for cell in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx"):
        assert as_text(cell) == "'" + cell
    assert as_text("北京") == "北京" and as_text("a=b") == "a=b"


def test_secret_looking_query_parameters_are_dropped() -> None:
    kept = safe_query(b"number=123&access_token=abc&totp=1&api_secret=s&code=9&direction=issued")
    assert kept == {"number": "123", "direction": "issued"}
