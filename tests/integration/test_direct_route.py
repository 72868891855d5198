"""The issuing route resolves its arguments by hand (fapiao.http.direct) and leaves
anything unusual to FastAPI's own handler: the answers are the same either way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fastapi.routing
import pytest

from conftest import World, invoice_body


@pytest.fixture
def solved(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths of the requests whose dependencies FastAPI solved."""
    paths: list[str] = []
    original = fastapi.routing.solve_dependencies

    async def counting(*args: Any, **kwargs: Any) -> Any:
        paths.append(kwargs["request"].url.path)
        return await original(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    yield paths


def test_issuing_skips_dependency_solving(world: World, solved: list[str]) -> None:
    response = world.client.post(
        "/api/v1/invoices",
        json=invoice_body(),
        headers=world.as_("seller", **{"Idempotency-Key": "order-7"}),
    )
    assert response.status_code == 201, response.text
    again = world.client.post(
        "/api/v1/invoices",
        json=invoice_body(),
        headers=world.as_("seller", **{"Idempotency-Key": "order-7"}),
    )
    assert again.json()["number"] == response.json()["number"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert solved == []
    # Other routes are solved as usual.
    world.client.get(f"/api/v1/invoices/{response.json()['number']}", headers=world.as_("seller"))
    assert solved == [f"/api/v1/invoices/{response.json()['number']}"]


def test_refusals_on_the_direct_path(world: World, solved: list[str]) -> None:
    assert world.client.post("/api/v1/invoices", json=invoice_body()).status_code == 401
    viewer = world.client.post(
        "/api/v1/invoices", json=invoice_body(), headers=world.as_("seller_viewer")
    )
    assert viewer.status_code == 403 and viewer.json()["code"] == "ROLE_NOT_ALLOWED"
    forged = world.client.post(
        "/api/v1/invoices", json=invoice_body(), headers={"Authorization": "Bearer v1.no.no"}
    )
    assert forged.status_code == 401 and forged.json()["code"] == "TOKEN_INVALID"
    assert solved == []


@pytest.mark.parametrize("key", [b"", b"x" * 201, "订单42".encode(), b"has space"])
def test_a_key_the_header_refuses_is_answered_by_fastapi(
    world: World, solved: list[str], key: bytes
) -> None:
    response = world.client.post(
        "/api/v1/invoices",
        json=invoice_body(),
        headers={**world.as_("seller"), "Idempotency-Key": key},  # type: ignore[dict-item]
    )
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["idempotency-key"]
    assert solved == ["/api/v1/invoices"]


def test_without_a_token_a_bad_key_is_still_a_401_first(world: World, solved: list[str]) -> None:
    response = world.client.post(
        "/api/v1/invoices", json=invoice_body(), headers={"Idempotency-Key": "has space"}
    )
    assert response.status_code == 401
