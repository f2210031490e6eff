"""Regenerate datapackages/kommunchef-sociala-medier/ from the synthetic exports in tests/.

    .venv/bin/python scripts/make_social_example.py [--out DIR]

Three imports into one package (the municipal CEO's official Facebook Page in the 2025 layout,
the CEO's X archive, and the CEO's personal Facebook profile), then the classification decisions
in tests/fixtures/social/decisions.csv. Facebook record ids are keyed digests: the example uses
the published test key tests/fixtures/social/example-pseudonym-key.txt (a real municipality
keeps its key secret), and drops commenters' names rather than pseudonymising them. The
municipality's main X account and its library's Facebook Page are declared own accounts, so
their handles stay in published text; every other handle is replaced. The result is
byte-identical on every run: the decisions are applied with a fixed clock, and nothing else
depends on the time or the machine.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from opengov.importers.social import PackageInfo, classify, import_facebook, import_twitter
from opengov.redact.keys import load_key

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "social"
DEFAULT_OUT = ROOT / "datapackages" / "kommunchef-sociala-medier"

KEY_FILE = FIXTURES / "example-pseudonym-key.txt"
# The account names are part of every Facebook record id: decisions.csv depends on them.
PAGE_ACCOUNT = "Kommunchefen i Exempelby (Facebook)"
X_ACCOUNT = "ExempelbyKC (X)"
PERSONAL_ACCOUNT = "Håkan Öberg (privat Facebook)"
DECIDED_AT = datetime(2024, 11, 4, 9, 30, tzinfo=UTC)
# The municipality's own accounts besides the CEO's: its X account and its library's Page id.
OWN_HANDLES = ("ExempelbyKommun", "100064123456789")

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
    key = load_key(KEY_FILE)
    import_facebook(
        FIXTURES / "facebook-page-2025",
        account=PAGE_ACCOUNT,
        account_type="official",
        out=out,
        pseudonymize_authors=False,
        info=INFO,
        key=key,
        own_handles=OWN_HANDLES,
    )
    import_twitter(
        FIXTURES / "twitter-2024",
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
        key=key,
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
