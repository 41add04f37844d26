"""Every kind of page of the site, in one place, for the tests that visit them all: phones
(test_browser_phones.py) and French everywhere (test_french_everywhere.py).

A new kind of page is one line in PAGE_KINDS (public site) or STAFF_PAGE_KINDS (staff site,
``ciso serve --interne``): both tests then cover it. Paths, not counts: the pages' content comes
from the real build.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from ciso_site.transparency import SECTIONS

# (kind, path) of the public site; the status each answers is in ERROR_PAGES when not 200.
PAGE_KINDS = [
    ("accueil", "/"),
    ("avancement", "/-/progres"),
    ("avancement d'un plan", "/-/progres/2020-2021"),
    ("objectif", "/-/progres/2020-2021/1"),
    ("action", "/-/progres/2020-2021/1.4"),
    ("activité", "/-/progres/2020-2021/1.4.2"),
    ("activité conditionnelle", "/-/progres/2020-2021/2.1.2"),
    ("où travaille le CISO", "/-/pays"),
    ("pays", "/-/pays/HT"),
    ("région", "/-/regions/amerique-latine-caraibes"),
    ("organisations", "/-/organisations"),
    ("organisation", "/-/organisations/fat"),
    ("transparence", "/-/transparence"),
    *[(f"transparence : {title}", f"/-/transparence/{slug}") for slug, (title, _) in SECTIONS.items()],
    ("recherche", "/-/recherche?q=haiti"),
    ("recherche sans résultat", "/-/recherche?q=zzzzqqq"),
    ("recherche d'une région", "/-/recherche?q=amerique+latine"),
    ("recherche avec suggestions", "/-/recherche?q=haitii"),
    ("guide de l'API", "/-/api"),
    ("dictionnaire", "/-/dictionnaire"),
    ("téléchargements", "/-/telechargements"),
    ("texte du plan", "/-/source/2020-2021"),
    ("base de données", "/ciso"),
    ("table avec facettes", "/ciso/statut_activites?_facet=statut&_facet=objectif_id"),
    ("table filtrée et triée", "/ciso/activites?objectif_id=2020-2021-1&_sort_desc=numero"),
    ("table sans clé primaire", "/ciso/avancement_objectifs"),
    ("ligne", "/ciso/activites/2020-2021-2-1-2"),
    ("requête prédéfinie", "/ciso/activites_par_pays?pays=HT"),
    (
        "page SQL",
        "/ciso?sql=select+a.numero%2C+a.texte%2C+s.statut_libelle%2C+s.echeance%2C+s.date_reference"
        "+from+activites+a+join+statut_activites+s+on+s.activite_id+%3D+a.id+where+a.texte+like+%27%25Ha%C3%AFti%25%27"
        "+order+by+a.ordre",
    ),
]
# Error pages of the public site: (kind, method, path, status).
ERROR_PAGES = [
    ("404 d'une adresse inconnue", "GET", "/-/nexistepas", 404),
    ("404 d'une base inconnue", "GET", "/nexistepas", 404),
    ("404 d'une table inconnue", "GET", "/ciso/nexistepas", 404),
    ("404 d'une ligne inconnue", "GET", "/ciso/activites/nexistepas", 404),
    ("404 d'une section inconnue", "GET", "/-/transparence/nexistepas", 404),
    ("404 d'un élément inconnu", "GET", "/-/progres/2020-2021/9.9.9", 404),
    ("404 d'un pays inconnu", "GET", "/-/pays/XX", 404),
    ("404 d'une organisation inconnue", "GET", "/-/organisations/inconnue", 404),
    ("400 d'un tri impossible", "GET", "/ciso/activites?_sort=nexistepas", 400),
    ("400 d'un SQL invalide", "GET", "/ciso?sql=select+from", 400),
    ("400 d'une écriture", "GET", "/ciso?sql=update+plans+set+id%3D1", 400),
    (
        "400 d'une requête trop longue",
        "GET",
        "/ciso?sql=with+recursive+c(x)+as+(select+1+union+all+select+x%2B1+from+c)+select+count(*)+from+c",
        400,
    ),
    ("405 d'un POST", "POST", "/-/transparence", 405),
]
# (kind, path, logged in) of the staff site.
STAFF_PAGE_KINDS = [
    ("connexion", "/-/login", False),
    ("accueil refusé (403)", "/", False),
    ("table refusée (403)", "/ciso/activites", False),
    ("outil d'empreinte refusé (403)", "/-/password-tool", False),
    ("accueil de l'équipe", "/", True),
    ("notes internes", "/ciso/notes_internes", True),
    ("base interne", "/ciso", True),
]
STAFF_PASSWORD = "mot-de-passe-de-test"


def staff_database(directory: Path) -> Path:
    """The staff database (``ciso build --interne``) built from the real data into ``directory``."""
    from ciso.build import build
    from conftest import DATA

    db = directory / "interne" / "ciso.db"
    build(DATA, db, private=True)
    return db


def staff_environment() -> dict:
    """The staff site's two variables; the hash uses few iterations to keep the tests fast."""
    from ciso.site import PASSWORD_ENV, SECRET_ENV
    from datasette_auth_passwords.utils import hash_password

    return {PASSWORD_ENV: hash_password(STAFF_PASSWORD, iterations=1000), SECRET_ENV: "s" * 40}


@contextmanager
def staff_server(db: Path):
    """``ciso serve --interne`` on ``db``, on 127.0.0.1; yields its URL; stopped at the end."""
    from conftest import free_port, site_args, site_serving

    port = free_port()
    with site_serving(site_args(db, port, staff=True), port, env=staff_environment()) as url:
        yield url
