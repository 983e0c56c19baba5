"""Tenant scoping enforced on the ORM session.

Every session the platform opens is a :class:`RustokSession`. It must be either
scoped to one tenant (``info[TENANT_KEY]``) or explicitly marked as a system session
(``info[SYSTEM_KEY]``); a session that is neither refuses to run statements, so a
forgotten scope fails closed instead of leaking rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction, with_loader_criteria

from rustok_core.db.base import TenantOwned
from rustok_core.errors import Forbidden

TENANT_KEY = "rustok.tenant_id"
SYSTEM_KEY = "rustok.system"


class TenantIsolationError(Forbidden):
    """A write tried to cross the tenant boundary of its session."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="TENANT_ISOLATION")


class RustokSession(Session):
    """Sync session class behind every ``AsyncSession`` the platform creates."""

    @property
    def tenant_id(self) -> uuid.UUID | None:
        return self.info.get(TENANT_KEY)


def _scope_of(session: Session) -> uuid.UUID | None:
    tenant_id = session.info.get(TENANT_KEY)
    if tenant_id is None and not session.info.get(SYSTEM_KEY):
        raise RuntimeError(
            "session is neither tenant-scoped nor a system session; "
            "open it with Database.session(tenant_id) or Database.system_session()"
        )
    return tenant_id


@event.listens_for(RustokSession, "do_orm_execute")
def _apply_tenant_scope(state: ORMExecuteState) -> None:
    tenant_id = _scope_of(state.session)
    if tenant_id is None:
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(
                TenantOwned,
                lambda cls: cls.tenant_id == tenant_id,
                include_aliases=True,
            )
        )
    elif state.is_insert and _targets_tenant_owned(state):
        state.parameters = _stamp_parameters(state.parameters, tenant_id)


def _targets_tenant_owned(state: ORMExecuteState) -> bool:
    mapper = state.bind_mapper
    return mapper is not None and issubclass(mapper.class_, TenantOwned)


def _stamp_parameters(parameters: Any, tenant_id: uuid.UUID) -> Any:
    if parameters is None:
        raise TenantIsolationError(
            "bulk INSERT of tenant-owned rows in a tenant session must pass its rows as "
            "parameters (session.execute(insert(Model), [rows])) so they can be stamped"
        )
    if isinstance(parameters, Mapping):
        return _stamp_row(parameters, tenant_id)
    return [_stamp_row(row, tenant_id) for row in parameters]


def _stamp_row(row: Mapping[str, Any], tenant_id: uuid.UUID) -> dict[str, Any]:
    given = row.get("tenant_id")
    if given is not None and given != tenant_id:
        raise TenantIsolationError("cannot insert a row for another tenant")
    return {**row, "tenant_id": tenant_id}


@event.listens_for(RustokSession, "before_flush")
def _stamp_and_guard(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    tenant_id = _scope_of(session)
    if tenant_id is None:
        return
    for obj in session.new:
        if isinstance(obj, TenantOwned):
            current: uuid.UUID | None = obj.tenant_id
            if current is None:
                obj.tenant_id = tenant_id
            elif current != tenant_id:
                raise TenantIsolationError(
                    f"cannot add a {type(obj).__name__} of another tenant to this tenant's session"
                )
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, TenantOwned) and obj.tenant_id != tenant_id:
            raise TenantIsolationError(f"cannot change a {type(obj).__name__} that belongs to another tenant")


# --- work to do once the transaction commits ------------------------------------------------

AFTER_COMMIT_KEY = "rustok.after_commit"

_Pending = tuple[SessionTransaction | None, Callable[[], None], Callable[[], None] | None]


def after_commit(
    session: Session | AsyncSession,
    callback: Callable[[], None],
    *,
    on_rollback: Callable[[], None] | None = None,
) -> None:
    """Run ``callback`` once the session's current transaction commits.

    On rollback the callback is dropped and ``on_rollback`` runs instead. Savepoints
    are honoured: work registered inside ``begin_nested()`` is dropped when that
    savepoint rolls back, even if the outer transaction later commits. Used to hand
    work to the outside world only when the write is durable (in-process event
    delivery, cache invalidation). Callbacks must be quick and not raise.
    """
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    owner = sync.get_nested_transaction() or sync.get_transaction()
    pending: list[_Pending] = sync.info.setdefault(AFTER_COMMIT_KEY, [])
    pending.append((owner, callback, on_rollback))


def _within(owner: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while owner is not None:
        if owner is ancestor:
            return True
        owner = owner.parent
    return False


@event.listens_for(RustokSession, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    pending: list[_Pending] | None = session.info.get(AFTER_COMMIT_KEY)
    if not pending:
        return
    kept: list[_Pending] = []
    for entry in pending:
        owner, _, on_rollback = entry
        dropped = previous_transaction.parent is None if owner is None else _within(owner, previous_transaction)
        if dropped:
            if on_rollback is not None:
                on_rollback()
        else:
            kept.append(entry)
    session.info[AFTER_COMMIT_KEY] = kept


@event.listens_for(RustokSession, "after_commit")
def _run_after_commit(session: Session) -> None:
    # Also fires when a savepoint is released; its callbacks wait for the outer commit.
    if session.in_nested_transaction():
        return
    for _, callback, _ in session.info.pop(AFTER_COMMIT_KEY, ()):
        callback()


@event.listens_for(RustokSession, "after_transaction_end")
def _drop_after_commit(session: Session, transaction: SessionTransaction) -> None:
    # Fires after every transaction, including one closed without ever touching the
    # database; a commit has already consumed the callbacks.
    if transaction.parent is not None:
        return
    for _, _, on_rollback in session.info.pop(AFTER_COMMIT_KEY, ()):
        if on_rollback is not None:
            on_rollback()
