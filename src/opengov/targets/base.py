"""What every publish target is: a place that can say whether it already holds a release, take a
new one, and be verified.

The spine (`opengov.pipeline.publish`) does the same for every target: load, ask the target
whether it already holds these inputs, build the release (validate, redact, write) only if not,
and hand it over. A new target is one module with one class registered in `opengov.targets`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

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
