"""The caller's second factor (/api/v1/me/totp…) and unlocking a locked account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from fapiao.accounts import permissions, twofactor
from fapiao.accounts.enrolment_token import PREFIX, read_enrolment_token
from fapiao.accounts.lockout import count_failure, security_row, unlock
from fapiao.accounts.models import User
from fapiao.accounts.security import Origin, origin_of
from fapiao.accounts.service import Actor, check_password, load_actor
from fapiao.http.deps import ActorDep, PlatformDep, bearer, get_actor
from fapiao.http.openapi import PROBLEMS
from fapiao.kit.errors import N_, Conflict, FapiaoError, Forbidden, NotFound, invalid
from fapiao.platform import Platform

router = APIRouter(prefix="/api/v1", tags=["auth"], responses=PROBLEMS)


async def get_enrolling_actor(platform: PlatformDep, request: Request) -> Actor:
    """The caller, signed in with a full token or with a token good only for enrolling."""
    token = await bearer(request)
    if token and token.startswith(PREFIX):
        user_id = read_enrolment_token(token, platform.secret, platform.clock.now())
        return await run_in_threadpool(_load, platform, user_id)
    return await get_actor(request, platform, token)


def _load(platform: Platform, user_id: int) -> Actor:
    with platform.database.transaction(write=False) as session:
        return load_actor(session, user_id)


EnrollingActor = Annotated[Actor, Depends(get_enrolling_actor)]


class TotpEnrolmentOut(BaseModel):
    secret: str = Field(description="base32, for typing into an authenticator app")
    uri: str = Field(description="the otpauth:// URI the QR code holds")
    qr_svg: str = Field(description="the QR code as an inline SVG document")
    qr_png: str = Field(description="the QR code as a data:image/png;base64 URI")


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64, description="the app's current code")


class DisableIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str | None = Field(
        default=None, min_length=1, max_length=64, description="a current or recovery code"
    )
    password: str | None = Field(default=None, min_length=1, max_length=128)


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(
        description="one-time codes for signing in without the app; shown only now"
    )


class UnlockOut(BaseModel):
    username: str
    was_locked: bool


def _user(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.user_id)
    assert user is not None
    return user


@router.post("/me/totp", response_model=TotpEnrolmentOut)
def start_totp(platform: PlatformDep, actor: EnrollingActor, request: Request) -> TotpEnrolmentOut:
    """Start enrolling an authenticator app: a new secret with its QR code. It takes
    effect only once confirmed with a code (POST /api/v1/me/totp/confirm)."""
    with platform.database.transaction() as session:
        enrolment = twofactor.start_enrolment(
            session, _user(session, actor), origin=origin_of(request), now=platform.clock.now()
        )
    return TotpEnrolmentOut(
        secret=enrolment.secret, uri=enrolment.uri, qr_svg=enrolment.qr_svg, qr_png=enrolment.qr_png
    )


@router.post("/me/totp/confirm", response_model=RecoveryCodesOut)
def confirm_totp(
    platform: PlatformDep, actor: EnrollingActor, request: Request, body: CodeIn
) -> RecoveryCodesOut:
    """Turn two-factor sign-in on with the app's current code; answers the ten recovery
    codes, which are never shown again. Then sign in again with a code."""
    with platform.database.transaction() as session:
        codes = twofactor.confirm_enrolment(
            session,
            _user(session, actor),
            body.code,
            origin=origin_of(request),
            now=platform.clock.now(),
        )
    return RecoveryCodesOut(recovery_codes=codes)


@router.post("/me/totp/recovery-codes", response_model=RecoveryCodesOut)
def regenerate_recovery_codes(
    platform: PlatformDep, actor: ActorDep, request: Request, body: CodeIn
) -> RecoveryCodesOut:
    """Ten new recovery codes (the earlier ones stop working), given a current code. A
    wrong code counts as a failed sign-in, so codes cannot be guessed here either."""
    origin = origin_of(request)
    try:
        with platform.database.transaction() as session:
            codes = twofactor.regenerate_recovery_codes(
                session,
                _user(session, actor),
                body.code,
                origin=origin,
                now=platform.clock.now(),
            )
    except FapiaoError as refused:
        if any(error.code == "TOTP_INVALID" for error in refused.errors):
            with platform.database.transaction() as session:
                count_failure(
                    session,
                    platform.settings,
                    actor.username,
                    reason="totp",
                    origin=origin,
                    now=platform.clock.now(),
                )
        raise
    return RecoveryCodesOut(recovery_codes=codes)


@router.delete("/me/totp", status_code=204)
def remove_totp(
    platform: PlatformDep,
    actor: ActorDep,
    request: Request,
    body: Annotated[DisableIn, Body()],
) -> Response:
    """Turn two-factor sign-in off, confirmed with a current code, a recovery code or
    the password. Roles that must sign in with a code (FAPIAO_TOTP_REQUIRED_ROLES) may
    not (409 TOTP_REQUIRED). A wrong code or password counts as a failed sign-in."""
    if actor.role in platform.settings.totp_role_set:
        raise Conflict(
            "TOTP_REQUIRED",
            N_("Your role ({role}) must sign in with a one-time code."),
            params={"role": actor.role},
        )
    if (body.code is None) == (body.password is None):
        raise invalid(
            "code", "CONFIRMATION_REQUIRED", N_("Give either your current code or your password.")
        )
    origin = origin_of(request)
    with platform.database.transaction(write=False) as session:
        password_hash = _user(session, actor).password_hash
    password_ok = body.password is not None and check_password(body.password, password_hash)
    with platform.database.transaction() as session:
        error = _remove(platform, session, actor, body, password_ok, origin)
    if error is not None:
        raise error
    return Response(status_code=204)


def _remove(
    platform: Platform,
    session: Session,
    actor: Actor,
    body: DisableIn,
    password_ok: bool,
    origin: Origin,
) -> FapiaoError | None:
    user = _user(session, actor)
    state = security_row(session, user.id)
    if state.totp_secret is None and state.totp_pending_secret is None:
        raise Conflict("TOTP_NOT_ENABLED", N_("Two-factor sign-in is not on."))
    confirmed = password_ok
    if body.code is not None and state.totp_secret is not None:
        now = platform.clock.now()
        spent = twofactor.use_code(session, state, user, body.code, now=now, origin=origin)
        confirmed = spent is not None
    if not confirmed:
        count_failure(
            session,
            platform.settings,
            user.username,
            reason="reconfirm",
            origin=origin,
            now=platform.clock.now(),
        )
        return Forbidden("CONFIRMATION_FAILED", N_("The code or password is wrong."))
    twofactor.disable(session, user, origin=origin, now=platform.clock.now())
    return None


@router.post("/users/{username}/unlock", response_model=UnlockOut)
def unlock_user(
    platform: PlatformDep,
    actor: ActorDep,
    request: Request,
    username: Annotated[str, Path(max_length=64)],
) -> UnlockOut:
    """Lift a sign-in lock and clear the failure count: a taxpayer's admins for its own
    users, officers for anyone. Another taxpayer's user is a 404."""
    permissions.check(actor.role, permissions.MANAGE_USERS)
    with platform.database.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or (not actor.is_officer and user.taxpayer_id != actor.taxpayer_id):
            raise NotFound("USER_NOT_FOUND", N_("No such user."))
        was_locked = unlock(
            session, user, by=actor.username, origin=origin_of(request), now=platform.clock.now()
        )
    return UnlockOut(username=user.username, was_locked=was_locked)
