"""Social-media exports (Facebook, X/Twitter) as a data package of public-record candidates.

`import_facebook` / `import_twitter` read an export (the platform's ZIP or its folder) safely,
turn every post and comment into a classified record and write or update a Frictionless data
package with a rules.yaml that is safe to publish as it stands; `classify` applies people's
decisions. See docs/social-media.md.
"""

from opengov.importers.social.archive import ArchiveLimits
from opengov.importers.social.classify import ClassifyResult, classify
from opengov.importers.social.facebook import import_facebook
from opengov.importers.social.package import ImportResult, PackageInfo
from opengov.importers.social.twitter import import_twitter

__all__ = [
    "ArchiveLimits",
    "ClassifyResult",
    "ImportResult",
    "PackageInfo",
    "classify",
    "import_facebook",
    "import_twitter",
]
