"""The portal's HTML pages: self-contained (inline CSS, no scripts, no CDN), in Swedish."""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from opengov import __version__


@functools.cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("opengov", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    return env


def render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}".replace(".", ",")
        value /= 1000
    return f"{size} B"


def validation_page(report: dict[str, Any], title: str) -> str:
    return render("validation.html", report=report, title=title)
