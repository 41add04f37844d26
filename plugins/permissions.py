"""Datasette's own permission rules, without a search that cannot find anything.

To decide whether a visitor may see a table (``view-table``), Datasette 0.65.5 gathers that
table's ``allow`` blocks from the metadata (``Datasette._table_permission_allows``), deep-copying
the whole metadata each time: about 2 ms with our metadata.yml (80 KB of descriptions), once per
table or row page, and once per table listed on the database page (0.2 s for /ciso). Our metadata
gives no table an ``allow`` block, so that search finds none and Datasette has no opinion (None).

This plugin takes the place of ``datasette.default_permissions``: for ``view-table`` it says None
at once when no table has an ``allow`` block (``ciso.web.tables_have_rules``); for every other
action, and for every table as soon as one has such a block, it asks Datasette's own rules
(``ciso.web.datasette_permission``).
"""

from ciso.web import datasette_permission
from datasette import hookimpl
from datasette.plugins import pm

# Entry-point plugins (this one) are loaded before Datasette registers its default ones: blocked
# here, datasette.default_permissions is never registered, and is called below instead.
pm.set_blocked("datasette.default_permissions")


@hookimpl(tryfirst=True)
def permission_allowed(datasette, actor, action, resource):
    return datasette_permission(datasette, actor, action, resource)
