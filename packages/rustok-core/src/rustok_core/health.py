"""Health checks reported by the server and by modules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class HealthStatus(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


@dataclass(frozen=True)
class HealthCheck:
    """One named check. ``critical`` checks that are not OK make the process unready."""

    name: str
    status: HealthStatus
    detail: str = ""
    critical: bool = False

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name, "status": str(self.status)}
        if self.detail:
            out["detail"] = self.detail
        return out
