"""Validation: run an engine over a package, then build a report safe to publish."""

from __future__ import annotations

from pathlib import Path

from opengov.errors import InputError
from opengov.package import Package, load_package, load_single_file
from opengov.redact import PseudonymKey
from opengov.rules import Rules, load_for_package
from opengov.validate.model import DEFAULT_SAMPLES, Finding, ResourceResult
from opengov.validate.report import ValidationReport, build_report

ENGINES = ("auto", "arrow", "frictionless")

__all__ = [
    "DEFAULT_SAMPLES",
    "ENGINES",
    "Finding",
    "ResourceResult",
    "ValidationReport",
    "load_target",
    "validate",
    "validate_package",
]


def load_target(
    target: Path | str,
    schema: Path | str | None = None,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Package:
    """A package folder, a datapackage.json, or a single data file with `schema` (and, for
    that file, its encoding, delimiter or sheet when they are not to be worked out)."""
    target = Path(target)
    if schema is not None:
        return load_single_file(target, schema, encoding=encoding, delimiter=delimiter, sheet=sheet)
    if encoding or delimiter or sheet:
        raise InputError(
            "--encoding, --delimiter and --sheet are for a single data file with --schema; a "
            "package says them in datapackage.json ('encoding', 'dialect')"
        )
    return load_package(target)


def validate_package(
    package: Package,
    rules: Rules | None,
    *,
    engine: str = "auto",
    samples: int = DEFAULT_SAMPLES,
    progress: bool = False,
    key: PseudonymKey | None = None,
) -> ValidationReport:
    if engine == "frictionless":
        from opengov.validate.frictionless_engine import validate_resources

        results = validate_resources(package, package.resources, samples=samples)
    else:
        from opengov.validate.dispatch import validate_package_resources

        results = validate_package_resources(
            package, samples=samples, engine=engine, progress=progress
        )
    names = {r.name: r.field_names for r in package.resources}
    return build_report(results, rules, samples_per_group=samples, key=key, field_names=names)


def validate(
    target: Path | str,
    *,
    schema: Path | str | None = None,
    engine: str = "auto",
    samples: int = DEFAULT_SAMPLES,
    progress: bool = False,
    key: PseudonymKey | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> ValidationReport:
    """Validate a package (with its rules.yaml, if any) or a single file against a schema.

    Without rules every field counts as non-public, so the report shows no cell value. With a
    pseudonym `key`, masked values carry a keyed fingerprint an auditor can follow. A data file
    without a schema is validated against the schema `opengov init` would draft for it (as
    frictionless infers one): what can still fail is the file's structure (cells missing or
    extra, blank or repeated labels).
    """
    target = Path(target)
    if schema is None and target.is_file() and not target.name.endswith(".json"):
        if encoding or delimiter:
            raise InputError(
                "--encoding and --delimiter need --schema; without one the file is read as "
                "opengov init reads it (encoding and delimiter worked out from its bytes)"
            )
        return _validate_inferred(target, engine, samples, progress, key, sheet)
    package = load_target(target, schema, encoding=encoding, delimiter=delimiter, sheet=sheet)
    rules = None if package.single_file else load_for_package(package, required=False)
    return validate_package(
        package, rules, engine=engine, samples=samples, progress=progress, key=key
    )


INFERRED_WARNING = (
    "no schema given: validated against one inferred from the file (types from a sample, "
    "checked against every row); to keep it and classify the fields: opengov init FILE --out DIR"
)


def _validate_inferred(
    target: Path,
    engine: str,
    samples: int,
    progress: bool,
    key: PseudonymKey | None,
    sheet: str | None,
) -> ValidationReport:
    import tempfile

    from opengov.draft.init import TOTAL_ROW_NOTE, UNLABELLED_NOTE, init_package

    with tempfile.TemporaryDirectory(prefix="opengov-validate-") as tmp:
        drafted = init_package(target, out=Path(tmp) / "package", sheet=sheet)
        package = load_package(Path(drafted.out))
        report = validate_package(
            package, None, engine=engine, samples=samples, progress=progress, key=key
        )
    for result in report.results:
        result.place = target.name
        result.warnings.append(INFERRED_WARNING)
        if drafted.total_row:
            result.warnings.append(TOTAL_ROW_NOTE)
        if drafted.unlabelled:
            result.warnings.append(UNLABELLED_NOTE.format(names=", ".join(drafted.unlabelled)))
        if drafted.lines_above_header:
            result.warnings.append(
                f"the header is on line {drafted.lines_above_header + 1}: the lines above it "
                "(a title, comments or Excel's sep= line) are not rows and were not validated"
            )
    return report
