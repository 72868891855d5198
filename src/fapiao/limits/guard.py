"""The limits the API applies: sign-in per address and per account, verification per
address. Each raises RATE_LIMITED (429 with Retry-After) when exceeded."""

from __future__ import annotations

from fastapi import Request

from fapiao.http.clientip import bucket_of, client_ip
from fapiao.kit.errors import N_, FapiaoError
from fapiao.limits import service
from fapiao.platform import Platform


class RateLimited(FapiaoError):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(
            "RATE_LIMITED",
            message,
            params={"seconds": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


def request_ip(platform: Platform, request: Request) -> str:
    """The caller's address, through the trusted proxies of the settings."""
    peer = request.client.host if request.client else None
    return client_ip(
        peer,
        request.headers.getlist("x-forwarded-for"),
        platform.settings.trusted_proxy_networks,
    )


def _check(platform: Platform, checks: list[tuple[str, str]], message: str) -> None:
    """Count the request in each (setting, bucket) in order; the first one over its limit
    stops the request (and the later ones are not counted)."""
    settings = platform.settings
    wanted = [(settings.rate(name), bucket) for name, bucket in checks]
    wanted = [(rate, bucket) for rate, bucket in wanted if rate is not None]
    if not wanted:
        return
    now = platform.clock.now()
    with platform.database.transaction() as session:
        for rate, bucket in wanted:
            assert rate is not None
            decision = service.hit(session, bucket, rate, now)
            if not decision.allowed:
                refused = decision
                break
        else:
            return
    raise RateLimited(message, refused.retry_after)


def check_login(platform: Platform, request: Request, username: str) -> None:
    """Before a password is checked: per address, then per account."""
    ip = bucket_of(request_ip(platform, request))
    _check(
        platform,
        [
            ("rate_login_per_ip", f"login-ip:{ip}"),
            (
                "rate_login_per_account",
                f"login-account:{service.account_bucket(username, platform.secret)}",
            ),
        ],
        N_("Too many sign-in attempts; try again in {seconds} seconds."),
    )


def check_verify(platform: Platform, request: Request) -> None:
    """Before an invoice is looked up for public verification: per address."""
    ip = bucket_of(request_ip(platform, request))
    _check(
        platform,
        [("rate_verify_per_ip", f"verify-ip:{ip}")],
        N_("Too many verification requests from your address; try again in {seconds} seconds."),
    )
