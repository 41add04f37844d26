"""Datasette's own permission rules, without a search that cannot find anything.

To decide whether a visitor may see the instance, a database, a table or a query, or run SQL,
Datasette 0.65.5 looks for ``allow`` blocks in the metadata, merging the whole metadata each time
(``Datasette.metadata``): for a table (``_table_permission_allows``) about 2 ms with our
metadata.yml (80 KB of descriptions), once per table or row page and once per table listed on the
database page (0.2 s for /ciso); for the others, ten merges on every SQL page. The public site's
metadata has no such block, so those searches find none and Datasette has no opinion (None).

This plugin takes the place of ``datasette.default_permissions``: when the metadata holds no rule
at all (``ciso.web.has_permission_rules``: the public site) it gives Datasette's answer at once;
otherwise (the staff site, whose metadata requires a login) it asks Datasette's own rules
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
