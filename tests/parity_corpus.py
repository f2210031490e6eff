"""A deterministic corpus of small packages on which both engines must report the same findings.

Each case is a data package written into a folder at test time (nothing is stored in the
repository): files plus a datapackage.json. `expect_errors` says whether errors were planted,
so a case where both engines find nothing cannot pass by accident.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Case:
    name: str
    resources: list[dict[str, Any]]  # descriptors; "path" resources get their file from files
    files: dict[str, bytes] = field(default_factory=dict)
    expect_errors: bool = True
    fallback: bool = False  # the arrow engine must refuse it (NotOnFastPath)
    builders: dict[str, Callable[[Path], None]] = field(default_factory=dict)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for rel, data in self.files.items():
            (folder / rel).write_bytes(data)
        for rel, build in self.builders.items():
            build(folder / rel)
        descriptor = {"name": self.name.lower().replace("_", "-"), "resources": self.resources}
        (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
        return folder


def csv_text(rows: list[list[str]], delimiter: str = ",") -> str:
    """Rows joined without quoting (cells here never need it unless the case says so)."""
    return "".join(delimiter.join(row) + "\n" for row in rows)


def one(
    name: str,
    text: str | bytes,
    fields: list[dict[str, Any]],
    *,
    expect_errors: bool = True,
    encoding: str | None = None,
    dialect: dict[str, Any] | None = None,
    schema_extra: dict[str, Any] | None = None,
    fallback: bool = False,
    filename: str = "data.csv",
) -> Case:
    data = text.encode(encoding or "utf-8") if isinstance(text, str) else text
    resource: dict[str, Any] = {
        "name": "data",
        "path": filename,
        "schema": {"fields": fields, **(schema_extra or {})},
    }
    if encoding:
        resource["encoding"] = encoding
    if dialect:
        resource["dialect"] = dialect
    return Case(
        name=name,
        resources=[resource],
        files={filename: data},
        expect_errors=expect_errors,
        fallback=fallback,
    )


def f(name: str, type_: str = "string", **options: Any) -> dict[str, Any]:
    desc: dict[str, Any] = {"name": name, "type": type_}
    constraints = options.pop("constraints", None)
    desc.update(options)
    if constraints:
        desc["constraints"] = constraints
    return desc


# --- type cases -----------------------------------------------------------------------------

TYPE_VALUES: dict[str, tuple[dict[str, Any], list[str], list[str]]] = {
    # type: (options, good values, bad values)
    "integer": ({}, ["1", "-2", "007", "+3", " 4", "1_000"], ["1.5", "x", "1e3", "0x10", "١"]),
    "number": ({}, ["1.5", "-0.25", "3", "1e3", ".5", "NaN", "inf"], ["1,5", "abc", "1.2.3"]),
    "boolean": ({}, ["true", "False", "1", "0", "TRUE"], ["yes", "ja", " true"]),
    "date": ({}, ["2024-01-05", "2024-2-29"], ["2023-02-29", "05/01/2024", "2024-01-05T00:00:00"]),
    "datetime": (
        {},
        ["2024-01-05T10:00:00", "2024-01-05T10:00:00Z", "2024-01-05T10:00:00+02:00"],
        ["2024-01-05", "2024-01-05T25:00:00", "2024-01-05 10:00"],
    ),
    "time": ({}, ["10:00:00", "23:59:59", "10:00:00.5"], ["24:00:01", "10:00", "x"]),
    "year": ({}, ["2024", "0001"], ["12345", "x", "24"]),
    "yearmonth": ({}, ["2024-01", "2024-1"], ["2024-13", "2024", "x-01"]),
    "duration": ({}, ["P1D", "PT1H30M"], ["1 day", "P"]),
    "geopoint": ({}, ['"18.06, 59.33"'], ['"200, 0"', "x"]),
    "object": ({}, ['"{""a"": 1}"'], ['"[1]"', "{"]),
    "array": ({}, ['"[1, 2]"'], ['"{""a"": 1}"', "["]),
    "any": ({}, ["x", "1", "2024-01-01"], []),
    "string": ({}, ["anything", "å ä ö"], []),
}


def type_cases() -> list[Case]:
    cases = []
    for type_, (options, good, bad) in TYPE_VALUES.items():
        rows = [["id", "value"]] + [[str(i), v] for i, v in enumerate(good + bad, start=1)]
        fields = [f("id", "integer"), f("value", type_, **options)]
        cases.append(one(f"type_{type_}", csv_text(rows), fields, expect_errors=bool(bad)))
    formats = {
        "email": (["kommun@example.se"], ["not-an-email", "a@"]),
        "uri": (["https://example.se/a"], ["not a uri"]),
        "uuid": (["6a2f41a3-c54c-fce8-32d2-0324e1c32e22"], ["1234"]),
    }
    for fmt, (good, bad) in formats.items():
        rows = [["value"]] + [[v] for v in good + bad]
        cases.append(one(f"string_{fmt}", csv_text(rows), [f("value", format=fmt)]))
    cases += [
        one(
            "date_custom_format",
            csv_text([["d"], ["05/01/2024"], ["2024-01-05"], ["31/02/2024"], ["5/1/2024"]]),
            [f("d", "date", format="%d/%m/%Y")],
        ),
        one(
            "date_any",
            csv_text([["d"], ["2024-01-05"], ["5 Jan 2024"], ["not a date"]]),
            [f("d", "date", format="any")],
        ),
        one(
            "datetime_custom",
            csv_text([["t"], ["05.01.2024 10:30"], ["2024-01-05T10:30:00"]]),
            [f("t", "datetime", format="%d.%m.%Y %H:%M")],
        ),
        one(
            "number_swedish",
            csv_text(
                [["belopp"], ["1 000,50"], ["12,5"], ["-0,5"], ["1.5"], ["1,5,5"], ["x"], ["3"]],
                ";",
            ),
            [f("belopp", "number", decimalChar=",", groupChar=" ")],
            dialect={"delimiter": ";"},
        ),
        one(
            "number_group_dot",
            csv_text(
                [["n"], ["1.000,5"], ["2,25"], ["1,000.5"], ["1.0.0,1"], ["x"], ["1,5,5"]], ";"
            ),
            [f("n", "number", decimalChar=",", groupChar=".")],
            dialect={"delimiter": ";"},
        ),
        one(
            "number_bare_false",
            csv_text([["n"], ["12,50 kr"], ["€ 3,5"], ["kr"], ["inf"], [".5"]], ";"),
            [f("n", "number", bareNumber=False, decimalChar=",")],
            dialect={"delimiter": ";"},
        ),
        one(
            "integer_bare_false",
            csv_text([["n"], ["15%"], ["SEK 120"], ["-7 kr"], ["abc"], ["+5"]]),
            [f("n", "integer", bareNumber=False)],
        ),
        one(
            "boolean_swedish",
            csv_text([["aktiv"], ["ja"], ["nej"], ["Ja"], ["true"], [""]]),
            [f("aktiv", "boolean", trueValues=["ja"], falseValues=["nej"])],
        ),
        one(
            "type_error_beats_constraint",
            csv_text([["n"], ["x"], ["-5"], ["5"]]),
            [f("n", "integer", constraints={"minimum": 0, "enum": [5], "required": True})],
        ),
    ]
    return cases


# --- constraint cases -------------------------------------------------------------------------


def constraint_cases() -> list[Case]:
    c = []
    c.append(
        one(
            "required",
            csv_text([["a", "b"], ["1", "x"], ["", "y"], ["3", ""], ["", ""]]),
            [
                f("a", "integer", constraints={"required": True}),
                f("b", constraints={"required": True}),
            ],
        )
    )
    c.append(
        one(
            "unique_values",
            csv_text(
                [
                    ["i", "n", "s", "d"],
                    ["1", "1.0", "a", "2024-01-01"],
                    ["01", "1", "a", "2024-1-1"],
                    ["", "", "", ""],
                    ["", "", "", ""],
                    ["2", "1e0", "A", "2024-01-02"],
                    ["x", "y", "a", "z"],
                    ["2", "2,0", "b", "2024-01-02"],
                ]
            ),
            [
                f("i", "integer", constraints={"unique": True}),
                f("n", "number", constraints={"unique": True}),
                f("s", constraints={"unique": True}),
                f("d", "date", constraints={"unique": True}),
            ],
        )
    )
    c.append(
        one(
            "lengths",
            csv_text([["s", "arr"], ["ab", '"[1]"'], ["abcdef", '"[1,2,3,4]"'], ["åäö", '"[]"']]),
            [
                f("s", constraints={"minLength": 3, "maxLength": 5}),
                f("arr", "array", constraints={"minLength": 1, "maxLength": 3}),
            ],
        )
    )
    c.append(
        one(
            "bounds",
            csv_text(
                [
                    ["i", "n", "d", "y", "ym", "t", "dt"],
                    [
                        "5",
                        "0.1",
                        "2024-01-01",
                        "2020",
                        "2024-01",
                        "10:00:00",
                        "2024-01-01T10:00:00",
                    ],
                    [
                        "-1",
                        "0.10000000000000000001",
                        "2023-12-31",
                        "1999",
                        "2023-12",
                        "07:00:00",
                        "2023-01-01T00:00:00",
                    ],
                    [
                        "11",
                        "10.5",
                        "2025-01-01",
                        "2031",
                        "2025-02",
                        "23:00:00",
                        "2026-01-01T00:00:00",
                    ],
                    ["0", "NaN", "2024-06-01", "2030", "2024-1", "09:00:00", "2024-06-01T00:00:00"],
                    [
                        "10",
                        "10",
                        "2024-12-31",
                        "2000",
                        "2024-12",
                        "18:00:00",
                        "2025-12-31T23:59:59",
                    ],
                ]
            ),
            [
                f("i", "integer", constraints={"minimum": 0, "maximum": 10}),
                f("n", "number", constraints={"minimum": 0.1, "maximum": 10}),
                f("d", "date", constraints={"minimum": "2024-01-01", "maximum": "2025-01-01"}),
                f("y", "year", constraints={"minimum": 2000, "maximum": 2030}),
                f("ym", "yearmonth", constraints={"minimum": "2024-01", "maximum": "2024-12"}),
                f("t", "time", constraints={"minimum": "08:00:00", "maximum": "18:00:00"}),
                f("dt", "datetime", constraints={"maximum": "2025-12-31T23:59:59"}),
            ],
        )
    )
    c.append(
        one(
            "patterns",
            csv_text(
                [
                    ["p", "alt", "digits", "look"],
                    ["F0000000001", "a", "123", "ab"],
                    ["F12", "b", "١٢٣", "ac"],
                    ["f0000000001", "ab", "12a", "b"],
                    ['"F0000000002\n"', "xb", "", "a"],
                    ["Åsa", "c", "1", "abc"],
                ]
            ),
            [
                f("p", constraints={"pattern": "F[0-9]{10}"}),
                f("alt", constraints={"pattern": "a|b"}),
                f("digits", constraints={"pattern": "\\d+"}),
                f("look", constraints={"pattern": "a(?=b)b"}),
            ],
        )
    )
    c.append(
        one(
            "enums",
            csv_text(
                [
                    ["s", "i", "n", "b", "d", "dur"],
                    ["Bygg", "1", "1.0", "true", "2024-01-01", "P1D"],
                    ["bygg", "01", "1.5", "false", "2024-1-1", "P2D"],
                    ["Städ", "3", "2", "0", "2024-01-02", "PT24H"],
                    ["", "", "", "", "", ""],
                ]
            ),
            [
                f("s", constraints={"enum": ["Bygg", "Städ"]}),
                f("i", "integer", constraints={"enum": [1, "2"]}),
                f("n", "number", constraints={"enum": [1, 2]}),
                f("b", "boolean", constraints={"enum": [True]}),
                f("d", "date", constraints={"enum": ["2024-01-01"]}),
                f("dur", "duration", constraints={"enum": ["P1D"]}),
            ],
        )
    )
    c.append(
        one(
            "multiple_constraints_one_cell",
            csv_text([["s"], ["x"], ["abcdefgh"], ["abc"]]),
            [f("s", constraints={"minLength": 2, "pattern": "[a-c]+", "enum": ["abc"]})],
        )
    )
    return c


# --- header, rows, dialects ------------------------------------------------------------------


def shape_cases() -> list[Case]:
    ab = [f("a", "integer"), f("b"), f("c")]
    c = [
        one("missing_label", csv_text([["a", "b"], ["1", "x"]]), ab),
        one("extra_label", csv_text([["a", "b", "c", "d"], ["1", "x", "y", "z"]]), ab),
        one("duplicate_label", csv_text([["a", "a", "c"], ["1", "x", "y"]]), ab),
        one("blank_label", csv_text([["a", "", "c"], ["1", "x", "y"]]), ab),
        one("incorrect_label", csv_text([["a", "B", "x"], ["1", "x", "y"]]), ab),
        one(
            "label_case_ignored",
            csv_text([["A", "b", "c"], ["1", "x", "y"]]),
            ab,
            dialect={"headerCase": False},
            expect_errors=False,
        ),
        one(
            "row_shapes",
            "a,b,c\n1,x,y\n2,x\n3\n4,x,y,z\n5,x,y,z,w\n\n,,\n,,,extra\n6,,\n",
            [f("a", "integer", constraints={"required": True}), f("b"), f("c")],
        ),
        one(
            "blank_rows_only",
            "a,b\n1,2\n\n\n,\n3,4\n",
            [f("a", "integer"), f("b", "integer")],
        ),
        one(
            "trailing_delimiter_every_row",
            "a;b;\n1;2;\n3;4;\n",
            [f("a", "integer"), f("b", "integer")],
            dialect={"delimiter": ";"},
        ),
        one(
            "quoting",
            'id,text\n1,"Hej, du"\n2,"två\nrader"\n3,"citat ""här"""\n4,"a",x\n5,a"b\n',
            [f("id", "integer"), f("text", constraints={"maxLength": 6})],
        ),
        one(
            "escape_char",
            'id,text\n1,"a\\"b"\n2,c\\,d\n',
            [f("id", "integer"), f("text")],
            dialect={"escapeChar": "\\", "doubleQuote": False},
            expect_errors=False,
        ),
        one(
            "no_header",
            "1,x\n2\nx,y\n",
            [f("a", "integer"), f("b")],
            dialect={"header": False},
        ),
        one(
            "two_header_rows",
            "a,b\nx,y\n1,2\nq,3\n",
            [f("a x", "integer"), f("b y", "integer")],
            dialect={"headerRows": [1, 2]},
        ),
        one(
            "skip_blank_rows",
            "a,b\n1,2\n\n,\nx,4\n",
            [f("a", "integer"), f("b", "integer")],
            dialect={"skipBlankRows": True},
        ),
        one(
            "tsv",
            "a\tb\n1\tx\ny\t2\n",
            [f("a", "integer"), f("b")],
            filename="data.tsv",
        ),
        one(
            "sniffed_semicolon",
            csv_text([["a", "b"], ["1", "x"], ["y", "2"], ["3", "z"]], ";"),
            [f("a", "integer"), f("b")],
        ),
        one(
            "sniffed_space_after_delimiter",
            'a, b\n1, "x, y"\n2, z\n',
            [f("a", "integer"), f("b")],
            fallback=True,
            expect_errors=False,
        ),
        one(
            "comment_char",
            "a,b\n#note\n1,2\n",
            [f("a", "integer"), f("b", "integer")],
            dialect={"commentChar": "#"},
            fallback=True,
            expect_errors=False,
        ),
    ]
    return c


SWEDISH_FIELDS = [
    f("id", "integer", constraints={"required": True, "unique": True}),
    f("namn", constraints={"pattern": "[A-ZÅÄÖ][a-zåäö]+( [A-ZÅÄÖ][a-zåäö]+)*"}),
    f("belopp", "number", decimalChar=",", groupChar=" ", constraints={"minimum": 0}),
    f("aktiv", "boolean", trueValues=["ja"], falseValues=["nej"]),
    f("datum", "date"),
]
SWEDISH_ROWS = [
    ["id", "namn", "belopp", "aktiv", "datum"],
    ["1", "Åsa Öberg", "1 000,50", "ja", "2024-01-05"],
    ["2", "Märta", "12,5", "nej", "2024-02-29"],
    ["3", "ölandsbro", "-3,0", "kanske", "2024-02-30"],
    ["2", "Per", "1.5", "ja", ""],
    ["", "Ärla", "0", "nej", "2024-03-01"],
]


def swedish_cases() -> list[Case]:
    text = csv_text(SWEDISH_ROWS, ";")
    return [
        one("swedish_cp1252", text, SWEDISH_FIELDS, encoding="cp1252", dialect={"delimiter": ";"}),
        one("swedish_utf8_bom", "\ufeff" + text, SWEDISH_FIELDS, dialect={"delimiter": ";"}),
        one(
            "swedish_utf8_sig_declared",
            text.encode("utf-8-sig"),
            SWEDISH_FIELDS,
            encoding="utf-8-sig",
            dialect={"delimiter": ";"},
        ),
        one("swedish_sniffed", text, SWEDISH_FIELDS),
        one(
            "swedish_windows_newlines",
            text.replace("\n", "\r\n"),
            SWEDISH_FIELDS,
            dialect={"delimiter": ";"},
        ),
    ]


def missing_value_cases() -> list[Case]:
    rows = [["a", "b", "c"], ["1", "NA", "-"], ["NA", "", "x"], ["", "2", "NA"], ["-", "-", "-"]]
    fields = [
        f("a", "integer", constraints={"required": True}),
        f("b", "integer"),
        f("c", constraints={"required": True}),
    ]
    return [
        one(
            "missing_values_schema",
            csv_text(rows),
            fields,
            schema_extra={"missingValues": ["", "NA", "-"]},
        ),
        one("missing_values_none", csv_text(rows), fields, schema_extra={"missingValues": []}),
        one(
            "missing_values_field_level",
            csv_text(rows),
            [{**fields[0], "missingValues": ["NA"]}, fields[1], fields[2]],
        ),
        one(
            "missing_values_no_empty_with_blank_line",
            "a,b\n1,2\n\n3,4\n",
            [f("a", "integer"), f("b", "integer")],
            schema_extra={"missingValues": ["NA"]},
            fallback=True,
        ),
    ]


# --- keys ---------------------------------------------------------------------------------------


def key_cases() -> list[Case]:
    people = csv_text(
        [
            ["id", "kommun"],
            ["1", "Malmö"],
            ["2", "Lund"],
            ["3", "Lund"],
            ["", "Ystad"],
            ["x", "Eslöv"],
        ]
    )
    orders = csv_text(
        [
            ["order", "person", "kommun", "parent"],
            ["10", "1", "Malmö", ""],
            ["11", "2", "Lund", "10"],
            ["12", "4", "Lund", "99"],
            ["13", "", "", "11"],
            ["13", "1", "Lund", "13"],
            ["", "3", "Ystad", ""],
            ["14", "x", "Lund", "14"],
            ["", "", "", ""],
            ["15", "1.0", "Malmö", "10"],
        ]
    )
    people_res = {
        "name": "people",
        "path": "people.csv",
        "schema": {
            "fields": [f("id", "integer"), f("kommun")],
            "primaryKey": ["id"],
        },
    }
    orders_res = {
        "name": "orders",
        "path": "orders.csv",
        "schema": {
            "fields": [
                f("order", "integer"),
                f("person", "integer"),
                f("kommun"),
                f("parent", "integer"),
            ],
            "primaryKey": ["order"],
            "foreignKeys": [
                {"fields": ["person"], "reference": {"resource": "people", "fields": ["id"]}},
                {
                    "fields": ["person", "kommun"],
                    "reference": {"resource": "people", "fields": ["id", "kommun"]},
                },
                {"fields": ["parent"], "reference": {"resource": "", "fields": ["order"]}},
            ],
        },
    }
    composite = csv_text(
        [
            ["kommun", "ar", "varde"],
            ["Malmö", "2023", "1"],
            ["Malmö", "2024", "2"],
            ["Malmö", "2023", "3"],
            ["", "2024", "4"],
            ["", "2024", "5"],
            ["", "", "6"],
            ["", "", "7"],
            ["Lund", "x", "8"],
        ]
    )
    return [
        Case(
            name="foreign_and_primary_keys",
            resources=[people_res, orders_res],
            files={"people.csv": people.encode(), "orders.csv": orders.encode()},
        ),
        one(
            "composite_primary_key",
            composite,
            [f("kommun"), f("ar", "year"), f("varde", "integer", constraints={"unique": True})],
            schema_extra={"primaryKey": ["kommun", "ar"]},
        ),
        one(
            "primary_key_and_unique",
            csv_text([["id", "n"], ["1", "a"], ["1", "a"], ["", "b"], ["2", ""]]),
            [
                f("id", "integer", constraints={"unique": True}),
                f("n", constraints={"unique": True}),
            ],
            schema_extra={"primaryKey": ["id"]},
        ),
    ]


# --- spreadsheets and inline data -----------------------------------------------------------------


def _xlsx(path: Path) -> None:
    import datetime as dt

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "namn", "datum", "belopp", "aktiv"])
    sheet.append([1, "Åsa", dt.datetime(2024, 1, 5), 10.5, True])
    sheet.append(["2", 42, "2024-02-01", "x", "ja"])
    sheet.append([3.0, "Per", dt.datetime(2024, 1, 5, 10, 30), -1, False])
    sheet.append([None, None, None, None, None])
    sheet.append([1, "Eva", "not a date", 5, None, "extra"])
    book.save(path)


def native_cases() -> list[Case]:
    fields = [
        f("id", "integer", constraints={"unique": True}),
        f("namn", constraints={"required": True}),
        f("datum", "date"),
        f("belopp", "number", constraints={"minimum": 0}),
        f("aktiv", "boolean"),
    ]
    xlsx = Case(
        name="xlsx",
        resources=[{"name": "data", "path": "data.xlsx", "schema": {"fields": fields}}],
        builders={"data.xlsx": _xlsx},
    )
    inline_lists = Case(
        name="inline_lists",
        resources=[
            {
                "name": "data",
                "data": [
                    ["id", "namn", "datum", "belopp", "aktiv"],
                    [1, "a", "2024-01-01", 1.5, True],
                    ["2", 3, "2024-13-01", "x", "true"],
                    [1, None, None, -2, 1],
                    [4],
                ],
                "schema": {"fields": fields},
            }
        ],
    )
    inline_dicts = Case(
        name="inline_dicts",
        resources=[
            {
                "name": "data",
                "data": [
                    {"id": 1, "namn": "a", "datum": "2024-01-01", "belopp": 1, "aktiv": False},
                    {"id": 1, "datum": "x"},
                ],
                "schema": {"fields": fields},
            }
        ],
    )
    return [xlsx, inline_lists, inline_dicts]


def big_case(rows: int = 30_000) -> Case:
    """Many batches: errors and ragged rows spread across batch boundaries."""
    lines = ["id;namn;belopp;datum"]
    for i in range(1, rows + 1):
        belopp = f"{i % 997},{i % 100:02d}"
        datum = f"2024-{(i % 12) + 1:02d}-{(i % 28) + 1:02d}"
        ident = str(i)
        if i % 4999 == 0:
            ident = str(i - 1000)  # duplicate
        if i % 5003 == 0:
            belopp = "fel"
        if i % 7001 == 0:
            datum = "2024-02-30"
        line = f"{ident};Namn {i};{belopp};{datum}"
        if i % 6007 == 0:
            line = f"{ident};kort"
        if i % 8009 == 0:
            line += ";extra"
        if i % 9001 == 0:
            line = ""
        lines.append(line)
    return one(
        "big_multi_batch",
        "\n".join(lines) + "\n",
        [
            f("id", "integer", constraints={"unique": True, "required": True}),
            f("namn", constraints={"pattern": "Namn [0-9]+"}),
            f("belopp", "number", decimalChar=",", constraints={"maximum": 990}),
            f("datum", "date"),
        ],
        dialect={"delimiter": ";"},
    )


def all_cases() -> list[Case]:
    return (
        type_cases()
        + constraint_cases()
        + shape_cases()
        + swedish_cases()
        + missing_value_cases()
        + key_cases()
        + native_cases()
        + [big_case()]
    )
