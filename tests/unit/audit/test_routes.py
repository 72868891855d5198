"""Which API route a web page's request is audited as."""

from __future__ import annotations

from fapiao.audit import routes


def test_pages_are_audited_as_the_api_routes_they_stand_for() -> None:
    assert routes.web_route("POST", "/ui/issue", {}) == ("POST", "/api/v1/invoices", True)
    assert routes.web_route(
        "POST",
        "/ui/announcements/{announcement_id}/{action}",
        {"announcement_id": "3", "action": "publish"},
    ) == ("POST", "/api/v1/announcements/{announcement_id}/publish", False)
    assert routes.web_route(
        "POST", "/ui/announcements/{announcement_id}/{action}", {"action": "delete"}
    ) == ("DELETE", "/api/v1/announcements/{announcement_id}", False)
    assert (
        routes.web_route("POST", "/ui/announcements/{announcement_id}/{action}", {"action": "frob"})
        is None
    )
    assert routes.web_route("POST", "/ui/issue/preview", {}) is None
    target = routes.target(
        "POST", "/api/v1/announcements/{announcement_id}/publish", {"announcement_id": "3"}
    )
    assert (target.action, target.object_id) == ("announcement.publish", "3")
    assert routes.target("POST", "/api/v1/maintenance", {}).action == "maintenance.create"
    assert routes.target("PUT", "/api/v1/maintenance", {}).action == "maintenance.start"
