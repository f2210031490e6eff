"""Recall and precision of the name and address detectors on the labelled corpus.

The thresholds sit a little under the measured figures (docs/detectors-names.md), so a change
that loses names, tags look-alikes or breaks the corpus shows here.
"""

from __future__ import annotations

import pytest
from names_corpus import HELD_OUT_FIRST, HELD_OUT_SUR, Corpus, Sentence, detector, score

from opengov.redact.detectors import names


@pytest.fixture(scope="module")
def corpus() -> list[Sentence]:
    return Corpus().build(3000)


def test_the_corpus_is_deterministic_and_labelled(corpus: list[Sentence]) -> None:
    again = Corpus().build(3000)
    assert [s.text for s in again] == [s.text for s in corpus]
    assert all(s.text[a:b].strip() == s.text[a:b] and b > a for s in corpus for _, a, b in s.spans)
    kinds = [k for s in corpus for k, _, _ in s.spans]
    assert kinds.count("name") > 1500 and kinds.count("address") > 500
    negatives = [s for s in corpus if not s.spans]
    assert len(negatives) > 1000
    origins = {o for s in corpus for o in s.origins}
    assert {"arabic", "somali", "persian", "kurdish", "tigrinya", "thai", "bcs"} <= origins


def test_held_out_names_are_absent_from_the_lists() -> None:
    listed = names.first_names() | names.surnames()
    assert [n for n in HELD_OUT_FIRST + HELD_OUT_SUR if n in listed] == []


def test_recall_and_precision(corpus: list[Sentence]) -> None:
    scores = score(corpus, detector)
    assert scores["name"].recall >= 0.98
    assert scores["name"].precision >= 0.88
    assert scores["address"].recall >= 0.98
    assert scores["address"].precision >= 0.98


def test_scoring_counts_misses_and_false_hits() -> None:
    sentence = Sentence("Karin Svensson och Storgatan", [("name", 0, 14)], ["swedish"], [False])
    perfect = score([sentence], lambda text: [("name", 0, 14)])["name"]
    assert (perfect.recall, perfect.precision) == (1.0, 1.0)
    partial = score([sentence], lambda text: [("name", 0, 5), ("name", 19, 28)])["name"]
    assert partial.recall == 0.0 and partial.precision == 0.5
