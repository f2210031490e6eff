"""rules.yaml: how every field is classified, what is done to it, and under which law.

The loader is fail-closed. A field without a class, a rule for a field that does not exist, an
action without a legal basis, or anything it does not understand stops the command before any
data is read for publishing. The format is documented in docs/rules.md.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from opengov.approvals import ApprovalPolicy, parse_policy
from opengov.errors import RulesError, UnclassifiedFields
from opengov.package import Package

CLASSES = ("public", "personal", "confidential", "secret")
ACTIONS = ("keep", "drop", "mask", "pseudonymize", "generalize")
CONDITIONS = ("in", "not_in", "equals", "is_null", "not_in_published")
GENERALIZE_TO = ("month", "year", "band", "postcode3")
ON_DETECT = ("block", "quarantine")
HARM_TESTS = ("straight", "qualified straight", "reversed", "absolute")
DEFAULT_MASK = "[maskerad]"

_FIELD_KEYS = {
    "class", "action", "basis", "reason", "decided_by", "decided_at", "harm_test", "scan",
    "with", "keep_last", "to", "width", "id", "identifier_column",
}  # fmt: skip
# Detectors that read digit runs: an identifier column (platform ids, invoice numbers, URLs) can
# trip them without holding personal data, so a declared identifier column skips them.
DIGIT_KINDS = ("personnummer", "samordningsnummer", "organisationsnummer", "phone", "postcode")
_ROW_KEYS = {"id", "drop_when", "basis", "reason", "decided_by", "decided_at", "harm_test"}
_RESOURCE_KEYS = {"fields", "rows", "waivers", "on_detect", "quasi_identifiers"}
_TOP_KEYS = {"version", "decided_by", "decided_at", "on_detect", "resources", "pseudonym_key_file"}
_TOP_KEYS.add("approvals")  # four eyes: parsed by approvals.parse_policy

_ORDINALS = {
    "första": 1, "andra": 2, "tredje": 3, "fjärde": 4, "femte": 5, "sjätte": 6, "sjunde": 7,
    "åttonde": 8, "nionde": 9, "tionde": 10,
}  # fmt: skip
_LAGRUM = re.compile(
    r"(?P<chapter>\d+)\s*kap\.?\s*(?P<section>\d+\s?[a-z]?)\s*§"
    r"(?:\s+(?P<stycke>första|andra|tredje|fjärde|femte|sjätte|sjunde|åttonde|nionde|tionde|\d+)"
    r"\s+st(?:ycket|\.))?"
    r"(?:\s+(?:p\.|punkt(?:en)?)\s*(?P<point>\d+))?"
    r"(?:\s+(?P<law>OSL|TF|YGL|RF|GDPR|dataskyddslagen|[A-ZÅÄÖ][\w]*lagen|\(\d{4}:\d+\)))?",
    re.IGNORECASE,
)


def parse_basis(text: str) -> dict[str, Any]:
    """Split a citation like "19 kap. 3 § andra stycket OSL" into its parts.

    Free-text bases ("Privat inlägg, inte allmän handling") are allowed; they come back with only
    `text`, so a redaction manifest can still show what was cited.
    """
    out: dict[str, Any] = {"text": text}
    match = _LAGRUM.search(text)
    if match:
        out["chapter"] = int(match["chapter"])
        out["section"] = match["section"].replace(" ", "")
        stycke = match["stycke"]
        if stycke:
            out["stycke"] = int(stycke) if stycke.isdigit() else _ORDINALS[stycke.lower()]
        if match["point"]:
            out["point"] = int(match["point"])
        law = match["law"] or ("OSL" if "OSL" in text else None)
        if law:
            out["law"] = law
    return out


@dataclass(frozen=True)
class Decision:
    """Who decided a rule, on what basis, why: what a refusal decision (6 kap. OSL) needs."""

    basis: str | None
    reason: str | None
    decided_by: str | None
    decided_at: str | None
    harm_test: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "basis": self.basis,
            "lagrum": parse_basis(self.basis) if self.basis else None,
            "harm_test": self.harm_test,
            "reason": self.reason,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at,
        }


@dataclass(frozen=True)
class IdentifierColumn:
    """A steward's statement that a public column holds identifiers, not personal data.

    The last scan skips the listed detectors on this column only; the statement and its reason
    are published in redactions.json so a reader can see what was not scanned, and why.
    """

    skip: tuple[str, ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"skip": list(self.skip), "reason": self.reason}


@dataclass(frozen=True)
class FieldRule:
    id: str
    resource: str
    field: str
    cls: str
    action: str
    decision: Decision
    scan: tuple[str, ...] = ()
    mask_with: str = DEFAULT_MASK
    keep_last: int = 0
    generalize_to: str | None = None
    width: float | None = None
    identifier_column: IdentifierColumn | None = None

    @property
    def public(self) -> bool:
        return self.cls == "public"


@dataclass(frozen=True)
class RowRule:
    id: str
    resource: str
    field: str
    condition: str
    value: Any
    decision: Decision


@dataclass(frozen=True)
class Waiver:
    resource: str
    field: str | None
    type: str
    reason: str
    expires: dt.date | None

    def active(self, today: dt.date) -> bool:
        return self.expires is None or today <= self.expires

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "field": self.field,
            "type": self.type,
            "reason": self.reason,
            "expires": self.expires.isoformat() if self.expires else None,
        }


@dataclass(frozen=True)
class QuasiIdentifiers:
    """Fields that together could single a person out; every combination must cover k people.

    `person`: the field that identifies a person (published or not). Then people are counted,
    not rows, and resources whose quasi_identifiers name the same person field are checked
    together: each person's combination across all of them must be shared by k people.
    """

    fields: tuple[str, ...]
    k: int
    person: str | None = None


@dataclass
class ResourceRules:
    name: str
    fields: dict[str, FieldRule] = field(default_factory=dict)
    rows: list[RowRule] = field(default_factory=list)
    waivers: list[Waiver] = field(default_factory=list)
    on_detect: str = "block"
    quasi_identifiers: QuasiIdentifiers | None = None

    @property
    def public_fields(self) -> set[str]:
        return {name for name, rule in self.fields.items() if rule.public}


@dataclass
class Rules:
    version: int
    decided_by: str | None
    decided_at: str | None
    resources: dict[str, ResourceRules]
    sha256: str | None = None
    source: str | None = None
    pseudonym_key_file: str | None = None
    approvals: ApprovalPolicy | None = None

    def public_fields(self, resource: str) -> set[str]:
        rules = self.resources.get(resource)
        return rules.public_fields if rules else set()

    def needs_key(self) -> bool:
        return any(
            rule.action == "pseudonymize"
            for res in self.resources.values()
            for rule in res.fields.values()
        )


def _str_or_none(value: Any, where: str, key: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, (str, int, float)):
        raise RulesError(f"{where}: '{key}' must be text")
    return str(value)


def _decision(spec: dict[str, Any], where: str, top: Rules) -> Decision:
    harm = _str_or_none(spec.get("harm_test"), where, "harm_test")
    if harm is not None and harm not in HARM_TESTS:
        raise RulesError(f"{where}: harm_test {harm!r} is not one of {', '.join(HARM_TESTS)}")
    return Decision(
        basis=_str_or_none(spec.get("basis"), where, "basis"),
        reason=_str_or_none(spec.get("reason"), where, "reason"),
        decided_by=_str_or_none(spec.get("decided_by"), where, "decided_by") or top.decided_by,
        decided_at=_str_or_none(spec.get("decided_at"), where, "decided_at") or top.decided_at,
        harm_test=harm,
    )


def _unknown_keys(spec: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise RulesError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")


def _field_rule(resource: str, name: str, spec: Any, top: Rules) -> FieldRule:
    where = f"rules.yaml, resource {resource!r}, field {name!r}"
    if isinstance(spec, str):  # shorthand `field: public`
        spec = {"class": spec}
    if not isinstance(spec, dict):
        raise RulesError(f"{where}: expected a mapping like {{class: public}}")
    _unknown_keys(spec, _FIELD_KEYS, where)
    cls = spec.get("class")
    if cls not in CLASSES:
        raise RulesError(f"{where}: class must be one of {', '.join(CLASSES)} (got {cls!r})")
    action = spec.get("action", "keep" if cls == "public" else None)
    if action is None:
        raise RulesError(f"{where}: a {cls} field needs an action ({', '.join(ACTIONS[1:])})")
    if action not in ACTIONS:
        raise RulesError(f"{where}: unknown action {action!r} (known: {', '.join(ACTIONS)})")
    if action == "keep" and cls != "public":
        raise RulesError(f"{where}: only public fields may be kept; choose drop, mask, ...")
    decision = _decision(spec, where, top)
    if action != "keep" and not decision.basis:
        raise RulesError(f"{where}: action {action!r} needs a legal basis ('basis')")
    scan = spec.get("scan") or []
    if not isinstance(scan, list) or not all(isinstance(k, str) for k in scan):
        raise RulesError(f"{where}: 'scan' must be a list of detector names")
    if scan:
        from opengov.redact.detectors import validate_kinds

        unknown = validate_kinds(scan)
        if unknown:
            raise RulesError(f"{where}: unknown detector(s) {', '.join(map(repr, unknown))}")
        if action not in ("keep",):
            raise RulesError(f"{where}: 'scan' applies to kept (public) free-text fields")
    keep_last = spec.get("keep_last", 0)
    if not isinstance(keep_last, int) or keep_last < 0:
        raise RulesError(f"{where}: keep_last must be a whole number >= 0")
    to = spec.get("to")
    width = spec.get("width")
    if action == "generalize":
        if to not in GENERALIZE_TO:
            raise RulesError(f"{where}: generalize needs 'to' in {', '.join(GENERALIZE_TO)}")
        if to == "band" and (not isinstance(width, (int, float)) or width <= 0):
            raise RulesError(f"{where}: generalize to band needs a positive 'width'")
    elif to is not None or width is not None:
        raise RulesError(f"{where}: 'to'/'width' only go with action generalize")
    mask_with = spec.get("with", DEFAULT_MASK)
    if not isinstance(mask_with, str):
        raise RulesError(f"{where}: 'with' must be text")
    identifier = _identifier_column(spec.get("identifier_column"), where, cls, action)
    return FieldRule(
        id=str(spec.get("id") or f"{resource}.{name}"),
        resource=resource,
        field=name,
        cls=cls,
        action=action,
        decision=decision,
        scan=tuple(scan),
        mask_with=mask_with,
        keep_last=keep_last,
        generalize_to=to,
        width=float(width) if width is not None else None,
        identifier_column=identifier,
    )


def _identifier_column(spec: Any, where: str, cls: str, action: str) -> IdentifierColumn | None:
    if spec is None:
        return None
    where = f"{where}, identifier_column"
    if not isinstance(spec, dict):
        raise RulesError(f"{where}: expected a mapping with 'reason' (and optionally 'skip')")
    _unknown_keys(spec, {"reason", "skip"}, where)
    if cls != "public" or action != "keep":
        raise RulesError(f"{where}: only a public field that is kept can be an identifier column")
    reason = spec.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise RulesError(f"{where}: say why the column holds no personal data ('reason')")
    skip = spec.get("skip", list(DIGIT_KINDS))
    if not isinstance(skip, list) or not skip or not all(isinstance(k, str) for k in skip):
        raise RulesError(f"{where}: 'skip' must be a non-empty list of detector names")
    from opengov.redact.detectors import validate_kinds

    unknown = validate_kinds(skip)
    if unknown:
        raise RulesError(f"{where}: unknown detector(s) {', '.join(map(repr, unknown))}")
    return IdentifierColumn(skip=tuple(skip), reason=reason.strip())


def _row_rule(resource: str, index: int, spec: Any, top: Rules) -> RowRule:
    where = f"rules.yaml, resource {resource!r}, rows[{index}]"
    if not isinstance(spec, dict):
        raise RulesError(f"{where}: expected a mapping with drop_when and basis")
    _unknown_keys(spec, _ROW_KEYS, where)
    cond = spec.get("drop_when")
    if not isinstance(cond, dict) or not isinstance(cond.get("field"), str):
        raise RulesError(f"{where}: drop_when needs a 'field' and one condition")
    ops = [k for k in cond if k != "field"]
    if len(ops) != 1 or ops[0] not in CONDITIONS:
        raise RulesError(
            f"{where}: drop_when takes exactly one of {', '.join(CONDITIONS)} (got {ops})"
        )
    op = ops[0]
    value = cond[op]
    if op in ("in", "not_in") and not isinstance(value, list):
        raise RulesError(f"{where}: {op!r} takes a list of values")
    if op == "is_null" and not isinstance(value, bool):
        raise RulesError(f"{where}: 'is_null' takes true or false")
    if op == "not_in_published" and (not isinstance(value, str) or value.count(".") != 1):
        raise RulesError(f"{where}: 'not_in_published' takes '<resource>.<field>'")
    decision = _decision(spec, where, top)
    if not decision.basis:
        raise RulesError(f"{where}: a row rule needs a legal basis ('basis')")
    return RowRule(
        id=str(spec.get("id") or f"{resource}.rows[{index}]"),
        resource=resource,
        field=cond["field"],
        condition=op,
        value=value,
        decision=decision,
    )


def _waiver(resource: str, index: int, spec: Any) -> Waiver:
    where = f"rules.yaml, resource {resource!r}, waivers[{index}]"
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise RulesError(f"{where}: a waiver needs 'type' (a frictionless error type)")
    if not spec.get("reason"):
        raise RulesError(f"{where}: a waiver needs a 'reason'")
    _unknown_keys(spec, {"field", "type", "reason", "expires"}, where)
    expires = spec.get("expires")
    if isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError:
            raise RulesError(f"{where}: 'expires' must be a date YYYY-MM-DD") from None
    if expires is not None and not isinstance(expires, dt.date):
        raise RulesError(f"{where}: 'expires' must be a date YYYY-MM-DD")
    return Waiver(resource, spec.get("field"), spec["type"], str(spec["reason"]), expires)


def parse_rules(data: Any, *, source: str = "rules.yaml", sha256: str | None = None) -> Rules:
    if not isinstance(data, dict):
        raise RulesError(f"{source}: expected a mapping at the top")
    _unknown_keys(data, _TOP_KEYS, source)
    if data.get("version") != 1:
        raise RulesError(f"{source}: 'version: 1' is required (got {data.get('version')!r})")
    on_detect = data.get("on_detect", "block")
    if on_detect not in ON_DETECT:
        raise RulesError(f"{source}: on_detect must be one of {', '.join(ON_DETECT)}")
    top = Rules(
        version=1,
        decided_by=_str_or_none(data.get("decided_by"), source, "decided_by"),
        decided_at=_str_or_none(data.get("decided_at"), source, "decided_at"),
        resources={},
        sha256=sha256,
        source=source,
        pseudonym_key_file=_str_or_none(data.get("pseudonym_key_file"), source, "key file"),
        approvals=parse_policy(data.get("approvals"), source),
    )
    resources = data.get("resources")
    if not isinstance(resources, dict) or not resources:
        raise RulesError(f"{source}: 'resources' must map resource names to their rules")
    for rname, rspec in resources.items():
        where = f"{source}, resource {rname!r}"
        if not isinstance(rspec, dict):
            raise RulesError(f"{where}: expected a mapping with 'fields'")
        _unknown_keys(rspec, _RESOURCE_KEYS, where)
        res = ResourceRules(name=str(rname), on_detect=str(rspec.get("on_detect", on_detect)))
        if res.on_detect not in ON_DETECT:
            raise RulesError(f"{where}: on_detect must be one of {', '.join(ON_DETECT)}")
        fields = rspec.get("fields") or {}
        if not isinstance(fields, dict):
            raise RulesError(f"{where}: 'fields' must map field names to rules")
        for fname, fspec in fields.items():
            res.fields[str(fname)] = _field_rule(str(rname), str(fname), fspec, top)
        for i, row in enumerate(rspec.get("rows") or []):
            res.rows.append(_row_rule(str(rname), i, row, top))
        for i, waiver in enumerate(rspec.get("waivers") or []):
            res.waivers.append(_waiver(str(rname), i, waiver))
        qi = rspec.get("quasi_identifiers")
        if qi is not None:
            if (
                not isinstance(qi, dict)
                or not isinstance(qi.get("fields"), list)
                or not qi["fields"]
                or not isinstance(qi.get("k"), int)
                or qi["k"] < 2
            ):
                raise RulesError(f"{where}: quasi_identifiers needs 'fields' (a list) and k >= 2")
            _unknown_keys(qi, {"fields", "k", "person"}, f"{where}, quasi_identifiers")
            person = qi.get("person")
            if person is not None and not isinstance(person, str):
                raise RulesError(f"{where}: quasi_identifiers 'person' names one field")
            res.quasi_identifiers = QuasiIdentifiers(tuple(map(str, qi["fields"])), qi["k"], person)
        top.resources[res.name] = res
    return top


def load_rules(path: Path) -> Rules:
    from opengov.package import sha256_bytes

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RulesError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise RulesError(f"{path.name} is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise RulesError(f"{path.name} is not valid YAML{where}") from None
    return parse_rules(data, source=path.name, sha256=sha256_bytes(raw))


def check_against_package(rules: Rules, package: Package, *, require_all: bool = True) -> None:
    """Fail closed: every field classified, every rule names something that exists.

    `require_all=False` (for `validate`) accepts unclassified fields: they count as non-public
    in the report, and publishing still refuses them.
    """
    problems: list[str] = []
    resource_fields = {r.name: r.field_names for r in package.resources}
    for rname, res in rules.resources.items():
        if rname not in resource_fields:
            problems.append(f"rules name resource {rname!r}, which the package does not have")
            continue
        names = set(resource_fields[rname])
        for fname in res.fields:
            if fname not in names:
                problems.append(f"rules name field {rname}.{fname}, which does not exist")
        for row in res.rows:
            if row.field not in names:
                problems.append(f"row rule {row.id} names field {rname}.{row.field}, unknown")
            if row.condition == "not_in_published":
                other, ofield = str(row.value).split(".")
                if other not in resource_fields or ofield not in resource_fields[other]:
                    problems.append(f"row rule {row.id} refers to {row.value}, which is unknown")
        for w in res.waivers:
            if w.field is not None and w.field not in names:
                problems.append(f"a waiver names field {rname}.{w.field}, which does not exist")
        if res.quasi_identifiers:
            for q in res.quasi_identifiers.fields:
                if q not in names:
                    problems.append(f"quasi_identifiers name field {rname}.{q}, unknown")
            person = res.quasi_identifiers.person
            if person is not None and person not in names:
                problems.append(f"quasi_identifiers name person field {rname}.{person}, unknown")
    if problems:
        raise RulesError("rules.yaml does not match the package", details=problems)
    if not require_all:
        return
    unclassified = [
        f"{r.name}.{f}"
        for r in package.resources
        for f in r.field_names
        if f not in rules.resources.get(r.name, ResourceRules(r.name)).fields
    ]
    if unclassified:
        raise UnclassifiedFields(
            f"{len(unclassified)} field(s) have no classification in rules.yaml; nothing is "
            "published until every field is classified (public, personal, confidential, secret)",
            details=unclassified,
        )


def load_for_package(package: Package, *, required: bool) -> Rules | None:
    """The package's rules, checked against it; `required` for redact and publish."""
    if package.rules_path is None:
        if required:
            raise UnclassifiedFields(
                f"package {package.name!r} has no rules.yaml: every field must be classified "
                "before anything is published",
                details=[f"{r.name}.{f}" for r in package.resources for f in r.field_names],
            )
        return None
    rules = load_rules(package.rules_path)
    check_against_package(rules, package, require_all=required)
    return rules
