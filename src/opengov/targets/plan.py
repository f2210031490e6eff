"""What a publish changes, by hash: the same list for `--plan` and for the real run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PlanItem:
    path: str
    change: str  # added | changed | removed | unchanged
    sha256: str | None = None
    previous_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "change": self.change,
            "sha256": self.sha256,
            "previous_sha256": self.previous_sha256,
        }


@dataclass
class PublishResult:
    dataset: str
    target: str
    status: str  # published | unchanged | planned
    release: int
    plan: list[PlanItem] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> list[PlanItem]:
        return [i for i in self.plan if i.change != "unchanged"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "target": self.target,
            "status": self.status,
            "release": self.release,
            "changes": [i.to_dict() for i in self.plan],
            "stats": self.stats,
        }


def diff(old: dict[str, str], new: dict[str, str]) -> list[PlanItem]:
    items = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before is None:
            items.append(PlanItem(path, "added", after))
        elif after is None:
            items.append(PlanItem(path, "removed", None, before))
        elif before != after:
            items.append(PlanItem(path, "changed", after, before))
        else:
            items.append(PlanItem(path, "unchanged", after, before))
    return items
