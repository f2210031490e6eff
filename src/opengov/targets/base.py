"""What every publish target is: a place that can say whether it already holds a release, take a
new one, and be verified.

The spine (`opengov.pipeline.publish`) does the same for every target: load, ask the target
whether it already holds these inputs, build the release (validate, redact, write) only if not,
and hand it over. A new target is one module with one class registered in `opengov.targets`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from opengov.load import Loaded
    from opengov.release.build import Release
    from opengov.targets.plan import PublishResult
    from opengov.trust import Trust
    from opengov.verify import VerifyResult


class Status(StrEnum):
    PUBLISHED = "published"
    UNCHANGED = "unchanged"
    PLANNED = "planned"


@dataclass(frozen=True)
class WithdrawResult:
    """What `opengov withdraw` did: "withdrawn", or "unchanged" when it already was."""

    dataset: str
    target: str
    status: str  # withdrawn | unchanged
    release: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


MAX_REASON = 1000


def checked_reason(reason: str) -> str:
    """A withdrawal's reason, which is published: one line, no personal data."""
    from opengov.errors import DisclosureBlocked, InputError
    from opengov.redact.detectors import contains_personal_data

    reason = " ".join(str(reason).split())
    if not reason or len(reason) > MAX_REASON:
        raise InputError(f"--reason must be 1 to {MAX_REASON} characters: why it is withdrawn")
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in reason):
        raise InputError("--reason must not contain control characters")
    if contains_personal_data(reason):
        raise DisclosureBlocked(
            "--reason contains what looks like personal data (a personnummer, phone number or "
            "e-mail address); the reason is published, so write it without"
        )
    return reason


class Placement(Protocol):
    """One dataset's place on a target, held for the length of one publish (a lock, a session)."""

    @property
    def staging_parent(self) -> Path | None:
        """Where the release is built (beside its destination); None: a temporary folder."""
        ...

    def unchanged(self) -> PublishResult | None:
        """The result of doing nothing, if the target already holds exactly these inputs."""
        ...

    def apply(self, release: Release, *, plan_only: bool) -> PublishResult:
        """Publish the built release (or, with plan_only, say what publishing would change)."""
        ...


class Target(Protocol):
    kind: ClassVar[str]

    def place(
        self, loaded: Loaded, *, plan_only: bool, agent: str | None, progress: bool
    ) -> AbstractContextManager[Placement, bool | None]: ...

    def verify(self, dataset: str, trust: Trust | None = None) -> VerifyResult:
        """Check what the target serves; `trust` decides whose signatures are accepted."""
        ...

    def withdraw(
        self,
        dataset: str,
        *,
        reason: str,
        agent: str | None = None,
        signing_key: Path | str | None = None,
    ) -> WithdrawResult:
        """Take a published dataset out of the catalogue, recording why (never deleting it
        where the target can keep it hidden instead, as CKAN can); `signing_key` signs the
        record where the target keeps a signed chain."""
        ...
