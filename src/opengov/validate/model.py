"""What a validation engine returns: findings with exact totals and bounded samples.

Both engines (frictionless and the pyarrow fast path) fill the same structures, so the report
format does not depend on which engine ran. A finding holds the raw cell because the engine
cannot know what is confidential; `report.py` masks it before anything is written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

DEFAULT_SAMPLES = 20  # per (field, error type): enough to act on, small when every row is wrong


@dataclass(frozen=True)
class Finding:
    type: str  # frictionless error type, e.g. "type-error"
    row_number: int | None = None  # frictionless numbering: the header is row 1
    field_name: str | None = None
    field_number: int | None = None
    note: str = ""
    cell: str | None = None  # raw value; never leaves report.py unmasked
    label: str | None = None  # header label, for label errors


@dataclass
class ResourceResult:
    name: str
    place: str
    engine: str  # "arrow" or "frictionless"
    labels: list[str] = field(default_factory=list)
    rows: int = 0
    fields: int = 0
    bytes: int = 0
    sha256: str = ""
    seconds: float = 0.0
    totals: Counter[tuple[str | None, str]] = field(default_factory=Counter)
    samples: list[Finding] = field(default_factory=list)
    fallback_reason: str | None = None
    warnings: list[str] = field(default_factory=list)
    # (field, check) -> why Python, not RE2 or a kernel, decided some of its cells
    python_checks: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return sum(self.totals.values())


class SampleCollector:
    """Counts every finding, keeps at most `limit` of each (field, type)."""

    def __init__(self, limit: int = DEFAULT_SAMPLES) -> None:
        self.limit = limit
        self.totals: Counter[tuple[str | None, str]] = Counter()
        self.samples: list[Finding] = []

    def add(self, finding: Finding) -> None:
        key = (finding.field_name, finding.type)
        self.totals[key] += 1
        if self.totals[key] <= self.limit:
            self.samples.append(finding)

    def add_count(self, field_name: str | None, type_: str, count: int) -> None:
        """Count findings whose samples were already added (or need none)."""
        self.totals[(field_name, type_)] += count

    def fill(self, result: ResourceResult) -> None:
        result.totals = self.totals
        result.samples = sorted(
            self.samples, key=lambda f: (f.row_number or 0, f.field_number or 0, f.type)
        )
