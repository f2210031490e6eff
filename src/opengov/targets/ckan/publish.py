"""Publishing a package to a CKAN portal: the entry point for Python callers.

A package becomes one CKAN dataset; each generated file becomes one uploaded resource, found
again by its `opengov_path` field. The work is split by what it does: `mapping.py` (package
-> CKAN fields), `remote.py` (what the portal holds), `upload.py` (the upload protocol),
`verify.py` (what citizens get), `target.py` (the `Target` the spine drives).
"""

from __future__ import annotations

from pathlib import Path

from opengov.targets.ckan.client import CkanSession
from opengov.targets.ckan.settings import CkanSettings
from opengov.targets.ckan.target import CkanTarget
from opengov.targets.ckan.verify import verify_ckan
from opengov.targets.plan import PublishResult


def publish_ckan(
    package_path: Path | str,
    settings: CkanSettings,
    *,
    plan_only: bool = False,
    agent: str | None = None,
    key_file: Path | str | None = None,
    progress: bool = False,
    engine: str = "auto",
    session: CkanSession | None = None,
) -> PublishResult:
    """Publish a package as a CKAN dataset (the spine with a `CkanTarget`)."""
    from opengov.pipeline import publish

    return publish(
        package_path,
        CkanTarget(settings, session),
        plan_only=plan_only,
        agent=agent,
        key_file=key_file,
        engine=engine,
        progress=progress,
    )


__all__ = ["CkanTarget", "publish_ckan", "verify_ckan"]
