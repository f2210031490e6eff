"""`CkanTarget`: a CKAN portal behind the `targets.base.Target` protocol.

`place` checks the token, asks whether the portal has a DataStore and reads what it holds
for one package (the placement): three calls, all a run makes when nothing changed.
`unchanged` stops such a run, `apply` runs the upload protocol (`upload.py`, with the
DataStore in `datastore.py`), and `verify` checks what citizens get (`verify.py`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from opengov.errors import ConfigError, PublishError
from opengov.load import Loaded
from opengov.release import provenance
from opengov.release.build import Release
from opengov.targets.base import Status, WithdrawResult
from opengov.targets.ckan.client import CkanClient, CkanSession, StaleState
from opengov.targets.ckan.datastore import detect
from opengov.targets.ckan.mapping import CKAN_NAME, wants_private
from opengov.targets.ckan.remote import check_ours, hidden_by_a_person, is_unchanged, show
from opengov.targets.ckan.settings import CkanSettings
from opengov.targets.ckan.upload import Run, publish_round
from opengov.targets.ckan.verify import verify_ckan
from opengov.targets.ckan.withdraw import withdraw_ckan
from opengov.targets.plan import PlanItem, PublishResult
from opengov.trust import Trust
from opengov.verify import VerifyResult

log = logging.getLogger("opengov.ckan")


@dataclass
class CkanTarget:
    """A CKAN portal: one dataset per package, each file one resource."""

    kind: ClassVar[str] = "ckan"
    settings: CkanSettings
    session: CkanSession | None = None

    @contextlib.contextmanager
    def place(
        self, loaded: Loaded, *, plan_only: bool, agent: str | None, progress: bool
    ) -> Iterator[CkanPlacement]:
        yield CkanPlacement(self, loaded, agent, progress)

    def verify(self, dataset: str, trust: Trust | None = None) -> VerifyResult:
        return verify_ckan(self.settings.url, dataset, session=self.session, trust=trust)

    def withdraw(
        self,
        dataset: str,
        *,
        reason: str,
        agent: str | None = None,
        signing_key: Path | str | None = None,
    ) -> WithdrawResult:
        # Making it private records nothing in provenance.json yet, so there is nothing to sign.
        return withdraw_ckan(self, dataset, reason=reason, agent=agent)


class CkanPlacement:
    """One dataset on the portal for one publish: what is there now, and the session to it."""

    staging_parent = None  # a temporary folder: the files are uploaded, not moved into place

    def __init__(
        self, target: CkanTarget, loaded: Loaded, agent: str | None, progress: bool
    ) -> None:
        settings = target.settings
        self.started = time.monotonic()
        self.loaded, self.settings, self.agent = loaded, settings, agent
        name = loaded.name
        if not CKAN_NAME.match(name):
            raise PublishError(
                f"package name {name!r} is not a valid CKAN dataset name (2-100 characters: "
                "lowercase letters, digits, - and _); rename it in datapackage.json"
            )
        if not settings.token:
            raise ConfigError(
                "publishing to CKAN needs an API token (CKAN_API_TOKEN or token_file)"
            )
        session = target.session or CkanSession(
            retries=settings.retries,
            backoff=settings.backoff,
            timeout=settings.timeout,
            progress=progress,
        )
        self.client = CkanClient(settings.url, settings.token, org=settings.org, session=session)
        # Before anything else, and also when nothing will change (issue 9 section 8).
        user = self.client.check_token()
        log.debug("publishing to %s as CKAN user %s", settings.url, user)
        self.mode = detect(self.client, settings.datastore)
        self.location = f"{settings.url}/dataset/{name}"
        self.private = wants_private(loaded.package.descriptor)
        self.remote = show(self.client, name)
        self.hidden_by_hand = self.remote is not None and hidden_by_a_person(
            self.remote, self.private
        )
        if self.hidden_by_hand:
            log.warning(
                "%s is public in the package but was made private on %s by hand; it stays "
                "private (make it public in CKAN to publish it again)",
                name,
                settings.url,
            )
            self.private = True
        if self.remote is not None:
            check_ours(self.remote, settings.org, name, settings.url)

    def _result(
        self, status: Status, number: int, plan: list[PlanItem], run: Run | None
    ) -> PublishResult:
        stats = self.client.stats.to_dict()
        stats["seconds"] = round(time.monotonic() - self.started, 3)
        if run is not None:
            stats["uploaded"] = sorted(run.uploaded)
            stats["read_back"] = run.read_back
        datastore: dict[str, Any] = {"enabled": self.mode.enabled, "reason": self.mode.reason}
        if run is not None and run.datastore is not None:
            datastore.update(run.datastore.stats.to_dict())
        else:
            datastore.update(rows_sent=0, rows_deleted=0, rows_read_back=0)
        stats["datastore"] = datastore
        if self.hidden_by_hand:
            stats["kept_private"] = "made private on the portal by hand"
        return PublishResult(self.loaded.name, self.location, status.value, number, plan, stats)

    def unchanged(self) -> PublishResult | None:
        remote = self.remote
        if remote is None or not is_unchanged(
            remote, self.loaded.fingerprint, self.private, datastore=self.mode.enabled
        ):
            return None
        log.info("%s: unchanged on %s (release %s)", self.loaded.name, self.settings.url,
                 remote.release)  # fmt: skip
        return self._result(Status.UNCHANGED, remote.release, [], None)

    def apply(self, release: Release, *, plan_only: bool) -> PublishResult:
        name, settings = self.loaded.name, self.settings
        run = Run(
            client=self.client,
            settings=settings,
            package=self.loaded.package,
            release=release,
            fingerprint=self.loaded.fingerprint,
            private=self.private,
            agent=self.agent or provenance.default_agent(),
            mode=self.mode,
        )
        remote = self.remote
        for _attempt in range(3):
            try:
                status, number, plan = publish_round(run, remote, plan_only=plan_only)
                return self._result(Status(status), number, plan, run)
            except StaleState:
                # The dataset changed under us: our own retried request that did get through,
                # or another publisher. Read it again and plan from what is there now.
                log.info("%s changed on the portal while publishing; planning again", name)
                remote = show(self.client, name)
                if remote is not None:
                    check_ours(remote, settings.org, name, settings.url)
                    if hidden_by_a_person(remote, wants_private(self.loaded.package.descriptor)):
                        self.hidden_by_hand = run.private = True
        raise PublishError(
            f"dataset {name!r} kept changing on {settings.url} while publishing (is another "
            "publisher running?); run again"
        )
