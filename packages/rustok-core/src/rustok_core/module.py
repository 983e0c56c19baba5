"""What a module says about itself: :class:`ModuleInfo` and :class:`ModuleKind`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

MODULE_SLUG_RE = re.compile(r"^[a-z][a-z0-9_]{1,31}\Z")


class ModuleKind(StrEnum):
    """Core modules are always on; optional ones are toggled per tenant."""

    CORE = "core"
    OPTIONAL = "optional"


@dataclass(frozen=True)
class ModuleInfo:
    """Identity of a module, returned by its ``rustok_module`` hook.

    ``slug`` names the module everywhere: the entry point, the Alembic branch label,
    the REST prefix ``/api/v1/<slug>/``, ``tenant_modules.module_slug`` and
    ``modules.toml``. ``dependencies`` are the slugs of modules it builds on.
    """

    slug: str
    name: str
    version: str
    description: str = ""
    kind: ModuleKind = ModuleKind.OPTIONAL
    dependencies: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not MODULE_SLUG_RE.match(self.slug):
            raise ValueError(
                f"invalid module slug {self.slug!r}: use 2-32 lowercase letters, digits "
                "or underscores, starting with a letter"
            )
        object.__setattr__(self, "kind", ModuleKind(self.kind))
        object.__setattr__(self, "dependencies", tuple(self.dependencies))
        if self.slug in self.dependencies:
            raise ValueError(f"module {self.slug!r} cannot depend on itself")

    @property
    def is_core(self) -> bool:
        return self.kind is ModuleKind.CORE
