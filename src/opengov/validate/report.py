"""The validation report: frictionless' shape, exact totals, waivers, and no confidential value.

frictionless puts the whole offending row (`cells`) and the cell value (`cell`, `message`) into
every row error, so a report published beside redacted data can leak what was redacted
(../shared/reference/anchors.md). Here `cells` is never written, and `cell`, `message` and the
value-bearing notes are masked for every field the rules do not classify as public. A public
field's value is shown only if no detector finds personal data in it.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from opengov import __version__
from opengov.redact import PseudonymKey
from opengov.rules import Rules, Waiver
from opengov.validate.model import Finding, ResourceResult

MASK = "[dold]"
MASKING_POLICY = (
    "Cell values are shown only for fields classified public and only when no detector finds "
    "personal data in them; other values are replaced by [dold]. Whole rows are never included."
)
VALUES_SHOWN = (
    "VALUES SHOWN: this report was written with --show-values and holds cell values of every "
    "field; keep it to yourself, never publish it."
)
# Notes of these types can quote data values (foreign keys list the missing values).
_VALUE_NOTES = {"foreign-key", "primary-key", "row-constraint"}


@dataclass(frozen=True)
class ErrorKind:
    title: str
    description: str
    template: str
    tags: tuple[str, ...]


_ROW, _CELL, _LABEL = (
    ("#table", "#row"),
    ("#table", "#row", "#cell"),
    ("#table", "#header", "#label"),
)
_SHORTER = "compared to the header row (the first row in the data source). A key concept is that all the rows in tabular data must have the same number of columns."  # noqa: E501
# frictionless 5.21's texts for the errors the arrow engine reports (tests/test_report.py holds
# them equal to frictionless' own), so a report needs no frictionless import; other types come
# from frictionless itself.
KNOWN_ERRORS: dict[str, ErrorKind] = {
    "type-error": ErrorKind("Type Error", "The value does not match the schema type and format for this field.", 'Type error in the cell "{cell}" in row "{rowNumber}" and field "{fieldName}" at position "{fieldNumber}": {note}', _CELL),  # noqa: E501
    "constraint-error": ErrorKind("Constraint Error", "A field value does not conform to a constraint.", 'The cell "{cell}" in row at position "{rowNumber}" and field "{fieldName}" at position "{fieldNumber}" does not conform to a constraint: {note}', _CELL),  # noqa: E501
    "missing-cell": ErrorKind("Missing Cell", f"This row has less values {_SHORTER}", 'Row at position "{rowNumber}" has a missing cell in field "{fieldName}" at position "{fieldNumber}"', _CELL),  # noqa: E501
    "extra-cell": ErrorKind("Extra Cell", f"This row has more values {_SHORTER}", 'Row at position "{rowNumber}" has an extra value in field at position "{fieldNumber}"', _CELL),  # noqa: E501
    "blank-row": ErrorKind("Blank Row", "This row is empty. A row should contain at least one value.", 'Row at position "{rowNumber}" is completely blank', _ROW),  # noqa: E501
    "unique-error": ErrorKind("Unique Error", "This field is a unique field but it contains a value that has been used in another row.", 'Row at position "{rowNumber}" has unique constraint violation in field "{fieldName}" at position "{fieldNumber}": {note}', _CELL),  # noqa: E501
    "primary-key": ErrorKind("PrimaryKey Error", "Values in the primary key fields should be unique for every row", 'Row at position "{rowNumber}" violates the primary key: {note}', _ROW),  # noqa: E501
    "foreign-key": ErrorKind("ForeignKey Error", "Values in the foreign key fields should exist in the reference table", 'Row at position "{rowNumber}" violates the foreign key: {note}', _ROW),  # noqa: E501
    "blank-label": ErrorKind("Blank Label", "A label in the header row is missing a value. Label should be provided and not be blank.", 'Label in the header in field at position "{fieldNumber}" is blank', _LABEL),  # noqa: E501
    "duplicate-label": ErrorKind("Duplicate Label", "Two columns in the header row have the same value. Column names should be unique.", 'Label "{label}" in the header at position "{fieldNumber}" is duplicated to a label: {note}', _LABEL),  # noqa: E501
    "incorrect-label": ErrorKind("Incorrect Label", "One of the data source header does not match the field name defined in the schema.", 'Label "{label}" in field {fieldName} at position "{fieldNumber}" does not match the field name in the schema', _LABEL),  # noqa: E501
    "missing-label": ErrorKind("Missing Label", "Based on the schema there should be a label that is missing in the data's header.", 'There is a missing label in the header\'s field "{fieldName}" at position "{fieldNumber}"', _LABEL),  # noqa: E501
    "extra-label": ErrorKind("Extra Label", "The header of the data source contains label that does not exist in the provided schema.", 'There is an extra label "{label}" in header at position "{fieldNumber}"', _LABEL),  # noqa: E501
    "hash-count": ErrorKind("Hash Count Error", "This error can happen if the data is corrupted.", "The data source does not match the expected hash count: {note}", ("#file",)),  # noqa: E501
    "byte-count": ErrorKind("Byte Count Error", "This error can happen if the data is corrupted.", "The data source does not match the expected byte count: {note}", ("#file",)),  # noqa: E501
    "field-count": ErrorKind("Field Count Error", "This error can happen if the data is corrupted.", "The data source does not match the expected field count: {note}", ("#table",)),  # noqa: E501
    "row-count": ErrorKind("Row Count Error", "This error can happen if the data is corrupted.", "The data source does not match the expected row count: {note}", ("#table",)),  # noqa: E501
}  # fmt: skip


@functools.cache
def _frictionless_catalogue() -> dict[str, ErrorKind]:
    import frictionless.errors as fe

    out = {}
    for _, cls in inspect.getmembers(fe, inspect.isclass):
        type_ = getattr(cls, "type", None)
        if isinstance(type_, str) and isinstance(getattr(cls, "template", None), str):
            kind: Any = cls
            out[type_] = ErrorKind(
                str(kind.title), str(kind.description), str(kind.template), tuple(kind.tags)
            )
    return out


def _kind(type_: str) -> ErrorKind | None:
    return KNOWN_ERRORS.get(type_) or _frictionless_catalogue().get(type_)


def error_title(type_: str) -> str:
    kind = _kind(type_)
    return kind.title if kind else type_


def _describe(type_: str) -> tuple[str, str, list[str]]:
    kind = _kind(type_)
    if kind is None:
        return type_, "", []
    return kind.title, kind.description, list(kind.tags)


def _show_value(value: str | None, public: bool) -> bool:
    if value is None or not public:
        return False
    from opengov.redact.detectors import contains_personal_data

    return not contains_personal_data(value)


def _message(finding: Finding, cell: str, note: str, label: str | None) -> str:
    kind = _kind(finding.type)
    template = kind.template if kind else "{note}"
    values = {
        "cell": cell,
        "note": note,
        "rowNumber": finding.row_number,
        "fieldName": finding.field_name,
        "fieldNumber": finding.field_number,
        "label": label,
    }
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return f"{finding.type}: {note}"


def masked(value: str | None, key: PseudonymKey | None) -> str:
    """[dold], or with a key [dold fp-…]: the same value gives the same fingerprint, so an auditor
    can follow it across rows without seeing it. Domain-separated from published pseudonyms."""
    if key is None or value is None:
        return MASK
    return f"[dold fp-{key.fingerprint_of('validation-report', value)}]"


def show_label(label: str, field_name: str | None, public: set[str], names: set[str]) -> bool:
    """A header label is a column name, unless the file has no header row and the first data
    row was taken for one: then it is data, and shown only as a public value would be."""
    if label in names:
        return True
    return field_name in public and _show_value(label, True)


def error_dict(
    finding: Finding,
    *,
    public: bool,
    waived: bool,
    key: PseudonymKey | None = None,
    label_visible: bool = True,
    hint: str | None = None,
    reveal: bool = False,
) -> dict[str, Any]:
    title, description, tags = _describe(finding.type)
    visible = reveal or _show_value(finding.cell, public)
    cell: str = (
        finding.cell if (visible and finding.cell is not None) else masked(finding.cell, key)
    )
    label = finding.label
    if label is not None and not label_visible:
        label = masked(label, key)
    note = finding.note
    if finding.type in _VALUE_NOTES and not reveal and not (public and _show_value(note, True)):
        note = _masked_note(finding.type)
    elif (
        finding.type == "constraint-error"
        and not reveal
        and not (public and _show_value(note, True))
    ):
        # The note quotes the constraint (an enum of client names, a pattern): masked as the
        # field's values are.
        name = note.split('"')[1] if note.count('"') >= 2 else "constraint"
        note = f'constraint "{name}" is {MASK}'
    if hint:
        note = f"{note}; {hint}" if note else hint
    out: dict[str, Any] = {
        "type": finding.type,
        "title": title,
        "description": description,
        "message": _message(finding, cell if finding.cell is not None else "", note, label),
        "tags": tags,
        "note": note,
    }
    if finding.row_number is not None:
        out["rowNumber"] = finding.row_number
    if finding.cell is not None:
        out["cell"] = cell
    if finding.field_name is not None:
        out["fieldName"] = finding.field_name
    if finding.field_number is not None:
        out["fieldNumber"] = finding.field_number
    if label is not None:
        out["label"] = label
    if waived:
        out["waived"] = True
    return out


def _masked_note(type_: str) -> str:
    return {
        "foreign-key": "values not found in the lookup table (values hidden)",
        "primary-key": "the same key as in an earlier row (values hidden)",
    }.get(type_, "(details hidden: they would quote data values)")


@dataclass
class WaiverUse:
    waiver: Waiver
    active: bool
    matched: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {**self.waiver.to_dict(), "active": self.active, "matched": self.matched}


@dataclass
class ValidationReport:
    """What `opengov validate` returns; `to_dict()` is the JSON report."""

    results: list[ResourceResult]
    public_fields: dict[str, set[str]]
    waivers: list[WaiverUse] = field(default_factory=list)
    samples_per_group: int = 20
    key: PseudonymKey | None = None
    field_names: dict[str, list[str]] = field(default_factory=dict)

    def hints(self) -> dict[tuple[str, str | None, str], str]:
        """Per (resource, field, type): a hint from the shape of the sampled cells (hints.py),
        fixed text that quotes no cell."""
        cells: dict[tuple[str, str | None, str], list[str | None]] = {}
        notes: dict[tuple[str, str | None, str], str] = {}
        for r in self.results:
            for f in r.samples:
                if f.type == "type-error":
                    cells.setdefault((r.name, f.field_name, f.type), []).append(f.cell)
                    notes.setdefault((r.name, f.field_name, f.type), f.note)
        out: dict[tuple[str, str | None, str], str] = {}
        if not cells:
            return out  # hints.py and the draft inference it uses load only for type errors
        from opengov.validate.hints import type_hint

        for k, values in cells.items():
            hint = type_hint(notes[k], values)
            if hint:
                out[k] = hint
        return out

    def _labels(self, r: ResourceResult) -> list[str]:
        names = self.field_names.get(r.name, [])
        public = self.public_fields.get(r.name, set())
        return [
            label
            if show_label(label, names[i] if i < len(names) else None, public, set(names))
            else masked(label, self.key)
            for i, label in enumerate(r.labels)
        ]

    def _waiver_for(self, resource: str, field_name: str | None, type_: str) -> WaiverUse | None:
        for use in self.waivers:
            w = use.waiver
            if w.resource == resource and w.type == type_ and w.field in (None, field_name):
                return use if use.active else None
        return None

    @property
    def error_count(self) -> int:
        return sum(r.error_count for r in self.results)

    @property
    def unwaived_count(self) -> int:
        return sum(
            count
            for r in self.results
            for (fname, type_), count in r.totals.items()
            if self._waiver_for(r.name, fname, type_) is None
        )

    @property
    def valid(self) -> bool:
        """frictionless' meaning: no error at all."""
        return self.error_count == 0

    @property
    def passed(self) -> bool:
        """Publishable: every error is covered by an active waiver."""
        return self.unwaived_count == 0

    def summary(self) -> list[dict[str, Any]]:
        rows = []
        hints = self.hints()
        for r in self.results:
            for (fname, type_), count in sorted(r.totals.items(), key=lambda kv: _key(kv[0])):
                use = self._waiver_for(r.name, fname, type_)
                rows.append(
                    {
                        "resource": r.name,
                        "fieldName": fname,
                        "type": type_,
                        "title": error_title(type_),
                        "count": count,
                        "waived": use is not None,
                        "waiverReason": use.waiver.reason if use else None,
                        **(
                            {"hint": hints[(r.name, fname, type_)]}
                            if (r.name, fname, type_) in hints
                            else {}
                        ),
                    }
                )
        return rows

    def to_dict(self, *, show_values: bool = False) -> dict[str, Any]:
        """The JSON report. `show_values` puts every sampled cell in it as it is: for the
        steward's own terminal while drafting (`validate --show-values`), never for a report
        that is published or written to a file unless asked for explicitly."""
        for reset in self.waivers:
            reset.matched = 0
        hints = self.hints()
        tasks = []
        for r in self.results:
            public = self.public_fields.get(r.name, set())
            errors = []
            for f in r.samples:
                waived = self._waiver_for(r.name, f.field_name, f.type) is not None
                names = set(self.field_names.get(r.name, []))
                errors.append(
                    error_dict(
                        f,
                        public=f.field_name in public,
                        waived=waived,
                        key=self.key,
                        label_visible=show_values
                        or f.label is None
                        or show_label(f.label, f.field_name, public, names),
                        hint=hints.get((r.name, f.field_name, f.type)),
                        reveal=show_values,
                    )
                )
            for (fname, type_), count in r.totals.items():
                matched = self._waiver_for(r.name, fname, type_)
                if matched:
                    matched.matched += count
            task: dict[str, Any] = {
                "name": r.name,
                "type": "table",
                "valid": r.error_count == 0,
                "place": r.place,
                "labels": self._labels(r),
                "stats": {
                    "errors": r.error_count,
                    "warnings": len(r.warnings),
                    "seconds": round(r.seconds, 3),
                    "sha256": r.sha256,
                    "bytes": r.bytes,
                    "fields": r.fields,
                    "rows": r.rows,
                },
                "warnings": r.warnings,
                "errors": errors,
                "engine": r.engine,
            }
            if r.fallback_reason:
                task["fallbackReason"] = r.fallback_reason
            if r.python_checks:
                # Checks RE2 could not decide alone, per field: why Python ran them.
                task["pythonChecks"] = [
                    {"fieldName": name, "check": check, "reason": reason}
                    for (name, check), reason in sorted(r.python_checks.items())
                ]
            tasks.append(task)
        return {
            "valid": self.valid,
            "stats": {
                "tasks": len(tasks),
                "errors": self.error_count,
                "warnings": sum(len(r.warnings) for r in self.results),
                "seconds": round(sum(r.seconds for r in self.results), 3),
            },
            "warnings": [],
            "errors": [],
            "tasks": tasks,
            "summary": self.summary(),
            "opengov": {
                "version": __version__,
                "passed": self.passed,
                "unwaivedErrors": self.unwaived_count,
                "waivedErrors": self.error_count - self.unwaived_count,
                "samplesPerGroup": self.samples_per_group,
                "masking": VALUES_SHOWN if show_values else MASKING_POLICY,
                "waivers": [u.to_dict() for u in self.waivers],
            },
        }


def _key(k: tuple[str | None, str]) -> tuple[str, str]:
    return (k[0] or "", k[1])


def build_report(
    results: list[ResourceResult],
    rules: Rules | None,
    *,
    samples_per_group: int,
    today: dt.date | None = None,
    key: PseudonymKey | None = None,
    field_names: dict[str, list[str]] | None = None,
) -> ValidationReport:
    today = today or dt.date.today()
    public = {r.name: (rules.public_fields(r.name) if rules else set()) for r in results}
    uses: list[WaiverUse] = []
    if rules:
        names = {r.name for r in results}
        for res in rules.resources.values():
            if res.name in names:
                uses.extend(WaiverUse(w, w.active(today)) for w in res.waivers)
    return ValidationReport(results, public, uses, samples_per_group, key, field_names or {})


def findings_text(report: ValidationReport) -> Iterable[str]:
    """Lines for the terminal: the summary table, never a value."""
    for row in report.summary():
        where = f"{row['resource']}.{row['fieldName']}" if row["fieldName"] else row["resource"]
        waived = f"  (waived: {row['waiverReason']})" if row["waived"] else ""
        yield f"{row['count']:>8}  {row['type']:<18} {where}{waived}"
        if row.get("hint"):
            yield f"{'':>8}  hint: {row['hint']}"


def values_text(data: dict[str, Any]) -> Iterable[str]:
    """Lines for `validate --show-values`: the sampled failing cells with their values, for the
    steward's own terminal while drafting (the caller passes a report made with show_values)."""
    yield "values (--show-values: this terminal only; do not paste them where others read):"
    for task in data.get("tasks", []):
        for error in task.get("errors", []):
            where = f"row {error.get('rowNumber', '?')}"
            if error.get("fieldName"):
                where += f", {task['name']}.{error['fieldName']}"
            cell = error.get("cell")
            yield f"  {where}: {error['type']}" + (f": {cell!r}" if cell is not None else "")
