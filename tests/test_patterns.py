"""`pattern` constraints never backtrack without a bound on the data (issue 9, §7)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from parity_corpus import csv_text, one

from opengov import errors
from opengov.cli import cli
from opengov.validate import patterns
from opengov.validate.checks import pattern_failures

NAMES = ["Åsa Öberg", "Örjan Ek", "Håkan Åström", "Ämne Ärlig", "Ølaf Ñoño", "Δημήτρης", "Юлия"]


@pytest.mark.parametrize("pattern", [r"(\w+\s?)+", r"(\w+\s?)*x", r"([a-zåäö]+ ?)+$"])
def test_nested_repetition_on_long_swedish_names_is_linear(pattern: str) -> None:
    long_names = [("Åsa Öberg " * 40) + "!", "Ärlig" * 200 + "?"]
    values = pa.array(long_names + NAMES)
    start = time.perf_counter()
    got = pattern_failures(pattern, values, pa.array([True] * len(values))).to_pylist()
    assert time.perf_counter() - start < 5
    compiled = re.compile(f"^{pattern}$")
    # Python's verdict on the short names; the long ones fail (they end in punctuation).
    assert got[2:] == [compiled.match(v) is None for v in NAMES]
    assert got[:2] == [True, True]


@settings(max_examples=200, deadline=None)
@given(
    pattern=st.sampled_from([r"\w+", r"\d+", r"\s*\S+", r"[\w-]+", r"\W\w", r"[^\d]+", r"\D*"]),
    values=st.lists(st.text(max_size=6), min_size=1, max_size=10),
)
def test_unicode_classes_mean_what_python_means(pattern: str, values: list[str]) -> None:
    got = pattern_failures(pattern, pa.array(values), pa.array([True] * len(values))).to_pylist()
    compiled = re.compile(f"^{pattern}$")
    assert got == [compiled.match(v) is None for v in values]


def test_lookaround_runs_in_python_with_a_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    assert patterns.translate(r"a(?=b)b") is None
    values = pa.array(["ab", "ac", "a"])
    got = pattern_failures(r"a(?=b)b", values, pa.array([True] * 3)).to_pylist()
    assert got == [False, True, True]
    monkeypatch.setattr(patterns, "BUDGET_SECONDS", 0.5)
    evil = pa.array(["a" * 40 + "c"])
    start = time.perf_counter()
    with pytest.raises(errors.LimitExceeded, match="took more than"):
        pattern_failures(r"(a+)+(?=b)", evil, pa.array([True]), "namn")
    assert time.perf_counter() - start < 10
    # The worker was replaced: the next check works.
    assert pattern_failures(r"a(?=b)b", values, pa.array([True] * 3)).to_pylist() == got


def test_frictionless_fallback_refuses_a_pattern_that_could_explode(tmp_path: Path) -> None:
    case = one(
        "fallback",
        csv_text([["namn"], ["Åsa"], ["# kommentar"]]),
        [{"name": "namn", "type": "string", "constraints": {"pattern": r"(\w+\s?)+"}}],
        dialect={"commentChar": "#"},  # only frictionless reads comment lines
    )
    folder = case.write(tmp_path / "fallback")
    result = CliRunner().invoke(cli, ["validate", str(folder)])
    assert result.exit_code == errors.LimitExceeded.exit_code, result.output
    assert "nested repetition" in result.output and "namn" in result.output


def test_the_report_says_where_python_checked_a_pattern(tmp_path: Path) -> None:
    import json

    case = one(
        "look",
        csv_text([["kod"], ["ab"], ["ac"]]),
        [{"name": "kod", "type": "string", "constraints": {"pattern": "a(?=b)b"}}],
    )
    folder = case.write(tmp_path / "look")
    result = CliRunner().invoke(cli, ["validate", str(folder), "--json"])
    assert result.exit_code == 1
    task = json.loads(result.output)["tasks"][0]
    assert task["pythonChecks"][0]["fieldName"] == "kod"
    assert "lookaround" in task["pythonChecks"][0]["reason"]
    plain = one("plain", csv_text([["kod"], ["ab"]]), [
        {"name": "kod", "type": "string", "constraints": {"pattern": "a[bc]"}}
    ])  # fmt: skip
    ok = CliRunner().invoke(cli, ["validate", str(plain.write(tmp_path / "plain")), "--json"])
    assert "pythonChecks" not in json.loads(ok.output)["tasks"][0]


def test_the_python_worker_answers_threads_one_at_a_time() -> None:
    """Columns are checked on several threads; their Python checks must not cross."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [(r"a(?=b)b", ["ab", "ac"] * (50 + i)) for i in range(8)]
    jobs += [(r"x(?!y).", ["xz", "xy", "q"] * (30 + i)) for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda job: patterns.python_fails(job[0], job[1], "f"), jobs))
    for (pattern, values), got in zip(jobs, answers, strict=True):
        compiled = re.compile(f"^{pattern}$")
        assert got == [compiled.match(v) is None for v in values]


# Fixed-width patterns: accepted over the batch's bytes, the rest by RE2 and Python.
FIXED_PATTERNS = [
    r"F[0-9]{10}",
    r"[0-9]{6}-[0-9]{4}",
    r"\d{3} \d{2}",
    r"[A-ZÅÄÖ]{2}\w",
    r"(ab){2}[^x].",
    r"[\s\S]{3}",
    r"(?i:[a-c]){2}",
    r".{2}",
    r"(?:S|E)E\d",
    r"\W\D",
]


@settings(max_examples=300, deadline=None)
@given(
    pattern=st.sampled_from(FIXED_PATTERNS),
    values=st.lists(
        st.one_of(
            st.text(alphabet="F0123456789-abcxSE \n\t\x1cÅé١", max_size=12),
            st.from_regex(r"F[0-9]{10}|[0-9]{6}-[0-9]{4}|[0-9]{3} [0-9]{2}", fullmatch=True),
            st.none(),
        ),
        min_size=1,
        max_size=12,
    ),
    start=st.integers(0, 2),
)
def test_fixed_width_patterns_decide_as_python_does(
    pattern: str, values: list[str | None], start: int
) -> None:
    from opengov.validate import shapes

    array = pa.array(["pad"] * start + values, pa.string()).slice(start)
    present = [v is not None for v in values]
    got = pattern_failures(pattern, array, pa.array(present)).to_pylist()
    compiled = re.compile(f"^{pattern}$")
    assert got == [v is not None and compiled.match(v) is None for v in values]
    table = shapes.fixed_shape(pattern)
    if table is not None:
        sure = shapes.accepted(table, array)
        assert sure is not None
        # What the byte check accepts, Python accepts: it never hides a failure.
        for value, accepted in zip(values, sure.tolist(), strict=True):
            if accepted:
                assert value is not None and compiled.match(value) is not None


def test_which_patterns_are_fixed_width() -> None:
    from opengov.validate import shapes

    for pattern in [r"F[0-9]{10}", r"\d{3} \d{2}", r"(ab){2}", r"a|b", r"[^x]."]:
        assert shapes.fixed_shape(pattern) is not None, pattern
    for pattern in [r"a+", r"ab|cd", r"\bA", r"a(?=b)", r"(a)\1", r"x(?i:a)", r"a{1,3}", ""]:
        assert shapes.fixed_shape(pattern) is None, pattern
