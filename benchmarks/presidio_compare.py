"""Presidio's analyzer on the labelled name/address corpus, as it runs where no model can be
downloaded (the anchor of issue 11; figures in docs/detectors-names.md).

Usage, in a separate virtual environment (Presidio is not an opengov dependency):

    python3 -m venv /tmp/presidio && /tmp/presidio/bin/pip install presidio-analyzer==2.2.366
    /tmp/presidio/bin/python benchmarks/presidio_compare.py [--sentences N]

`AnalyzerEngine()` with its defaults loads spaCy's `en_core_web_lg`, downloading it when
missing; no Swedish model (`sv_core_news_*`) is installed either. So the analyzer runs on a
blank Swedish spaCy pipeline: every pattern recogniser Presidio registers for "sv", and its
spaCy recogniser, which finds PERSON and LOCATION only through a model's named entities.
PERSON counts as `name`, LOCATION and ADDRESS as `address`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import names_corpus  # noqa: E402

KIND = {"PERSON": "name", "LOCATION": "address", "ADDRESS": "address"}


def main() -> None:
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1000)
    args = parser.parse_args()

    try:
        AnalyzerEngine()
        print("AnalyzerEngine() with defaults: started")
    except Exception as exc:  # the default engine downloads a model
        print(f"AnalyzerEngine() with defaults: {type(exc).__name__}")

    class BlankSwedish(SpacyNlpEngine):  # type: ignore[misc]
        def load(self) -> None:
            self.nlp = {"sv": spacy.blank("sv")}

    engine = BlankSwedish(models=[{"lang_code": "sv", "model_name": "blank"}])
    engine.load()
    registry = RecognizerRegistry(supported_languages=["sv"])
    registry.load_predefined_recognizers(languages=["sv"])
    analyzer = AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["sv"])
    print("recognisers:", ", ".join(sorted({r.name for r in registry.recognizers})))

    sentences = names_corpus.Corpus().build(args.sentences)
    results: dict[str, list[tuple[str, int, int]]] = {}
    start = time.perf_counter()
    for s in sentences:
        found = analyzer.analyze(s.text, language="sv")
        results[s.text] = [
            (KIND[r.entity_type], r.start, r.end) for r in found if r.entity_type in KIND
        ]
    wall = time.perf_counter() - start
    scores = names_corpus.score(sentences, lambda text: results[text])
    for kind, sc in scores.items():
        print(
            f"{kind:8} gold {sc.gold:5}  recall {sc.recall:6.1%}  "
            f"predicted {sc.predicted:5}  precision {sc.precision:6.1%}"
        )
    print(f"{len(sentences) / wall:,.0f} cells/s ({len(sentences)} sentences, {wall:.1f} s)")


if __name__ == "__main__":
    main()
