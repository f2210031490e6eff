"""The spine of `opengov publish`, the same for every target:

    load -> (target already holds it? stop) -> validate -> redact -> build release -> target

Each stage is one call into its own module; this file only puts them in order.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from opengov.approvals import required_approvals
from opengov.load import load
from opengov.release.build import build_release, redact_for_publish, validate_for_publish
from opengov.targets.base import Target
from opengov.targets.plan import PublishResult

log = logging.getLogger("opengov.pipeline")


def publish(
    package_path: Path | str,
    target: Target,
    *,
    plan_only: bool = False,
    agent: str | None = None,
    key_file: Path | str | None = None,
    engine: str = "auto",
    progress: bool = False,
    signing_key: Path | str | None = None,
) -> PublishResult:
    """Validate, redact and publish one package to `target`: only what changed.

    With `signing_key` the release is signed (signing.py); approvals that rules.yaml requires
    are checked before any work, and again when provenance is written.
    """
    from dataclasses import replace

    from opengov.signing import signer_for_publish

    started = time.monotonic()
    signer = signer_for_publish(signing_key) if signing_key is not None else None
    loaded = replace(load(package_path, key_file=key_file), signer=signer)
    log.info("%s: loaded in %.2f s", loaded.name, time.monotonic() - started)
    with target.place(loaded, plan_only=plan_only, agent=agent, progress=progress) as place:
        done = place.unchanged()
        if done is not None:
            return done
        if not plan_only:
            required_approvals(
                loaded.package.root, loaded.rules.approvals, dataset=loaded.name,
                fingerprint=loaded.fingerprint,
            )  # fmt: skip
        report = validate_for_publish(loaded, engine=engine, progress=progress)
        redaction = redact_for_publish(loaded)
        release = build_release(loaded, report, redaction, staging_parent=place.staging_parent)
        release.signer = signer
        try:
            return place.apply(release, plan_only=plan_only)
        finally:
            release.cleanup()
