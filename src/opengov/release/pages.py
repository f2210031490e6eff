"""The portal's HTML pages: self-contained (CSS and a little JavaScript inlined from the package,
no CDN), in Swedish, and useful with JavaScript off.

Everything a page shows comes from the published files. Text from a descriptor is escaped by
Jinja; a URL from a descriptor becomes a link only when it is http, https or mailto
(`safe_url`), and the portal's own relative links are built segment by segment (`rel_url`), so
no name can turn into `javascript:` or a link to another host.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from opengov import __version__

MONTHS = (
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
)  # fmt: skip
NBSP = "\u00a0"
MINUS = "\u2212"

# Table Schema types in plain Swedish.
TYPES_SV = {
    "string": "text",
    "integer": "heltal",
    "number": "tal",
    "boolean": "ja/nej",
    "date": "datum",
    "datetime": "datum och tid",
    "time": "klockslag",
    "year": "år",
    "yearmonth": "år och månad",
    "duration": "tidslängd",
    "geopoint": "koordinat",
    "geojson": "geografisk form",
    "object": "strukturerade uppgifter",
    "array": "lista",
    "list": "lista",
    "any": "blandat",
}

# The EU data themes (publications.europa.eu data-theme), as dataportal.se labels them.
THEMES_SV = {
    "AGRI": "Jordbruk, fiske, skogsbruk och livsmedel",
    "ECON": "Ekonomi och finans",
    "EDUC": "Utbildning, kultur och sport",
    "ENER": "Energi",
    "ENVI": "Miljö",
    "GOVE": "Regeringen och den offentliga sektorn",
    "HEAL": "Hälsa",
    "INTR": "Internationella frågor",
    "JUST": "Rättvisa, rättssystem och allmän säkerhet",
    "REGI": "Regioner och städer",
    "SOCI": "Befolkning och samhälle",
    "TECH": "Vetenskap och teknik",
    "TRAN": "Transport",
}

# What was done to a field, in plain words.
ACTIONS_SV = {
    "drop": "borttaget",
    "mask": "överskrivet",
    "pseudonymize": "ersatt med en kod",
    "generalize": "förenklat",
    "scan": "granskat automatiskt, träffar ersatta",
    "drop_row": "rader borttagna",
    "quarantine": "rader hållna tillbaka",
    "keep": "publicerat",
}

# Validation error types (frictionless' names) in Swedish: a title and what it means.
ERRORS_SV: dict[str, tuple[str, str]] = {
    "type-error": ("Fel datatyp", "Värdet har inte den typ som schemat anger."),
    "constraint-error": ("Villkor inte uppfyllt", "Värdet uppfyller inte ett villkor i schemat."),
    "missing-cell": ("Värde saknas", "Raden har färre kolumner än rubrikraden."),
    "extra-cell": ("Extra värde", "Raden har fler kolumner än rubrikraden."),
    "blank-row": ("Tom rad", "Raden saknar värden helt."),
    "blank-label": ("Kolumnnamn saknas", "En kolumn saknar namn i rubrikraden."),
    "duplicate-label": ("Kolumnnamn finns två gånger", "Två kolumner har samma namn."),
    "extra-label": ("Extra kolumn", "Filen har en kolumn som schemat inte beskriver."),
    "missing-label": ("Kolumn saknas", "En kolumn som schemat beskriver finns inte i filen."),
    "incorrect-label": ("Fel kolumnnamn", "Kolumnnamnet stämmer inte med schemat."),
    "primary-key": ("Nyckeln finns redan", "Samma nyckel förekommer på mer än en rad."),
    "unique-error": ("Värdet finns redan", "Värdet ska vara unikt men förekommer flera gånger."),
    "foreign-key": ("Hänvisning saknas", "Värdet finns inte i tabellen det hänvisar till."),
    "row-constraint": ("Radvillkor inte uppfyllt", "Raden uppfyller inte ett villkor."),
    "encoding-error": ("Fel teckenkodning", "Filen kan inte läsas med angiven teckenkodning."),
    "source-error": ("Filen kan inte läsas", "Filen saknas eller kan inte läsas."),
    "format-error": ("Fel filformat", "Filen har inte det format som anges."),
    "byte-count": ("Fel filstorlek", "Filens storlek stämmer inte med beskrivningen."),
    "hash-count": ("Fel kontrollsumma", "Filens kontrollsumma stämmer inte."),
    "row-count": ("Fel antal rader", "Antalet rader stämmer inte med beskrivningen."),
    "field-count": ("Fel antal kolumner", "Antalet kolumner stämmer inte med schemat."),
    "schema-error": ("Fel i schemat", "Tabellschemat är felaktigt."),
    "resource-error": ("Fel i beskrivningen", "Resursens beskrivning är felaktig."),
}
_OTHER_ERROR = ("Annat fel", "Ett fel som inte har någon svensk beskrivning ännu.")

CONSTRAINTS_SV = {
    "required": "värde krävs",
    "unique": "värdet ska vara unikt",
    "minimum": "minst {}",
    "maximum": "högst {}",
    "exclusiveMinimum": "större än {}",
    "exclusiveMaximum": "mindre än {}",
    "minLength": "minst {} tecken",
    "maxLength": "högst {} tecken",
    "pattern": "ska följa mönstret {}",
    "enum": "ska vara ett av de tillåtna värdena",
}

_NOTE_TYPE = re.compile(r'^type is "([a-z]+)(?:/[^"]*)?"$')
_NOTE_CONSTRAINT = re.compile(r'^constraint "([A-Za-z]+)" is "(.*)"$', re.S)
_NOTE_SAME_ROW = re.compile(r"^the same as in the row at position (\d+)$")
_NOTE_FK = re.compile(r'^for "([^"]*)": not found in the lookup table$')
_NOTES_FIXED = {
    "values not found in the lookup table (values hidden)": (
        "värdena finns inte i tabellen det hänvisas till (värdena visas inte)"
    ),
    "the same key as in an earlier row (values hidden)": (
        "samma nyckel som på en tidigare rad (värdena visas inte)"
    ),
    "(details hidden: they would quote data values)": (
        "detaljerna visas inte, eftersom de skulle återge värden"
    ),
    'cells composing the primary keys are all "None"': "alla fält i nyckeln är tomma",
}


# ------------------------------------------------------------------------------ rendering


@functools.cache
def _env() -> Environment:
    from opengov.release.template_cache import template_cache

    env = Environment(
        loader=PackageLoader("opengov", "templates"),
        autoescape=select_autoescape(["html", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=template_cache(),
    )
    env.globals["version"] = __version__
    env.filters.update(
        number=number_sv,
        percent=percent_sv,
        date=date_sv,
        datetime=datetime_sv,
        safe_url=safe_url,
        rel_url=rel_url,
        breakable=breakable,
        type_sv=type_sv,
        theme_sv=theme_sv,
        action_sv=action_sv,
        error_title=lambda t: error_sv(t)[0],
        error_text=lambda t: error_sv(t)[1],
        note_sv=note_sv,
        size=human_size,
        text=text,
    )
    return env


def render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


def validation_page(report: dict[str, Any], title: str) -> str:
    return render("validation.html", report=report, title=text(title))


# ------------------------------------------------------------------------------ safety


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f<>\"{}|\\^`]")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
LINK_SCHEMES = ("http", "https", "mailto")


def text(value: Any) -> str:
    """Any JSON value as display text: strings as they are, numbers and booleans written out,
    nothing for null, lists and objects; characters no page or XML may hold are dropped."""
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nej"
    return _CONTROL.sub("", str(value))


def texts(value: Any) -> list[str]:
    """A list of display strings from a value that should be a list of strings (keywords,
    themes) but may be anything a descriptor holds: one string, numbers, nested lists, null."""
    items: Iterable[Any] = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        shown = text(item).strip()
        if shown and shown not in out:
            out.append(shown)
    return out


def safe_url(value: Any) -> str | None:
    """The URL, if it may become a link: http(s) with a host, or mailto with an address.

    Anything else (`javascript:`, `data:`, a relative path, a URL with spaces or control
    characters that a browser would silently strip) is shown as text, never linked.
    """
    if not isinstance(value, str) or not value or len(value) > 2000:
        return None
    if _URL_FORBIDDEN.search(value):
        return None
    match = _SCHEME.match(value)
    if not match or match.group(1).lower() not in LINK_SCHEMES:
        return None
    scheme = match.group(1).lower()
    if scheme == "mailto":
        address = value[len("mailto:") :]
        return value if "@" in address.split("?")[0] else None
    try:
        parts = urllib.parse.urlsplit(value)
        host = parts.hostname
    except ValueError:
        return None
    if not value[len(scheme) + 1 :].startswith("//") or not host:
        return None
    return value


def mailto(address: Any) -> str | None:
    """A mailto: link for an e-mail address from a descriptor, or None."""
    if not isinstance(address, str) or "@" not in address:
        return None
    return safe_url("mailto:" + address.strip())


def rel_url(*parts: Any) -> str:
    """A relative link inside the portal, each path segment percent-encoded.

    `javascript:x` becomes `javascript%3Ax` (a file name, not a scheme) and empty segments are
    dropped, so no name yields `//host` (another site) or `/path` (outside the portal).
    """
    segments = [s for p in parts for s in str(p).split("/") if s]
    return "/".join(urllib.parse.quote(s, safe="") for s in segments)


def breakable(name: Any) -> Markup:
    """A column name that may wrap after `_`, `-` or `.` on a narrow screen, never mid-word."""
    return Markup("<wbr>").join(re.split(r"(?<=[_\-.])", text(name)))


# ------------------------------------------------------------------------------ Swedish


def number_sv(value: Any, decimals: int | None = None) -> str:
    """12345.5 -> '12 345,5': a no-break space between thousands, a decimal comma, and the
    minus sign; without `decimals`, as many as the number needs (at most six)."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, int):
        body = f"{abs(value):,}"
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return text(value)
        if not math.isfinite(number):
            if math.isnan(number):
                return "ej ett tal"
            return "oändligt" if number > 0 else MINUS + "oändligt"
        if abs(number) >= 1e15 or 0 < abs(number) < 1e-4:
            body = f"{abs(number):.3e}"
        elif decimals is None:
            body = f"{abs(number):,.{_decimals(number)}f}"
            body = body.rstrip("0").rstrip(".") if "." in body else body
        else:
            body = f"{abs(number):,.{decimals}f}"
        value = number
    body = body.replace(",", NBSP).replace(".", ",")
    return (MINUS if value < 0 and body.strip("0,") else "") + body


def _decimals(number: float) -> int:
    magnitude = abs(number)
    if magnitude >= 1000:
        return 1
    if magnitude >= 1:
        return 3
    return 6


def percent_sv(share: float | None) -> str:
    if share is None:
        return ""
    pct = float(share) * 100
    if 0 < pct < 0.1:
        return f"under 0,1{NBSP}%"
    if 99.9 < pct < 100:
        return f"över 99,9{NBSP}%"
    decimals = 0 if pct.is_integer() or pct >= 10 else 1
    return number_sv(round(pct, decimals), decimals) + NBSP + "%"


def _parse_time(value: Any) -> dt.datetime | dt.date | None:
    if isinstance(value, dt.datetime | dt.date):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        if "T" in value or " " in value.strip():
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


@functools.cache
def _stockholm() -> dt.tzinfo | None:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Europe/Stockholm")
    except Exception:  # no time-zone database on this machine: show UTC and say so
        return None


def date_sv(value: Any) -> str:
    """'2024-05-01' or a datetime -> '1 maj 2024' (a datetime in Swedish time)."""
    when = _parse_time(value)
    if when is None:
        return text(value)
    if isinstance(when, dt.datetime):
        when = _local(when)[0].date()
    return f"{when.day} {MONTHS[when.month - 1]} {when.year}"


def datetime_sv(value: Any) -> str:
    """An ISO 8601 time -> '1 maj 2024 kl. 14.05' in Swedish time."""
    when = _parse_time(value)
    if when is None:
        return text(value)
    if not isinstance(when, dt.datetime):
        return date_sv(when)
    local, zone = _local(when)
    return f"{local.day} {MONTHS[local.month - 1]} {local.year} kl. {local:%H.%M}{zone}"


def _local(when: dt.datetime) -> tuple[dt.datetime, str]:
    if when.tzinfo is None:
        return when, ""
    zone = _stockholm()
    if zone is None:
        return when.astimezone(dt.UTC), " (UTC)"
    return when.astimezone(zone), ""


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("byte", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            if unit == "byte":
                return f"{value:.0f}{NBSP}byte"
            return f"{value:.1f}".replace(".", ",") + NBSP + unit
        value /= 1000
    return f"{size}{NBSP}byte"


def type_sv(type_: Any) -> str:
    return TYPES_SV.get(str(type_ or "string"), "annat")


def theme_sv(code: Any) -> str:
    shown = text(code)
    return THEMES_SV.get(shown.upper(), shown)


def action_sv(action: Any) -> str:
    shown = text(action)
    return ACTIONS_SV.get(shown, "annan åtgärd")


def error_sv(type_: Any) -> tuple[str, str]:
    return ERRORS_SV.get(text(type_), _OTHER_ERROR)


def note_sv(error: dict[str, Any]) -> str:
    """An error's note in Swedish; a note with no translation gives the type's description."""
    note = text(error.get("note")).strip()
    type_ = text(error.get("type"))
    if note in _NOTES_FIXED:
        return _NOTES_FIXED[note]
    if m := _NOTE_TYPE.match(note):
        return "väntad typ: " + type_sv(m.group(1))
    if m := _NOTE_CONSTRAINT.match(note):
        template = CONSTRAINTS_SV.get(m.group(1))
        if template:
            return "villkor: " + template.format(m.group(2))
    if m := _NOTE_SAME_ROW.match(note):
        return f"samma som på rad {m.group(1)}"
    if m := _NOTE_FK.match(note):
        return f"för {m.group(1)}: finns inte i tabellen det hänvisas till"
    return error_sv(type_)[1]


# ------------------------------------------------------------------------------ dataset page

_TRANSFORM_NOTE = re.compile(r"\s*\[(maskerad|pseudonymiserad[^\]]*|generaliserad[^\]]*)\]\s*$")
FIELD_NOTES = {
    "mask": "Värdena är överskrivna innan publiceringen.",
    "pseudonymize": (
        "Värdena är ersatta med koder: samma ursprungliga värde får alltid samma kod, men koden "
        "går inte att översätta tillbaka."
    ),
    "generalize": (
        "Värdena är förenklade innan publiceringen (till exempel år i stället för datum)."
    ),
    "scan": (
        "Texten granskas automatiskt: personnummer, telefonnummer och e-postadresser ersätts "
        "innan publiceringen."
    ),
}


def dataset_page(
    release: Any, release_number: int, approvals: list[dict[str, Any]] | None = None
) -> str:
    """The dataset's index.html, from a built `Release` (see release/build.py), with the
    second persons who approved it (`opengov.approvals`), if rules.yaml asks for them."""
    package = release.package
    descriptor = package.descriptor
    og = descriptor.get("opengov") if isinstance(descriptor.get("opengov"), dict) else {}
    licenses = descriptor.get("licenses")
    license_ = licenses[0] if isinstance(licenses, list) and licenses else {}
    if not isinstance(license_, dict):
        license_ = {}
    contact = text(og.get("contact_email")).strip()
    resources = [
        _resource_context(release, res, index)
        for index, res in enumerate(
            r for r in release.descriptor["resources"] if r.get("format") == "csv"
        )
    ]
    return render(
        "dataset.html",
        title=text(package.title) or package.name,
        description=text(descriptor.get("description")),
        release=release_number,
        published=release.started,
        license={
            "label": text(license_.get("title") or license_.get("name")) or "Licens saknas",
            "url": license_.get("path"),
        },
        publisher=text(og.get("publisher")),
        contact={"label": contact, "href": mailto(contact)} if contact else None,
        keywords=texts(descriptor.get("keywords")),
        themes=[theme_sv(t) for t in texts(og.get("theme"))],
        homepage=safe_url(descriptor.get("homepage")),
        validation=_validation(release.report),
        resources=resources,
        redactions=_redactions(release.manifest),
        outputs=sorted(release.files.values(), key=lambda o: o.path),
        has_history="history.html" in release.files,
        approvals=approvals or [],
    )


def _validation(report: dict[str, Any]) -> dict[str, Any]:
    og = report.get("opengov", {})
    return {"passed": bool(og.get("passed")), "waived": int(og.get("waivedErrors") or 0)}


def _resource_context(release: Any, res: dict[str, Any], index: int) -> dict[str, Any]:
    name = str(res["name"])
    files = release.resource_files[name]
    manifest = next(r for r in release.manifest["resources"] if r["name"] == name)
    profile = release.profiles.get(name)
    notes = {
        str(e.get("field")): FIELD_NOTES[e["action"]]
        for e in release.manifest["rules"]
        if e.get("resource") == name and e.get("action") in FIELD_NOTES
    }
    downloads = []
    for fmt, label in (("xlsx", "Excel (XLSX)"), ("csv", "CSV"), ("parquet", "Parquet")):
        if fmt in files:
            downloads.append(
                {
                    "label": label,
                    "href": rel_url(files[fmt]),
                    "size": human_size(release.files[files[fmt]].bytes),
                }
            )
    made = release.xlsx.get(name)
    xlsx_note = ""
    if made is not None and not made.written and made.reason == "too-many-rows":
        xlsx_note = (
            f"Tabellen har fler rader än ett Excel-blad rymmer ({number_sv(1_048_576)} "
            "inklusive rubrikraden), så det finns ingen Excel-fil. Hämta CSV eller Parquet."
        )
    elif made is not None and not made.written:
        xlsx_note = (
            f"Tabellen har {number_sv(made.rows)} rader; Excel-filer görs för tabeller med "
            f"högst {number_sv(made.limit or 0)} rader. Hämta CSV (den öppnas i Excel) "
            "eller Parquet."
        )
    elif made is not None and made.truncated_cells:
        xlsx_note = (
            f"{number_sv(made.truncated_cells)} textvärden är längre än de 32 767 tecken en "
            "Excel-cell rymmer och är avkortade i Excel-filen; CSV och Parquet har hela texten."
        )
    columns = []
    fields = res.get("schema", {}).get("fields", [])
    by_name = {str(f.get("name")): f for f in fields if isinstance(f, dict)}
    for column in profile.columns if profile else []:
        fdesc = by_name.get(column.name, {})
        description = _TRANSFORM_NOTE.sub("", text(fdesc.get("description")))
        columns.append(
            {
                "name": column.name,
                "title": text(fdesc.get("title")) or column.name,
                "description": description,
                "kind": column.kind,
                "type_label": type_sv(fdesc.get("type")),
                "note": notes.get(column.name, ""),
                "minimum": _shown(column.minimum, column.type),
                "maximum": _shown(column.maximum, column.type),
                "profile": column,
            }
        )
    return {
        "id": f"r{index + 1}",
        "name": name,
        "title": text(res.get("title")) or name,
        "description": text(res.get("description")),
        "rows": int(manifest["rows_published"]),
        "downloads": downloads,
        "xlsx_note": xlsx_note,
        "formulas": sum(int(v) for v in manifest.get("csv_formulas_neutralised", {}).values()),
        "columns": columns,
        "preview": release.previews.get(name),
        "approximate": any(
            not (c["profile"].distinct_exact and c["profile"].top_exact) for c in columns
        ),
    }


def _shown(value: Any, type_: str) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return datetime_sv(value) if value.tzinfo else value.isoformat(" ", "minutes")
    if isinstance(value, dt.date):
        return date_sv(value)
    if type_ == "year" and isinstance(value, int):
        return str(value)
    return number_sv(value)


def _redactions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for e in manifest.get("rules", []):
        action = str(e.get("action") or "")
        if action == "keep":
            continue
        rows = action.startswith("drop_when")
        out.append(
            {
                "what": f"hela rader (villkor på {text(e.get('field'))})" if rows else
                        text(e.get("field")) or "rader",
                "action": "rader borttagna" if rows else action_sv(action),
                "basis": text(e.get("basis")),
                "decided_by": text(e.get("decided_by")),
                "count": int(e.get("rows_affected") if rows else e.get("values_affected") or 0),
            }
        )  # fmt: skip
    return out
