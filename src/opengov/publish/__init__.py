"""Publishing: build a release once, hand it to a target (static folder or CKAN)."""

from .plan import PlanItem, PublishResult
from .static import publish_static, write_catalogue

__all__ = ["PlanItem", "PublishResult", "publish_static", "write_catalogue"]
