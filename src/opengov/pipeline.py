"""The spine of `opengov publish`, the same for every target:

    load -> (target already holds it? stop) -> validate -> redact -> build release -> target

Each stage is one call into its own module; this file only puts them in order.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

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
) -> PublishResult:
    """Validate, redact and publish one package to `target`: only what changed."""
    started = time.monotonic()
    loaded = load(package_path, key_file=key_file)
    log.info("%s: loaded in %.2f s", loaded.name, time.monotonic() - started)
    with target.place(loaded, plan_only=plan_only, agent=agent, progress=progress) as place:
        done = place.unchanged()
        if done is not None:
            return done
        report = validate_for_publish(loaded, engine=engine, progress=progress)
        redaction = redact_for_publish(loaded)
        release = build_release(loaded, report, redaction, staging_parent=place.staging_parent)
        try:
            return place.apply(release, plan_only=plan_only)
        finally:
            release.cleanup()
