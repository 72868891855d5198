"""`fapiao demo`: demo taxpayers, users and invoices, seeded once."""

from __future__ import annotations

from decimal import Decimal

import typer
from rich.table import Table
from sqlalchemy import select

from fapiao.accounts import service as accounts
from fapiao.accounts import twofactor
from fapiao.accounts.models import User
from fapiao.announcements import service as announcements
from fapiao.announcements.models import Announcement
from fapiao.announcements.rules import RELEASE, Draft
from fapiao.cli.context import console, state
from fapiao.cli.twofactor import CLI
from fapiao.invoices import rules
from fapiao.invoices import service as invoices
from fapiao.invoices.buyer import BuyerInput
from fapiao.platform import Platform
from fapiao.taxpayers import service as taxpayers

SELLER = ("91110108551385082Q", "北京示例科技有限公司", "general")
BUYER = ("91110105MA01ABCD13", "北京样例贸易有限公司", "general")
SMALL = ("92110108MA01XYW129", "北京小规模餐饮店", "small_scale")
COOP = ("N2110108MA0012345L", "北京示范农民专业合作社", "general")
PASSWORD = "demo-pass-2026"
# Fixed second-factor secrets of the demo users whose roles sign in with a one-time code
# (published here and in the README: demo data only). `fapiao user totp-code --username U`
# prints the current code.
TOTP_SECRETS = {
    "seller-admin": "DEMOADMINSECRET2DEMOADMINSECRET2",
    "officer": "DEMOOFFICERSECRET2DEMOOFFICERSE2",
    "helpdesk-1": "DEMOHELPDESKONE2DEMOHELPDESKONE2",
    "helpdesk-2": "DEMOHELPDESKTWO2DEMOHELPDESKTWO2",
}
USERS = (
    ("seller-admin", "admin", SELLER[0]),
    ("seller-clerk", "clerk", SELLER[0]),
    ("seller-viewer", "viewer", SELLER[0]),
    ("buyer-clerk", "clerk", BUYER[0]),
    ("small-clerk", "clerk", SMALL[0]),
    ("officer", "officer", None),
    # Tax bureau staff who answer support tickets.
    ("helpdesk-1", "officer", None),
    ("helpdesk-2", "officer", None),
)


RELEASE_NOTE = Draft(
    kind=RELEASE,
    title_zh="平台公告与维护通知上线",
    title_en="Announcements and maintenance notices",
    body_zh="税务机关可发布维护窗口、版本说明和通知：页面顶部横幅、公告列表、"
    "GET /api/v1/announcements 以及 Atom/RSS 订阅（/announcements.atom、/announcements.rss）。",
    body_en="The tax bureau publishes maintenance windows, release notes and notices: as a "
    "banner, a list, GET /api/v1/announcements and Atom/RSS feeds "
    "(/announcements.atom, /announcements.rss).",
    banner=True,
)


def seed_announcements(platform: Platform) -> bool:
    """Publish the demo release note; False when it is there already."""
    now = platform.clock.now()
    with platform.database.transaction() as session:
        there = session.scalar(
            select(Announcement.id).where(Announcement.title_zh == RELEASE_NOTE.title_zh)
        )
        if there is not None:
            return False
        note = announcements.create(session, now, RELEASE_NOTE, "officer")
        announcements.publish(session, now, note.id)
    return True


def seed(platform: Platform) -> bool:
    """Seed the demo data; False when it was already there."""
    now = platform.clock.now()
    with platform.database.transaction() as session:
        if session.scalar(select(User.id).where(User.username == "seller-clerk")) is not None:
            return False
        for tax_id, name, kind in (SELLER, BUYER, SMALL, COOP):
            if taxpayers.by_tax_id(session, tax_id) is None:
                taxpayers.add_taxpayer(
                    session,
                    tax_id=tax_id,
                    name=name,
                    kind=kind,
                    credit_limit=Decimal("5000000.00"),
                    now=now,
                    address="北京市海淀区中关村大街1号",
                    phone="010-12345678",
                    bank="中国工商银行北京中关村支行",
                    account="0200001234567890123",
                )
        for username, role, taxpayer in USERS:
            user = accounts.create_user(
                session,
                username=username,
                password=PASSWORD,
                role=role,
                taxpayer_tax_id=taxpayer,
                now=now,
            )
            if username in TOTP_SECRETS:
                twofactor.enable(session, user, TOTP_SECRETS[username], now=now, origin=CLI)
    with platform.database.transaction(write=False) as session:
        clerk = session.scalar(select(User).where(User.username == "seller-clerk"))
        assert clerk is not None
        actor = accounts.load_actor(session, clerk.id)
    for index, (kind, quantity, price) in enumerate(
        (("special", "10", "1000"), ("ordinary", "2", "56.5"), ("special", "1", "12000"))
    ):
        request = invoices.IssueRequest(
            kind=kind,
            buyer=BuyerInput(name=BUYER[1], tax_id=BUYER[0]),
            lines=[
                rules.LineInput(
                    name="软件开发服务",
                    tax_code="3040201030000000000",
                    tax_rate="0.06",
                    unit="项",
                    quantity=Decimal(quantity),
                    unit_price=Decimal(price),
                )
            ],
            drawer="张三",
            fingerprint=f"demo-{index}",
        )
        invoices.issue(platform, actor, request, idempotency_key=f"demo-{index}")
    return True


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(ctx: typer.Context) -> None:
        """Seed demo taxpayers, users and invoices (once; running it again changes nothing)."""
        platform = state(ctx).platform()
        created = seed(platform)
        seed_announcements(platform)
        console.print("demo data seeded" if created else "demo data already present")
        table = Table("username", "password", "role", "taxpayer")
        for username, role, tax_id in USERS:
            table.add_row(username, PASSWORD, role, tax_id or "-")
        console.print(table)
        console.print("these sign in with a one-time code too (field totp); the TOTP secrets:")
        for username, secret in TOTP_SECRETS.items():
            console.print(f"  {username}: {secret}")
        console.print("the current code: fapiao user totp-code --username seller-admin")
