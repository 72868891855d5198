"""Settings from FAPIAO_* environment variables. The only module that reads the
environment. A bad value stops start-up with a message naming the setting."""

from __future__ import annotations

import base64
import binascii
import functools
import re
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fapiao.kit.files import create_once
from fapiao.kit.mail import is_mail_address, parse_smtp_url
from fapiao.kit.rates import IPNetwork, Rate, parse_networks, parse_rate

MIN_SECRET_LENGTH = 32
_URL_FIELDS = frozenset({"database_url", "smtp_url", "replica_urls"})
# user:password@ in a URL (a password with @ or / in it is percent-encoded).
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


class SettingsError(Exception):
    """A setting is missing or invalid; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FAPIAO_", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str = ""
    region: str = "11"
    # Issuing channel, digit 5 of the invoice number (see docs/numbering.md).
    channel: str = "1"
    secret_key: str = ""
    token_ttl_minutes: int = Field(default=480, ge=1, le=60 * 24 * 30)
    # Password policy (accounts/passwords.py): ASVS defaults; classes and rotation are
    # there for assessors who require them (GB/T 22239 level 3).
    password_min_length: int = Field(default=8, ge=8, le=128)
    password_require_classes: int = Field(default=0, ge=0, le=4)
    password_max_age_days: int = Field(default=0, ge=0, le=3650)
    default_credit_limit: Decimal = Decimal("10000000.00")
    max_lines: int = Field(default=2000, ge=1, le=10000)
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    # Uploaded invoice lists (POST /api/v1/reconciliations): a million CSV rows are ~70 MB.
    max_upload_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    line_tax_tolerance: Decimal = Decimal("0.06")
    invoice_tax_tolerance: Decimal = Decimal("1.27")
    verify_daily_limit: int = Field(default=5, ge=1)
    verify_window_years: int = Field(default=5, ge=1)
    redletter_hours: int = Field(default=72, ge=1)
    number_block_size: int = Field(default=50, ge=1, le=100000)
    sqlite_busy_timeout_ms: int = Field(default=30000, ge=0)
    db_pool_size: int = Field(default=20, ge=1)
    jobs_interval_seconds: float = Field(default=60.0, gt=0)
    signing_key_file: Path | None = None
    webhook_max_attempts: int = Field(default=10, ge=1, le=100)
    webhook_backoff_base_seconds: float = Field(default=5.0, gt=0)
    webhook_backoff_cap_seconds: float = Field(default=3600.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    relay_poll_seconds: float = Field(default=0.1, gt=0)
    relay_send_threads: int = Field(default=8, ge=1, le=64)
    relay_lease_seconds: float = Field(default=60.0, gt=0)
    # Webhooks may call addresses inside the platform's own network (tests, intranets).
    webhook_allow_private: bool = False
    # E-mail notices to buyers. Unset: notices wait in the queue until a server is given.
    smtp_url: str = ""
    mail_from: str = "fapiao@localhost"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    # Certificates to trust for STARTTLS/SMTPS besides the system's (a private CA).
    smtp_ca_file: Path | None = None
    # Streaming replicas of a PostgreSQL primary that serve list, get and verify.
    replica_urls: str = ""
    replica_retry_seconds: float = Field(default=5.0, gt=0)
    # Consecutive failed sign-ins that lock an account, and for how long.
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    login_lock_minutes: int = Field(default=15, ge=1, le=60 * 24 * 30)
    # Roles that must sign in with a TOTP code (comma-separated).
    totp_required_roles: str = "admin,officer"
    # API tokens: the longest lifetime a token may be given, and how long a process trusts
    # a token it has verified (a revocation reaches every process within this bound).
    api_token_max_days: int = Field(default=365, ge=1, le=3650)
    api_token_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    # Browser sessions: idle timeout, absolute lifetime, and the cookie's Secure flag (turn
    # it off only for plain-http development and tests).
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=24 * 30)
    cookie_secure: bool = True
    # Abuse limits shared by every process (counted in the database): "10/minute",
    # "600/hour", "0" for off.
    rate_login_per_ip: str = "10/minute"
    rate_login_per_account: str = "20/minute"
    rate_verify_per_ip: str = "60/minute"
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (CIDR list).
    trusted_proxies: str = ""
    # JSON-lines access log: a file, "-" for standard output, "" for none. Unset: none,
    # except under `fapiao serve`, which logs to standard output.
    access_log: str | None = None
    # Audit entries are kept at least 180 days (GB/T 22239 level 3: six months of logs).
    audit_retention_days: int = Field(default=180, ge=180, le=36500)
    # Longest time an API request's audit entry waits in memory before it is written.
    audit_flush_seconds: float = Field(default=0.5, gt=0, le=10)
    # Encryption at rest (docs/encryption.md): the master key that wraps the data keys,
    # base64 of 32 bytes, or a file holding it; by default master.key in the data dir.
    master_key: str = ""
    master_key_file: Path | None = None
    field_cipher: str = "aes-256-gcm"
    keys_batch_size: int = Field(default=1000, ge=1, le=100000)
    # Announcements: a maintenance notice shows as a banner this long before its window;
    # a notice or release note flagged as a banner shows this many days after publishing.
    announcement_lead_hours: int = Field(default=72, ge=0, le=24 * 90)
    announcement_banner_days: int = Field(default=7, ge=1, le=365)
    # The authority of the feeds' tag: URIs (RFC 4151), a domain the operator owns; the
    # ids of entries must not change, so set it once.
    feed_tag_authority: str = Field(default="fapiao.localhost", pattern=r"^[a-z0-9.-]{1,100}$")

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if len(value) != 2 or not value.isdigit() or value == "00":
            raise ValueError("must be a two-digit province code such as 11 (Beijing)")
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if len(value) != 1 or not value.isdigit():
            raise ValueError("must be a single digit")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str) -> str:
        if value.strip():
            parse_smtp_url(value)
        return value.strip()

    @field_validator("mail_from")
    @classmethod
    def _mail_from(cls, value: str) -> str:
        if not is_mail_address(value, dotted_domain=False):
            raise ValueError("must be a plain address such as fapiao@example.com")
        return value

    @field_validator("smtp_ca_file")
    @classmethod
    def _ca_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError("is not a readable file")
        return value

    @field_validator("replica_urls")
    @classmethod
    def _replica_urls(cls, value: str) -> str:
        for url in _split_urls(value):
            if not url.startswith("postgresql"):
                raise ValueError(f"{url.split('://')[0]}:// is not a postgresql+psycopg:// URL")
        return value

    @field_validator("totp_required_roles")
    @classmethod
    def _totp_roles(cls, value: str) -> str:
        from fapiao.accounts.models import ROLES  # late: the models import the settings

        for role in _split_urls(value):
            if role not in ROLES:
                raise ValueError(f"{role} is not a role (roles: {', '.join(ROLES)})")
        return value

    @field_validator("rate_login_per_ip", "rate_login_per_account", "rate_verify_per_ip")
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_rate(value)
        return value.strip()

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        parse_networks(value)
        return value

    @field_validator("master_key")
    @classmethod
    def _master_key(cls, value: str) -> str:
        if value.strip():
            decode_master_key(value)
        return value.strip()

    @field_validator("field_cipher")
    @classmethod
    def _field_cipher(cls, value: str) -> str:
        if value not in FIELD_CIPHERS:
            raise ValueError("must be one of " + ", ".join(FIELD_CIPHERS))
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret(cls, value: str) -> str:
        if value and len(value) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters")
        return value

    @model_validator(mode="after")
    def _shared_secret(self) -> Settings:
        # Every process on a shared PostgreSQL database must sign tokens with the same key;
        # a key file per data directory would differ from host to host.
        if self.database_url.startswith("postgresql") and not self.secret_key:
            raise ValueError("FAPIAO_SECRET_KEY is required with PostgreSQL")
        if self.replica_urls.strip() and not self.database_url.startswith("postgresql"):
            raise ValueError(
                "FAPIAO_REPLICA_URLS needs a PostgreSQL primary in FAPIAO_DATABASE_URL "
                "(SQLite has no replicas)"
            )
        return self

    @field_validator("default_credit_limit")
    @classmethod
    def _credit(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("must not be negative")
        return value

    def __repr_args__(self) -> Any:
        # repr() and str() of the settings end up in logs and tracebacks: no secrets.
        for name, value in super().__repr_args__():
            if name in ("secret_key", "master_key") and value:
                yield name, "**********"
            elif name in _URL_FIELDS and isinstance(value, str):
                yield name, hide_password(value)
            else:
                yield name, value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'fapiao.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def replica_url_list(self) -> list[str]:
        """The replicas, in the order given (named replica-1, replica-2, ...)."""
        return _split_urls(self.replica_urls)

    def rate(self, name: str) -> Rate | None:
        """The parsed rate setting `name` (e.g. "rate_login_per_ip"); None when off."""
        return _rate_cached(getattr(self, name))

    @property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return _networks_cached(self.trusted_proxies)

    @property
    def totp_role_set(self) -> frozenset[str]:
        """The roles that must sign in with a second factor."""
        return frozenset(_split_urls(self.totp_required_roles))

    @property
    def signing_key_path(self) -> Path:
        """This server's receipt-signing key (created on first use)."""
        return self.signing_key_file or self.data_dir / "signing-key.pem"

    @property
    def master_key_path(self) -> Path:
        """The master key file (created on first use) when FAPIAO_MASTER_KEY is not set."""
        return self.master_key_file or self.data_dir / "master.key"

    @property
    def master_key_setting(self) -> str:
        """Where the master key comes from, for messages."""
        if self.master_key:
            return "FAPIAO_MASTER_KEY"
        if self.master_key_file:
            return f"FAPIAO_MASTER_KEY_FILE ({self.master_key_file})"
        return f"the master key file {self.master_key_path} (FAPIAO_MASTER_KEY_FILE)"

    def resolved_master_key(self) -> bytes:
        """The 32-byte master key: the setting, else its file (created once in the data
        dir, mode 0600, when no file was named)."""
        if self.master_key:
            return decode_master_key(self.master_key)
        path = self.master_key_path
        if not path.exists():
            if self.master_key_file is not None:
                raise SettingsError(f"FAPIAO_MASTER_KEY_FILE: {path} does not exist")
            path.parent.mkdir(parents=True, exist_ok=True)
            create_once(path, base64.b64encode(secrets.token_bytes(32)) + b"\n")
        try:
            return decode_master_key(path.read_text())
        except ValueError as exc:
            raise SettingsError(f"{self.master_key_setting}: {exc}") from None

    def resolved_secret_key(self) -> str:
        """The signing secret: the setting, else a key file created once in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if not path.exists():
            _create_key_file(path)
        key = path.read_text().strip()
        if len(key) < MIN_SECRET_LENGTH:
            raise SettingsError(f"{path} is empty or too short; delete it to create a new key")
        return key


@functools.lru_cache(maxsize=64)
def _rate_cached(value: str) -> Rate | None:
    return parse_rate(value)


@functools.lru_cache(maxsize=16)
def _networks_cached(value: str) -> tuple[IPNetwork, ...]:
    return parse_networks(value)


def hide_password(text: str) -> str:
    """`text` with the password of every URL in it replaced by ***."""
    return _URL_PASSWORD.sub(r"\1***@", text)


FIELD_CIPHERS = ("aes-256-gcm", "sm4-gcm", "sm4-ctr-hmac")


def decode_master_key(text: str) -> bytes:
    """32 bytes from their base64 text; ValueError saying what is wrong."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be the base64 of 32 random bytes") from None
    if len(key) != 32:
        raise ValueError(f"must be the base64 of 32 bytes, not {len(key)}")
    return key


def _split_urls(value: str) -> list[str]:
    return [url.strip() for url in value.split(",") if url.strip()]


def _create_key_file(path: Path) -> None:
    create_once(path, secrets.token_urlsafe(48).encode())


def load_settings(**overrides: object) -> Settings:
    """Read settings; raise SettingsError naming the first bad FAPIAO_* variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            if error["loc"]:
                name = "FAPIAO_" + "_".join(str(part) for part in error["loc"]).upper()
                problems.append(f"{name}: {error['msg']}")
            else:
                problems.append(str(error["msg"]).removeprefix("Value error, "))
        raise SettingsError("invalid setting " + "; ".join(problems)) from None
