"""The state of one publish run across its resources (`pipeline.build_release` drives it).

What one resource leaves for the others: the published values `not_in_published` rules look
up, the re-identification counts checked across resources, the first failure of redaction
(raised only after validation has had its say, so invalid data always reads as invalid), and
every resource's validation results, for the steward and for the published report.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from opengov.errors import ConfigError, OpengovError
from opengov.load import Loaded
from opengov.package import ResourceSpec
from opengov.progress import Progress
from opengov.redact.apply import (
    PublishedValues,
    ResourceRedactor,
    check_key,
    order,
    referenced_fields,
)
from opengov.redact.gates import QuasiCounts, check_linked
from opengov.redact.manifest import ManifestEntry, RedactedResource, Redaction
from opengov.release.build import check_report
from opengov.rules import ResourceRules
from opengov.sources.readers import check_labels, open_for_publishing
from opengov.sources.typed import NeedsFrictionless, TypedBatch, TypedSource, open_typed
from opengov.validate.engine import ResourceValidator, Validated
from opengov.validate.model import ResourceResult, SampleCollector
from opengov.validate.policy import fast_path_reason
from opengov.validate.report import ValidationReport, build_report

_ALL = 2**31 - 1  # keep every frictionless finding, to filter them for the published report


@dataclass
class Reports:
    steward: ValidationReport  # every row: what `opengov validate` shows the steward
    published: ValidationReport  # the published rows only: validation.json and .html


class FallbackValidator:
    """A resource frictionless validated up front: its findings, filtered by what the pass
    withholds for the published report."""

    def __init__(self, result: ResourceResult, samples: int, reason: str | None) -> None:
        self.result = result
        self.samples = samples
        self.reason = reason
        self.hidden: list[pa.Array] = []

    def begin(self, batch: TypedBatch) -> None:
        return None  # checked up front by frictionless

    def feed(
        self, batch: TypedBatch, withheld: pa.Array | None = None, started: object = None
    ) -> None:
        if withheld is not None:
            rows = batch.row_numbers.filter(pc.fill_null(withheld, True))
            if len(rows):
                self.hidden.append(rows)

    def finish(self, **_: Any) -> Validated:
        hidden: set[int] = set()
        for part in self.hidden:
            hidden.update(part.to_pylist())
        return Validated(steward=self._collect(set()), published=self._collect(hidden))

    def _collect(self, hidden: set[int]) -> ResourceResult:
        r = self.result
        out = ResourceResult(
            name=r.name, place=r.place, engine=r.engine, labels=r.labels, rows=r.rows,
            fields=r.fields, bytes=r.bytes, sha256=r.sha256, seconds=r.seconds,
            fallback_reason=self.reason, warnings=list(r.warnings),
        )  # fmt: skip
        collector = SampleCollector(self.samples)
        for finding in r.samples:
            if finding.row_number is None or finding.row_number not in hidden:
                collector.add(finding)
        collector.fill(out)
        return out

    def close(self) -> None:
        pass


Validator = ResourceValidator | FallbackValidator


class Run:
    def __init__(self, loaded: Loaded, *, engine: str, samples: int, progress: Progress) -> None:
        check_key(loaded.rules, loaded.key)
        self.loaded = loaded
        self.engine = engine
        self.samples = samples
        self.progress = progress
        self.published = PublishedValues()
        self.wanted = referenced_fields(loaded.rules)
        self.failed: OpengovError | None = None
        self.validated: dict[str, Validated] = {}
        self.redacted: dict[str, RedactedResource] = {}
        self.entries: list[ManifestEntry] = []
        self.scan_log: list[dict[str, Any]] = []
        self.quasi: list[QuasiCounts] = []
        self.fallback: dict[str, tuple[ResourceResult, str | None]] = {}
        package = loaded.package
        if engine not in ("auto", "arrow", "frictionless"):
            raise ValueError(f"unknown engine {engine!r}")
        slow: dict[str, str | None] = {}
        for spec in package.resources:
            reason = None if engine == "frictionless" else fast_path_reason(package, spec)
            if engine == "frictionless" or reason:
                slow[spec.name] = reason
        self._frictionless(slow)

    def _frictionless(self, slow: dict[str, str | None]) -> None:
        """Validate these resources with frictionless, in one call (foreign keys resolve)."""
        if not slow:
            return
        if self.engine == "arrow":
            name, reason = next(iter(slow.items()))
            raise ConfigError(
                f"resource {name!r} cannot be validated by the arrow engine ({reason}); "
                "use --engine auto to validate it with frictionless"
            )
        from opengov.validate import frictionless_engine

        package = self.loaded.package
        specs = [r for r in package.resources if r.name in slow]
        for spec in specs:
            if self.engine != "frictionless":
                frictionless_engine.refuse_risky_patterns(spec)
            # frictionless reads the file itself; publishing reads it again: the hash taken
            # now must match the one taken while publishing, or the run stops.
            if spec.relpath is not None:
                package.hash_data(spec.relpath)
        for result in frictionless_engine.validate_resources(package, specs, samples=_ALL):
            self.fallback[result.name] = (result, slow.get(result.name))

    def order(self) -> list[ResourceSpec]:
        return order(self.loaded.package, self.loaded.rules)

    def rules(self, spec: ResourceSpec) -> ResourceRules:
        return self.loaded.rules.resources[spec.name]

    def fail(self, exc: OpengovError) -> None:
        if self.failed is None:
            self.failed = exc

    def batches(
        self,
        spec: ResourceSpec,
        source: TypedSource | None,
        validator: Validator,
        pool: Executor,
    ) -> Iterator[TypedBatch]:
        if source is not None:
            yield from source.batches(pool)

    def finished(
        self,
        spec: ResourceSpec,
        source: TypedSource | None,
        validator: Validator,
        redactor: ResourceRedactor,
    ) -> None:
        """Record what a resource's pass found, once its batches are done."""
        sha256, size = (source.sha256, source.size) if source is not None else (None, 0)
        if sha256 is not None and spec.relpath is not None:
            self.loaded.package.record_data_hash(spec.relpath, sha256, size)
        self.validated[spec.name] = validator.finish(sha256=sha256 or "", size=size or None)
        if self.failed is not None:
            return
        try:
            entries, resource = redactor.finish()
        except OpengovError as exc:
            self.fail(exc)
            self.scan_log.extend(redactor.last_scan.log())
            return
        self.scan_log.extend(redactor.last_scan.log())
        self.entries.extend(entries)
        self.redacted[spec.name] = resource
        if redactor.quasi is not None:
            self.quasi.append(redactor.quasi)

    def finish(self) -> tuple[Reports, Redaction]:
        """The reports, then the checks that stop a publish, in the order a steward fixes
        them: invalid data first, then what redaction refused, then re-identification."""
        loaded = self.loaded
        package = loaded.package
        names = {r.name: r.field_names for r in package.resources}
        ordered = [self.validated[r.name] for r in package.resources if r.name in self.validated]

        def report(results: list[ResourceResult]) -> ValidationReport:
            return build_report(results, loaded.rules, samples_per_group=self.samples,
                                key=loaded.key, field_names=names)  # fmt: skip

        reports = Reports(
            steward=report([v.steward for v in ordered]),
            published=report([v.published for v in ordered]),
        )
        check_report(reports.steward)
        if self.failed is not None:
            raise self.failed
        check_linked(self.quasi)
        resources = [self.redacted[r.name] for r in package.resources if r.name in self.redacted]
        redaction = Redaction(
            package,
            loaded.rules,
            resources,
            self.entries,
            self.scan_log,
            loaded.key.fingerprint if loaded.key else None,
        )
        return reports, redaction


def open_resource(
    run: Run, spec: ResourceSpec, pool: Executor | None = None
) -> tuple[TypedSource | None, Validator, bool]:
    """The reader and validator of one resource, and whether it can be published.

    A resource frictionless validated is read for publishing only. A resource whose header
    frictionless must judge is validated as read, but published only if its labels are the
    schema's fields (else the failure waits until validation is done).
    """
    package = run.loaded.package
    if spec.name not in run.fallback:
        try:
            source = open_typed(spec, strict=True)
        except NeedsFrictionless as exc:
            run._frictionless({spec.name: exc.reason})
        else:
            validator = ResourceValidator(
                package, spec, source.labels, source.header, samples=run.samples, pool=pool
            )
            try:
                check_labels(spec, source.labels, source.header, has_header=source.has_header)
            except OpengovError as exc:
                run.fail(exc)
                return source, validator, False
            return source, validator, True
    result, reason = run.fallback[spec.name]
    validator_ = FallbackValidator(result, run.samples, reason)
    try:
        return open_for_publishing(spec), validator_, True
    except OpengovError as exc:
        run.fail(exc)
        return None, validator_, False
