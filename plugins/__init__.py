"""The site's Datasette plugins, installed with the package as ``ciso_site`` (see pyproject.toml).

Each module of this folder is one plugin, registered through the ``datasette`` entry-point
group, so ``pip install .`` then ``datasette serve ciso.db -m metadata.yml`` shows the whole
site, without ``--plugins-dir``, ``--template-dir`` or ``--static``. This package is a plugin
too: that is how Datasette finds ``templates/`` and ``static/`` (links to the top-level
folders, shipped as package data), and serves the latter at
``/-/static-plugins/<distribution>/`` (``ciso.web.static_url``).

Datasette looks for a template in every plugin's ``templates/`` in no set order; ours
translate some of other plugins' pages (datasette-auth-passwords' ``password_login.html``),
so the hook below puts our folder first.
"""

from importlib.resources import files

from datasette import hookimpl
from jinja2 import ChoiceLoader, FileSystemLoader

TEMPLATES = files(__name__) / "templates"


@hookimpl
def prepare_jinja2_environment(env):
    env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES)), env.loader])
