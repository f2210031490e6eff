"""rules.yaml: how every field is classified, what is done to it, and under which law.

The loader is fail-closed. A field without a class, a rule for a field that does not exist, an
action without a legal basis, or anything it does not understand stops the command before any
data is read for publishing. The format is documented in docs/rules.md.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opengov import limits
from opengov.errors import RulesError, UnclassifiedFields
from opengov.package import Package

if TYPE_CHECKING:
    from opengov.approvals import ApprovalPolicy

CLASSES = ("public", "personal", "confidential", "secret")
ACTIONS = ("keep", "drop", "mask", "pseudonymize", "generalize")
CONDITIONS = ("in", "not_in", "equals", "is_null", "not_in_published")
GENERALIZE_TO = ("month", "year", "band", "postcode3")
ON_DETECT = ("block", "quarantine")
HARM_TESTS = ("straight", "qualified straight", "reversed", "absolute")
DEFAULT_MASK = "[maskerad]"

# How a pseudonymised value is read before it is keyed (redact/canonical.py).
CANONICAL = ("auto", "personnummer", "exact")
# Who can link pseudonyms: one dataset (default), or every dataset of the municipality.
SCOPES = ("dataset", "municipality")
_FIELD_KEYS = {
    "class", "action", "basis", "reason", "decided_by", "decided_at", "harm_test", "scan",
    "with", "keep_last", "to", "width", "id", "identifier_column", "canonical", "scope",
    "scope_reason", "names", "addresses",
}  # fmt: skip
# Keys declaring that a free-text field's names or addresses may be published, and the kind
# of the last scan each one turns off (see `_public_text`).
PUBLIC_TEXT_KEYS = {"names": "name", "addresses": "address"}
# Detectors that read digit runs: an identifier column (platform ids, invoice numbers, URLs) can
# trip them without holding personal data, so a declared identifier column skips them.
DIGIT_KINDS = ("personnummer", "samordningsnummer", "organisationsnummer", "phone", "postcode")
_ROW_KEYS = {"id", "drop_when", "basis", "reason", "decided_by", "decided_at", "harm_test"}
_CONDITION_KEYS = {"field", "exact", *CONDITIONS}
_RESOURCE_KEYS = {"fields", "rows", "waivers", "on_detect", "quasi_identifiers", "own_accounts"}
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
    canonical: str = "auto"
    scope: str = "dataset"
    scope_reason: str | None = None
    # Kinds ("name", "address") the steward declared publishable in this free-text field.
    public_text: tuple[str, ...] = ()

    @property
    def public(self) -> bool:
        return self.cls == "public"

    def pseudonym_scope(self, dataset: str) -> str:
        """What goes into the HMAC beside the value: pseudonyms join only within it."""
        return "municipality" if self.scope == "municipality" else f"dataset:{dataset}"


@dataclass(frozen=True)
class RowRule:
    id: str
    resource: str
    field: str
    condition: str
    value: Any
    decision: Decision
    # Text compares as written only when the rule asks; else case, surrounding space, Unicode
    # compatibility forms and invisible format characters do not matter (redact/rows.py).
    exact: bool = False


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
    # Handles of the authority's own accounts, which `scan: [handle]` keeps (without "@").
    own_accounts: tuple[str, ...] = ()

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


class Problems:
    """Every problem found in rules.yaml, so a steward fixes them all in one run."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    def __len__(self) -> int:
        return len(self.items)


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def suggest(word: object, candidates: Iterable[str]) -> str:
    """` (did you mean 'X'?)` for the closest candidate, or nothing.

    Compared without case, spaces and punctuation, so `Belopp` finds `Belopp (kr)` and
    `pseudonymise` finds `pseudonymize`.
    """
    if not isinstance(word, str) or not word:
        return ""
    options = {_norm(c): c for c in candidates}
    key = _norm(word)
    if not key:
        return ""
    hits = difflib.get_close_matches(key, list(options), n=1, cutoff=0.6)
    if not hits:
        prefixed = [n for n in options if n and (n.startswith(key) or key.startswith(n))]
        hits = sorted(prefixed, key=len)[:1]
    return f" (did you mean {options[hits[0]]!r}?)" if hits else ""


_LOOKS_LIKE_DATA = re.compile(r"\d{6}|@|\d[\d\s-]{8,}\d")


def shown(name: object, *, quote: bool = True) -> str:
    """A name or token from rules.yaml as a message may show it.

    Messages reach terminals and CI logs, so a name that looks like a value (a personnummer,
    an e-mail address, a phone number pasted into the wrong place) is described, not shown.
    """
    text = str(name)
    if _LOOKS_LIKE_DATA.search(text):
        return f"<a name of {len(text)} characters that looks like a value, not shown>"
    if not text.isprintable():
        return ascii(text)
    return repr(text) if quote else text


def _str_or_none(value: Any, where: str, key: str, problems: Problems) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        problems.add(f"{where}: '{key}' must be text")
        return None
    return str(value)


def _decision(spec: dict[str, Any], where: str, top: Rules, problems: Problems) -> Decision:
    harm = _str_or_none(spec.get("harm_test"), where, "harm_test", problems)
    if harm is not None and harm not in HARM_TESTS:
        problems.add(
            f"{where}: harm_test {shown(harm)} is not one of {', '.join(HARM_TESTS)}"
            + suggest(harm, HARM_TESTS)
        )
        harm = None
    return Decision(
        basis=_str_or_none(spec.get("basis"), where, "basis", problems),
        reason=_str_or_none(spec.get("reason"), where, "reason", problems),
        decided_by=_str_or_none(spec.get("decided_by"), where, "decided_by", problems)
        or top.decided_by,
        decided_at=_str_or_none(spec.get("decided_at"), where, "decided_at", problems)
        or top.decided_at,
        harm_test=harm,
    )


def _unknown_keys(spec: dict[Any, Any], allowed: set[str], where: str, problems: Problems) -> None:
    for key in sorted(set(map(str, spec)) - allowed):
        problems.add(f"{where}: unknown key {shown(key)}{suggest(key, allowed)}")


def _detectors(kinds: Any, where: str, key: str, problems: Problems) -> tuple[str, ...] | None:
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        problems.add(f"{where}: '{key}' must be a list of detector names")
        return None
    from opengov.redact.kinds import KIND_NAMES, unknown_kinds

    unknown = unknown_kinds(kinds)
    for kind in unknown:
        problems.add(f"{where}: unknown detector {shown(kind)}{suggest(kind, KIND_NAMES)}")
    return None if unknown else tuple(kinds)


def _field_rule(
    resource: str, name: str, spec: Any, top: Rules, problems: Problems
) -> FieldRule | None:
    where = f"rules.yaml, resource {resource!r}, field {shown(name)}"
    if isinstance(spec, str):  # shorthand `field: public`
        spec = {"class": spec}
    if not isinstance(spec, dict):
        problems.add(f"{where}: expected a mapping like {{class: public}}")
        return None
    found = len(problems)
    _unknown_keys(spec, _FIELD_KEYS, where, problems)
    cls = spec.get("class")
    action = spec.get("action", "keep" if cls == "public" else None)
    if cls not in CLASSES:
        problems.add(
            f"{where}: class must be one of {', '.join(CLASSES)} "
            f"(got {shown(cls) if cls is not None else 'none'}){suggest(cls, CLASSES)}"
        )
    elif action is None:
        problems.add(f"{where}: a {cls} field needs an action ({', '.join(ACTIONS[1:])})")
    elif action not in ACTIONS:
        problems.add(
            f"{where}: unknown action {shown(action)} (known: {', '.join(ACTIONS)})"
            + suggest(action, ACTIONS)
        )
    elif action == "keep" and cls != "public":
        problems.add(f"{where}: only public fields may be kept; choose drop, mask, ...")
    decision = _decision(spec, where, top, problems)
    if action in ACTIONS and action != "keep" and not decision.basis:
        problems.add(f"{where}: action {action!r} needs a legal basis ('basis')")
    scan: tuple[str, ...] = ()
    if spec.get("scan"):
        scan = _detectors(spec["scan"], where, "scan", problems) or ()
        if action != "keep":
            problems.add(f"{where}: 'scan' applies to kept (public) free-text fields")
    keep_last = spec.get("keep_last", 0)
    if isinstance(keep_last, bool) or not isinstance(keep_last, int) or keep_last < 0:
        problems.add(f"{where}: keep_last must be a whole number >= 0")
        keep_last = 0
    to, width = spec.get("to"), spec.get("width")
    if action == "generalize":
        if to not in GENERALIZE_TO:
            problems.add(
                f"{where}: generalize needs 'to' in {', '.join(GENERALIZE_TO)}"
                + suggest(to, GENERALIZE_TO)
            )
        if to == "band" and (not isinstance(width, (int, float)) or width <= 0):
            problems.add(f"{where}: generalize to band needs a positive 'width'")
    elif to is not None or width is not None:
        problems.add(f"{where}: 'to'/'width' only go with action generalize")
    mask_with = spec.get("with", DEFAULT_MASK)
    if not isinstance(mask_with, str):
        problems.add(f"{where}: 'with' must be text")
    identifier = _identifier_column(spec.get("identifier_column"), where, cls, action, problems)
    canonical, scope, scope_reason = _pseudonym_options(spec, where, action, decision, problems)
    public_text = _public_text(spec, where, cls, action, decision, scan, problems)
    if len(problems) > found:
        return None
    return FieldRule(
        id=str(spec.get("id") or f"{resource}.{name}"),
        resource=resource,
        field=name,
        cls=str(cls),
        action=str(action),
        decision=decision,
        scan=scan,
        mask_with=str(mask_with),
        keep_last=keep_last,
        generalize_to=to,
        width=float(width) if width is not None else None,
        identifier_column=identifier,
        canonical=canonical,
        scope=scope,
        scope_reason=scope_reason,
        public_text=public_text,
    )


def _public_text(
    spec: dict[str, Any],
    where: str,
    cls: Any,
    action: Any,
    decision: Decision,
    scan: tuple[str, ...],
    problems: Problems,
) -> tuple[str, ...]:
    """`names: public` / `addresses: public`: the last scan lets these kinds through."""
    kinds: list[str] = []
    for key, kind in PUBLIC_TEXT_KEYS.items():
        if key not in spec:
            continue
        if spec[key] != "public":
            problems.add(f"{where}: '{key}' takes only 'public' (to replace them: scan)")
            continue
        if cls != "public" or action != "keep":
            problems.add(f"{where}: '{key}: public' goes only on a public field that is kept")
        if kind in scan:
            problems.add(f"{where}: '{key}: public' and 'scan: [{kind}]' contradict each other")
        if not decision.basis or not decision.reason:
            problems.add(
                f"{where}: '{key}: public' needs a legal basis ('basis') and a 'reason', "
                "e.g. officials' names in office"
            )
        kinds.append(kind)
    return tuple(kinds)


def _pseudonym_options(
    spec: dict[str, Any], where: str, action: Any, decision: Decision, problems: Problems
) -> tuple[str, str, str | None]:
    canonical = spec.get("canonical", "auto")
    scope = spec.get("scope", "dataset")
    given = [k for k in ("canonical", "scope", "scope_reason") if k in spec]
    if given and action != "pseudonymize":
        problems.add(f"{where}: {', '.join(given)} only go with action pseudonymize")
    if canonical not in CANONICAL:
        problems.add(
            f"{where}: canonical must be one of {', '.join(CANONICAL)}"
            + suggest(canonical, CANONICAL)
        )
        canonical = "auto"
    if scope not in SCOPES:
        problems.add(f"{where}: scope must be one of {', '.join(SCOPES)}" + suggest(scope, SCOPES))
        scope = "dataset"
    reason = _str_or_none(spec.get("scope_reason"), where, "scope_reason", problems)
    if scope == "municipality":
        # Linking people across datasets is a decision of its own, published with its reason.
        reason = reason or decision.reason
        if not reason or not reason.strip():
            problems.add(
                f"{where}: scope municipality lets anyone join this field's pseudonyms across "
                "datasets; say why that is the point ('scope_reason')"
            )
    elif "scope_reason" in spec:
        problems.add(f"{where}: 'scope_reason' goes with scope: municipality")
    return str(canonical), str(scope), reason.strip() if reason else None


def _identifier_column(
    spec: Any, where: str, cls: Any, action: Any, problems: Problems
) -> IdentifierColumn | None:
    if spec is None:
        return None
    where = f"{where}, identifier_column"
    if not isinstance(spec, dict):
        problems.add(f"{where}: expected a mapping with 'reason' (and optionally 'skip')")
        return None
    found = len(problems)
    _unknown_keys(spec, {"reason", "skip"}, where, problems)
    if cls != "public" or action != "keep":
        problems.add(f"{where}: only a public field that is kept can be an identifier column")
    reason = spec.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        problems.add(f"{where}: say why the column holds no personal data ('reason')")
    skip = spec.get("skip", list(DIGIT_KINDS))
    if isinstance(skip, list) and not skip:
        problems.add(f"{where}: 'skip' must be a non-empty list of detector names")
    kinds = _detectors(skip, where, "skip", problems)
    text_kinds = [k for k in kinds or () if k in PUBLIC_TEXT_KEYS.values()]
    if text_kinds:
        problems.add(
            f"{where}: {', '.join(text_kinds)} cannot be skipped here; declare "
            "'names: public' or 'addresses: public' with a basis and reason"
        )
    if len(problems) > found or kinds is None or not isinstance(reason, str):
        return None
    return IdentifierColumn(skip=kinds, reason=reason.strip())


def _own_accounts(spec: Any, where: str) -> tuple[str, ...]:
    if spec is None:
        return ()
    from opengov.redact.detectors.handles import normalise_own

    if not isinstance(spec, list):
        raise RulesError(
            f"{where}: 'own_accounts' must be a list of handles like [ExempelbyKommun]"
        )
    try:
        return normalise_own(spec)
    except ValueError:
        raise RulesError(
            f"{where}: 'own_accounts' takes account handles (letters, digits, _ and ., "
            "at most 50, with or without @)"
        ) from None


def _row_rule(
    resource: str, index: int, spec: Any, top: Rules, problems: Problems
) -> RowRule | None:
    where = f"rules.yaml, resource {resource!r}, rows[{index}]"
    if not isinstance(spec, dict):
        problems.add(f"{where}: expected a mapping with drop_when and basis")
        return None
    found = len(problems)
    _unknown_keys(spec, _ROW_KEYS, where, problems)
    decision = _decision(spec, where, top, problems)
    if not decision.basis:
        problems.add(f"{where}: a row rule needs a legal basis ('basis')")
    cond = spec.get("drop_when")
    if not isinstance(cond, dict) or not isinstance(cond.get("field"), str):
        problems.add(f"{where}: drop_when needs a 'field' and one condition")
        return None
    for key in sorted(set(map(str, cond)) - _CONDITION_KEYS):
        problems.add(
            f"{where}: drop_when has unknown condition {shown(key)}" + suggest(key, _CONDITION_KEYS)
        )
    ops = [k for k in cond if k in CONDITIONS]
    if len(ops) != 1:
        problems.add(
            f"{where}: drop_when takes exactly one of {', '.join(CONDITIONS)} (got {len(ops)})"
        )
        return None
    op = ops[0]
    value = cond[op]
    if op in ("in", "not_in") and not isinstance(value, list):
        problems.add(f"{where}: {op!r} takes a list of values")
    if op == "is_null" and not isinstance(value, bool):
        problems.add(f"{where}: 'is_null' takes true or false")
    if op == "not_in_published" and (not isinstance(value, str) or value.count(".") != 1):
        problems.add(f"{where}: 'not_in_published' takes '<resource>.<field>'")
    exact = cond.get("exact", False)
    if not isinstance(exact, bool):
        problems.add(f"{where}: 'exact' takes true or false")
    if len(problems) > found:
        return None
    return RowRule(
        id=str(spec.get("id") or f"{resource}.rows[{index}]"),
        resource=resource,
        field=cond["field"],
        condition=op,
        value=value,
        decision=decision,
        exact=bool(exact),
    )


def _waiver(resource: str, index: int, spec: Any, problems: Problems) -> Waiver | None:
    where = f"rules.yaml, resource {resource!r}, waivers[{index}]"
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        problems.add(f"{where}: a waiver needs 'type' (a frictionless error type)")
        return None
    found = len(problems)
    if not spec.get("reason"):
        problems.add(f"{where}: a waiver needs a 'reason'")
    _unknown_keys(spec, {"field", "type", "reason", "expires"}, where, problems)
    raw = spec.get("expires")
    expires: dt.date | None = None
    try:
        expires = dt.date.fromisoformat(raw) if isinstance(raw, str) else raw
    except ValueError:
        raw = False
    if raw is not None and not isinstance(expires, dt.date):
        problems.add(f"{where}: 'expires' must be a date YYYY-MM-DD")
    if len(problems) > found:
        return None
    return Waiver(resource, spec.get("field"), spec["type"], str(spec["reason"]), expires)


def _as_list(value: Any, where: str, key: str, problems: Problems) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(f"{where}: '{key}' must be a list")
        return []
    return value


def _resource_rules(
    rname: str, rspec: Any, top: Rules, on_detect: str, source: str, problems: Problems
) -> ResourceRules | None:
    where = f"{source}, resource {rname!r}"
    if not isinstance(rspec, dict):
        problems.add(f"{where}: expected a mapping with 'fields'")
        return None
    _unknown_keys(rspec, _RESOURCE_KEYS, where, problems)
    res = ResourceRules(name=rname, on_detect=str(rspec.get("on_detect", on_detect)))
    if res.on_detect not in ON_DETECT:
        problems.add(f"{where}: on_detect must be one of {', '.join(ON_DETECT)}")
    fields = rspec.get("fields") or {}
    if not isinstance(fields, dict):
        problems.add(f"{where}: 'fields' must map field names to rules")
        fields = {}
    for fname, fspec in fields.items():
        if fname is None or isinstance(fname, bool):
            # YAML reads an unquoted true/false/yes/no/on/off/null key as no text at all: the
            # word the steward wrote is lost, so only quoting it can name the field.
            problems.add(
                f"{where}: a field key YAML reads as {fname!r} (an unquoted true, false, yes, "
                'no, on, off or null); quote the field name, e.g. "on": {class: public}'
            )
            continue
        rule = _field_rule(rname, str(fname), fspec, top, problems)
        if rule is not None:
            res.fields[str(fname)] = rule
    for i, row in enumerate(_as_list(rspec.get("rows"), where, "rows", problems)):
        row_rule = _row_rule(rname, i, row, top, problems)
        if row_rule is not None:
            res.rows.append(row_rule)
    for i, waiver in enumerate(_as_list(rspec.get("waivers"), where, "waivers", problems)):
        parsed = _waiver(rname, i, waiver, problems)
        if parsed is not None:
            res.waivers.append(parsed)
    qi = rspec.get("quasi_identifiers")
    if qi is not None:
        if (
            not isinstance(qi, dict)
            or not isinstance(qi.get("fields"), list)
            or not qi["fields"]
            or isinstance(qi.get("k"), bool)
            or not isinstance(qi.get("k"), int)
            or qi["k"] < 2
        ):
            problems.add(f"{where}: quasi_identifiers needs 'fields' (a list) and k >= 2")
        else:
            unknown_qi = sorted(set(qi) - {"fields", "k", "person"})
            person = qi.get("person")
            if unknown_qi:
                problems.add(f"{where}, quasi_identifiers: unknown key(s) {unknown_qi}")
            elif person is not None and not isinstance(person, str):
                problems.add(f"{where}: quasi_identifiers 'person' names one field")
            else:
                res.quasi_identifiers = QuasiIdentifiers(
                    tuple(map(str, qi["fields"])), qi["k"], person
                )
    try:
        res.own_accounts = _own_accounts(rspec.get("own_accounts"), where)
    except RulesError as exc:
        problems.add(exc.message)
    return res


def collect_rules(
    data: Any, *, source: str = "rules.yaml", sha256: str | None = None
) -> tuple[Rules, list[str]]:
    """The rules that parse, and every problem found: callers add the package's and raise once."""
    problems = Problems()
    top = Rules(version=1, decided_by=None, decided_at=None, resources={}, sha256=sha256,
                source=source)  # fmt: skip
    if not isinstance(data, dict):
        problems.add(f"{source}: expected a mapping at the top")
        return top, problems.items
    _unknown_keys(data, _TOP_KEYS, source, problems)
    if data.get("version") != 1:
        version = data.get("version")
        shown_version = shown(version) if isinstance(version, (int, str)) else "none"
        problems.add(f"{source}: 'version: 1' is required (got {shown_version})")
    on_detect = data.get("on_detect", "block")
    if on_detect not in ON_DETECT:
        problems.add(f"{source}: on_detect must be one of {', '.join(ON_DETECT)}")
        on_detect = "block"
    top.decided_by = _str_or_none(data.get("decided_by"), source, "decided_by", problems)
    top.decided_at = _str_or_none(data.get("decided_at"), source, "decided_at", problems)
    try:
        if data.get("approvals") is not None:
            # Imported only then: it brings the signature library, which most packages never use.
            from opengov.approvals import parse_policy

            top.approvals = parse_policy(data.get("approvals"), source)
    except RulesError as exc:
        problems.items.extend([exc.message, *exc.details])
    top.pseudonym_key_file = _str_or_none(
        data.get("pseudonym_key_file"), source, "pseudonym_key_file", problems
    )
    resources = data.get("resources")
    if not isinstance(resources, dict) or not resources:
        problems.add(f"{source}: 'resources' must map resource names to their rules")
        return top, problems.items
    for rname, rspec in resources.items():
        res = _resource_rules(str(rname), rspec, top, str(on_detect), source, problems)
        if res is not None:
            top.resources[res.name] = res
    return top, problems.items


def _raise_problems(problems: list[str], source: str) -> None:
    if problems:
        raise RulesError(
            f"{source} has {len(problems)} problem(s); nothing is published until all are fixed",
            details=problems,
        )


def parse_rules(data: Any, *, source: str = "rules.yaml", sha256: str | None = None) -> Rules:
    rules, problems = collect_rules(data, source=source, sha256=sha256)
    _raise_problems(problems, source)
    return rules


def _read_rules(path: Path) -> tuple[Any, str, list[str]]:
    """The parsed YAML, the file's sha256 and its duplicate-key problems."""
    import yaml

    from opengov.package import sha256_bytes

    try:
        raw = limits.read_limited(path, limits.MAX_RULES_BYTES, path.name)
    except OSError as exc:
        raise RulesError(f"cannot read {path}: {exc.strerror}") from None
    try:
        document = limits.load_yaml(raw.decode("utf-8-sig"), path.name)
    except UnicodeDecodeError:
        raise RulesError(f"{path.name} is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise RulesError(f"{path.name} is not valid YAML{where}") from None
    duplicates = [
        f"{path.name}, line {line}: {shown(key)} is given twice in the same mapping; YAML "
        "would silently keep only the last one"
        for key, line in document.duplicate_keys
    ]
    return document.data, sha256_bytes(raw), duplicates


def load_rules(path: Path) -> Rules:
    data, sha256, problems = _read_rules(path)
    rules, more = collect_rules(data, source=path.name, sha256=sha256)
    _raise_problems(problems + more, path.name)
    return rules


def _unknown_field(resource: str, names: list[str], fname: str, what: str) -> str:
    return (
        f"{what} names field {resource}.{shown(fname, quote=False)}, which does not exist"
        + suggest(fname, names)
    )


def package_problems(rules: Rules, package: Package) -> list[str]:
    """Every rule that names a resource or field the package does not have, with a suggestion."""
    problems: list[str] = []
    resource_fields = {r.name: r.field_names for r in package.resources}
    for rname, res in rules.resources.items():
        if rname not in resource_fields:
            problems.append(
                f"rules name resource {shown(rname)}, which the package does not have"
                + suggest(rname, resource_fields)
            )
            continue
        names = resource_fields[rname]
        unknown = functools.partial(_unknown_field, rname, names)
        for fname in res.fields:
            if fname not in names:
                problems.append(unknown(fname, "rules"))
        for row in res.rows:
            if row.field not in names:
                problems.append(unknown(row.field, f"row rule {row.id}"))
            if row.condition == "not_in_published":
                other, ofield = str(row.value).split(".")
                if other not in resource_fields or ofield not in resource_fields[other]:
                    problems.append(
                        f"row rule {row.id} refers to {shown(row.value)}, which is unknown"
                    )
        for w in res.waivers:
            if w.field is not None and w.field not in names:
                problems.append(unknown(str(w.field), "a waiver"))
        if res.quasi_identifiers:
            for q in res.quasi_identifiers.fields:
                if q not in names:
                    problems.append(unknown(q, "quasi_identifiers"))
            person = res.quasi_identifiers.person
            if person is not None and person not in names:
                problems.append(unknown(person, "quasi_identifiers person"))
    return problems


def _unclassified(rules: Rules, package: Package) -> None:
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


def check_against_package(rules: Rules, package: Package, *, require_all: bool = True) -> None:
    """Fail closed: every field classified, every rule names something that exists.

    `require_all=False` (for `validate`) accepts unclassified fields: they count as non-public
    in the report, and publishing still refuses them.
    """
    problems = package_problems(rules, package)
    if problems:
        raise RulesError("rules.yaml does not match the package", details=problems)
    if require_all:
        _unclassified(rules, package)


def load_for_package(package: Package, *, required: bool) -> Rules | None:
    """The package's rules, checked against it; `required` for redact and publish.

    Every problem of the file and of its fit to the package is reported in one RulesError.
    """
    if package.rules_path is None:
        if required:
            raise UnclassifiedFields(
                f"package {package.name!r} has no rules.yaml: every field must be classified "
                "before anything is published",
                details=[f"{r.name}.{f}" for r in package.resources for f in r.field_names],
            )
        return None
    path = package.rules_path
    data, sha256, problems = _read_rules(path)
    rules, more = collect_rules(data, source=path.name, sha256=sha256)
    problems += more + package_problems(rules, package)
    _raise_problems(problems, path.name)
    if required:
        _unclassified(rules, package)
    return rules
