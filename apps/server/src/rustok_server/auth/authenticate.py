"""From ``Authorization: Bearer ...`` to a :class:`Principal`.

Bearer credentials are either an API key (``rtk_...``) or an access token (JWT). A
credential is always bound to a tenant: when the request names none, the
credential's tenant serves it; when it names another one, the request is refused.
Invalid credentials are an error, never silently anonymous.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from rustok_core.auth import Principal, PrincipalKind
from rustok_core.context import TenantContext
from rustok_core.errors import Unauthenticated
from rustok_core.interfaces import TenantResolver
from rustok_server.auth.apikeys import KEY_PREFIX, ApiKeyService
from rustok_server.auth.service import AuthService
from rustok_server.auth.tokens import TokenSigner

MAX_CREDENTIAL_LENGTH = 4096


class Authenticator:
    def __init__(
        self, signer: TokenSigner, users: AuthService, api_keys: ApiKeyService, tenants: TenantResolver
    ) -> None:
        self.signer = signer
        self.users = users
        self.api_keys = api_keys
        self.tenants = tenants

    async def authenticate(
        self, conn: HTTPConnection, tenant: TenantContext | None
    ) -> tuple[Principal | None, TenantContext | None]:
        header = conn.headers.get("authorization")
        if header is None:
            return None, tenant
        scheme, _, credential = header.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential or len(credential) > MAX_CREDENTIAL_LENGTH:
            raise Unauthenticated("send credentials as 'Authorization: Bearer <token>'", reason="TOKEN_INVALID")
        if credential.startswith(KEY_PREFIX):
            principal = await self.api_keys.authenticate(credential)
        else:
            claims = self.signer.verify(credential)
            principal = Principal(
                kind=PrincipalKind.USER,
                tenant_id=claims.tenant_id,
                user_id=claims.user_id,
                session_id=claims.session_id,
            )
        if tenant is None:
            tenant = await self.tenants.by_id(principal.tenant_id)
        elif tenant.id != principal.tenant_id:
            raise Unauthenticated("the credentials were issued for another tenant", reason="TENANT_MISMATCH")
        if principal.user_id is not None and not await self.users.user_is_active(tenant.id, principal.user_id):
            raise Unauthenticated("the account is not active", reason="ACCOUNT_DISABLED")
        if principal.session_id is not None and not await self.users.session_active(tenant.id, principal.session_id):
            raise Unauthenticated("this sign-in has ended; sign in again", reason="SESSION_ENDED")
        return principal, tenant
