"""/api/v1/users: an admin manages the users of its own taxpayer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from fapiao.accounts import management, passwords, permissions
from fapiao.accounts.models import TAXPAYER_ROLES, User
from fapiao.accounts.service import Actor, create_user
from fapiao.http.deps import ActorDep, PlatformDep
from fapiao.http.openapi import PROBLEMS
from fapiao.kit.errors import N_, Forbidden, invalid
from fapiao.platform import Platform

router = APIRouter(prefix="/api/v1", tags=["users"], responses=PROBLEMS)

# No control characters: PostgreSQL refuses NUL, and no username has them.
USERNAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"
UsernameIn = Annotated[str, Field(min_length=1, max_length=64, pattern=USERNAME_PATTERN)]
UsernamePath = Annotated[str, Path(max_length=64, pattern=USERNAME_PATTERN)]


class UserOut(BaseModel):
    username: str
    role: str
    tax_id: str | None
    active: bool
    must_change_password: bool
    password_changed_at: datetime | None
    created_at: datetime


class UserCreate(BaseModel):
    username: UsernameIn
    password: str = Field(max_length=1024)
    role: str = Field(max_length=16, description="admin, clerk or viewer")


class UserPatch(BaseModel):
    role: str | None = Field(default=None, max_length=16)
    active: bool | None = None


class PasswordReset(BaseModel):
    new_password: str = Field(max_length=1024)


def user_out(user: User, tax_id: str | None) -> UserOut:
    return UserOut(
        username=user.username,
        role=user.role,
        tax_id=tax_id,
        active=user.is_active,
        must_change_password=user.must_change_password,
        password_changed_at=user.password_changed_at,
        created_at=user.created_at,
    )


def require_admin(actor: Actor) -> int:
    """The admin's taxpayer id; 403 for roles without MANAGE_USERS, and for officers,
    who manage a taxpayer's admins under /taxpayers/{tax_id}/users instead."""
    permissions.check(actor.role, permissions.MANAGE_USERS)
    if actor.taxpayer_id is None:
        raise Forbidden(
            "TAXPAYER_REQUIRED",
            N_("Only users of a taxpayer can do this; officers manage a taxpayer's admins."),
        )
    return actor.taxpayer_id


def add_user(platform: Platform, tax_id: str, body: UserCreate) -> UserOut:
    """A new user of the taxpayer `tax_id` with a role of a taxpayer."""
    if body.role not in TAXPAYER_ROLES:
        raise invalid("role", "ROLE_UNKNOWN", N_("Unknown role {role}."), role=body.role)
    with platform.database.transaction() as session:
        user = create_user(
            session,
            username=body.username,
            password=body.password,
            role=body.role,
            taxpayer_tax_id=tax_id,
            now=platform.clock.now(),
            policy=passwords.PasswordPolicy.from_settings(platform.settings),
        )
        return user_out(user, tax_id)


def reset_password(
    platform: Platform, taxpayer_id: int, username: str, new_password: str, *, admins_only: bool
) -> UserOut:
    """Give a user of this taxpayer a new password, which they must change at their next
    sign-in; their tokens end at once (in other processes within the actor cache's ttl)."""
    policy = passwords.PasswordPolicy.from_settings(platform.settings)
    with platform.database.transaction(write=False) as session:
        user = management.user_of(session, taxpayer_id, username)
        if admins_only and user.role != "admin":
            raise Forbidden(
                "TARGET_NOT_ADMIN",
                N_("Officers reset the passwords of admins; admins reset their users'."),
            )
        tax_id = management.tax_id_of(session, user)
        passwords.check_new_password(
            new_password, policy, field="new_password", username=user.username, tax_id=tax_id
        )
        user_id, old_hash = user.id, user.password_hash
    new_hash = passwords.hash_password(new_password)
    with platform.database.transaction() as session:
        management.store_password(
            session,
            user_id,
            new_hash,
            platform.clock.now(),
            must_change=True,
            expected_hash=old_hash,
        )
        changed = session.get(User, user_id)
        assert changed is not None
        result = user_out(changed, tax_id)
    platform.actors.drop(user_id)
    return result


@router.get("/users", response_model=list[UserOut])
def list_users(platform: PlatformDep, actor: ActorDep) -> list[UserOut]:
    """The users of the admin's taxpayer."""
    taxpayer_id = require_admin(actor)
    with platform.database.transaction(write=False) as session:
        return [user_out(user, actor.tax_id) for user in management.users_of(session, taxpayer_id)]


@router.post("/users", response_model=UserOut, status_code=201)
def create_taxpayer_user(platform: PlatformDep, actor: ActorDep, body: UserCreate) -> UserOut:
    """A new user of the admin's taxpayer (role admin, clerk or viewer)."""
    require_admin(actor)
    assert actor.tax_id is not None
    return add_user(platform, actor.tax_id, body)


@router.patch("/users/{username}", response_model=UserOut)
def update_user(
    platform: PlatformDep, actor: ActorDep, username: UsernamePath, body: UserPatch
) -> UserOut:
    """Change a user's role or deactivate it; the last active admin stays (409 LAST_ADMIN)."""
    taxpayer_id = require_admin(actor)
    with platform.database.transaction() as session:
        user = management.update_user(
            session, taxpayer_id, username, role=body.role, active=body.active
        )
        result = user_out(user, actor.tax_id)
        user_id = user.id
    platform.actors.drop(user_id)
    return result


@router.post("/users/{username}/password", response_model=UserOut)
def reset_user_password(
    platform: PlatformDep, actor: ActorDep, username: UsernamePath, body: PasswordReset
) -> UserOut:
    """Reset a user's password; they must change it at their next sign-in."""
    taxpayer_id = require_admin(actor)
    return reset_password(platform, taxpayer_id, username, body.new_password, admins_only=False)
