"""Which audit action and object a request is about, from its route template (pure).

Every state-changing route is audited without code of its own: its action and object
type are derived from the template (`POST /api/v1/things/{id}/frob` → `thing.frob` on a
`thing`), and `ACTIONS` gives established routes the names the audit log has always
used. A route added later is therefore audited from its first request."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

PREFIX = "/api/v1"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Writes recorded elsewhere (sign-in, by the token endpoint itself) or not at all
# (public verification: anyone, no account, its only write is a daily check counter).
UNAUDITED_WRITES = frozenset({"/api/v1/auth/token", "/api/v1/verify"})
# Reads of no taxpayer's data: an officer reading these is not recorded.
NOT_TAXPAYER_DATA = frozenset(
    {
        "/api/v1/me",
        "/api/v1/keys",
        "/api/v1/maintenance",
        "/api/v1/taxpayers/me",
        "/api/v1/announcements",
        "/api/v1/announcements/{announcement_id}",
    }
)
_VERBS = {"POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}

# (method, template) → (action, object type or None to keep the derived one).
ACTIONS: dict[tuple[str, str], tuple[str, str | None]] = {
    ("POST", "/api/v1/invoices"): ("invoice.issue", None),
    ("DELETE", "/api/v1/invoices/{number}/certify"): ("invoice.uncertify", None),
    ("POST", "/api/v1/certification-periods/{period}/confirm"): ("certification.confirm", None),
    ("POST", "/api/v1/red-letter-forms"): ("redletter.create", "redletter_form"),
    ("POST", "/api/v1/red-letter-forms/{form_id}/decision"): (
        "redletter.decide",
        "redletter_form",
    ),
    ("POST", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): (
        "webhook.redeliver",
        "webhook_delivery",
    ),
    ("POST", "/api/v1/tickets/{number}/messages"): ("ticket.reply", None),
    ("POST", "/api/v1/tickets/{number}/attachments"): ("ticket.attach", None),
    ("GET", "/api/v1/tickets/{number}/attachments/{attachment_id}"): (
        "ticket.attachment.download",
        "ticket_attachment",
    ),
    ("PUT", "/api/v1/maintenance"): ("maintenance.start", None),
    ("DELETE", "/api/v1/maintenance"): ("maintenance.end", None),
    ("GET", "/api/v1/audit"): ("audit.search", "audit_log"),
    ("GET", "/api/v1/audit/export"): ("audit.export", "audit_log"),
}


# Web pages that do what an API route does, and are audited as that route would be
# (with "via": "web"): (method, page template) -> (method, API template, takes the created
# object's id from the redirect). Pages not listed either record entries themselves (the
# admin pages, web/admin.py) or act on nothing (previews, look-ups, sign-in: security events).
WEB_PREFIX = "/ui/"
WEB_ROUTES: dict[tuple[str, str], tuple[str, str, bool]] = {
    ("POST", "/ui/issue"): ("POST", "/api/v1/invoices", True),
    ("POST", "/ui/invoices/{number}/void"): ("POST", "/api/v1/invoices/{number}/void", False),
    ("POST", "/ui/red-letter/new"): ("POST", "/api/v1/red-letter-forms", True),
    ("POST", "/ui/red-letter/{form_id}/decision"): (
        "POST",
        "/api/v1/red-letter-forms/{form_id}/decision",
        False,
    ),
    ("POST", "/ui/certification"): ("POST", "/api/v1/invoices/{number}/certify", False),
    ("POST", "/ui/certification/withdraw"): ("DELETE", "/api/v1/invoices/{number}/certify", False),
    ("POST", "/ui/certification/confirm"): (
        "POST",
        "/api/v1/certification-periods/{period}/confirm",
        False,
    ),
    ("POST", "/ui/maintenance"): ("PUT", "/api/v1/maintenance", False),
    ("POST", "/ui/maintenance/off"): ("DELETE", "/api/v1/maintenance", False),
    ("POST", "/ui/announcements/new"): ("POST", "/api/v1/announcements", True),
    ("POST", "/ui/announcements/{announcement_id}/edit"): (
        "PUT",
        "/api/v1/announcements/{announcement_id}",
        False,
    ),
    ("POST", "/ui/announcements/{announcement_id}/{action}"): (
        "POST",
        "/api/v1/announcements/{announcement_id}/{action}",
        False,
    ),
    ("POST", "/ui/tickets/new"): ("POST", "/api/v1/tickets", True),
    ("POST", "/ui/tickets/{number}/messages"): ("POST", "/api/v1/tickets/{number}/messages", False),
    ("POST", "/ui/tickets/{number}/close"): ("POST", "/api/v1/tickets/{number}/close", False),
    ("GET", "/ui/tickets/{number}/attachments/{attachment_id}"): (
        "GET",
        "/api/v1/tickets/{number}/attachments/{attachment_id}",
        False,
    ),
    ("GET", "/ui/tickets/{number}"): ("GET", "/api/v1/tickets/{number}", False),
    ("GET", "/ui/invoices/{number}"): ("GET", "/api/v1/invoices/{number}", False),
    ("GET", "/ui/trace"): ("GET", "/api/v1/trace", False),
}
# The verbs a page's {action} may stand for (anything else was refused by the page).
_WEB_VERBS = frozenset({"publish", "withdraw", "delete"})


def web_route(
    method: str, template: str, path_params: Mapping[str, object]
) -> tuple[str, str, bool] | None:
    """The API route a page's request stands for, or None when the page is not audited
    this way."""
    found = WEB_ROUTES.get((method, template))
    if found is None:
        return None
    api_method, api_template, creates = found
    if "{action}" in api_template:
        verb = str(path_params.get("action", ""))
        if verb not in _WEB_VERBS:
            return None
        if verb == "delete":
            return "DELETE", api_template.replace("/{action}", ""), False
        api_template = api_template.replace("{action}", verb)
    return api_method, api_template, creates


@dataclass(frozen=True)
class Target:
    action: str
    object_type: str | None
    object_id: str | None


def singular(segment: str) -> str:
    """`red-letter-forms` → `red_letter_form`, `deliveries` → `delivery`."""
    name = segment.replace("-", "_")
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


def target(method: str, template: str, path_params: Mapping[str, object]) -> Target:
    """The action and object of a request to `template` with these path parameters."""
    action, object_type, param = _named(method, template)
    value = None if param is None else path_params.get(param)
    return Target(action, object_type, None if value is None else str(value))


@functools.lru_cache(maxsize=1024)
def _named(method: str, template: str) -> tuple[str, str, str | None]:
    """(action, object type, name of the path parameter naming the object) of a route;
    worked out once per route."""
    parts = [part for part in template.removeprefix(PREFIX).split("/") if part]
    last_param = max((i for i, part in enumerate(parts) if part.startswith("{")), default=None)
    if last_param is None:
        resource = parts[0] if parts else "api"
        trailing = parts[1:]
        param = None
    else:
        statics = [part for part in parts[:last_param] if not part.startswith("{")]
        resource = statics[-1] if statics else "api"
        trailing = parts[last_param + 1 :]
        param = parts[last_param][1:-1].split(":")[0]  # {name} or {name:convertor}
    object_type = singular(resource)
    if trailing:
        verb = ".".join(part.replace("-", "_") for part in trailing)
        if method not in ("POST", "GET"):
            verb += "." + _VERBS.get(method, method.lower())
    else:
        verb = "read" if method == "GET" else _VERBS.get(method, method.lower())
    action = f"{object_type}.{verb}"
    named = ACTIONS.get((method, template))
    if named is not None:
        action = named[0]
        object_type = named[1] or object_type
    return action, object_type, param


def audited_write(method: str, path: str) -> bool:
    """Whether a request is a state-changing API call the audit trail records."""
    return (
        method in WRITES
        and path.startswith(PREFIX + "/")
        and path.rstrip("/") not in UNAUDITED_WRITES
    )
