"""Which file of a Facebook export holds what, in every layout since 2018.

Facebook has moved and renamed the files of "Download your information" several times:

- 2018: posts in `posts/your_posts.json` as `{"status_updates": [...]}`, own comments in
  `comments/comments.json` as `{"comments": [...]}`.
- 2019-2022: posts in `posts/your_posts_<n>.json` (a list), own comments in
  `comments_and_reactions/comments.json` (`comments_v2`).
- 2023-2024: the same under `your_activity_across_facebook/` or `your_facebook_activity/`, the
  posts named `your_posts__check_ins__photos_and_videos_<n>.json`.
- 2025 on (Pages, and some profiles): `this_profile's_activity_across_facebook/posts/
  profile_posts_<n>.json`, comments in the same folder's `comments_and_reactions/`.

Comments that others wrote come only where the export carries them: on photos and videos
(`album/<n>.json`, `your_videos.json`, `your_uncategorized_photos.json`: a `comments` list per
item), and, in older exports, as posts others wrote on the timeline
(`other_people's_posts_to_your_timeline.json`). The role of a file is decided by its name
wherever it sits (exports are often unpacked into a top folder); the folders below are only
used to recognise files that are not relevant (messages, ads, logins, ...).
"""

from __future__ import annotations

import re
from typing import Any, Literal

Role = Literal[
    "posts", "visitor_posts", "comments", "media_comments", "media", "html", "known", "unknown"
]

_POSTS = re.compile(
    r"(?:^|/)(?:your_posts(?:__check_ins__photos_and_videos)?|profile_posts|your_posts_in_groups"
    r"|posts_on_other_pages_and_profiles|archived_stories)(?:_(\d+))?\.json$"
)
_VISITOR_POSTS = re.compile(r"(?:^|/)other_people's_posts_to_your_timeline(?:_(\d+))?\.json$")
_COMMENTS = re.compile(r"(?:^|/)(?:comments|your_comments_in_groups)(?:_(\d+))?\.json$")
_MEDIA_COMMENTS = re.compile(
    r"(?:^|/)(?:album/\d+|your_videos|videos|your_uncategorized_photos|your_photos)\.json$"
)
_HTML = re.compile(r"\.html?$")
_DATA = re.compile(r"\.json$")
# Files of an HTML export that hold what a JSON export would: their presence without the JSON
# means the person chose the wrong format.
_HTML_RECORDS = re.compile(
    r"(?:^|/)(?:your_posts|profile_posts|comments|other_people's_posts_to_your_timeline)"
    r"[^/]*\.html?$"
)
# Folders and files of the export that hold no posts or comments of the account.
_NOT_RELEVANT = re.compile(
    r"(?:^|/)(?:messages|inbox|ads_information|ads_and_businesses|apps_and_websites_off_of_facebook"
    r"|apps_and_websites|connections|friends|friends_and_followers|followers_and_following"
    r"|logged_information|personal_information|profile_information|preferences"
    r"|security_and_login_information|your_interactions_on_facebook|activity_messages|search"
    r"|location|other_activity|other_logged_information|marketplace|saved_items_and_collections"
    r"|events|pages|fundraisers|facebook_gaming|facebook_payments|payment_history|shops"
    r"|your_topics|notifications|voting|voting_location_and_reminders|professional_dashboard"
    r"|groups_you_manage|facebook_news|your_places|facebook_marketplace|facebook_assistant"
    r"|meta_spark|navigation_bar_activity|news_feed|reviews|short_videos|your_problem_reports"
    r"|polls|activity_log|bug_bounty|crowdsignal|facebook_accounts_center|avatars"
    r"|likes_and_reactions|about_you|following_and_followers|saved_items|stickers_used"
    r")/"
    r"|(?:^|/)(?:likes_and_reactions(?:_\d+)?|posts_and_comments|your_comment_edits"
    r"|your_group_membership_activity|your_groups|group_posts_and_comments_reactions"
    r"|your_badges|creator_badges|no-data|your_pinned_posts|edits_you_made_to_posts"
    r"|visual_search|your_search_history)\.json$"
)
_LOOKS_LIKE = re.compile(r"post|comment|status|timeline|wall|stor(?:y|ies)", re.IGNORECASE)


def role(name: str) -> Role:
    """What a file of the export is for, from its path."""
    lowered = name.lower()
    if _POSTS.search(lowered):
        return "posts"
    if _VISITOR_POSTS.search(lowered):
        return "visitor_posts"
    if _COMMENTS.search(lowered) and not _NOT_RELEVANT.search(lowered):
        return "comments"
    if _MEDIA_COMMENTS.search(lowered):
        return "media_comments"
    if _HTML.search(lowered):
        return "html"
    if not _DATA.search(lowered):
        return "media"
    if _NOT_RELEVANT.search(lowered):
        return "known"
    return "unknown"


def part_number(name: str) -> int:
    """The `_<n>` of a split file (0 when it is not split), for reading parts in order."""
    match = re.search(r"_(\d+)\.json$", name.lower())
    return int(match.group(1)) if match else 0


def is_html_export(names: list[str]) -> bool:
    """True when the export holds records only as HTML pages: the person chose HTML."""
    if any(role(n) in ("posts", "visitor_posts", "comments") for n in names):
        return False
    return any(_HTML_RECORDS.search(n.lower()) for n in names)


def name_looks_like_records(name: str) -> bool:
    return bool(_LOOKS_LIKE.search(name.rsplit("/", 1)[-1]))


def has_entries(value: Any) -> bool:
    """False for a file holding nothing: `[]`, `{}`, or an object of empty lists."""
    if isinstance(value, list):
        return bool(value)
    if isinstance(value, dict):
        return any(has_entries(v) if isinstance(v, (list, dict)) else True for v in value.values())
    return value is not None


def looks_like_records(value: Any) -> bool:
    """True when parsed JSON holds entries shaped like Facebook posts or comments."""
    return any(_record_shaped(item) for item in _candidate_items(value))


def _candidate_items(value: Any, depth: int = 0) -> list[Any]:
    if isinstance(value, list):
        return value[:50]
    if isinstance(value, dict) and depth < 2:
        items: list[Any] = []
        for inner in value.values():
            items.extend(_candidate_items(inner, depth + 1))
        return items
    return []


def _record_shaped(item: Any) -> bool:
    if not isinstance(item, dict) or not isinstance(item.get("timestamp"), int):
        return False
    if isinstance(item.get("comment"), str) and "author" in item:
        return True
    data = item.get("data")
    return isinstance(data, list) and any(
        isinstance(d, dict) and ("post" in d or "comment" in d) for d in data
    )
