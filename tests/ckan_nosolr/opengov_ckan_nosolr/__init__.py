"""A test-only CKAN plugin that makes CKAN work without Apache Solr.

CKAN reaches Solr only through five attributes of the module ``ckan.lib.search``:

* writes (dataset create/update/delete) look up ``_INDICES['package']``, and some
  paths (``bulk_update_*`` on 2.11) instantiate ``PackageSearchIndex`` directly;
* reads (``package_search``, ``package_autocomplete``) look up ``_QUERIES['package']``,
  while organisation/group dataset counts and ``tag_show`` instantiate
  ``PackageSearchQuery`` directly;
* start-up calls ``check_solr_schema_version()``.

``update_config`` runs before ``check_solr_schema_version`` during CKAN's
environment loading, so replacing the attributes there is early enough.

Consequence: ``package_search`` always finds nothing and organisation dataset
counts are 0. Everything else (create, update, upload, purge, auth) is real CKAN.
Never install this anywhere but a throw-away test portal.
"""

from __future__ import annotations

from typing import Any

import ckan.plugins as plugins
from ckan.lib import search
from ckan.lib.search.index import SearchIndex
from ckan.lib.search.query import SearchQuery


class NoSolrIndex(SearchIndex):
    """A search index that accepts every write and stores nothing."""

    def insert_dict(self, data: dict[str, Any]) -> None:
        return None

    def update_dict(self, data: dict[str, Any], defer_commit: bool = False) -> None:
        return None

    def remove_dict(self, data: dict[str, Any]) -> None:
        return None

    def index_package(self, pkg_dict: dict[str, Any] | None, defer_commit: bool = False) -> None:
        return None

    def delete_package(self, pkg_dict: dict[str, Any]) -> None:
        return None

    def commit(self) -> None:
        return None

    def clear(self) -> None:
        return None

    def get_all_entity_ids(self, max_results: int = 1000) -> list[str]:  # type: ignore[override]
        return []


class NoSolrQuery(SearchQuery):
    """A search query that always finds nothing, with an empty facet per field asked."""

    def run(  # type: ignore[override]
        self,
        query: dict[str, Any] | str | None = None,
        permission_labels: list[str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        fields: Any = query.get("facet.field", []) if isinstance(query, dict) else []
        if isinstance(fields, str):
            fields = [fields]
        self.count = 0
        self.results = []
        # Callers index facets by field (e.g. facets['owner_org'].get(org_id, 0)).
        self.facets = {str(field): {} for field in fields}
        return {"results": self.results, "count": self.count}

    __call__ = run

    def get_all_entity_ids(self, max_results: int = 1000) -> list[str]:
        return []

    def get_index(self, reference: str) -> dict[str, Any]:
        raise search.SearchError(f"No search index in this test portal: {reference}")


def _solr_schema_ok(schema_file: str | None = None) -> bool:
    return True


def _install() -> None:
    search._INDICES["package"] = NoSolrIndex
    search.PackageSearchIndex = NoSolrIndex  # type: ignore[misc]
    search._QUERIES["package"] = NoSolrQuery
    search.PackageSearchQuery = NoSolrQuery  # type: ignore[misc]
    search.check_solr_schema_version = _solr_schema_ok


class NoSolrPlugin(plugins.SingletonPlugin):
    """Registered as ``opengov_nosolr`` in the ``ckan.plugins`` entry-point group."""

    plugins.implements(plugins.IConfigurer)

    def update_config(self, config: Any) -> None:
        _install()
