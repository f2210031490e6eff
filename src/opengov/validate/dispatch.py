"""Which engine validates which resource: the fast path where it applies, frictionless elsewhere.

Nothing is skipped silently: a resource the arrow engine cannot take is validated by
frictionless, and its result says why (`fallback_reason`), so the report can show it.
"""

from __future__ import annotations

import logging

from opengov.errors import ConfigError
from opengov.package import Package, ResourceSpec
from opengov.validate.model import DEFAULT_SAMPLES, ResourceResult

ENGINES = ("auto", "arrow", "frictionless")
log = logging.getLogger("opengov.validate")


def validate_package_resources(
    package: Package,
    *,
    samples: int = DEFAULT_SAMPLES,
    engine: str = "auto",
    progress: bool = False,
) -> list[ResourceResult]:
    """Validate every resource of `package`; results in package order.

    engine="auto": arrow for resources on the fast path, frictionless (in one call, so
    foreign keys across resources still resolve) for the rest, each of those with its
    `fallback_reason`. engine="arrow": arrow only; a resource off the fast path is a
    ConfigError naming the reason (asking for arrow and silently getting frictionless would
    hide a slow run). engine="frictionless": frictionless for all.
    """
    from opengov.validate import arrow_engine, frictionless_engine

    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if engine == "frictionless":
        return frictionless_engine.validate_resources(package, package.resources, samples=samples)
    done: dict[str, ResourceResult] = {}
    slow: list[ResourceSpec] = []
    reasons: dict[str, str] = {}
    for resource in package.resources:
        reason = arrow_engine.fast_path_reason(package, resource)
        if reason is None:
            try:
                done[resource.name] = arrow_engine.validate_resources(
                    package, [resource], samples=samples, progress=progress
                )[0]
                continue
            except arrow_engine.NotOnFastPath as exc:
                reason = exc.reason
        if engine == "arrow":
            raise ConfigError(
                f"resource {resource.name!r} cannot be validated by the arrow engine ({reason}); "
                "use --engine auto to validate it with frictionless"
            )
        reasons[resource.name] = reason
        slow.append(resource)
    if slow:
        for resource in slow:
            frictionless_engine.refuse_risky_patterns(resource)
        for result in frictionless_engine.validate_resources(package, slow, samples=samples):
            result.fallback_reason = reasons.get(result.name)
            done[result.name] = result
    results = [done[r.name] for r in package.resources if r.name in done]
    for result in results:
        # `-v`: each resource's stage with its time, as publish logs its stages (names and
        # counts only: a log line never carries a value).
        how = (
            ""
            if result.fallback_reason is None
            else f" (not the fast path: {result.fallback_reason})"
        )
        log.info(
            "%s: %s rows read and validated by %s in %.2f s%s",
            result.name, f"{result.rows:,}", result.engine, result.seconds, how,
        )  # fmt: skip
    return results
