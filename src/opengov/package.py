"""Loading a publishable unit: a Frictionless data package folder, or one file with a schema.

The loader is the gate between the user's files and everything else: it resolves every path
inside the package (a resource may not point outside it), reads schemas that are inline or
referenced, works out encoding and format, and hashes what it read so provenance can name the
exact bytes used. Everything after this module trusts a `Package`.
"""

from __future__ import annotations

import codecs
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from opengov import limits
from opengov.errors import InputError, SchemaError
from opengov.paths import check_name, inside, shown, slug

DESCRIPTOR = "datapackage.json"
RULES = "rules.yaml"
FORMATS = {"csv", "tsv", "xlsx", "parquet", "inline"}
_SUFFIX_FORMAT = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
    ".parq": "parquet",
}
# Compressed tables frictionless opens through a decompressing loader. opengov reads only what
# it can bound before reading (an archive or stream can unpack to any size): it says so, rather
# than parsing the compressed bytes as text.
_COMPRESSED = {".gz": "gz", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class InputFile:
    """A file the package was built from, as provenance records it."""

    role: str  # "descriptor", "rules", "schema", "data"
    path: str  # relative to the package folder (or the schema search root)
    sha256: str
    bytes: int
    # Where it was read, for the keyless inputs fingerprint (release/provenance.py).
    location: Path | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "path": self.path, "sha256": self.sha256, "bytes": self.bytes}


def _input_file(role: str, rel: str, path: Path) -> InputFile:
    return InputFile(role, rel, sha256_file(path), path.stat().st_size, location=path.resolve())


@dataclass
class ResourceSpec:
    """One table of a package, with everything resolved and checked."""

    name: str
    format: str
    schema: dict[str, Any]
    descriptor: dict[str, Any]
    path: Path | None = None  # absolute; None for inline data
    relpath: str | None = None
    encoding: str | None = None  # Python codec name; None for binary formats
    dialect: dict[str, Any] = field(default_factory=dict)
    data: list[Any] | None = None  # inline rows

    @property
    def field_names(self) -> list[str]:
        return [str(f["name"]) for f in self.schema.get("fields", [])]

    @property
    def delimiter(self) -> str:
        default = "\t" if self.format == "tsv" else ","
        return str(self.dialect.get("delimiter", default))

    def frictionless_descriptor(self) -> dict[str, Any]:
        """The descriptor frictionless validates: schema inlined, paths relative to the package."""
        desc: dict[str, Any] = {"name": self.name, "schema": self.schema}
        if "$schema" in self.descriptor:
            desc["$schema"] = self.descriptor["$schema"]  # a v2 profile allows v2 constraints
        if self.data is not None:
            desc["data"] = self.data
        else:
            desc["path"] = self.relpath
            desc["format"] = self.format
            if self.encoding:
                desc["encoding"] = self.encoding
        if self.dialect:
            desc["dialect"] = self.dialect
        # What the descriptor declares about the data, which frictionless checks (hash-count,
        # byte-count, field-count, row-count), as the arrow engine does.
        for key in ("hash", "bytes", "fields", "rows"):
            if key in self.descriptor:
                desc[key] = self.descriptor[key]
        return desc


@dataclass
class Package:
    root: Path
    name: str
    descriptor: dict[str, Any]
    resources: list[ResourceSpec]
    # Descriptor, schemas and rules are hashed when loaded; a data file's hash (sha256 "")
    # comes from the read that parses it (`record_data_hash`), or from `inputs` if asked first.
    listed_inputs: list[InputFile]
    rules_path: Path | None
    single_file: bool = False
    data_hashes: dict[str, InputFile] = field(default_factory=dict)

    @property
    def inputs(self) -> list[InputFile]:
        """Every input file with its sha256; data files not yet read are hashed now."""
        out = []
        for item in self.listed_inputs:
            if item.role == "data" and not item.sha256:
                item = self.data_hashes.get(item.path) or self._hash_data(item)
            out.append(item)
        return out

    def hash_data(self, rel: str) -> None:
        """Hash one data file now (before a reader other than ours reads it), so the read that
        publishes it can tell if it changed in between."""
        for item in self.listed_inputs:
            if item.role == "data" and item.path == rel and rel not in self.data_hashes:
                self._hash_data(item)

    def _hash_data(self, item: InputFile) -> InputFile:
        path = item.location or self.root / item.path
        hashed = InputFile(
            "data", item.path, sha256_file(path), path.stat().st_size, location=item.location
        )
        self.data_hashes[item.path] = hashed
        return hashed

    def record_data_hash(self, rel: str, sha256: str, size: int) -> None:
        """The hash of a data file as it was parsed. If it was hashed before (to see whether
        anything changed) and differs, the file changed during the run: stop."""
        known = self.data_hashes.get(rel)
        if known is not None and (known.sha256, known.bytes) != (sha256, size):
            raise InputError(
                f"data file {rel!r} changed while it was being published; publish again once "
                "it is complete"
            )
        location = next((i.location for i in self.listed_inputs if i.path == rel), None)
        self.data_hashes[rel] = InputFile("data", rel, sha256, size, location=location)

    def resource(self, name: str) -> ResourceSpec:
        for res in self.resources:
            if res.name == name:
                return res
        raise SchemaError(f"package {self.name!r} has no resource {name!r}")

    @property
    def title(self) -> str:
        return str(self.descriptor.get("title") or self.name)


def _read_json(path: Path, what: str) -> Any:
    try:
        raw = limits.read_limited(path, limits.MAX_DESCRIPTOR_BYTES, f"{what} {path}")
    except FileNotFoundError:
        raise SchemaError(f"{what} not found: {path}") from None
    except OSError as exc:
        raise SchemaError(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        return limits.load_json(raw.decode("utf-8-sig"), f"{what} {path}")
    except UnicodeDecodeError:
        raise SchemaError(f"{what} {path} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        # Position only: the document's text could hold anything.
        raise SchemaError(
            f"{what} {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


def _inside(root: Path, rel: str, what: str) -> Path:
    """Resolve `rel` under `root`, refusing absolute paths, URLs and escapes."""
    if not rel or not isinstance(rel, str):
        raise SchemaError(f"{what} has no path")
    return inside(root, rel, what=what)


def _find_schema_file(root: Path, ref: str, what: str) -> tuple[Path, str]:
    """A schema reference is looked up in the package, then in the nearest `schemas/` above it."""
    try:
        local = _inside(root, ref, what)
    except InputError as exc:
        raise SchemaError(exc.message) from None
    if local.is_file():
        return local, ref
    if ref.startswith("schemas/"):
        for ancestor in root.resolve().parents:
            shared = ancestor / "schemas"
            if shared.is_dir():
                candidate = (ancestor / ref).resolve()
                if candidate.is_relative_to(shared.resolve()) and candidate.is_file():
                    return candidate, ref
                break
    raise SchemaError(f"{what}: schema file {ref!r} not found in the package or in schemas/")


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) or Windows-1252 for a small file, decided on the whole file
    (the importers' tables). Data files of a package go through `sources.encoding`, which
    settles it from the head and checks the rest while streaming."""
    from opengov.sources.encoding import detect_encoding as detect

    return detect(path, f"file {path.name}")


def normalise_encoding(name: str, what: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise InputError(f"{what}: unknown encoding {name!r}") from None


def _resolve_schema(
    root: Path, desc: dict[str, Any], what: str, inputs: list[InputFile]
) -> dict[str, Any]:
    schema = desc.get("schema")
    if schema is None:
        raise SchemaError(f"{what} has no Table Schema ('schema')")
    if isinstance(schema, str):
        path, ref = _find_schema_file(root, schema, what)
        schema = _read_json(path, f"{what} schema")
        inputs.append(_input_file("schema", ref, path))
    if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list):
        raise SchemaError(f"{what}: the Table Schema must be an object with a 'fields' list")
    _check_schema(schema, what)
    return schema


_FIELD_KEYS = {
    "name", "type", "format", "title", "description", "constraints", "decimalChar", "groupChar",
    "bareNumber", "trueValues", "falseValues", "missingValues", "example", "rdfType",
}  # fmt: skip
_TYPES = {
    "string", "integer", "number", "boolean", "date", "datetime", "time", "year", "yearmonth",
    "duration", "geopoint", "geojson", "object", "array", "list", "any",
}  # fmt: skip
_STRING_FORMATS = {"default", "email", "uri", "binary", "uuid"}
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_FIELDS_MATCH = {"exact", "equal", "subset", "superset", "partial"}


def _plainly_valid(schema: dict[str, Any]) -> bool:
    """A schema of the common, plain shapes, every one of which frictionless' profile accepts:
    then its check (and the import of frictionless) is not needed. Anything else, unusual or
    wrong, is for frictionless to judge."""

    def strings(value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)

    if not set(schema) <= {"fields", "primaryKey", "missingValues", "title", "description",
                           "fieldsMatch"}:  # fmt: skip
        return False
    if any(not isinstance(schema[k], str) for k in ("title", "description") if k in schema):
        return False
    if schema.get("fieldsMatch", "exact") not in _FIELDS_MATCH:
        return False
    if "missingValues" in schema and not strings(schema["missingValues"]):
        return False
    names = []
    for fdesc in schema["fields"]:
        if not isinstance(fdesc, dict) or not set(fdesc) <= _FIELD_KEYS:
            return False
        name, ftype = fdesc.get("name"), fdesc.get("type", "string")
        if not isinstance(name, str) or not name or ftype not in _TYPES:
            return False
        names.append(name)
        fmt = fdesc.get("format", "default")
        if ftype == "string" and fmt not in _STRING_FORMATS:
            return False
        if ftype not in ("string", "date", "time", "datetime") and fmt != "default":
            return False
        if ftype in ("date", "time", "datetime") and fmt not in ("default", "any"):
            return False
        for key in ("decimalChar", "groupChar", "title", "description", "rdfType"):
            if key in fdesc and not isinstance(fdesc[key], str):
                return False
        for key in ("trueValues", "falseValues", "missingValues"):
            if key in fdesc and not strings(fdesc[key]):
                return False
        if "bareNumber" in fdesc and not isinstance(fdesc["bareNumber"], bool):
            return False
        constraints = fdesc.get("constraints", {})
        if not isinstance(constraints, dict):
            return False
        for key, value in constraints.items():
            if key in ("required", "unique"):
                ok = isinstance(value, bool)
            elif key in ("minLength", "maxLength"):
                ok = ftype == "string" and type(value) is int and value >= 0
            elif key == "pattern":
                ok = ftype == "string" and isinstance(value, str)
            elif key == "enum":
                ok = isinstance(value, list) and bool(value)
            elif key in _BOUNDS:
                ok = (
                    (ftype in ("integer", "year") and type(value) is int)
                    or (ftype == "number" and type(value) in (int, float))
                    or (ftype == "date" and isinstance(value, str))
                )
            else:
                ok = False
            if not ok:
                return False
    pk = schema.get("primaryKey")
    if pk is not None:
        keys = [pk] if isinstance(pk, str) else pk
        if not strings(keys) or not keys or not set(keys) <= set(names):
            return False
    return True


def _check_schema(schema: dict[str, Any], what: str) -> None:
    names = []
    for index, fdesc in enumerate(schema["fields"], start=1):
        if not isinstance(fdesc, dict) or not isinstance(fdesc.get("name"), str):
            raise SchemaError(f"{what}: field {index} of the Table Schema has no name")
        names.append(fdesc["name"])
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SchemaError(f"{what}: the Table Schema names fields twice: {', '.join(dupes)}")
    if _plainly_valid(schema):
        return
    from frictionless import FrictionlessException, Schema

    try:
        report = Schema.validate_descriptor(schema)
    except FrictionlessException as exc:
        raise SchemaError(f"{what}: invalid Table Schema: {exc.error.note}") from None
    if not report.valid:
        notes = [err.note for err in report.errors]
        raise SchemaError(f"{what}: invalid Table Schema", details=notes[:20])


def _resource_spec(
    root: Path, desc: dict[str, Any], index: int, inputs: list[InputFile]
) -> ResourceSpec:
    if not isinstance(desc, dict):
        raise SchemaError(f"resource {index} is not an object")
    name = desc.get("name")
    if not isinstance(name, str) or not name:
        raise SchemaError(f"resource {index} has no name")
    check_name(name, f"resource {index}: the name")
    what = f"resource {name!r}"
    _refuse_custom_profile(desc, what)
    schema = _resolve_schema(root, desc, what, inputs)
    dialect = desc.get("dialect") or {}
    if not isinstance(dialect, dict):
        raise SchemaError(f"{what}: 'dialect' must be an object")
    if "data" in desc:
        if not isinstance(desc["data"], list):
            raise SchemaError(f"{what}: inline 'data' must be a list of rows")
        return ResourceSpec(
            name=name,
            format="inline",
            schema=schema,
            descriptor=desc,
            data=desc["data"],
            dialect=dialect,  # `header: false`, headerRows, commentChar apply to inline rows too
        )
    rel = desc.get("path")
    if isinstance(rel, list) or desc.get("extrapaths") or desc.get("scheme") == "multipart":
        # frictionless' own descriptors spell a multipart path as `path` + `extrapaths`:
        # reading `path` alone would drop every row of the other parts.
        raise SchemaError(f"{what}: multipart paths are not supported; join the files first")
    if not isinstance(rel, str):
        raise SchemaError(f"{what} has neither 'path' nor 'data'")
    path = _inside(root, rel, what)
    if not path.is_file():
        raise InputError(f"{what}: data file {rel!r} does not exist")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{what}: data file {rel!r} is empty")
    refuse_compressed(rel, desc.get("compression"), what)
    fmt = str(desc.get("format") or _SUFFIX_FORMAT.get(path.suffix.lower(), "")).lower()
    fmt = {"parq": "parquet"}.get(fmt, fmt)  # frictionless' name for a .parq file
    if fmt not in FORMATS - {"inline"}:
        raise InputError(f"{what}: unsupported format {fmt or path.suffix!r} (csv, xlsx, parquet)")
    encoding = None
    if fmt in {"csv", "tsv"}:
        from opengov.sources.encoding import check_declared, detect_encoding

        declared = desc.get("encoding")
        if declared:
            encoding = normalise_encoding(str(declared), what)
            with path.open("rb") as fh:
                if encoding == "utf-8" and fh.read(3) == codecs.BOM_UTF8:
                    encoding = "utf-8-sig"  # frictionless accepts a BOM under "utf-8"; so do we
            check_declared(path, encoding, what)
        else:
            encoding = detect_encoding(path, what)
    # Hashed by the read that parses it (see Package.inputs).
    inputs.append(InputFile("data", rel, "", size, location=path.resolve()))
    return ResourceSpec(
        name=name,
        format=fmt,
        schema=schema,
        descriptor=desc,
        path=path,
        relpath=rel,
        encoding=encoding,
        dialect=dialect,
    )


_STANDARD_PROFILES = {"data-resource", "tabular-data-resource", "default"}
_PROFILE_HOMES = ("https://specs.frictionlessdata.io/", "https://datapackage.org/profiles/")


def _refuse_custom_profile(desc: dict[str, Any], what: str) -> None:
    """A resource `profile` (v1) or `$schema` (v2) other than the standard ones is a JSON
    Schema the descriptor must satisfy: opengov does not fetch or run those, so it says so
    rather than validating as if the profile were not there."""
    for key in ("profile", "$schema"):
        value = desc.get(key)
        if value is None or value in _STANDARD_PROFILES:
            continue
        if isinstance(value, str) and value.startswith(_PROFILE_HOMES):
            continue
        raise SchemaError(
            f"{what}: custom {key!r} {shown(value)} is not checked by opengov; remove it, or "
            "use a standard profile (tabular-data-resource)"
        )


def refuse_compressed(rel: str, declared: object, what: str) -> None:
    """An InputError for a compressed table (declared `compression`, or named .gz, .bz2, .xz,
    .zip): its decompressed size is unknown until it is read, so it is unpacked first."""
    kind = declared or _COMPRESSED.get(PurePosixPath(rel).suffix.lower())
    if kind:
        raise InputError(
            f"{what}: data file {rel!r} is compressed ({kind}); opengov reads uncompressed "
            "tables only (a compressed file can unpack to any size): unpack it and point "
            "'path' at the table"
        )


def load_package(path: Path | str) -> Package:
    """Load a package folder (or its datapackage.json)."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        # A mistyped name: say so, not that an existing file is of the wrong kind.
        raise InputError(f"{path} does not exist")
    if path.is_dir():
        root, desc_path = path, path / DESCRIPTOR
    elif path.name.endswith(".json"):
        root, desc_path = path.parent, path
    else:
        raise InputError(f"{path} is not a package folder or datapackage.json")
    if not desc_path.is_file():
        raise SchemaError(f"no {DESCRIPTOR} in {root}")
    # The descriptor itself is read from inside its folder: a link to a file elsewhere is not.
    desc_path = inside(root, desc_path.name, what=DESCRIPTOR)
    descriptor = _read_json(desc_path, DESCRIPTOR)
    if not isinstance(descriptor, dict):
        if desc_path.name != DESCRIPTOR:
            # `opengov validate tabell.json`: a JSON table, not a descriptor; say so by its name.
            raise InputError(
                f"{desc_path.name} is not a data package descriptor (a JSON object): JSON "
                "tables are not read (unsupported format); opengov reads CSV, TSV, XLSX and "
                "Parquet files, so save the table as CSV or XLSX"
            )
        raise SchemaError(f"{DESCRIPTOR} must be a JSON object")
    if "name" in descriptor:
        name = check_name(descriptor["name"], f"{DESCRIPTOR}: the package name", package=True)
    else:
        name = check_name(
            root.resolve().name,
            f"{DESCRIPTOR} has no 'name', and the folder name",
            package=True,
        )
    inputs = [_input_file("descriptor", DESCRIPTOR, desc_path)]
    raw_resources = descriptor.get("resources")
    if not isinstance(raw_resources, list) or not raw_resources:
        raise SchemaError(f"{DESCRIPTOR} has no resources")
    resources = [_resource_spec(root, r, i, inputs) for i, r in enumerate(raw_resources, 1)]
    seen: set[str] = set()
    for res in resources:
        if res.name in seen:
            raise SchemaError(f"{DESCRIPTOR} names resource {res.name!r} twice")
        seen.add(res.name)
    for res in resources:
        # The published descriptor lists each resource's Parquet copy as `<name>-parquet`.
        if f"{res.name}-parquet" in seen:
            raise SchemaError(
                f"{DESCRIPTOR}: resource {res.name + '-parquet'!r} clashes with the Parquet copy "
                f"of resource {res.name!r}; rename one of them"
            )
    rules_path = root / RULES
    if rules_path.is_file() or rules_path.is_symlink():
        # Read from inside the package, like data files: a link to a rules.yaml elsewhere is not.
        rules_path = inside(root, RULES, what=RULES)
        if not rules_path.is_file():
            raise InputError(f"{RULES} in {root} is not a file")
        inputs.append(_input_file("rules", RULES, rules_path))
    return Package(
        root=root,
        name=name,
        descriptor=descriptor,
        resources=resources,
        listed_inputs=inputs,
        rules_path=rules_path if rules_path.is_file() else None,
    )


def load_single_file(
    data: Path | str,
    schema: Path | str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Package:
    """A bare data file validated against a schema file: a one-resource package, no rules.

    What the file does not say is worked out as frictionless does: the encoding from its
    bytes (a byte order mark first), the delimiter sniffed from its first lines (`,` tab `;`
    `|`), the first sheet of a workbook. `encoding`, `delimiter` and `sheet` say it instead.
    """
    data, schema = Path(data), Path(schema)
    if not data.is_file():
        raise InputError(f"data file {str(data)!r} does not exist")
    schema_desc = _read_json(schema, "schema file")
    desc: dict[str, Any] = {
        "name": _safe_name(data.stem),
        "path": data.name,
        "schema": schema_desc,
    }
    if encoding:
        desc["encoding"] = encoding
    fmt = _SUFFIX_FORMAT.get(data.suffix.lower())
    if delimiter:
        delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
        if len(delimiter) != 1:
            raise InputError(f"--delimiter must be one character, not {delimiter!r}")
        if fmt not in (None, "csv", "tsv"):
            raise InputError(f"--delimiter is for CSV files; {data.name} is {fmt}")
        desc["dialect"] = {"delimiter": delimiter}
    if sheet is not None or fmt == "xlsx":
        if fmt != "xlsx":
            raise InputError(f"--sheet is for XLSX workbooks; {data.name} is not one")
        from opengov.sources.xlsx import choose_sheet

        chosen = choose_sheet(data, sheet, schema_desc)
        desc["dialect"] = {"excel": {"sheet": chosen}}
    root = data.resolve().parent
    inputs = [_input_file("schema", schema.name, schema)]
    res = _resource_spec(root, desc, 1, inputs)
    return Package(
        root=root,
        name=res.name,
        descriptor={"name": res.name, "resources": [desc]},
        resources=[res],
        listed_inputs=inputs,
        rules_path=None,
        single_file=True,
    )


def _safe_name(stem: str) -> str:
    return slug(stem, default="resource")
