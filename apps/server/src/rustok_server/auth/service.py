"""Accounts and sessions: the only writer of users, sessions and mail tokens.

Security rules kept here, in one place:

* sign-in failures give one message whatever went wrong, and an unknown email costs
  the same argon2 verification as a wrong password;
* failed sign-ins are counted per (tenant, email) and per client IP; past the limit
  the caller gets ``RATE_LIMITED`` until the window passes;
* refresh tokens rotate on every use; presenting a rotated or revoked token revokes
  every session of its family (a stolen token is useless once either party uses it);
* password reset and change revoke the user's other sessions;
* forgot-password answers the same whether or not the email exists.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core.auth import Principal
from rustok_core.context import AppContext, TenantContext
from rustok_core.errors import Conflict, Forbidden, NotFound, RateLimited, Unauthenticated, Validation
from rustok_core.events import EventPublisher
from rustok_core.events.core_events import UserRegistered, UserStatusChanged
from rustok_core.ids import generate_id
from rustok_core.interfaces import RoleAssigner, UserRef
from rustok_core.mail import MailMessage
from rustok_server.auth.models import AuthSession, AuthToken, User
from rustok_server.auth.passwords import Passwords, validate_password
from rustok_server.auth.tokens import TokenSigner, digest, new_secret

log = logging.getLogger("rustok.auth")

ACTIVE = "active"
DISABLED = "disabled"
VERIFY = "verify"
RESET = "reset"
DEFAULT_ROLE = "customer"
SIGN_IN_FAILED = "invalid email or password"


@dataclass(frozen=True)
class AuthResult:
    user: User
    access_token: str | None = None
    refresh_token: str | None = None
    access_token_expires_at: datetime | None = None
    verification_required: bool = False


def normalize_email(email: str, *, field: str = "email") -> str:
    if not isinstance(email, str) or len(email) > 254:
        raise Validation("email must be at most 254 characters", field=field)
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise Validation(f"invalid email address: {exc}", field=field) from None


def _display_name(value: str | None, email: str) -> str:
    name = (value if value is not None else email.split("@", 1)[0]).strip()
    if not name or len(name) > 100:
        raise Validation("display name must be 1-100 characters", field="displayName")
    return name


def _user_ref(user: User) -> UserRef:
    return UserRef(user.id, user.tenant_id, user.email, user.display_name, user.status == ACTIVE)


def _now() -> datetime:
    return datetime.now(UTC)


async def _end_sessions(session: AsyncSession, *conditions: Any) -> set[uuid.UUID]:
    """Revoke the open sessions matching ``conditions``; return their families."""
    result = await session.execute(
        update(AuthSession)
        .where(AuthSession.revoked_at.is_(None), *conditions)
        .values(revoked_at=_now())
        .returning(AuthSession.family_id)
    )
    return set(result.scalars().all())


class AuthService:
    def __init__(self, ctx: AppContext, signer: TokenSigner) -> None:
        self.ctx = ctx
        self.signer = signer
        self.settings = ctx.settings.auth
        self.passwords = Passwords(self.settings)

    # -- accounts --------------------------------------------------------------------

    async def create_user(
        self,
        tenant_id: uuid.UUID,
        *,
        email: str,
        password: str,
        display_name: str | None = None,
        verified: bool = False,
        role: str | None = DEFAULT_ROLE,
    ) -> User:
        email = normalize_email(email)
        validate_password(password, self.settings, email=email)
        name = _display_name(display_name, email)
        password_hash = await self.passwords.hash(password)
        try:
            async with self.ctx.db.session(tenant_id) as session, session.begin():
                user = User(
                    email=email,
                    password_hash=password_hash,
                    display_name=name,
                    status=ACTIVE,
                    email_verified_at=_now() if verified else None,
                )
                session.add(user)
                await session.flush()
                registered = UserRegistered(
                    user_id=user.id,
                    email=email,
                    verification_required=not verified and self.ctx.settings.rustok.features.email_verification,
                )
                await self._events().publish(session, registered, tenant_id=tenant_id)
                if role is not None:
                    await self.ctx.services.get(RoleAssigner).assign_role(tenant_id, user.id, role, session=session)
        except IntegrityError:
            raise Conflict("an account with this email already exists", field="email") from None
        return user

    async def sign_up(
        self,
        tenant: TenantContext,
        *,
        email: str,
        password: str,
        display_name: str | None,
        ip: str | None,
        user_agent: str | None,
    ) -> AuthResult:
        if not self.ctx.settings.rustok.features.registration_enabled:
            raise Forbidden("registration is closed", reason="REGISTRATION_DISABLED")
        user = await self.create_user(tenant.id, email=email, password=password, display_name=display_name)
        if self.ctx.settings.rustok.features.email_verification:
            await self._send_token_mail(tenant, user, VERIFY)
            return AuthResult(user=user, verification_required=True)
        return await self._open_session(tenant.id, user, family_id=None, ip=ip, user_agent=user_agent)

    async def sign_in(
        self, tenant: TenantContext, *, email: str, password: str, ip: str | None, user_agent: str | None
    ) -> AuthResult:
        try:
            # The form sign-up stored (NFC, Unicode domain): one account, one throttle key.
            email_key = normalize_email(email)
        except Validation:
            email_key = email.strip().lower() if isinstance(email, str) else ""
        await self._check_throttle(tenant.id, email_key, ip)
        if not isinstance(password, str) or len(password) > self.settings.password_max_length:
            await self._record_failure(tenant.id, email_key, ip)
            raise Unauthenticated(SIGN_IN_FAILED, reason="INVALID_CREDENTIALS")
        async with self.ctx.db.session(tenant.id) as session:
            user = await session.scalar(select(User).where(User.email == email_key))
        if not await self.passwords.verify(user.password_hash if user else None, password) or user is None:
            await self._record_failure(tenant.id, email_key, ip)
            raise Unauthenticated(SIGN_IN_FAILED, reason="INVALID_CREDENTIALS")
        if user.status != ACTIVE:
            raise Forbidden("this account is disabled", reason="ACCOUNT_DISABLED")
        if self.ctx.settings.rustok.features.email_verification and user.email_verified_at is None:
            raise Forbidden("verify your email address first", reason="EMAIL_NOT_VERIFIED")
        await self._clear_failures(tenant.id, email_key)
        if self.passwords.needs_rehash(user.password_hash):
            new_hash = await self.passwords.hash(password)
            async with self.ctx.db.session(tenant.id) as session, session.begin():
                await session.execute(update(User).where(User.id == user.id).values(password_hash=new_hash))
        return await self._open_session(tenant.id, user, family_id=None, ip=ip, user_agent=user_agent)

    async def refresh(self, tenant: TenantContext, token: str, *, ip: str | None, user_agent: str | None) -> AuthResult:
        token_hash = digest(token or "")
        user: User | None = None
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            current = await session.scalar(
                select(AuthSession).where(AuthSession.token_hash == token_hash).with_for_update()
            )
            if current is None:
                raise Unauthenticated("the refresh token is not valid", reason="REFRESH_TOKEN_INVALID")
            if current.rotated_at is not None or current.revoked_at is not None:
                reused_family = current.family_id
            else:
                reused_family = None
                if current.expires_at <= _now():
                    raise Unauthenticated(
                        "the refresh token has expired; sign in again", reason="REFRESH_TOKEN_EXPIRED"
                    )
                current.rotated_at = _now()
                user = await session.get(User, current.user_id)
                if user is None or user.status != ACTIVE:
                    raise Unauthenticated("the account is not active", reason="ACCOUNT_DISABLED")
        if reused_family is not None:
            # Replay of a used token: someone else may hold the family. End all of it.
            await self._revoke_family(tenant.id, reused_family)
            log.warning("refresh token reuse in tenant %s: session family %s revoked", tenant.id, reused_family)
            raise Unauthenticated(
                "this refresh token was already used; every session of this sign-in has been ended",
                reason="REFRESH_TOKEN_REUSED",
            )
        assert user is not None
        return await self._open_session(tenant.id, user, family_id=current.family_id, ip=ip, user_agent=user_agent)

    async def sign_out(self, principal: Principal, refresh_token: str | None = None) -> None:
        families: set[uuid.UUID] = set()
        if principal.session_id is not None:
            families.add(principal.session_id)
        if refresh_token:
            async with self.ctx.db.session(principal.tenant_id) as session:
                found = await session.scalar(
                    select(AuthSession.family_id).where(
                        AuthSession.token_hash == digest(refresh_token), AuthSession.user_id == principal.user_id
                    )
                )
            if found is not None:
                families.add(found)
        for family in families:
            await self._revoke_family(principal.tenant_id, family)

    async def forgot_password(self, tenant: TenantContext, email: str) -> None:
        try:
            email_key = normalize_email(email)
        except Validation:
            return
        async with self.ctx.db.session(tenant.id) as session:
            user = await session.scalar(select(User).where(User.email == email_key))
        if user is not None and user.status == ACTIVE:
            try:
                await self._send_token_mail(tenant, user, RESET)
            except Exception:
                # An error here would tell the caller that the email has an account.
                log.exception("could not send the password-reset mail in tenant %s", tenant.id)

    async def resend_verification(self, tenant: TenantContext, email: str) -> None:
        """Mail a new verification token to an unverified account; silent otherwise."""
        try:
            email_key = normalize_email(email)
        except Validation:
            return
        async with self.ctx.db.session(tenant.id) as session:
            user = await session.scalar(select(User).where(User.email == email_key))
        if user is None or user.status != ACTIVE or user.email_verified_at is not None:
            return
        try:
            await self._send_token_mail(tenant, user, VERIFY)
        except Exception:
            log.exception("could not send the verification mail in tenant %s", tenant.id)

    async def reset_password(self, tenant: TenantContext, token: str, password: str) -> None:
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            _, user = await self._consume_token(session, token, RESET)
            validate_password(password, self.settings, email=user.email)
            user.password_hash = await self.passwords.hash(password)
            ended = await _end_sessions(session, AuthSession.user_id == user.id)
        await self._forget_families(tenant.id, ended)

    async def verify_email(self, tenant: TenantContext, token: str) -> None:
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            _, user = await self._consume_token(session, token, VERIFY)
            if user.email_verified_at is None:
                user.email_verified_at = _now()

    async def change_password(self, principal: Principal, current: str, new: str) -> None:
        if principal.user_id is None:
            raise Forbidden("only users have passwords")
        async with self.ctx.db.session(principal.tenant_id) as session:
            user = await session.get(User, principal.user_id)
        if user is None or not await self.passwords.verify(user.password_hash, current or ""):
            raise Validation("the current password is wrong", field="currentPassword")
        validate_password(new, self.settings, email=user.email, field="newPassword")
        new_hash = await self.passwords.hash(new)
        async with self.ctx.db.session(principal.tenant_id) as session, session.begin():
            await session.execute(update(User).where(User.id == user.id).values(password_hash=new_hash))
            others = [AuthSession.user_id == user.id]
            if principal.session_id is not None:
                others.append(AuthSession.family_id != principal.session_id)
            ended = await _end_sessions(session, *others)
        await self._forget_families(principal.tenant_id, ended)

    async def set_status(self, tenant_id: uuid.UUID, user_id: uuid.UUID, status: str, *, actor: Principal) -> User:
        if status not in (ACTIVE, DISABLED):
            raise Validation("status must be ACTIVE or DISABLED", field="status")
        if status == DISABLED and actor.user_id == user_id:
            raise Validation("you cannot disable your own account", field="userId")
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            user = await session.get(User, user_id)
            if user is None:
                raise NotFound("user not found")
            changed = user.status != status
            user.status = status
            ended = await _end_sessions(session, AuthSession.user_id == user_id) if status == DISABLED else set()
            if changed:
                await self._events().publish(
                    session,
                    UserStatusChanged(user_id=user_id, status=status),
                    tenant_id=tenant_id,
                    actor_id=actor.user_id,
                )
        await self._forget_families(tenant_id, ended)
        await self.forget_user(tenant_id, user_id)
        return user

    # -- lookups -------------------------------------------------------------------------

    async def user_is_active(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """Cached: checked on every authenticated request."""
        cache = self.ctx.state["auth.active_users"]

        async def load() -> bool | None:
            ref = await self.find_user(tenant_id, user_id)
            return None if ref is None else ref.active

        return bool(await cache.get(f"{tenant_id}:{user_id}", load))

    async def forget_user(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> None:
        await self.ctx.state["auth.active_users"].invalidate(f"{tenant_id}:{user_id}")

    async def find_user(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> UserRef | None:
        async with self.ctx.db.session(tenant_id) as session:
            user = await session.get(User, user_id)
        return None if user is None else _user_ref(user)

    async def find_users(self, tenant_id: uuid.UUID, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, UserRef]:
        """One query for any number of ids (none for an empty list); the session scopes it to the tenant."""
        wanted = list(dict.fromkeys(user_ids))
        if not wanted:
            return {}
        async with self.ctx.db.session(tenant_id) as session:
            users = (await session.scalars(select(User).where(User.id.in_(wanted)))).all()
        return {user.id: _user_ref(user) for user in users}

    async def get_user(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> User | None:
        async with self.ctx.db.session(tenant_id) as session:
            return await session.get(User, user_id)

    # -- internals ------------------------------------------------------------------------

    async def _open_session(
        self,
        tenant_id: uuid.UUID,
        user: User,
        *,
        family_id: uuid.UUID | None,
        ip: str | None,
        user_agent: str | None,
    ) -> AuthResult:
        refresh_token = new_secret()
        family = family_id or generate_id()
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            session.add(
                AuthSession(
                    user_id=user.id,
                    family_id=family,
                    token_hash=digest(refresh_token),
                    expires_at=_now() + timedelta(seconds=self.settings.refresh_token_ttl),
                    ip=(ip or "")[:64] or None,
                    user_agent=(user_agent or "")[:255] or None,
                )
            )
            if family_id is None:
                await session.execute(update(User).where(User.id == user.id).values(last_sign_in_at=_now()))
        access, expires = self.signer.issue(user_id=user.id, tenant_id=tenant_id, session_id=family)
        return AuthResult(
            user=user,
            access_token=access,
            refresh_token=refresh_token,
            access_token_expires_at=datetime.fromtimestamp(expires, UTC),
        )

    async def _revoke_family(self, tenant_id: uuid.UUID, family_id: uuid.UUID) -> None:
        async with self.ctx.db.session(tenant_id) as session, session.begin():
            await _end_sessions(session, AuthSession.family_id == family_id)
        await self._forget_families(tenant_id, {family_id})

    async def session_active(self, tenant_id: uuid.UUID, family_id: uuid.UUID) -> bool:
        """Whether a sign-in (session family) is still open. Cached; checked per request,
        so that signing out, changing the password or a reset ends access tokens at once."""
        families = self.ctx.state["auth.open_sessions"]

        async def load() -> bool | None:
            async with self.ctx.db.session(tenant_id) as session:
                open_row = await session.scalar(
                    select(AuthSession.id)
                    .where(AuthSession.family_id == family_id, AuthSession.revoked_at.is_(None))
                    .limit(1)
                )
            return True if open_row is not None else None

        return bool(await families.get(f"{tenant_id}:{family_id}", load))

    async def _forget_families(self, tenant_id: uuid.UUID, families: Iterable[uuid.UUID]) -> None:
        keys = [f"{tenant_id}:{family}" for family in families]
        if keys:
            await self.ctx.state["auth.open_sessions"].invalidate(*keys)

    async def _send_token_mail(self, tenant: TenantContext, user: User, purpose: str) -> None:
        secret = new_secret()
        ttl = self.settings.verification_token_ttl if purpose == VERIFY else self.settings.reset_token_ttl
        async with self.ctx.db.session(tenant.id) as session, session.begin():
            session.add(
                AuthToken(
                    user_id=user.id,
                    purpose=purpose,
                    token_hash=digest(secret),
                    expires_at=_now() + timedelta(seconds=ttl),
                )
            )
        base = self.ctx.settings.mail.public_url.rstrip("/")
        if purpose == VERIFY:
            subject = f"Confirm your email for {tenant.name}"
            text = f"Hello {user.display_name},\n\nconfirm your email address with this token:\n\n{secret}\n\n"
            link = f"{base}/verify-email?token={secret}"
        else:
            subject = f"Reset your {tenant.name} password"
            text = f"Hello {user.display_name},\n\nuse this token to choose a new password:\n\n{secret}\n\n"
            link = f"{base}/reset-password?token={secret}"
        text += f"Or open {link}\n\nThe token expires in {ttl // 60} minutes."
        text += " If you did not ask for it, ignore this mail.\n"
        assert self.ctx.mailer is not None
        await self.ctx.mailer.send(
            MailMessage(to=user.email, subject=subject, text=text, headers={"X-Rustok-Purpose": purpose})
        )

    async def _consume_token(self, session: AsyncSession, token: str, purpose: str) -> tuple[AuthToken, User]:
        row = await session.scalar(
            select(AuthToken)
            .where(AuthToken.token_hash == digest(token or ""), AuthToken.purpose == purpose)
            .with_for_update()
        )
        if row is None or row.used_at is not None or row.expires_at <= _now():
            raise Validation("the token is invalid, used or expired", field="token", reason="TOKEN_INVALID")
        user = await session.get(User, row.user_id)
        if user is None or user.status != ACTIVE:
            raise Validation("the token is invalid, used or expired", field="token", reason="TOKEN_INVALID")
        row.used_at = _now()
        return row, user

    # Sign-in throttling: counters live in the shared cache (Redis when configured).

    def _failure_keys(self, tenant_id: uuid.UUID, email: str, ip: str | None) -> list[tuple[str, int]]:
        keys = [(f"login-failures:{tenant_id}:{email}", self.settings.login_failures_per_email)]
        if ip:
            keys.append((f"login-failures-ip:{ip}", self.settings.login_failures_per_ip))
        return keys

    async def _check_throttle(self, tenant_id: uuid.UUID, email: str, ip: str | None) -> None:
        cache = self._cache()
        for key, limit in self._failure_keys(tenant_id, email, ip):
            if await cache.get_counter(key) >= limit:
                raise RateLimited(
                    "too many failed sign-ins; try again later", retry_after=float(self.settings.login_window)
                )

    async def _record_failure(self, tenant_id: uuid.UUID, email: str, ip: str | None) -> None:
        cache = self._cache()
        for key, _ in self._failure_keys(tenant_id, email, ip):
            await cache.incr(key, ttl=float(self.settings.login_window))

    async def _clear_failures(self, tenant_id: uuid.UUID, email: str) -> None:
        await self._cache().invalidate(f"login-failures:{tenant_id}:{email}")

    def _events(self) -> EventPublisher:
        return self.ctx.services.get(EventPublisher)

    def _cache(self) -> Any:
        assert self.ctx.cache is not None
        return self.ctx.cache
