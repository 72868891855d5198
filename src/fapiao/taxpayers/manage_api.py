"""Officers manage taxpayers and their admins: /api/v1/taxpayers… (besides /me)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from fapiao.accounts import management as accounts
from fapiao.accounts import permissions
from fapiao.accounts.service import Actor
from fapiao.accounts.users_api import (
    PasswordReset,
    UserCreate,
    UsernameIn,
    UsernamePath,
    UserOut,
    add_user,
    reset_password,
    user_out,
)
from fapiao.http.deps import ActorDep, PlatformDep
from fapiao.http.openapi import PROBLEMS
from fapiao.http.types import Amount, Text
from fapiao.taxpayers import management
from fapiao.taxpayers.models import Taxpayer
from fapiao.taxpayers.service import add_taxpayer

router = APIRouter(prefix="/api/v1", tags=["taxpayers"], responses=PROBLEMS)

TaxIdPath = Annotated[str, Path(max_length=20, pattern=r"^[0-9A-Za-z]+$")]


class TaxpayerDetail(BaseModel):
    tax_id: str
    name: str
    kind: str
    credit_limit: str
    address: str
    phone: str
    bank: str
    account: str
    active: bool
    created_at: datetime


class TaxpayerCreate(BaseModel):
    tax_id: str = Field(max_length=20)
    name: Text = Field(max_length=400)
    kind: str = Field(default="general", max_length=16, description="general or small_scale")
    credit_limit: Amount | None = Field(
        default=None, description="Monthly credit; FAPIAO_DEFAULT_CREDIT_LIMIT when omitted."
    )
    address: Text = Field(default="", max_length=400)
    phone: Text = Field(default="", max_length=400)
    bank: Text = Field(default="", max_length=400)
    account: Text = Field(default="", max_length=400)


class TaxpayerPatch(BaseModel):
    name: Text | None = Field(default=None, max_length=400)
    credit_limit: Amount | None = None
    address: Text | None = Field(default=None, max_length=400)
    phone: Text | None = Field(default=None, max_length=400)
    bank: Text | None = Field(default=None, max_length=400)
    account: Text | None = Field(default=None, max_length=400)
    active: bool | None = Field(
        default=None, description="false suspends the taxpayer: its users cannot sign in."
    )


class TaxpayerPage(BaseModel):
    items: list[TaxpayerDetail]
    total: int
    next_offset: int | None


class AdminCreate(BaseModel):
    username: UsernameIn
    password: str = Field(max_length=1024)


def require_officer(actor: Actor) -> None:
    """403 unless the role may manage taxpayers (the tax bureau's)."""
    permissions.check(actor.role, permissions.MANAGE_TAXPAYERS)


def detail(taxpayer: Taxpayer) -> TaxpayerDetail:
    return TaxpayerDetail(
        tax_id=taxpayer.tax_id,
        name=taxpayer.name,
        kind=taxpayer.kind,
        credit_limit=f"{taxpayer.credit_limit:.2f}",
        address=taxpayer.address,
        phone=taxpayer.phone,
        bank=taxpayer.bank,
        account=taxpayer.account,
        active=taxpayer.is_active,
        created_at=taxpayer.created_at,
    )


@router.post("/taxpayers", response_model=TaxpayerDetail, status_code=201)
def create_taxpayer(platform: PlatformDep, actor: ActorDep, body: TaxpayerCreate) -> TaxpayerDetail:
    """Register a taxpayer (officers)."""
    require_officer(actor)
    for field in management.CONTACT_LIMITS:
        management.check_contact(field, getattr(body, field))
    credit = body.credit_limit
    with platform.database.transaction() as session:
        taxpayer = add_taxpayer(
            session,
            tax_id=body.tax_id,
            name=body.name,
            kind=body.kind,
            credit_limit=platform.settings.default_credit_limit if credit is None else credit,
            now=platform.clock.now(),
            address=body.address,
            phone=body.phone,
            bank=body.bank,
            account=body.account,
        )
        return detail(taxpayer)


@router.get("/taxpayers", response_model=TaxpayerPage)
def list_taxpayers(
    platform: PlatformDep,
    actor: ActorDep,
    q: Annotated[
        Text | None,
        Query(max_length=200, description="Start of a tax ID, or part of a name."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> TaxpayerPage:
    """Search the registered taxpayers (officers), ordered by tax ID."""
    require_officer(actor)
    with platform.database.transaction(write=False) as session:
        items, total = management.search(session, q, limit, offset)
        return TaxpayerPage(
            items=[detail(item) for item in items],
            total=total,
            next_offset=offset + limit if offset + limit < total else None,
        )


@router.get("/taxpayers/{tax_id}", response_model=TaxpayerDetail)
def get_taxpayer(platform: PlatformDep, actor: ActorDep, tax_id: TaxIdPath) -> TaxpayerDetail:
    """One taxpayer: any for officers, one's own for its users (another's is 404)."""
    if not actor.is_officer:
        permissions.check(actor.role, permissions.OWN_BOOKS)
        if tax_id != actor.tax_id:
            raise management.taxpayer_not_found()
    with platform.database.transaction(write=False) as session:
        return detail(management.get(session, tax_id))


@router.patch("/taxpayers/{tax_id}", response_model=TaxpayerDetail)
def update_taxpayer(
    platform: PlatformDep, actor: ActorDep, tax_id: TaxIdPath, body: TaxpayerPatch
) -> TaxpayerDetail:
    """Change a taxpayer's name, credit limit, contact fields or suspend it (officers)."""
    require_officer(actor)
    contact = {
        field: value
        for field in management.CONTACT_LIMITS
        if (value := getattr(body, field)) is not None
    }
    with platform.database.transaction() as session:
        taxpayer = management.update(
            session,
            tax_id,
            name=body.name,
            credit_limit=body.credit_limit,
            active=body.active,
            contact=contact,
        )
        result = detail(taxpayer)
        users = [user.id for user in accounts.users_of(session, taxpayer.id)]
    # Suspension applies here at once; other processes within the actor cache's ttl.
    for user_id in users:
        platform.actors.drop(user_id)
    return result


@router.get("/taxpayers/{tax_id}/users", response_model=list[UserOut])
def list_taxpayer_users(platform: PlatformDep, actor: ActorDep, tax_id: TaxIdPath) -> list[UserOut]:
    """The users of a taxpayer (officers)."""
    require_officer(actor)
    with platform.database.transaction(write=False) as session:
        taxpayer = management.get(session, tax_id)
        return [user_out(user, tax_id) for user in accounts.users_of(session, taxpayer.id)]


@router.post("/taxpayers/{tax_id}/users", response_model=UserOut, status_code=201)
def create_taxpayer_admin(
    platform: PlatformDep, actor: ActorDep, tax_id: TaxIdPath, body: AdminCreate
) -> UserOut:
    """A new admin of a taxpayer (officers); the admin then manages its users."""
    require_officer(actor)
    with platform.database.transaction(write=False) as session:
        management.get(session, tax_id)
    return add_user(
        platform, tax_id, UserCreate(username=body.username, password=body.password, role="admin")
    )


@router.post("/taxpayers/{tax_id}/users/{username}/password", response_model=UserOut)
def reset_admin_password(
    platform: PlatformDep,
    actor: ActorDep,
    tax_id: TaxIdPath,
    username: UsernamePath,
    body: PasswordReset,
) -> UserOut:
    """Reset the password of a taxpayer's admin (officers); it must be changed at the
    admin's next sign-in."""
    require_officer(actor)
    with platform.database.transaction(write=False) as session:
        taxpayer_id = management.get(session, tax_id).id
    return reset_password(platform, taxpayer_id, username, body.new_password, admins_only=True)
