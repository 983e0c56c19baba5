"""The index services: the writer (the only code that writes the read model), the
rebuilder, status, and the storefront reads."""

from rustok_index.services.owners import IndexContractError, Owners
from rustok_index.services.rebuild import IndexRebuilder, RebuildSummary
from rustok_index.services.status import IndexStatusService, TypeStatus
from rustok_index.services.storefront import CatalogFilter, Page, ReadScope, StorefrontQueries
from rustok_index.services.writer import IndexWriter, WriteResult, lock_entities

__all__ = [
    "CatalogFilter",
    "IndexContractError",
    "IndexRebuilder",
    "IndexStatusService",
    "IndexWriter",
    "Owners",
    "Page",
    "ReadScope",
    "RebuildSummary",
    "StorefrontQueries",
    "TypeStatus",
    "WriteResult",
    "lock_entities",
]
