"""Which file of an X/Twitter archive holds what, for the current and the pre-2019 archives.

Current archives (2019-) keep their data as JavaScript under `data/`, one `window.YTD.<name>.part
<N> = [...]` assignment per file, and list every file with its record count in `manifest.js`.
File names changed over the years: `tweet.js` and `tweet-part<N>.js` (2019-2021), `tweets.js`
and `tweets-part<N>.js` (since), `deleted-tweet(s).js`, `note-tweet.js` (the full text of posts
over 280 characters), `community-tweet.js` (the account's posts in Communities).

Archives from before 2019 ("Grailbird") hold one `data/js/tweets/YYYY_MM.js` per month
(`Grailbird.data.tweets_YYYY_MM = [...]`), an index `data/js/tweet_index.js`, the account in
`data/js/user_details.js`, and the same posts again as `tweets.csv`.
"""

from __future__ import annotations

import re
from typing import Literal

Role = Literal[
    "tweets", "deleted", "community", "circle", "notes", "deleted_notes", "account",
    "manifest", "grailbird_month", "grailbird_csv", "grailbird_user", "grailbird_index",
    "known_data", "viewer", "media", "unknown",
]  # fmt: skip

_PART = r"(?:-part\d+)?\.js$"
_ROLES: tuple[tuple[Role, re.Pattern[str]], ...] = (
    ("tweets", re.compile(rf"(?:^|/)tweets?{_PART}")),
    ("deleted", re.compile(rf"(?:^|/)deleted-tweets?{_PART}")),
    ("community", re.compile(rf"(?:^|/)community-tweets?{_PART}")),
    ("circle", re.compile(rf"(?:^|/)twitter-circle-tweets?{_PART}")),
    ("notes", re.compile(rf"(?:^|/)note-tweets?{_PART}")),
    ("deleted_notes", re.compile(rf"(?:^|/)deleted-note-tweets?{_PART}")),
    ("account", re.compile(r"(?:^|/)data/account\.js$|^account\.js$")),
    ("manifest", re.compile(r"(?:^|/)data/manifest\.js$|^manifest\.js$")),
    ("grailbird_month", re.compile(r"(?:^|/)data/js/tweets/\d{4}_\d{2}\.js$")),
    ("grailbird_csv", re.compile(r"(?:^|/)tweets\.csv$")),
    ("grailbird_user", re.compile(r"(?:^|/)data/js/user_details\.js$")),
    ("grailbird_index", re.compile(r"(?:^|/)data/js/tweet_index\.js$")),
)
# Data files of current archives that hold no posts of the account (names from manifest.js).
_KNOWN_DATA = re.compile(
    r"(?:^|/)(?:account-[a-z-]+|ad-[a-z-]+|ageinfo|app|block|branch-links|catalog-item"
    r"|commerce-catalog|community-note(?:-[a-z]+)?|connected-application|contact"
    r"|deleted-tweet-headers|device-token|direct-message[a-z-]*|email-address-change|follower"
    r"|following|ip-audit|key-registry|like|lists-[a-z]+|moment|mute|ni-devices"
    r"|periscope-(?:account-information|ban-information|broadcast-metadata|expired-broadcasts"
    r"|followers|profile-description)|personalization|phone-number|product-drop|product-set"
    r"|professional-data|profile|protected-history|reply-prompt|saved-search"
    r"|screen-name-change|shop-module|shopify-account|smartblock|spaces-metadata|sso"
    r"|tweet-headers|tweetdeck|twitter-circle|twitter-circle-member|twitter-shop"
    r"|user-link-clicks|verified|verified-organization|grok-[a-z-]+|payload_details"
    r")(?:-part\d+)?\.js$"
)
_LOOKS_LIKE = re.compile(r"tweet|note|article|post|comment|circle|community", re.IGNORECASE)


def role(name: str) -> Role:
    lowered = name.lower()
    for kind, pattern in _ROLES:
        if pattern.search(lowered):
            return kind
    if not lowered.endswith((".js", ".json")):
        return "media"
    if "data/" not in f"/{lowered}" and not lowered.startswith("data/"):
        return "viewer"  # the archive's own web viewer (Your archive.html, assets/, js/, lib/)
    if _KNOWN_DATA.search(lowered):
        return "known_data"
    return "unknown"


def part_number(name: str) -> int:
    match = re.search(r"-part(\d+)\.js$", name.lower())
    return int(match.group(1)) if match else 0


def name_looks_like_records(name: str) -> bool:
    return bool(_LOOKS_LIKE.search(name.rsplit("/", 1)[-1]))
