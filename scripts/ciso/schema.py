"""The database schema: tables, columns, keys, full-text indexes and views.

Descriptions of every table and column live in ``metadata.yml`` (French);
this module only says what exists, so the loader can create empty tables too.
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT, INT = str, int


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict  # name -> python type
    pk: str | tuple[str, ...] = "id"
    foreign_keys: tuple[tuple[str, str, str], ...] = ()  # (column, table, other column)
    fts: tuple[str, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()


CITED = {"plan_id": TEXT, "ligne": INT, "citation": TEXT, "source": TEXT, "note": TEXT}
# Columns holding a plan's own words besides the citations (see ``with_markup`` below).
PLAN_TEXT = {
    "objectifs": ("titre", "titre_annonce", "description"),
    "actions": ("titre", "description"),
    "activites": ("texte",),
    "passages": ("texte",),
    "lignes": ("texte",),
}
LINKS = {"organisations": TEXT, "pays": TEXT, "instruments": TEXT, "themes": TEXT}

TABLES: tuple[Table, ...] = (
    Table(
        "plans",
        {
            "id": TEXT,
            "titre": TEXT,
            "debut": TEXT,
            "fin": TEXT,
            "fichier": TEXT,
            "sha256": TEXT,
            "octets": INT,
            "lignes": INT,
            "ligne_titre": INT,
            "ligne_annonce": INT,
            "nb_objectifs": INT,
            "nb_actions": INT,
            "nb_activites": INT,
        },
    ),
    Table(
        "periodes",
        {
            "plan_id": TEXT,
            "debut": TEXT,
            "fin": TEXT,
            "nature": TEXT,
            "origine": TEXT,
            "date_reference": TEXT,
            "terminee": INT,
            "ligne": INT,
            "citation": TEXT,
            "source": TEXT,
            "note": TEXT,
        },
        pk="plan_id",
        foreign_keys=(("plan_id", "plans", "id"),),
    ),
    Table("types_organisation", {"id": TEXT, "libelle": TEXT, "description": TEXT}),
    Table(
        "statuts",
        {
            "id": TEXT,
            "libelle": TEXT,
            "libelle_pluriel": TEXT,
            "ordre": INT,
            "couleur": TEXT,
            "code_iati": INT,
            "calcule": INT,
            "description": TEXT,
        },
    ),
    Table(
        "pays",
        {
            "id": TEXT,
            "code_numerique": TEXT,
            "nom": TEXT,
            "relation": TEXT,
            "relation_citation": TEXT,
            "relation_citation_ligne": INT,
            "alias": TEXT,
            **CITED,
        },
        foreign_keys=(("plan_id", "plans", "id"),),
        fts=("nom",),
    ),
    Table(
        "organisations",
        {
            "id": TEXT,
            "nom": TEXT,
            "sigle": TEXT,
            "type": TEXT,
            "pays_id": TEXT,
            "site_web": TEXT,
            "alias": TEXT,
            **CITED,
        },
        foreign_keys=(
            ("type", "types_organisation", "id"),
            ("pays_id", "pays", "id"),
            ("plan_id", "plans", "id"),
        ),
        fts=("nom", "sigle"),
    ),
    Table(
        "instruments",
        {
            "id": TEXT,
            "titre": TEXT,
            "titre_court": TEXT,
            "type": TEXT,
            "annee": INT,
            "url": TEXT,
            "alias": TEXT,
            **CITED,
        },
        foreign_keys=(("plan_id", "plans", "id"),),
        fts=("id", "titre", "titre_court"),
    ),
    Table(
        "themes",
        {"id": TEXT, "nom": TEXT, "description": TEXT, "alias": TEXT, **CITED},
        foreign_keys=(("plan_id", "plans", "id"),),
        fts=("nom", "description"),
    ),
    Table(
        "objectifs",
        {
            "id": TEXT,
            "plan_id": TEXT,
            "numero": INT,
            "titre": TEXT,
            "titre_annonce": TEXT,
            "description": TEXT,
            "ligne": INT,
            "ligne_annonce": INT,
            "nb_actions": INT,
            "nb_activites": INT,
            "ordre": INT,
        },
        foreign_keys=(("plan_id", "plans", "id"),),
        fts=("titre", "titre_annonce", "description"),
        indexes=(("plan_id", "numero"), ("ordre",)),
    ),
    Table(
        "actions",
        {
            "id": TEXT,
            "plan_id": TEXT,
            "objectif_id": TEXT,
            "numero": TEXT,
            "rang": INT,
            "titre": TEXT,
            "description": TEXT,
            "ligne": INT,
            "nb_activites": INT,
            **LINKS,
            "ordre": INT,
        },
        foreign_keys=(("plan_id", "plans", "id"), ("objectif_id", "objectifs", "id")),
        fts=("numero", "titre", "description"),
        indexes=(("plan_id", "numero"), ("ordre",), ("objectif_id",)),
    ),
    Table(
        "activites",
        {
            "id": TEXT,
            "plan_id": TEXT,
            "objectif_id": TEXT,
            "action_id": TEXT,
            "numero": TEXT,
            "rang": INT,
            "texte": TEXT,
            "ligne": INT,
            "ligne_fin": INT,
            **LINKS,
            "ordre": INT,
        },
        foreign_keys=(
            ("plan_id", "plans", "id"),
            ("objectif_id", "objectifs", "id"),
            ("action_id", "actions", "id"),
        ),
        fts=("numero", "texte"),
        indexes=(("plan_id", "numero"), ("ordre",), ("action_id",), ("objectif_id",)),
    ),
    Table(
        "passages",
        {
            "id": TEXT,
            "plan_id": TEXT,
            "section": TEXT,
            "type": TEXT,
            "ligne_debut": INT,
            "ligne_fin": INT,
            "texte": TEXT,
            "objectif_id": TEXT,
            "action_id": TEXT,
            "activite_id": TEXT,
            "ordre": INT,
        },
        foreign_keys=(
            ("plan_id", "plans", "id"),
            ("objectif_id", "objectifs", "id"),
            ("action_id", "actions", "id"),
            ("activite_id", "activites", "id"),
        ),
        fts=("section", "texte"),
        indexes=(("plan_id", "ligne_debut"), ("ordre",)),
    ),
    Table("statuts_financement", {"id": TEXT, "libelle": TEXT, "ordre": INT, "description": TEXT}),
    Table("roles_partenariat", {"id": TEXT, "libelle": TEXT, "description": TEXT}),
    Table(
        "financements",
        {
            "id": TEXT,
            "nom": TEXT,
            "sigle": TEXT,
            "organisation_id": TEXT,
            "objet": TEXT,
            "debut": TEXT,
            "fin": TEXT,
            "statut": TEXT,
            "remplace_par": TEXT,
            "actions": TEXT,
            **CITED,
        },
        foreign_keys=(
            ("organisation_id", "organisations", "id"),
            ("statut", "statuts_financement", "id"),
            ("plan_id", "plans", "id"),
        ),
    ),
    Table(
        "partenariats",
        {
            "id": TEXT,
            "organisation_id": TEXT,
            "role": TEXT,
            "objet": TEXT,
            "condition_citation": TEXT,
            "condition_citation_ligne": INT,
            "actions": TEXT,
            **CITED,
        },
        foreign_keys=(
            ("organisation_id", "organisations", "id"),
            ("role", "roles_partenariat", "id"),
            ("plan_id", "plans", "id"),
        ),
    ),
    Table(
        "positions",
        {
            "id": TEXT,
            "titre": TEXT,
            "cible": TEXT,
            "cible_citation": TEXT,
            "cible_citation_ligne": INT,
            "instruments": TEXT,
            "actions": TEXT,
            "pays": TEXT,
            **CITED,
        },
        foreign_keys=(("plan_id", "plans", "id"),),
    ),
    Table(
        "equipe",
        {"id": TEXT, "role": TEXT, "statut_emploi": TEXT, "temps": TEXT, "debut": TEXT, "fin": TEXT, **CITED},
        foreign_keys=(("plan_id", "plans", "id"),),
    ),
    Table(
        "instances",
        {
            "id": TEXT,
            "intitule": TEXT,
            "sigle": TEXT,
            "type": TEXT,
            "etat": TEXT,
            "creation": TEXT,
            "mandat": TEXT,
            "actions": TEXT,
            **CITED,
        },
        foreign_keys=(("plan_id", "plans", "id"),),
    ),
    Table(
        "secteurs",
        {"id": TEXT, "code": TEXT, "libelle": TEXT, "justification": TEXT, "actions": TEXT, **CITED},
        foreign_keys=(("plan_id", "plans", "id"),),
    ),
    Table("parametres_iati", {"cle": TEXT, "valeur": TEXT, "origine": TEXT}, pk="cle"),
    Table(
        "regles_lecture",
        {
            "id": TEXT,
            "domaine": TEXT,
            "resultat": TEXT,
            "formulation": TEXT,
            "explication": TEXT,
            "nb_lectures": INT,
            "ordre": INT,
        },
    ),
    Table(
        "regles_iati",
        {
            "id": TEXT,
            "gravite": TEXT,
            "message": TEXT,
            "controle": TEXT,
            "correction": TEXT,
            "nb_constats": INT,
            "ordre": INT,
        },
    ),
    Table(
        "controles_iati",
        {
            "id": INT,
            "regle_id": TEXT,
            "gravite": TEXT,
            "activite": TEXT,
            "action_id": TEXT,
            "plan_id": TEXT,
            "ligne": INT,
            "element": TEXT,
            "message": TEXT,
            "correction": TEXT,
        },
        foreign_keys=(("regle_id", "regles_iati", "id"), ("action_id", "actions", "id"), ("plan_id", "plans", "id")),
        indexes=(("regle_id",), ("gravite",)),
    ),
    Table(
        "corrections_liens",
        {
            "id": TEXT,
            "activite_id": TEXT,
            "element": TEXT,
            "lien": TEXT,
            "cible": TEXT,
            "operation": TEXT,
            "raison": TEXT,
            "appui_citation": TEXT,
            "appui_citation_ligne": INT,
            **CITED,
        },
        foreign_keys=(("activite_id", "activites", "id"), ("plan_id", "plans", "id")),
        indexes=(("activite_id",),),
    ),
    Table(
        "dependances",
        {
            "id": TEXT,
            "element": TEXT,
            "element_id": TEXT,
            "depend_de": TEXT,
            "depend_de_id": TEXT,
            **CITED,
        },
        foreign_keys=(("plan_id", "plans", "id"),),
        indexes=(("element_id",),),
    ),
    *(
        Table(
            name,
            {own: TEXT, other: TEXT},
            pk=(own, other),
            foreign_keys=((own, owner, "id"), (other, target, "id")),
            indexes=((other,),),
        )
        for name, own, owner, other, target in (
            ("financements_actions", "financement_id", "financements", "action_id", "actions"),
            ("partenariats_actions", "partenariat_id", "partenariats", "action_id", "actions"),
            ("positions_instruments", "position_id", "positions", "instrument_id", "instruments"),
            ("positions_actions", "position_id", "positions", "action_id", "actions"),
            ("positions_pays", "position_id", "positions", "pays_id", "pays"),
            ("instances_actions", "instance_id", "instances", "action_id", "actions"),
            ("secteurs_actions", "secteur_id", "secteurs", "action_id", "actions"),
        )
    ),
    Table(
        "lignes",
        {"plan_id": TEXT, "numero": INT, "texte": TEXT},
        pk=("plan_id", "numero"),
        foreign_keys=(("plan_id", "plans", "id"),),
    ),
    Table(
        "suivi",
        {
            "id": TEXT,
            "plan_id": TEXT,
            "element": TEXT,
            "niveau": TEXT,
            "element_id": TEXT,
            "objectif_id": TEXT,
            "action_id": TEXT,
            "activite_id": TEXT,
            "statut": TEXT,
            "source": TEXT,
            "regle": TEXT,
            "date": TEXT,
            "date_fin": TEXT,
            "avancement": INT,
            "citation": TEXT,
            "note": TEXT,
            "preuve": TEXT,
            "par": TEXT,
            "fichier": TEXT,
            "ligne": INT,
            "rang": INT,
        },
        foreign_keys=(
            ("plan_id", "plans", "id"),
            ("objectif_id", "objectifs", "id"),
            ("action_id", "actions", "id"),
            ("activite_id", "activites", "id"),
            ("statut", "statuts", "id"),
        ),
        indexes=(("element_id", "rang"), ("objectif_id",)),
    ),
    *(
        Table(
            f"activites_{other}",
            {
                "activite_id": TEXT,
                key: TEXT,
                "terme": TEXT,
                **({"nature": TEXT} if other == "pays" else {}),
                "origine": TEXT,
                "correction_id": TEXT,
            },
            pk=("activite_id", key),
            foreign_keys=(
                ("activite_id", "activites", "id"),
                (key, other, "id"),
                ("correction_id", "corrections_liens", "id"),
            ),
            indexes=((key,),),
        )
        for other, key in (
            ("organisations", "organisation_id"),
            ("pays", "pays_id"),
            ("instruments", "instrument_id"),
            ("themes", "theme_id"),
        )
    ),
    Table(
        "sources",
        {"fichier": TEXT, "type": TEXT, "plan_id": TEXT, "sha256": TEXT, "octets": INT, "lignes": INT},
        pk="fichier",
    ),
    Table("construction", {"cle": TEXT, "valeur": TEXT}, pk="cle"),
)


def markup_columns(table: Table) -> tuple[str, ...]:
    """Columns of ``table`` that carry a plan's words: the plan texts and every quotation."""
    return tuple(
        c for c in table.columns if c in PLAN_TEXT.get(table.name, ()) or c == "citation" or c.endswith("_citation")
    )


def with_markup(table: Table) -> Table:
    """The plans' words are stored as plain text (no ``*italique*``, ``45^e``, ``1^{er}``), so that
    search, CSV, JSON and IATI carry the words only; ``{column}_markup`` keeps the original, markup
    included, for the pages (and for rebuilding a plan byte for byte from ``lignes.texte_markup``)."""
    marked = markup_columns(table)
    if not marked:
        return table
    columns = {}
    for name, kind in table.columns.items():
        columns[name] = kind
        if name in marked:
            columns[f"{name}_markup"] = kind
    return Table(table.name, columns, table.pk, table.foreign_keys, table.fts, table.indexes)


TABLES = tuple(with_markup(t) for t in TABLES)
MARKUP = {t.name: markup_columns(t) for t in TABLES if markup_columns(t)}

# Staff-only tables: created only in the private database (``ciso build --interne``).
PRIVATE_TABLES: tuple[Table, ...] = (
    Table(
        "notes_internes",
        {
            "id": TEXT,
            "date": TEXT,
            "organisation_id": TEXT,
            "plan_id": TEXT,
            "element": TEXT,
            "action_id": TEXT,
            "activite_id": TEXT,
            "sensibilite": TEXT,
            "note": TEXT,
            "fichier": TEXT,
            "ligne": INT,
        },
        foreign_keys=(
            ("organisation_id", "organisations", "id"),
            ("plan_id", "plans", "id"),
            ("action_id", "actions", "id"),
            ("activite_id", "activites", "id"),
        ),
        fts=("note",),
    ),
)

# Link tables: (table, column of the other id, reference table, array column on activites).
LINK_TABLES = (
    ("activites_organisations", "organisation_id", "organisations", "organisations"),
    ("activites_pays", "pays_id", "pays", "pays"),
    ("activites_instruments", "instrument_id", "instruments", "instruments"),
    ("activites_themes", "theme_id", "themes", "themes"),
)

FTS_TOKENIZE = "unicode61 remove_diacritics 2"
