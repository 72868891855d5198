"""The issuing router is matched first; no request is matched differently for it, and
the API documentation keeps its order."""

from __future__ import annotations

from typing import Any

from fapiao.app import ROUTERS, documented_order
from fapiao.invoices.api import router as invoices_router

PREFIX = "/api/v1/invoices"


def _paths(router: Any) -> list[str]:
    return [route.path for route in router.routes]


def test_no_router_before_it_in_the_documentation_shares_its_paths() -> None:
    assert all(path == PREFIX or path.startswith(PREFIX + "/") for path in _paths(invoices_router))
    earlier = ROUTERS[: ROUTERS.index(invoices_router)]
    assert earlier  # the move changes something
    for router in earlier:
        for path in _paths(router):
            assert not path.startswith(PREFIX), path


def test_documented_order_puts_routers_back_in_place() -> None:
    class Included:
        def __init__(self, router: Any) -> None:
            self.original_router = router

    first, other, last = object(), object(), object()
    matched = [first, Included(invoices_router), *(Included(r) for r in ROUTERS[:4]), other]
    matched += [Included(r) for r in ROUTERS[5:]] + [last]
    ordered = documented_order(matched)
    assert ordered[0] is first
    assert [route.original_router for route in ordered[1:-2]] == list(ROUTERS)
    assert ordered[-2:] == [other, last]
