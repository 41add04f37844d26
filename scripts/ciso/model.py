"""The data model: every table of the database, declared once.

Each ``Table`` states its columns (name, type), its keys (primary, foreign, JSON arrays of ids),
the columns the build computes from the others (``libelle``: the name a row goes by), its
full-text index and — for curated tables — how its YAML file under ``data/reference/`` gives
each column (key, required, form, allowed values, quotations). Derived from it:

* the SQLite schema (``load.py``: ``types``, ``pk``, ``foreign_keys``, ``fts``, ``indexes``);
* the shape of each reference file, checked by jsonschema (``shapes.py``), and the
  cross-file checks of ``reference.py`` (which table an id must exist in);
* the downloads (``export.py``: label columns, enum constraints, array and date types);
* the data dictionary (``data_dictionary.py``) and the links between rows (``plugins/links.py``);
* the foreign keys of the rollups (``rollups.py``), by column name (``KEYS``).

What Datasette reads about a table — French title, descriptions of the table and of every
column, label column (``label_column``), facets, sort order — and the canned queries are in
``metadata.yml``, and only there; ``tests/test_model.py`` checks that it describes exactly the
declared columns and that each label column exists.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

TEXT, INT = str, int
ID = r"^[A-Za-z0-9_-]+$"
DAY = r"^\d{4}-\d{2}-\d{2}$"
PARTIAL_DATE = r"^\d{4}(-\d{2}(-\d{2})?)?$"
ACTIONS = "actions"  # in YAML, a list of the plan's action numbers ("1.4"), stored as action ids
FTS_TOKENIZE = "unicode61 remove_diacritics 2"
REFERENCED = {"dictionnaire_tables": "table"}  # the key that foreign keys point to, when it is not ``id``


@dataclass(frozen=True)
class Column:
    name: str
    type: type = TEXT
    ref: str | None = None  # foreign key: the ``id`` of this table
    items: str | None = None  # a JSON array of ids of this table
    date: bool = False  # an ISO date (``date`` in the Data Package)
    sql: str | None = None  # computed by the build from the row's other columns (label columns)
    # How the table's YAML file gives the value (curated tables only):
    key: str | None = None  # the YAML key, when it is not the column's name
    computed: bool = False  # not in the YAML file: the build fills it
    required: bool = False
    pattern: str | None = None
    choices: tuple[str, ...] = ()
    quote: bool = False  # a verbatim quotation of the entry's plan; ``{name}_ligne`` gets its line
    link: bool = False  # an array whose ids also go, one per row, into the link table ``{table}_{name}``
    markup: bool = False  # the plan's words: stored plain, with ``{name}_markup`` keeping the markup
    line: bool = False  # a line of the plan that the row's ``plan_id`` names (pages link it to that line)

    @property
    def yaml_key(self) -> str:
        return self.key or self.name

    @property
    def is_list(self) -> bool:
        return self.items is not None or self.name == "alias"


@dataclass(frozen=True)
class Source:
    """A curated YAML file under data/reference/ that a table is read from."""

    file: str
    key: str | None = None  # the file holds several lists; this table reads the one under this key
    cited: bool = True  # entries may cite a plan: ``plan``, ``citation``, ``source``, ``note``
    citation_required: bool = False
    aliases: bool = False  # entries carry ``alias``: the words that link an activity to them


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    pk: str | tuple[str, ...] = "id"
    fts: tuple[str, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    singular: str | None = None  # for the name of a column pointing here: ``{singular}_id``
    source: Source | None = None
    codelist: bool = False  # a short list of codes: its ids are an ``enum`` in the Data Package
    private: bool = False  # staff database only (``ciso build --interne``)

    @property
    def key_column(self) -> str:
        return f"{self.singular or self.name[:-1]}_id"

    @property
    def types(self) -> dict[str, type]:
        return {c.name: c.type for c in self.columns}

    @property
    def foreign_keys(self) -> tuple[tuple[str, str, str], ...]:
        return tuple((c.name, c.ref, REFERENCED.get(c.ref, "id")) for c in self.columns if c.ref)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def input_columns(self) -> tuple[Column, ...]:
        """The columns its YAML file gives (the citation block aside, see ``reference.py``)."""
        return tuple(
            c for c in self.columns if not (c.computed or c.sql) and c.name not in CITED_NAMES and c.name != "alias"
        )

    @property
    def markup_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.markup)


def cited() -> tuple[Column, ...]:
    """Where an entry comes from: the plan it quotes, the quotation's line, and notes."""
    return (
        Column("plan_id", ref="plans", key="plan"),
        Column("ligne", INT, computed=True, line=True),
        Column("citation", markup=True),
        Column("source"),
        Column("note"),
    )


CITED_NAMES = {c.name for c in cited()}


def _expand(table: Table) -> Table:
    """Add the columns a declaration implies: alias and citation block for curated tables,
    ``{quote}_ligne`` after each quotation, ``{column}_markup`` after each text of the plan."""
    declared = list(table.columns)
    if table.source and table.source.aliases and "alias" not in {c.name for c in declared}:
        declared.append(Column("alias"))
    if table.source and table.source.cited:
        names = {c.name for c in declared}
        declared += [c for c in cited() if c.name not in names]
    columns = []
    for c in declared:
        if c.quote:
            c = replace(c, markup=True)
        columns.append(c)
        if c.markup:
            columns.append(Column(f"{c.name}_markup", computed=True))
        if c.quote:
            columns.append(Column(f"{c.name}_ligne", INT, computed=True, line=True))
    return replace(table, columns=tuple(columns))


def _links_of(table: Table, tables: dict[str, Table]) -> list[Table]:
    """The link tables of a curated table's arrays: ``financements_actions`` (financement_id, action_id)."""
    result = []
    for c in table.columns:
        if c.link:
            own, other = table.key_column, tables[c.items].key_column
            result.append(
                Table(
                    f"{table.name}_{c.name}",
                    (Column(own, ref=table.name), Column(other, ref=c.items)),
                    pk=(own, other),
                    indexes=((other,),),
                )
            )
    return result


C = Column
ARRAYS_OF_ACTIVITIES = ("organisations", "pays", "instruments", "themes")  # linked from the plan's words


def _arrays() -> tuple[Column, ...]:
    return tuple(Column(name, items=name, computed=True) for name in ARRAYS_OF_ACTIVITIES)


def codes(name: str, *columns: Column) -> Table:
    """A list of codes, read from ``data/reference/{name}.yml``: an id, a French label, and more."""
    return Table(
        name,
        (C("id", required=True, pattern=ID), C("libelle", required=True), *columns),
        source=Source(f"{name}.yml", cited=False),
        codelist=True,
    )


_DECLARED: tuple[Table, ...] = (
    Table(
        "plans",
        (
            C("id"),
            C("titre"),
            C("debut", date=True),
            C("fin", date=True),
            C("fichier"),
            C("sha256"),
            C("octets", INT),
            C("lignes", INT),
            C("ligne_titre", INT),
            C("ligne_annonce", INT),
            C("nb_objectifs", INT),
            C("nb_actions", INT),
            C("nb_activites", INT),
            C("libelle", sql="'Plan ' || id"),
        ),
    ),
    Table(
        "periodes",
        (
            C("plan_id", ref="plans", key="plan"),
            C("debut", required=True, pattern=DAY),
            C("fin", required=True, pattern=DAY),
            C("nature", required=True, choices=("citation", "source", "hypothese")),
            C("origine", computed=True),
            C("date_reference", computed=True),
            C("terminee", INT, computed=True),
        ),
        pk="plan_id",
        source=Source("periodes.yml", citation_required=True),
    ),
    codes("types_organisation", C("description")),
    codes(
        "statuts",
        C("libelle_pluriel", required=True),
        C("ordre", INT, required=True),
        C("couleur", required=True, pattern=r"^#[0-9a-fA-F]{6}$"),
        C("code_iati", INT),
        C("calcule", INT),
        C("description", required=True),
    ),
    Table(
        "pays",
        (
            C("id", required=True, pattern=r"^[A-Z]{2}$"),
            C("code_numerique", required=True, pattern=r"^\d{3}$"),
            C("nom", required=True),
            C("relation", required=True, choices=("partenaires", "siege", "mention")),
            C("relation_citation", required=True, quote=True),
        ),
        fts=("nom",),
        singular="pays",
        source=Source("pays.yml", citation_required=True, aliases=True),
    ),
    Table(
        "regions",
        (
            C("id", required=True, pattern=ID),
            C("nom", required=True),
            C("code_m49", required=True, pattern=r"^\d{3}$"),
            C("niveau", required=True, choices=("region", "sous_region", "region_intermediaire")),
            C("pays", items="pays", link=True),
        ),
        fts=("nom", "alias"),
        singular="region",
        source=Source("regions.yml", aliases=True),
    ),
    Table(
        "organisations",
        (
            C("id", required=True, pattern=ID),
            C("nom", required=True),
            C("sigle"),
            C("type", required=True, ref="types_organisation"),
            C("pays_id", ref="pays", key="pays"),
            C("site_web"),
            C("alias"),
            *cited(),
            C("libelle", sql="nom || coalesce(' (' || sigle || ')', '')", computed=True),
        ),
        fts=("nom", "sigle"),
        source=Source("organisations.yml", citation_required=True, aliases=True),
    ),
    Table(
        "instruments",
        (
            C("id", required=True, pattern=r"^[CPR]\d{3}$"),
            C("titre", required=True),
            C("titre_court", required=True),
            C("type", required=True, choices=("convention", "protocole", "recommandation")),
            C("annee", INT, required=True),
            C("url"),
            C("alias"),
            *cited(),
            C("libelle", sql="id || ' — ' || titre_court", computed=True),
        ),
        fts=("id", "titre", "titre_court"),
        source=Source("instruments.yml", citation_required=True, aliases=True),
    ),
    Table(
        "themes",
        (C("id", required=True, pattern=ID), C("nom", required=True), C("description")),
        fts=("nom", "description"),
        source=Source("themes.yml", citation_required=True, aliases=True),
    ),
    Table(
        "objectifs",
        (
            C("id"),
            C("plan_id", ref="plans"),
            C("numero", INT),
            C("titre", markup=True),
            C("titre_annonce", markup=True),
            C("description", markup=True),
            C("ligne", INT, line=True),
            C("ligne_annonce", INT, line=True),
            C("nb_actions", INT),
            C("nb_activites", INT),
            C("ordre", INT),
            C("libelle", sql="'Objectif ' || numero || ' (' || plan_id || ') : ' || titre"),
        ),
        fts=("titre", "titre_annonce", "description"),
        indexes=(("plan_id", "numero"), ("ordre",)),
    ),
    Table(
        "actions",
        (
            C("id"),
            C("plan_id", ref="plans"),
            C("objectif_id", ref="objectifs"),
            C("numero"),
            C("rang", INT),
            C("titre", markup=True),
            C("description", markup=True),
            C("ligne", INT, line=True),
            C("nb_activites", INT),
            *_arrays(),
            C("ordre", INT),
            C("libelle", sql="numero || ' ' || titre"),
        ),
        fts=("numero", "titre", "description"),
        indexes=(("plan_id", "numero"), ("ordre",), ("objectif_id",)),
    ),
    Table(
        "activites",
        (
            C("id"),
            C("plan_id", ref="plans"),
            C("objectif_id", ref="objectifs"),
            C("action_id", ref="actions"),
            C("numero"),
            C("rang", INT),
            C("texte", markup=True),
            C("ligne", INT, line=True),
            C("ligne_fin", INT, line=True),
            *_arrays(),
            C("ordre", INT),
            C("libelle", sql="'Activité ' || numero || ' (' || plan_id || ')'"),
        ),
        fts=("numero", "texte"),
        indexes=(("plan_id", "numero"), ("ordre",), ("action_id",), ("objectif_id",)),
    ),
    Table(
        "passages",
        (
            C("id"),
            C("plan_id", ref="plans"),
            C("section"),
            C("type"),
            C("ligne_debut", INT, line=True),
            C("ligne_fin", INT, line=True),
            C("texte", markup=True),
            C("objectif_id", ref="objectifs"),
            C("action_id", ref="actions"),
            C("activite_id", ref="activites"),
            C("ordre", INT),
        ),
        fts=("section", "texte"),
        indexes=(("plan_id", "ligne_debut"), ("ordre",)),
    ),
    codes("statuts_financement", C("ordre", INT, required=True), C("description")),
    codes("roles_partenariat", C("description")),
    Table(
        "financements",
        (
            C("id", required=True, pattern=ID),
            C("nom", required=True),
            C("sigle"),
            C("organisation_id", ref="organisations", key="organisation"),
            C("objet"),
            C("debut", pattern=PARTIAL_DATE),
            C("fin", pattern=PARTIAL_DATE),
            C("statut", required=True, ref="statuts_financement"),
            C("remplace_par", ref="financements"),
            C("actions", items=ACTIONS, link=True),
        ),
        source=Source("financements.yml", citation_required=True),
    ),
    Table(
        "partenariats",
        (
            C("id", required=True, pattern=ID),
            C("organisation_id", required=True, ref="organisations", key="organisation"),
            C("role", required=True, ref="roles_partenariat"),
            C("objet", required=True),
            C("condition_citation", quote=True),
            C("actions", items=ACTIONS, link=True),
        ),
        source=Source("partenariats.yml", citation_required=True),
    ),
    Table(
        "positions",
        (
            C("id", required=True, pattern=ID),
            C("titre", required=True),
            C("cible"),
            C("cible_citation", quote=True),
            C("instruments", items="instruments", link=True),
            C("actions", items=ACTIONS, link=True),
            C("pays", items="pays", link=True),
        ),
        source=Source("positions.yml", citation_required=True),
    ),
    Table(
        "equipe",
        (
            C("id", required=True, pattern=ID),
            C("role", required=True),
            C("statut_emploi", required=True),
            C("temps"),
            C("debut", pattern=PARTIAL_DATE),
            C("fin", pattern=PARTIAL_DATE),
        ),
        source=Source("gouvernance.yml", key="equipe", citation_required=True),
    ),
    Table(
        "instances",
        (
            C("id", required=True, pattern=ID),
            C("intitule", required=True),
            C("sigle"),
            C("type", required=True, choices=("instance", "comite")),
            C("etat", required=True, choices=("existant", "a_creer")),
            C("creation"),
            C("mandat"),
            C("actions", items=ACTIONS, link=True),
        ),
        source=Source("gouvernance.yml", key="instances", citation_required=True),
    ),
    Table(
        "secteurs",
        (
            C("id", required=True, pattern=ID),
            C("code", required=True, pattern=r"^\d{5}$"),
            C("libelle", required=True),
            C("justification", required=True),
            C("actions", items=ACTIONS, link=True),
        ),
        source=Source("iati.yml", key="secteurs"),
    ),
    Table("parametres_iati", (C("cle"), C("valeur"), C("origine")), pk="cle"),
    Table(
        "regles_lecture",
        (
            C("id"),
            C("domaine"),
            C("resultat"),
            C("formulation"),
            C("explication"),
            C("nb_lectures", INT),
            C("ordre", INT),
        ),
    ),
    Table(
        "regles_iati",
        (
            C("id"),
            C("gravite"),
            C("message"),
            C("controle"),
            C("correction"),
            C("nb_constats", INT),
            C("ordre", INT),
        ),
        singular="regle",
    ),
    Table(
        "controles_iati",
        (
            C("id", INT),
            C("regle_id", ref="regles_iati"),
            C("gravite"),
            C("activite"),
            C("action_id", ref="actions"),
            C("plan_id", ref="plans"),
            C("ligne", INT),
            C("element"),
            C("message"),
            C("correction"),
        ),
        indexes=(("regle_id",), ("gravite",)),
    ),
    Table(
        "corrections_liens",
        (
            C("id", computed=True),
            C("activite_id", ref="activites", computed=True),
            C("element", required=True, pattern=r"^\d+\.\d+\.\d+$"),
            C("lien", required=True, choices=ARRAYS_OF_ACTIVITIES),
            C("cible", required=True),
            C("operation", required=True, choices=("ajout", "exclusion", "mention")),
            C("raison", required=True),
            C("appui_citation", quote=True),
        ),
        indexes=(("activite_id",),),
        singular="correction",
        source=Source("liens.yml", citation_required=True),
    ),
    Table(
        "dependances",
        (
            C("id", computed=True),
            C("element", required=True, pattern=r"^\d+\.\d+\.\d+$"),
            C("element_id", computed=True),
            C("depend_de", required=True, pattern=r"^\d+\.\d+(\.\d+)?$"),
            C("depend_de_id", computed=True),
        ),
        indexes=(("element_id",),),
        source=Source("dependances.yml", citation_required=True),
    ),
    Table(
        "lignes",
        (C("plan_id", ref="plans"), C("numero", INT), C("texte", markup=True)),
        pk=("plan_id", "numero"),
    ),
    Table(
        "suivi",
        (
            C("id"),
            C("plan_id", ref="plans"),
            C("element"),
            C("niveau"),
            C("element_id"),
            C("objectif_id", ref="objectifs"),
            C("action_id", ref="actions"),
            C("activite_id", ref="activites"),
            C("statut", ref="statuts"),
            C("source"),
            C("regle"),
            C("date", date=True),
            C("date_fin", date=True),
            C("avancement", INT),
            C("citation", markup=True),
            C("note"),
            C("preuve"),
            C("par"),
            C("fichier"),
            C("ligne", INT),
            C("rang", INT),
        ),
        indexes=(("element_id", "rang"), ("objectif_id",)),
    ),
    *(
        Table(
            f"activites_{name}",
            (
                C("activite_id", ref="activites"),
                C(key, ref=name),
                C("terme"),
                *((C("nature"),) if name == "pays" else ()),
                C("origine"),
                C("correction_id", ref="corrections_liens"),
            ),
            pk=("activite_id", key),
            indexes=((key,),),
        )
        for name, key in (
            ("organisations", "organisation_id"),
            ("pays", "pays_id"),
            ("instruments", "instrument_id"),
            ("themes", "theme_id"),
        )
    ),
    Table(
        "sources",
        (C("fichier"), C("type"), C("plan_id", ref="plans"), C("sha256"), C("octets", INT), C("lignes", INT)),
        pk="fichier",
    ),
    Table("construction", (C("cle"), C("valeur")), pk="cle"),
    Table("calculs", (C("nom"), C("ordre", INT), C("sql")), pk="nom"),  # the rollups' SQL (rollups.py)
    # The data dictionary (data_dictionary.py), written last: it describes every table, itself included.
    Table(
        "dictionnaire_tables",
        (
            C("table"),
            C("titre"),
            C("description"),
            C("nature"),
            C("lignes", INT),
            C("nb_colonnes", INT),
            C("ordre", INT),
        ),
        pk="table",
    ),
    Table(
        "dictionnaire",
        (
            C("table", ref="dictionnaire_tables"),
            C("colonne"),
            C("position", INT),
            C("type"),
            C("type_sql"),
            C("cle_primaire", INT),
            C("description"),
            C("exemple"),
            C("renvoie_a", ref="dictionnaire_tables"),
            C("valeurs_permises"),
            C("ordre", INT),
        ),
        pk=("table", "colonne"),
        indexes=(("ordre",),),
    ),
    Table(
        "notes_internes",
        (
            C("id"),
            C("date"),
            C("organisation_id", ref="organisations"),
            C("plan_id", ref="plans"),
            C("element"),
            C("action_id", ref="actions"),
            C("activite_id", ref="activites"),
            C("sensibilite"),
            C("note"),
            C("fichier"),
            C("ligne", INT),
        ),
        fts=("note",),
        private=True,
    ),
)


def _tables() -> tuple[Table, ...]:
    expanded = [_expand(t) for t in _DECLARED]
    by_name = {t.name: t for t in expanded}
    result: list[Table] = []
    for t in expanded:
        result.append(t)
        result.extend(_links_of(t, by_name))
    return tuple(result)


ALL_TABLES: tuple[Table, ...] = _tables()
TABLES: tuple[Table, ...] = tuple(t for t in ALL_TABLES if not t.private)  # the public database
PRIVATE_TABLES: tuple[Table, ...] = tuple(t for t in ALL_TABLES if t.private)  # and the staff one's extra
BY_NAME: dict[str, Table] = {t.name: t for t in ALL_TABLES}
SOURCED: tuple[Table, ...] = tuple(t for t in TABLES if t.source)  # in dependency order
MARKUP: dict[str, tuple[str, ...]] = {t.name: t.markup_columns for t in ALL_TABLES if t.markup_columns}
CODELISTS: frozenset[str] = frozenset(t.name for t in TABLES if t.codelist)
# JSON arrays of ids: (table, column) -> the table of the ids.
ARRAYS: dict[tuple[str, str], str] = {(t.name, c.name): c.items for t in ALL_TABLES for c in t.columns if c.items}
# Lines of the plan: table -> its columns that give a line of the plan its plan_id names.
LINES: dict[str, frozenset[str]] = {
    t.name: frozenset(c.name for c in t.columns if c.line) for t in ALL_TABLES if any(c.line for c in t.columns)
}
LINE_NAMES: frozenset[str] = frozenset().union(*LINES.values())  # the same, by name, for the rollups
# The activities' links to what their words name: (link table, key column, table, array column).
ACTIVITY_LINKS: tuple[tuple[str, str, str, str], ...] = tuple(
    (f"activites_{name}", BY_NAME[name].key_column, name, name) for name in ARRAYS_OF_ACTIVITIES
)


def _by_column_name(kind) -> dict[str, str]:
    """Column name -> table, for names that mean the same table wherever they appear: ``kind(column)``
    gives the table (None: the column is no such reference)."""
    seen: dict[str, set] = {}
    for t in ALL_TABLES:
        for c in t.columns:
            seen.setdefault(c.name, set()).add(kind(c))
    return {name: next(iter(v)) for name, v in sorted(seen.items()) if len(v) == 1 and None not in v}


# Foreign keys by column name (``action_id``, ``pays_id``…): the rollups' keys and the links of query results.
KEYS: dict[str, str] = _by_column_name(lambda c: c.ref)
# JSON arrays of ids by column name (``pays``, ``themes``…), for the rollups that copy them.
ARRAY_KEYS: dict[str, str] = _by_column_name(lambda c: c.items)
