"""Regenerate datapackages/kommunchef-sociala-medier/ from the synthetic exports in tests/.

    .venv/bin/python scripts/make_social_example.py [--out DIR]

Three imports into one package (the municipal CEO's official Facebook page and X account, and
the CEO's personal Facebook profile), then the classification decisions in
tests/fixtures/social/decisions.csv. No pseudonym key is used, so the generated rules.yaml drops
commenters' names. The result is byte-identical on every run: the decisions are applied with a
fixed clock, and nothing else depends on the time or the machine.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from opengov.importers.social import PackageInfo, classify, import_facebook, import_twitter

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "social"
DEFAULT_OUT = ROOT / "datapackages" / "kommunchef-sociala-medier"

# The account names are part of every Facebook record id: decisions.csv depends on them.
PAGE_ACCOUNT = "Kommunchefen i Exempelby (Facebook)"
X_ACCOUNT = "ExempelbyKC (X)"
PERSONAL_ACCOUNT = "Håkan Öberg (privat Facebook)"
DECIDED_AT = datetime(2024, 11, 4, 9, 30, tzinfo=UTC)

INFO = PackageInfo(
    name="kommunchef-sociala-medier",
    title="Kommunchefens sociala medier i Exempelby kommun",
    description=(
        "Inlägg och kommentarer från kommunchefens officiella Facebooksida och X-konto, och de "
        "inlägg från kommunchefens privata Facebookprofil som bedömts vara allmänna handlingar. "
        "Varje post är klassificerad (official, private, undecided) med vem som beslutade, när "
        "och varför; bara poster klassificerade som official publiceras, kommentarer bara om "
        "deras inlägg publiceras, och kommentatorers namn publiceras inte. Exempeldata: "
        "kommunen, personerna och kontona är påhittade."
    ),
)


def build(out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    import_facebook(
        FIXTURES / "facebook-page",
        account=PAGE_ACCOUNT,
        account_type="official",
        out=out,
        pseudonymize_authors=False,
        info=INFO,
    )
    import_twitter(
        FIXTURES / "twitter-official",
        account=X_ACCOUNT,
        account_type="official",
        out=out,
        pseudonymize_authors=False,
        info=INFO,
    )
    import_facebook(
        FIXTURES / "facebook-personal",
        account=PERSONAL_ACCOUNT,
        account_type="personal",
        out=out,
        pseudonymize_authors=False,
        info=INFO,
    )
    classify(out, FIXTURES / "decisions.csv", clock=lambda: DECIDED_AT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the social-media example package.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    build(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
