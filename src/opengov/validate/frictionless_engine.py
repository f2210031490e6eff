"""Validation through frictionless itself: the reference behaviour and the fallback path."""

from __future__ import annotations

import time
from typing import Any

from opengov.errors import InputError, LimitExceeded, SchemaError
from opengov.package import Package, ResourceSpec
from opengov.validate.model import Finding, ResourceResult, SampleCollector

# Frictionless stops collecting at `limit_errors`; the totals must be exact, so effectively
# unbounded (samples are bounded by SampleCollector instead).
_NO_LIMIT = 2**31 - 1

# Errors frictionless reports for files it cannot read at all: these are input errors, not
# data findings, and must stop the command with their own exit code.
_SOURCE_ERRORS = {"scheme-error", "format-error", "encoding-error", "source-error"}


def validate_resources(
    package: Package, resources: list[ResourceSpec], *, samples: int
) -> list[ResourceResult]:
    from frictionless import FrictionlessException
    from frictionless import Package as FlPackage

    descriptor: dict[str, Any] = {
        "name": package.name,
        # Every resource, so that foreign keys to resources on the fast path still resolve.
        "resources": [r.frictionless_descriptor() for r in package.resources],
    }
    profile = _profile(package)
    if profile:
        descriptor["$schema"] = profile
    wanted = {r.name for r in resources}
    start = time.perf_counter()
    try:
        fl_package = FlPackage.from_descriptor(descriptor, basepath=str(package.root))
        report = fl_package.validate(limit_errors=_NO_LIMIT, parallel=False)
    except FrictionlessException as exc:
        raise SchemaError(f"frictionless could not open the package: {exc.error.note}") from None
    elapsed = time.perf_counter() - start
    results = []
    for task in report.tasks:
        if task.name not in wanted:
            continue
        collector = SampleCollector(samples)
        for error in task.errors:
            if error.type in _SOURCE_ERRORS:
                raise InputError(f"resource {task.name!r}: {error.title}: {_safe_note(error)}")
            collector.add(_finding(error))
        stats = task.stats
        result = ResourceResult(
            name=task.name,
            place=task.place,
            engine="frictionless",
            labels=list(task.labels or []),
            rows=int(stats.get("rows") or 0),
            fields=int(stats.get("fields") or 0),
            bytes=int(stats.get("bytes") or 0),
            sha256=str(stats.get("sha256") or ""),
            seconds=float(stats.get("seconds") or elapsed),
            warnings=list(task.warnings),
        )
        collector.fill(result)
        results.append(result)
    return results


V2_PACKAGE = "https://datapackage.org/profiles/2.0/datapackage.json"


def _profile(package: Package) -> str | None:
    """The package's profile; v2 when a resource or schema declares v2 (frictionless refuses a
    v2 constraint such as exclusiveMinimum in a package that does not)."""
    declared = package.descriptor.get("$schema")
    if isinstance(declared, str):
        return declared
    for resource in package.resources:
        for profile in (resource.descriptor.get("$schema"), resource.schema.get("$schema")):
            if isinstance(profile, str) and "/2.0/" in profile:
                return V2_PACKAGE
    return None


def refuse_risky_patterns(resource: ResourceSpec) -> None:
    """frictionless runs `pattern` with Python's backtracking engine and no time limit: refuse
    a pattern that could take exponential time (opengov's own engine bounds it instead)."""
    from opengov.validate.patterns import backtracking_risk

    for field in resource.schema.get("fields") or []:
        pattern = (field.get("constraints") or {}).get("pattern")
        if not isinstance(pattern, str):
            continue
        risk = backtracking_risk(pattern)
        if risk:
            raise LimitExceeded(
                f"resource {resource.name!r}, field {field.get('name')!r}: the pattern "
                f"{pattern!r} has {risk}, which Python's regular expressions may take "
                "exponential time on, and this resource is validated by frictionless, which "
                "sets no time limit; simplify the pattern"
            )


def _safe_note(error: Any) -> str:
    # Parser notes for unreadable files can quote the offending line: keep only the class of
    # problem, the steward has the file to look at.
    note = str(getattr(error, "note", "") or "")
    return note.split(":")[0][:200]


def _finding(error: Any) -> Finding:
    return Finding(
        type=error.type,
        row_number=getattr(error, "row_number", None),
        field_name=getattr(error, "field_name", None),
        field_number=getattr(error, "field_number", None),
        note=str(getattr(error, "note", "") or ""),
        cell=getattr(error, "cell", None),
        label=getattr(error, "label", None),
    )
