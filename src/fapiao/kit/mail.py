"""E-mail addresses and SMTP server URLs, as pure functions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

MAX_ADDRESS = 254
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def is_mail_address(value: str, *, dotted_domain: bool = True) -> bool:
    """A plain ASCII address `local@domain` that a mail server will route: no display
    name, no quoting, no comments, no IP literal. `dotted_domain` asks for a domain with a
    dot and an alphabetic top level, as on the internet (`localhost` is refused)."""
    if not value or len(value) > MAX_ADDRESS or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    if len(local) > 64 or not _LOCAL.match(local):
        return False
    labels = domain.split(".")
    if not all(_LABEL.match(label) for label in labels):
        return False
    if dotted_domain:
        return len(labels) >= 2 and len(labels[-1]) >= 2 and labels[-1].isalpha()
    return True


def domain_of(address: str) -> str:
    return address.rpartition("@")[2]


SCHEMES = {"smtp": (25, "plain"), "smtp+starttls": (587, "starttls"), "smtps": (465, "tls")}


@dataclass(frozen=True)
class SmtpServer:
    """Where to hand mail over: `security` is plain, starttls (upgrade the connection,
    or fail) or tls (TLS from the first byte)."""

    host: str
    port: int
    security: str
    username: str = ""
    password: str = field(default="", repr=False)


_SHAPE = "must be smtp://[user:pass@]host[:port], smtp+starttls://… or smtps://…"


def parse_smtp_url(url: str) -> SmtpServer:
    """`smtp://[user:pass@]host[:port]`, `smtp+starttls://…` or `smtps://…`; raises
    ValueError (without repeating the password) when it is not one of those."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
        host = parts.hostname or ""
        if host:
            host.encode("idna")
    except (ValueError, UnicodeError):
        raise ValueError(_SHAPE) from None
    if parts.scheme not in SCHEMES or not host or parts.path not in ("", "/") or parts.query:
        raise ValueError(_SHAPE)
    if port == 0:
        raise ValueError("has port 0")
    default_port, security = SCHEMES[parts.scheme]
    username = unquote(parts.username or "")
    password = unquote(parts.password or "")
    if password and not username:
        raise ValueError("gives a password without a user name")
    if username and security == "plain" and host not in ("localhost", "127.0.0.1", "::1"):
        raise ValueError(
            "would send the user name and password unencrypted: use smtp+starttls:// or smtps://"
        )
    return SmtpServer(host, port or default_port, security, username, password)
