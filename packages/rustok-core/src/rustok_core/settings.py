"""Settings: ``config/<env>.yaml`` plus environment overrides, validated once.

Sources, later ones winning:

1. defaults in the models below;
2. ``config/<env>.yaml`` (``env`` from ``RUSTOK_ENV``, default ``development``; the
   directory from ``RUSTOK_CONFIG_DIR``, default ``./config``);
3. well-known environment variables (:data:`ENV_ALIASES`, e.g. ``DATABASE_URL``,
   ``RUSTOK_EVENT_TRANSPORT``);
4. ``RUSTOK__<SECTION>__<KEY>`` variables for any key, values parsed as YAML scalars
   (``RUSTOK__RUSTOK__TENANT__RESOLUTION=host``, ``RUSTOK__SERVER__PORT=8080``).

An invalid value stops the start with a :class:`SettingsError` naming the key, where
the value came from, and the allowed values. Nothing else in the code base reads
``os.environ`` for configuration.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from rustok_core.errors import BootError

Environment = Literal["development", "test", "production"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=5150, ge=1, le=65535)
    cors_origins: list[str] = Field(default_factory=list)
    # Seconds uvicorn waits for open requests on shutdown.
    graceful_timeout: float = Field(default=10.0, ge=0)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    """Largest request body accepted on API paths (413 beyond it)."""
    max_upload_bytes: int = Field(default=25 * 1_048_576, ge=1024)
    """Largest request body accepted on REST routes that take file uploads (413 beyond it)."""
    idempotency_ttl_seconds: int = Field(default=86_400, ge=60)
    """How long a REST ``Idempotency-Key`` and the response it recorded are kept."""
    idempotency_lease_seconds: float = Field(default=300.0, gt=0)
    """How long a request still running holds its key; a claim left by a crashed process
    is taken over after this."""


class DatabaseSettings(_Section):
    url: str | None = None
    """PostgreSQL URL. Unset: the embedded PostgreSQL under ``embedded_dir``."""
    embedded_dir: str = "var/pg"
    embedded_database: str = "rustok"
    pool_size: int = Field(default=10, ge=1)
    max_overflow: int = Field(default=10, ge=0)
    read_pool_size: int = Field(default=10, ge=1)
    """Connections of the separate pool for one-statement storefront reads (autocommit, opened on first use)."""
    echo: bool = False
    auto_migrate: bool | None = None
    """Apply migrations at boot. Unset: on in development and test, off in production."""


class GraphQLSettings(_Section):
    max_depth: int = Field(default=12, ge=1)
    max_cost: int = Field(default=10_000, ge=1)
    introspection: bool = True
    explorer: bool = True
    document_cache_size: int = Field(default=1024, ge=0)
    response_cache: bool = True
    """Cache answers of queries whose every root field is ``@storefrontCached`` (per process)."""
    response_cache_max_bytes: int = Field(default=64 * 1_048_576, ge=65_536)
    """Memory bound of the response cache of one process (least recently used answers go first)."""
    response_cache_max_entries: int = Field(default=10_000, ge=1)
    response_cache_ttl: float = Field(default=3_600.0, gt=0)
    """Memory hygiene only: answers are dropped by index changes, not by age."""
    fast_path: bool = True
    """Answer known storefront selections without graphql-core's field-by-field execution."""
    rendered_rows: int = Field(default=20_000, ge=0)
    """Fast-path reads keep the JSON they make of an index row, per row version and selection,
    in two generations of this many entries each (0: off). Nothing is invalidated: a written
    row has a new version."""


class CacheSettings(_Section):
    redis_url: str | None = None
    """Redis for shared caches, rate limits and cross-instance invalidation."""
    key_prefix: str = "rustok"
    l1_max_entries: int = Field(default=10_000, ge=100)
    l1_ttl: float = Field(default=5.0, gt=0)
    """With Redis, how long a process may keep a shared entry in its own memory."""


class AuthSettings(_Section):
    jwt_secret: SecretStr | None = None
    """HMAC key for access tokens. Unset outside production: kept in ``var/jwt-secret``."""
    jwt_issuer: str = "rustok"
    access_token_ttl: int = Field(default=900, ge=60, le=86_400)
    refresh_token_ttl: int = Field(default=30 * 86_400, ge=3_600)
    argon2_time_cost: int = Field(default=3, ge=1, le=20)
    argon2_memory_kib: int = Field(default=65_536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1, le=64)
    password_min_length: int = Field(default=8, ge=8, le=64)
    password_max_length: int = Field(default=128, ge=64, le=1024)
    login_failures_per_email: int = Field(default=5, ge=1)
    login_failures_per_ip: int = Field(default=30, ge=1)
    login_window: int = Field(default=900, ge=60)
    """Seconds over which failed sign-ins are counted (per tenant+email and per IP)."""
    verification_token_ttl: int = Field(default=86_400, ge=300)
    reset_token_ttl: int = Field(default=3_600, ge=300)
    api_key_touch_interval: int = Field(default=60, ge=1)
    """Record an API key's last use at most this often (seconds)."""


class MailSettings(_Section):
    transport: Literal["file", "smtp"] = "file"
    directory: str = "var/mail"
    from_address: str = "RusToK <no-reply@localhost>"
    public_url: str = "http://127.0.0.1:5150"
    """Base URL used in links sent by mail (verification, password reset)."""
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_timeout: float = Field(default=10.0, gt=0)


DEFAULT_MEDIA_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")


class MediaSettings(_Section):
    directory: str = "var/media"
    """Where :class:`~rustok_core.storage.LocalMediaStorage` keeps uploaded files."""
    allowed_types: list[str] = Field(default_factory=lambda: list(DEFAULT_MEDIA_TYPES))
    """Content types accepted for media uploads (the upload size limit is ``server.max_upload_bytes``)."""

    @field_validator("allowed_types")
    @classmethod
    def _media_types(cls, value: list[str]) -> list[str]:
        normalized = []
        for item in value:
            kind, _, subtype = item.strip().lower().partition("/")
            if not kind or not subtype or "/" in subtype or " " in item.strip():
                raise ValueError(f"{item!r} is not a media type like 'image/png'")
            normalized.append(f"{kind}/{subtype}")
        return normalized


class TenantSettings(_Section):
    enabled: bool = True
    """Multi-tenancy on. Off: every request is served for ``default_id``."""
    resolution: Literal["header", "host", "subdomain", "default"] = "header"
    header_name: str = "X-Tenant-ID"
    default_id: str | None = None
    """Tenant (UUID, ULID or slug) used by ``resolution: default`` and when disabled."""
    base_domain: str | None = None
    """For ``resolution: subdomain``: ``shop.example.com`` serves tenant ``shop``."""
    trusted_proxies: list[str] = Field(default_factory=list)
    """Networks (CIDR) whose ``X-Forwarded-Host`` / ``X-Forwarded-For`` are believed."""
    cache_ttl: float = Field(default=300.0, gt=0)
    negative_cache_ttl: float = Field(default=60.0, gt=0)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP network (e.g. 10.0.0.0/8 or 127.0.0.1)") from None
        return value

    @field_validator("base_domain")
    @classmethod
    def _base_domain(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower().rstrip(".")
        labels = value.split(".")
        if len(labels) < 2 or not all(label and label.replace("-", "").isalnum() for label in labels):
            raise ValueError("must be a domain name like 'example.com'")
        return value

    @field_validator("header_name")
    @classmethod
    def _header_name(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c == "-" for c in value):
            raise ValueError("must be an HTTP header name (letters, digits, '-')")
        return value


class SearchSettings(_Section):
    enabled: bool = True
    driver: Literal["postgres"] = "postgres"
    url: str | None = None
    api_key: SecretStr | None = None
    index_prefix: str = "rustok"


class FeatureSettings(_Section):
    registration_enabled: bool = True
    email_verification: bool = False
    multi_tenant: bool = True
    search_indexing: bool = True
    oauth_enabled: bool = False


class RateLimitSettings(_Section):
    enabled: bool = True
    requests_per_minute: int = Field(default=600, ge=1)
    burst: int = Field(default=100, ge=1)


class EventSettings(_Section):
    transport: Literal["memory", "outbox", "stream"] = "outbox"
    """memory: in-process after commit; outbox: sys_events + relay; stream: outbox + NATS JetStream."""
    batch_size: int = Field(default=100, ge=1, le=10_000)
    lease_seconds: float = Field(default=30.0, gt=0)
    """How long a relay owns a claimed batch; a crashed relay's claim expires after it."""
    max_attempts: int = Field(default=5, ge=1, le=100)
    backoff_base: float = Field(default=1.0, gt=0)
    backoff_max: float = Field(default=60.0, gt=0)
    poll_interval: float = Field(default=5.0, gt=0)
    """Longest a relay waits without a NOTIFY (scheduled retries, expired leases)."""
    retention_days: float = Field(default=7.0, gt=0)
    """Dispatched events are pruned after this long; the DLQ is kept until handled."""
    memory_capacity: int = Field(default=10_000, ge=10)
    relay: bool = True
    """Run the relay (and stream consumers) in this process."""
    nats_url: str | None = None
    """NATS with JetStream for transport 'stream' (``NATS_URL``)."""
    stream_name: str = "RUSTOK"
    subject_prefix: str = "rustok"
    duplicate_window: float = Field(default=120.0, gt=0)


class RustokSettings(_Section):
    """The platform's own section (seed keys: tenant, search, features, rate_limit, events)."""

    tenant: TenantSettings = Field(default_factory=TenantSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    features: FeatureSettings = Field(default_factory=FeatureSettings)
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    events: EventSettings = Field(default_factory=EventSettings)


class Settings(_Section):
    env: Environment = "development"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    server: ServerSettings = Field(default_factory=ServerSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    graphql: GraphQLSettings = Field(default_factory=GraphQLSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    rustok: RustokSettings = Field(default_factory=RustokSettings)

    @property
    def auto_migrate(self) -> bool:
        if self.database.auto_migrate is not None:
            return self.database.auto_migrate
        return self.env != "production"

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """Return a copy with dotted-key overrides applied and validated again."""
        data = self.model_dump(mode="python")
        sources: dict[tuple[str, ...], str] = {}
        for dotted, value in overrides.items():
            path = tuple(dotted.split("."))
            _set_path(data, path, value)
            sources[path] = "override"
        return _validate(data, sources)


ENV_ALIASES: Mapping[str, tuple[str, ...]] = {
    "DATABASE_URL": ("database", "url"),
    "REDIS_URL": ("cache", "redis_url"),
    "RUSTOK_EVENT_TRANSPORT": ("rustok", "events", "transport"),
    "NATS_URL": ("rustok", "events", "nats_url"),
    "RUSTOK_LOG_LEVEL": ("log_level",),
    "RUSTOK_JWT_SECRET": ("auth", "jwt_secret"),
}
"""Environment variables with a conventional name, mapped to their setting."""

GENERIC_PREFIX = "RUSTOK__"


class SettingsError(BootError):
    """Settings failed validation; the message names every bad key."""


def load_settings(
    *,
    env: str | None = None,
    config_dir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the validated settings from files and the environment."""
    environ = os.environ if environ is None else environ
    env_name = env or environ.get("RUSTOK_ENV") or "development"
    directory = Path(config_dir or environ.get("RUSTOK_CONFIG_DIR") or "config")

    data: dict[str, Any] = {}
    sources: dict[tuple[str, ...], str] = {}

    config_file = directory / f"{env_name}.yaml"
    if config_file.is_file():
        try:
            loaded = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise SettingsError(f"cannot parse {config_file}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise SettingsError(f"{config_file} must contain a mapping at the top level")
        data = loaded
        for path in _leaf_paths(loaded):
            sources[path] = str(config_file)
    elif config_dir is not None or "RUSTOK_CONFIG_DIR" in environ:
        raise SettingsError(f"settings file {config_file} does not exist")

    for name, path in ENV_ALIASES.items():
        if name in environ:
            _set_path(data, path, environ[name])
            sources[path] = f"environment variable {name}"

    for name, raw in sorted(environ.items()):
        if not name.startswith(GENERIC_PREFIX):
            continue
        path = tuple(part.lower() for part in name[len(GENERIC_PREFIX) :].split("__") if part)
        if not path:
            continue
        _set_path(data, path, _parse_scalar(raw))
        sources[path] = f"environment variable {name}"

    _set_path(data, ("env",), env_name)
    sources.setdefault(("env",), "RUSTOK_ENV" if "RUSTOK_ENV" in environ else "default")
    return _validate(data, sources)


def _validate(data: dict[str, Any], sources: Mapping[tuple[str, ...], str]) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, data, sources)) from None


def _describe(exc: ValidationError, data: Mapping[str, Any], sources: Mapping[tuple[str, ...], str]) -> str:
    lines = ["invalid settings:"]
    for error in exc.errors():
        path = tuple(str(part) for part in error["loc"])
        key = ".".join(path)
        origin = _origin(path, sources)
        if error["type"] == "extra_forbidden":
            lines.append(f"  - {key}: unknown setting (from {origin})")
            continue
        value = error.get("input")
        allowed = ""
        ctx = error.get("ctx") or {}
        if "expected" in ctx:
            allowed = f"; allowed values: {ctx['expected']}"
        lines.append(f"  - {key} = {value!r} (from {origin}): {error['msg']}{allowed}")
    return "\n".join(lines)


def _origin(path: tuple[str, ...], sources: Mapping[tuple[str, ...], str]) -> str:
    for length in range(len(path), 0, -1):
        if path[:length] in sources:
            return sources[path[:length]]
    # An unknown section is reported at its own path; its values came from below it.
    for source_path, origin in sources.items():
        if source_path[: len(path)] == path:
            return origin
    return "defaults"


def _leaf_paths(tree: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for key, value in tree.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            paths.extend(_leaf_paths(value, path))
        else:
            paths.append(path)
    return paths


def _set_path(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[path[-1]] = value


def _parse_scalar(raw: str) -> Any:
    try:
        return yaml.safe_load(raw) if raw.strip() else raw
    except yaml.YAMLError:
        return raw
