"""The rollups: tables computed at build time, one SQL definition each, for pages, JSON and journalists.

``load.materialise`` runs each query once at build time into a table of the same name
(indexed; the published database is read-only, so they never go stale), declares its foreign
keys (``keys``: by column name from the data model, plus ``KEYS`` below where a name means
different tables in different places), and publishes the SQL in the ``calculs`` table, so
anyone can recompute and compare. Datasette then labels and links their columns itself.

Progress rules (documented in metadata.yml and docs/regles-de-lecture.md too):

* the latest statement wins (``suivi.rang``: the plan's statements first, then
  updates by date and log line);
* an activity takes the latest statement about itself or about its action;
* an action takes the latest statement about itself, otherwise one derived
  from its activities (all done -> done; all cancelled -> cancelled; any without
  a report once due -> sans_bilan; some started or done -> ongoing; all postponed
  / conditional -> the same; otherwise planned);
* time: every element is due at the end of its plan's period (``periodes``), or at
  the earlier end date its statement gives (``date_fin``). Once the reference date
  (``periodes.date_reference``, the day of the build) is past that day, an element
  whose latest statement is still « prévu », « conditionnel » or « en cours », and
  was made before then, is ``sans_bilan`` (« Sans bilan publié »): no source says
  what became of it. ``statut_declare`` keeps what the sources last said;
* the unit counted in the rollups is the *element*: each activity, plus each
  action that has no activity;
* with no statement, the declared status is ``prevu`` and ``sans_suivi`` is 1.

``statut_activites`` and ``statut_actions`` also carry the JSON id arrays
(``pays``, ``organisations``, ``instruments``, ``themes``) of their rows, so
staff can facet the current status by country, organisation, instrument or theme.
"""

from __future__ import annotations

COUNTED = ("prevu", "conditionnel", "en_cours", "realise", "reporte", "annule", "sans_bilan")
STATUS_COUNTS = (
    "\n    count(e.element_id) as nb_elements,\n"
    + "".join(f"    coalesce(sum(e.statut = '{s}'), 0) as nb_{s},\n" for s in COUNTED)
    + """    coalesce(sum(e.sans_suivi), 0) as nb_sans_suivi,
    round(1.0 * coalesce(sum(e.statut = 'realise'), 0) / max(count(e.element_id), 1), 4) as part_realise
"""
)


def _due(statement: str, period: str) -> str:
    """SQL: the status at the reference date, from a statement alias and a ``periodes`` alias."""
    return f"""case
        when {period}.date_reference > coalesce({statement}.date_fin, {period}.fin)
            and coalesce({statement}.statut, 'prevu') in ('prevu', 'conditionnel', 'en_cours')
            and ({statement}.date is null or {statement}.date <= coalesce({statement}.date_fin, {period}.fin))
        then 'sans_bilan'
        else coalesce({statement}.statut, 'prevu')
    end"""


def _derived(suffix: str = "") -> str:
    """SQL: an action's status derived from the counts of its activities' statuses (``comptes``):
    the statuses at the reference date, or with ``suffix="_d"`` the declared ones."""

    def n(status: str) -> str:
        return f"c.n_{status}{suffix}"

    late = "" if suffix else f"when {n('sans_bilan')} > 0 then 'sans_bilan'"
    return f"""case
            when {n("realise")} = c.n then 'realise'
            when {n("annule")} = c.n then 'annule'
            {late}
            when {n("realise")} + {n("en_cours")} > 0 then 'en_cours'
            when {n("reporte")} = c.n then 'reporte'
            when {n("conditionnel")} = c.n then 'conditionnel'
            else 'prevu'
        end"""


# Countries with the counts of the map and tables of /-/transparence. ``pays_partenaires``: the countries
# where CISO works or has partners, as the plan says (pays.relation); ``autres_pays``: CISO's own country
# and those the plan only names. ``nb_activites_travail`` counts the activities that take place there or
# with partners there; ``nb_activites`` every activity that names the country, mentions included.
PAYS = """
select
    p.id as pays_id, p.nom, p.code_numerique, p.relation,
    (select count(*) from activites_pays ap where ap.pays_id = p.id and ap.nature = 'travail') as nb_activites_travail,
    (select count(*) from activites_pays ap where ap.pays_id = p.id) as nb_activites,
    (select count(*) from organisations o where o.pays_id = p.id and o.id != 'ciso') as nb_organisations,
    (select count(*) from partenariats pa join organisations o on o.id = pa.organisation_id
        where o.pays_id = p.id) as nb_partenariats,
    (select count(*) from positions_pays pp where pp.pays_id = p.id) as nb_positions,
    p.relation_citation, p.relation_citation_ligne, p.plan_id
from pays p
where {where}
order by nb_activites_travail desc, nb_activites desc, p.nom
"""

ROLLUPS: dict[str, str] = {
    "statut_activites": f"""
with candidats as (
    select a.id as activite_id, s.id as suivi_id, s.rang
    from activites a join suivi s on s.element_id = a.id
    union all
    select a.id, s.id, s.rang
    from activites a join suivi s on s.element_id = a.action_id
),
choix as (
    select activite_id, suivi_id from (
        select activite_id, suivi_id,
               row_number() over (partition by activite_id order by rang desc) as n
        from candidats
    ) where n = 1
),
base as (
    select
        a.id as activite_id, a.plan_id, a.objectif_id, a.action_id, a.numero, a.texte, a.texte_markup, a.ligne,
        {_due("s", "pe")} as statut,
        coalesce(s.statut, 'prevu') as statut_declare,
        s.niveau as statut_de,
        (s.id is null) as sans_suivi,
        coalesce(s.date_fin, pe.fin) as echeance,
        pe.date_reference,
        s.id as suivi_id, s.source, s.regle, s.date, s.date_fin, s.avancement, s.citation, s.citation_markup,
        s.note, s.preuve, s.fichier as suivi_fichier, s.ligne as suivi_ligne,
        a.pays, a.organisations, a.instruments, a.themes,
        a.ordre
    from activites a
    join periodes pe on pe.plan_id = a.plan_id
    left join choix c on c.activite_id = a.id
    left join suivi s on s.id = c.suivi_id
)
select
    b.activite_id, b.plan_id, b.objectif_id, b.action_id, b.numero, b.texte, b.texte_markup, b.ligne,
    b.statut, st.libelle as statut_libelle, b.statut_declare, sd.libelle as statut_declare_libelle,
    b.statut_de, b.sans_suivi, b.echeance, b.date_reference,
    b.suivi_id, b.source, b.regle, b.date, b.date_fin, b.avancement, b.citation, b.citation_markup,
    b.note, b.preuve, b.suivi_fichier, b.suivi_ligne,
    d.depend_de, d.depend_de_id,
    coalesce(dep.statut_declare, (select s2.statut from suivi s2 where s2.element_id = d.depend_de_id
        order by s2.rang desc limit 1)) as depend_de_statut,
    d.citation as depend_de_citation, d.note as depend_de_note,
    b.pays, b.organisations, b.instruments, b.themes,
    b.ordre
from base b
left join statuts st on st.id = b.statut
left join statuts sd on sd.id = b.statut_declare
left join dependances d on d.element_id = b.activite_id
left join base dep on dep.activite_id = d.depend_de_id
""",
    "statut_actions": f"""
with propre as (
    select element_id, suivi_id from (
        select element_id, id as suivi_id,
               row_number() over (partition by element_id order by rang desc) as n
        from suivi where niveau = 'action'
    ) where n = 1
),
comptes as (
    select action_id,
        count(*) as n,
        {", ".join(f"sum(statut = '{x}') as n_{x}" for x in COUNTED)},
        {", ".join(f"sum(statut_declare = '{x}') as n_{x}_d" for x in COUNTED)},
        sum(sans_suivi) as n_sans_suivi,
        sum(depend_de is not null) as n_dependantes
    from statut_activites group by action_id
),
calcul as (
    select
        ac.id as action_id, ac.plan_id, ac.objectif_id, ac.numero, ac.titre, ac.titre_markup, ac.ligne,
        ac.nb_activites,
        s.id as suivi_id,
        case
            when s.id is not null then {_due("s", "pe")}
            when c.n is null then {_due("s", "pe")}
            else {_derived()}
        end as statut,
        case
            when s.id is not null or c.n is null then coalesce(s.statut, 'prevu')
            else {_derived("_d")}
        end as statut_declare,
        case
            when s.id is not null then 'action'
            when c.n is not null and c.n_sans_suivi < c.n then 'activites'
        end as statut_de,
        (s.id is null and coalesce(c.n_sans_suivi, 0) = coalesce(c.n, 0)) as sans_suivi,
        case when s.id is not null or c.n is null then coalesce(s.date_fin, pe.fin) else pe.fin end as echeance,
        pe.date_reference,
        {", ".join(f"coalesce(c.n_{x}, 0) as nb_{x}" for x in COUNTED)},
        coalesce(c.n_dependantes, 0) as nb_dependantes,
        ac.pays, ac.organisations, ac.instruments, ac.themes,
        ac.ordre
    from actions ac
    join periodes pe on pe.plan_id = ac.plan_id
    left join propre p on p.element_id = ac.id
    left join suivi s on s.id = p.suivi_id
    left join comptes c on c.action_id = ac.id
)
select
    calcul.action_id, calcul.plan_id, calcul.objectif_id, calcul.numero, calcul.titre, calcul.titre_markup,
    calcul.ligne, calcul.nb_activites, calcul.statut, st.libelle as statut_libelle,
    calcul.statut_declare, sd.libelle as statut_declare_libelle, calcul.statut_de,
    calcul.sans_suivi, calcul.echeance, calcul.date_reference, calcul.suivi_id, s.source, s.regle, s.date,
    s.date_fin, s.avancement, s.citation, s.citation_markup, s.note, s.preuve,
    {", ".join(f"calcul.nb_{x}" for x in COUNTED)}, calcul.nb_dependantes,
    calcul.pays, calcul.organisations, calcul.instruments, calcul.themes, calcul.ordre
from calcul
left join suivi s on s.id = calcul.suivi_id
left join statuts st on st.id = calcul.statut
left join statuts sd on sd.id = calcul.statut_declare
""",
    "statut_elements": """
select activite_id as element_id, 'activite' as niveau, plan_id, objectif_id, action_id, numero,
       texte as libelle, ligne, statut, statut_libelle, statut_declare, statut_de, sans_suivi, echeance,
       suivi_id, source, date, ordre
from statut_activites
union all
select action_id, 'action', plan_id, objectif_id, action_id, numero,
       titre, ligne, statut, statut_libelle, statut_declare, statut_de, sans_suivi, echeance,
       suivi_id, source, date, ordre
from statut_actions where nb_activites = 0
""",
    "avancement_objectifs": f"""
select
    o.id as objectif_id, o.plan_id, o.numero, o.titre, o.titre_markup,
    {STATUS_COUNTS},
    (select max(s.date) from suivi s where s.objectif_id = o.id and s.source != 'plan')
        as derniere_mise_a_jour,
    o.ordre
from objectifs o
left join statut_elements e on e.objectif_id = o.id
group by o.id
order by o.ordre
""",
    "avancement_plans": f"""
select
    p.id as plan_id, p.titre, p.debut, p.fin,
    pe.nature as periode_nature, pe.origine as periode_origine, pe.terminee as periode_terminee, pe.date_reference,
    {STATUS_COUNTS},
    (select max(s.date) from suivi s where s.plan_id = p.id and s.source != 'plan')
        as derniere_mise_a_jour,
    (select count(*) from suivi s where s.plan_id = p.id and s.source != 'plan') as nb_mises_a_jour
from plans p
join periodes pe on pe.plan_id = p.id
left join statut_elements e on e.plan_id = p.id
group by p.id
order by p.id
""",
    "financements_par_statut": """
select st.id as statut, st.libelle, count(f.id) as nombre
from statuts_financement st
left join financements f on f.statut = st.id
group by st.id
order by st.ordre
""",
    "pays_partenaires": PAYS.format(where="p.relation = 'partenaires'"),
    "autres_pays": PAYS.format(where="p.relation != 'partenaires'"),
}

# The pages of places and partners (/-/pays, /-/organisations, /-/regions): how many activities of each
# current status (and last declared status) name a country, an organisation or a country of a region —
# one row per pair of statuses found, in status order. ``nb_activites_travail`` (countries and regions): those that take place there or with
# partners there (activites_pays.nature = 'travail'), mentions aside.
_BY_STATUS = """
select {key}, {name} as nom, s.statut, st.libelle as statut_libelle, st.couleur, st.ordre as statut_ordre,
    s.statut_declare, sd.libelle as statut_declare_libelle,
    count(distinct s.activite_id) as nb_activites{extra}
from {links}
join statut_activites s on s.activite_id = l.activite_id
join statuts st on st.id = s.statut
join statuts sd on sd.id = s.statut_declare
group by {key}, s.statut, s.statut_declare
order by {key}, st.ordre, sd.ordre
"""
ROLLUPS["statut_par_pays"] = _BY_STATUS.format(
    key="l.pays_id",
    name="(select nom from pays where id = l.pays_id)",
    extra=",\n    count(distinct case when l.nature = 'travail' then s.activite_id end) as nb_activites_travail",
    links="activites_pays l",
)
ROLLUPS["statut_par_organisation"] = _BY_STATUS.format(
    key="l.organisation_id",
    name="(select libelle from organisations where id = l.organisation_id)",
    extra="",
    links="activites_organisations l",
)
ROLLUPS["statut_par_region"] = _BY_STATUS.format(
    key="rp.region_id",
    name="(select nom from regions where id = rp.region_id)",
    extra=",\n    count(distinct case when l.nature = 'travail' then s.activite_id end) as nb_activites_travail",
    links="regions_pays rp\njoin activites_pays l on l.pays_id = rp.pays_id",
)

# The progress chart's data (static/charts/avancement-objectifs.vl.json): one row per objective and
# status with elements, in long format, with the status's label and colour (table statuts).
ROLLUPS["avancement_objectifs_statuts"] = f"""
select o.objectif_id, o.plan_id, 'Objectif ' || o.numero as objectif, o.titre,
    st.id as statut, st.libelle as statut_libelle, st.couleur, st.ordre as statut_ordre,
    case st.id {" ".join(f"when '{s}' then o.nb_{s}" for s in COUNTED)} end as nombre,
    o.ordre
from avancement_objectifs o
cross join statuts st
where nombre > 0
order by o.ordre, st.ordre
"""

# Each activity on one line for allies' spreadsheets (export.py: the « Activités détaillées » sheet and
# activites_detaillees.csv): its objective and action with their titles, its current status, the names
# of the countries, organisations, instruments and themes linked to it, and the plan's file and line.
_NAMES = """(select group_concat({label}, ' ; ') from (
        select t.{label} from {link} x join {table} t on t.id = x.{key}
        where x.activite_id = a.id order by t.{label}))"""
ROLLUPS["activites_detaillees"] = f"""
select
    a.id as activite_id, a.plan_id,
    o.numero as objectif_numero, o.titre as objectif_titre,
    ac.numero as action_numero, ac.titre as action_titre,
    a.numero, a.texte,
    s.statut, s.statut_libelle, s.statut_declare, s.statut_declare_libelle, s.echeance, s.date_reference,
    {_NAMES.format(label="nom", link="activites_pays", table="pays", key="pays_id")} as pays_noms,
    {_NAMES.format(label="libelle", link="activites_organisations", table="organisations", key="organisation_id")}
        as organisations_noms,
    {_NAMES.format(label="libelle", link="activites_instruments", table="instruments", key="instrument_id")}
        as instruments_noms,
    {_NAMES.format(label="nom", link="activites_themes", table="themes", key="theme_id")} as themes_noms,
    p.fichier as plan_fichier, a.ligne as plan_ligne,
    a.ordre
from activites a
join objectifs o on o.id = a.objectif_id
join actions ac on ac.id = a.action_id
join plans p on p.id = a.plan_id
join statut_activites s on s.rowid = (select min(rowid) from statut_activites where activite_id = a.id)
order by a.ordre
"""

# --- IATI (see iati.py) ----------------------------------------------------------------------
# What the IATI file says about each action, and how complete it is. The export writes its
# elements from these rollups, and the self-assessment on /-/transparence counts their rows, so
# the file, the page and a journalist's query agree.

# IATI OrganisationType of a partner, from our type and its country (null when the mapping is
# not certain: governments, because we do not record national vs sub-national; funds; a civil
# society organisation whose country is unknown or neither Canada nor a recipient country).
_IATI_ORGANISATION_TYPE = """
case
    when o.type = 'fondation' then '60'
    when o.type = 'organisation_internationale' then '40'
    when o.type in ('organisation_intersyndicale', 'organisation_syndicale', 'organisation_societe_civile', 'reseau')
    then case
        when o.pays_id = (select pays_id from organisations where id = 'ciso') then '22'
        when o.pays_id in (select ip.pays_id from iati_pays ip where ip.action_id = {action}) then '24'
    end
end
"""

IATI_ROLLUPS: dict[str, str] = {
    # recipient-country: the countries where the action's activities take place or where CISO's partners
    # are (activites_pays.nature = 'travail'), except CISO's own; an activity that the plan makes conditional
    # (declared status « conditionnel ») does not count: nothing says it happens. With several countries,
    # IATI wants percentages (rule 3.1.2) that no source gives: the action is split equally between them, a
    # convention that the file and /-/transparence state (pourcentage is null for a single country).
    "iati_pays": """
with recus as (
    select s.action_id, ap.pays_id
    from activites_pays ap
    join statut_activites s on s.activite_id = ap.activite_id
    where ap.nature = 'travail' and s.statut_declare != 'conditionnel'
        and ap.pays_id is not (select pays_id from organisations where id = 'ciso')
    group by s.action_id, ap.pays_id
),
numerotes as (
    select action_id, pays_id,
        count(*) over (partition by action_id) as nb_pays,
        row_number() over (partition by action_id order by pays_id) as rang
    from recus
)
select ac.id as action_id, ac.plan_id, n.pays_id, p.nom, n.nb_pays,
    case when n.nb_pays > 1 then
        case when n.rang < n.nb_pays then round(100.0 / n.nb_pays, 2)
             else round(100 - round(100.0 / n.nb_pays, 2) * (n.nb_pays - 1), 2) end
    end as pourcentage,
    ac.ordre
from numerotes n
join actions ac on ac.id = n.action_id
join pays p on p.id = n.pays_id
order by ac.ordre, n.pays_id
""",
    # participating-org: implementing (4) = partnerships of co-coordination or collaboration on the
    # action; funding (1) = funding obtained (statut obtenu) for the action, with a named funder;
    # accountable (2) = CISO, whose plan it is.
    "iati_participants": f"""
select pa_a.action_id, ac.plan_id, pa.organisation_id, o.nom, cast(4 as integer) as code_role,
       'Mise en œuvre' as role_libelle, {_IATI_ORGANISATION_TYPE.format(action="pa_a.action_id")} as type_iati,
       'partenariat' as origine, pa.id as origine_id, ac.ordre
from partenariats pa
join partenariats_actions pa_a on pa_a.partenariat_id = pa.id
join actions ac on ac.id = pa_a.action_id
join organisations o on o.id = pa.organisation_id
where pa.role in ('co_coordination', 'collaboration') and pa.condition_citation is null
union all
select fa.action_id, ac.plan_id, f.organisation_id, o.nom, cast(1 as integer),
       'Financement', {_IATI_ORGANISATION_TYPE.format(action="fa.action_id")},
       'financement', f.id, ac.ordre
from financements f
join financements_actions fa on fa.financement_id = f.id
join actions ac on ac.id = fa.action_id
join organisations o on o.id = f.organisation_id
where f.statut = 'obtenu'
union all
select ac.id, ac.plan_id, o.id, o.nom, cast(2 as integer),
       'Responsabilité', (select valeur from parametres_iati where cle = 'type_organisation'),
       'organisation_declarante', null, ac.ordre
from actions ac
join organisations o on o.id = 'ciso'
order by ordre, code_role, nom
""",
    "iati_activites": """
select *,
    cast(debut is not null and fin is not null and debut <= fin as integer) as avec_dates,
    cast(not sans_suivi as integer) as avec_statut,
    cast(nb_mise_en_oeuvre + nb_financement > 0 as integer) as avec_partenaires,
    cast(nb_pays > 0 as integer) as avec_pays,
    cast(nb_secteurs > 0 as integer) as avec_secteur,
    cast(document is not null and ligne is not null as integer) as avec_document,
    cast(nb_resultats > 0 as integer) as avec_resultats,
    -- IATI rule 6.2.2 wants a sector: an action not (yet) classified is left out of the file, and said so
    cast(nb_secteurs > 0 as integer) as dans_le_fichier
from (
    select
        ac.id as action_id, ac.plan_id, ac.objectif_id, ac.numero, ac.titre,
        p.debut, p.fin,
        sa.statut, sa.statut_declare, coalesce(st.code_iati, sd.code_iati) as code_statut_iati, sa.sans_suivi,
        sa.echeance, sa.date_reference,
        (select count(distinct ip.organisation_id) from iati_participants ip
            where ip.action_id = ac.id and ip.code_role = 4) as nb_mise_en_oeuvre,
        (select count(distinct ip.organisation_id) from iati_participants ip
            where ip.action_id = ac.id and ip.code_role = 1) as nb_financement,
        (select count(*) from iati_pays ip where ip.action_id = ac.id) as nb_pays,
        (select count(*) from secteurs_actions se where se.action_id = ac.id) as nb_secteurs,
        json_array_length(ac.themes) as nb_themes,
        p.fichier as document, ac.ligne,
        0 as nb_resultats, -- no source records results (indicators, targets, actual values) yet
        ac.ordre
    from actions ac
    join plans p on p.id = ac.plan_id
    left join statut_actions sa on sa.action_id = ac.id
    left join statuts st on st.id = sa.statut
    left join statuts sd on sd.id = sa.statut_declare
)
order by ordre
""",
    "auto_evaluation_iati": """
with criteres(critere, ordre, colonne, libelle, explication) as (values
    ('dates', 1, 'avec_dates', 'Dates',
     'Début et fin prévus de l''action (activity-date, types 1 et 3). Ce sont les dates de la période du plan '
     || '(table periodes), une hypothèse tant qu''aucune source ne les donne : le plan ne date pas ses actions une à '
     || 'une. Pour faire mieux : une source des dates du plan (data/reference/periodes.yml), et noter au journal de '
     || 'suivi le début et la fin réels de chaque action.'),
    ('statut', 2, 'avec_statut', 'Statut suivi',
     'Un statut appuyé par une source — les mots du plan ou le journal de suivi — plutôt que « prévu » par '
     || 'défaut (activity-status). Pour faire mieux : inscrire l''avancement de chaque action au journal de '
     || 'suivi (ciso suivi ajouter).'),
    ('partenaires', 3, 'avec_partenaires', 'Partenaires',
     'Au moins une organisation de mise en œuvre (partenariat de co-coordination ou de collaboration) ou '
     || 'de financement (financement obtenu) liée à l''action (participating-org). Le CISO, responsable de '
     || 'chaque action, ne compte pas. Pour faire mieux : relier dans partenariats.yml et financements.yml '
     || 'chaque partenaire et bailleur aux actions qu''il concerne, citation du plan à l''appui.'),
    ('pays', 4, 'avec_pays', 'Pays bénéficiaires',
     'Au moins un pays bénéficiaire (recipient-country) : un pays, autre que celui du CISO, où se déroulent '
     || 'les activités de l''action ou où le CISO y travaille avec des partenaires, selon le plan. Une action menée '
     || 'au Québec n''en a pas, et c''est normal (avertissement 3.7.1).'),
    ('secteur', 5, 'avec_secteur', 'Secteur',
     'Un secteur du CAD de l''OCDE (sector, code à 5 chiffres), que la norme exige (règle 6.2.2) : une action '
     || 'sans secteur est laissée hors du fichier. C''est notre classement éditorial (data/reference/iati.yml), '
     || 'pas les mots du CISO.'),
    ('document', 6, 'avec_document', 'Document',
     'Un lien vers le document qui décrit l''action : sa ligne dans le plan publié (document-link, '
     || 'catégorie A02 « Objectifs / raison d''être de l''activité »).'),
    ('resultats', 7, 'avec_resultats', 'Résultats',
     'Des résultats mesurés : indicateurs, cibles et valeurs atteintes (result). Aucune de nos sources n''en '
     || 'contient encore, d''où zéro partout. Pour faire mieux : consigner, pour chaque action, les '
     || 'résultats attendus et obtenus.')
),
totaux as (
    select plan_id, count(*) as nb_actions,
        sum(avec_dates) as dates, sum(avec_statut) as statut, sum(avec_partenaires) as partenaires,
        sum(avec_pays) as pays, sum(avec_secteur) as secteur, sum(avec_document) as document,
        sum(avec_resultats) as resultats
    from iati_activites
    group by plan_id
),
comptes as (
    select t.plan_id, c.critere, c.ordre, c.colonne, c.libelle, c.explication, t.nb_actions,
        case c.critere
            when 'dates' then t.dates when 'statut' then t.statut when 'partenaires' then t.partenaires
            when 'pays' then t.pays when 'secteur' then t.secteur when 'document' then t.document
            when 'resultats' then t.resultats
        end as nb_actions_remplies
    from totaux t cross join criteres c
)
select plan_id, critere, libelle, explication, colonne, nb_actions_remplies, nb_actions,
    round(1.0 * nb_actions_remplies / max(nb_actions, 1), 4) as part, ordre
from comptes
order by plan_id, ordre
""",
}
ROLLUPS.update(IATI_ROLLUPS)

# --- /-/transparence ----------------------------------------------------------------------------
# The figures and lists of the overview and its section pages (/-/transparence/{section}), computed
# here once, so that a page reads one or two tables and a journalist the same numbers. ``transparence_chiffres``: each figure, and the table (with its
# filters, a JSON object of column = value) whose row count it is, so the page links every
# number to the rows that make it. ``transparence_listes`` and ``transparence_iati`` (the IATI
# section): each list the page shows, one row per item, a JSON object with the related names, in
# page order (``rang``).

LATEST_PLAN = "(select max(id) from plans)"


def _figure(key: str, section: str, label: str, table: str, where: str = "", filters: str = "'{}'") -> str:
    """SQL: one row of transparence_chiffres, counting ``table`` rows that match ``where``."""
    condition = f" where {where}" if where else ""
    return (
        f"select '{key}' as cle, '{section}' as section, {label} as libelle, "
        f"(select count(*) from [{table}]{condition}) as valeur, '{table}' as table_source, {filters} as filtres"
    )


_FIGURES = [
    _figure("financements", "financement", "'Financements nommés'", "financements"),
    # one per funding status, in the statuses' order
    """select * from (select 'financements.' || st.id, 'financement', st.libelle,
        (select count(*) from financements f where f.statut = st.id), 'financements', json_object('statut', st.id)
    from statuts_financement st order by st.ordre)""",
    _figure("partenariats", "partenaires", "'Partenariats'", "partenariats"),
    """select * from (select 'partenariats.' || r.id, 'partenaires', r.libelle,
        (select count(*) from partenariats pa where pa.role = r.id), 'partenariats', json_object('role', r.id)
    from roles_partenariat r where exists (select 1 from partenariats pa where pa.role = r.id) order by r.libelle)""",
    _figure(
        "organisations",
        "partenaires",
        "'Organisations autres que le CISO'",
        "organisations",
        "id != 'ciso'",
        "json_object('id__not', 'ciso')",
    ),
    _figure("pays", "partenaires", "'Pays nommés'", "pays"),
    _figure("pays_partenaires", "partenaires", "'Pays partenaires'", "pays_partenaires"),
    _figure("autres_pays", "partenaires", "'Autres pays nommés'", "autres_pays"),
    _figure("positions", "plaidoyer", "'Positions de plaidoyer'", "positions"),
    _figure("equipe", "gouvernance", "'Rôles de l''équipe'", "equipe"),
    _figure("instances", "gouvernance", "'Instances et comités'", "instances"),
    """select * from (select 'corrections.' || operation, 'lecture', operation, count(*), 'corrections_liens',
        json_object('operation', operation)
    from corrections_liens group by operation order by operation)""",
    _figure("sources", "sources", "'Fichiers sources'", "sources"),
    _figure("iati.activites", "iati", "'Activités IATI'", "iati_activites"),
    _figure("iati.regles", "iati", "'Règles IATI vérifiées'", "regles_iati"),
    _figure(
        "iati.erreurs",
        "iati",
        "'Erreurs'",
        "controles_iati",
        "gravite = 'erreur'",
        "json_object('gravite', 'erreur')",
    ),
    _figure(
        "iati.avertissements",
        "iati",
        "'Avertissements'",
        "controles_iati",
        "gravite = 'avertissement'",
        "json_object('gravite', 'avertissement')",
    ),
    _figure(
        "iati.non_classees",
        "iati",
        "'Actions sans secteur, plan le plus récent'",
        "iati_activites",
        f"avec_secteur = 0 and plan_id = {LATEST_PLAN}",
        f"json_object('avec_secteur', 0, 'plan_id', {LATEST_PLAN})",
    ),
    _figure("plans", "sources", "'Plans'", "plans"),
]

TRANSPARENCY_FIGURES = (
    "select cle, section, libelle, valeur, table_source, filtres, row_number() over () as ordre from (\n"
    + "\nunion all\n".join(_FIGURES)
    + "\n)"
)


def _list(name: str, sql: str) -> str:
    """SQL: the rows of one list of the page, each a JSON object (column ``objet`` of ``sql``), in order."""
    return f"select '{name}' as liste, row_number() over () as rang, objet from ({sql})"


_ACTIONS_OF = """json((select json_group_array(json_object('id', ac.id, 'numero', ac.numero)) from (
        select ac.id, ac.numero from {link} l join actions ac on ac.id = l.action_id
        where l.{own} = {alias}.id order by ac.ordre) ac))"""

_LISTS = {
    "financements": """select json_object(
        'id', f.id, 'nom', f.nom, 'sigle', f.sigle, 'organisation_id', f.organisation_id, 'organisation_nom', o.nom,
        'statut', f.statut, 'statut_libelle', st.libelle, 'remplace_par', f.remplace_par, 'remplace_par_nom', r.nom,
        'debut', f.debut, 'fin', f.fin, 'objet', f.objet, 'plan_id', f.plan_id, 'ligne', f.ligne,
        'citation_markup', f.citation_markup, 'note', f.note,
        'actions', """
    + _ACTIONS_OF.format(link="financements_actions", own="financement_id", alias="f")
    + """) as objet
    from financements f
    left join organisations o on o.id = f.organisation_id
    join statuts_financement st on st.id = f.statut
    left join financements r on r.id = f.remplace_par
    order by st.ordre, f.nom""",
    "partenariats": """select json_object(
        'id', pa.id, 'organisation_id', pa.organisation_id, 'organisation_nom', o.nom, 'sigle', o.sigle,
        'pays_id', o.pays_id, 'pays_nom', p.nom, 'role', pa.role, 'role_libelle', r.libelle, 'objet', pa.objet,
        'condition_citation', pa.condition_citation, 'condition_citation_markup', pa.condition_citation_markup,
        'condition_citation_ligne', pa.condition_citation_ligne, 'plan_id', pa.plan_id, 'ligne', pa.ligne,
        'citation_markup', pa.citation_markup, 'note', pa.note,
        'actions', """
    + _ACTIONS_OF.format(link="partenariats_actions", own="partenariat_id", alias="pa")
    + """) as objet
    from partenariats pa
    join organisations o on o.id = pa.organisation_id
    left join pays p on p.id = o.pays_id
    join roles_partenariat r on r.id = pa.role
    order by r.id, o.nom""",
    "positions": """select json_object(
        'id', po.id, 'titre', po.titre, 'cible', po.cible, 'cible_citation', po.cible_citation,
        'cible_citation_markup', po.cible_citation_markup, 'cible_citation_ligne', po.cible_citation_ligne,
        'plan_id', po.plan_id, 'ligne', po.ligne, 'citation_markup', po.citation_markup, 'note', po.note,
        'instruments', json((select json_group_array(json_object('id', i.id, 'titre', i.titre)) from (
            select i.id, i.titre from json_each(po.instruments) j join instruments i on i.id = j.value
            order by j.key) i)),
        'actions', json((select json_group_array(json_object(
                'id', ac.id, 'numero', ac.numero, 'titre_markup', ac.titre_markup, 'plan_id', ac.plan_id,
                'objectif', ac.objectif)) from (
            select ac.id, ac.numero, ac.titre_markup, ac.plan_id, o.numero as objectif
            from json_each(po.actions) j join actions ac on ac.id = j.value join objectifs o on o.id = ac.objectif_id
            order by j.key) ac)),
        'pays', json((select json_group_array(json_object('id', p.id, 'nom', p.nom)) from (
            select j.value as id, coalesce(p.nom, j.value) as nom from json_each(po.pays) j
            left join pays p on p.id = j.value order by j.key) p))
    ) as objet
    from positions po order by po.rowid""",
    "pays_partenaires": "select json_object('pays_id', pays_id, 'nom', nom, 'code_numerique', code_numerique, "
    "'relation', relation, 'nb_activites_travail', nb_activites_travail, 'nb_activites', nb_activites, "
    "'nb_organisations', nb_organisations, 'nb_partenariats', nb_partenariats, 'nb_positions', nb_positions, "
    "'relation_citation', relation_citation, 'relation_citation_ligne', relation_citation_ligne, "
    "'plan_id', plan_id) as objet from pays_partenaires order by rowid",
    "autres_pays": "select json_object('pays_id', pays_id, 'nom', nom, 'relation', relation, "
    "'nb_activites', nb_activites, 'relation_citation', relation_citation, "
    "'relation_citation_ligne', relation_citation_ligne, 'plan_id', plan_id) as objet from autres_pays order by rowid",
    "equipe": """select json_object('id', id, 'role', role, 'statut_emploi', statut_emploi, 'temps', temps,
        'debut', debut, 'fin', fin, 'plan_id', plan_id, 'ligne', ligne, 'citation_markup', citation_markup) as objet
    from equipe order by rowid""",
    "instances": """select json_object('id', id, 'intitule', intitule, 'sigle', sigle, 'type', type, 'etat', etat,
        'creation', creation, 'mandat', mandat, 'plan_id', plan_id, 'ligne', ligne,
        'citation_markup', citation_markup) as objet
    from instances order by type desc, rowid""",
    "regles_lecture": """select json_object('id', id, 'domaine', domaine, 'resultat', resultat,
        'formulation', formulation, 'explication', explication, 'nb_lectures', nb_lectures) as objet
    from regles_lecture order by ordre""",
    # every reference file, and the files of the five latest plans (all of them are in the sources table)
    "sources": """select json_object('fichier', fichier, 'type', type, 'plan_id', plan_id, 'sha256', sha256,
        'lignes', lignes) as objet
    from sources where type != 'plan' or plan_id in (select id from plans order by id desc limit 5)
    order by type, fichier""",
    "plans": """select json_object('id', id, 'titre', titre, 'fichier', fichier, 'sha256', sha256) as objet
    from plans order by id""",
}
_IATI_LISTS = {
    # IATI: the self-assessment and the sectors of the latest plan (the others are one link away)
    "iati_criteres": f"""select json_object('plan_id', plan_id, 'critere', critere, 'libelle', libelle,
        'explication', explication, 'colonne', colonne, 'nb_actions_remplies', nb_actions_remplies,
        'nb_actions', nb_actions, 'part', part) as objet
    from auto_evaluation_iati where plan_id = {LATEST_PLAN} order by ordre""",
    "iati_secteurs": f"""select json_object('id', s.id, 'code', s.code, 'libelle', s.libelle,
        'justification', s.justification, 'plan_id', s.plan_id, 'ligne', s.ligne, 'citation', s.citation,
        'citation_markup', s.citation_markup,
        'numeros', json((select json_group_array(numero) from (select ac.numero from secteurs_actions sa
            join actions ac on ac.id = sa.action_id where sa.secteur_id = s.id order by ac.ordre)))) as objet
    from secteurs s where s.plan_id = {LATEST_PLAN} order by s.code""",
    "iati_non_classees": f"""select json_object('action_id', action_id, 'plan_id', plan_id, 'numero', numero,
        'titre', titre) as objet
    from iati_activites where avec_secteur = 0 and plan_id = {LATEST_PLAN} order by ordre""",
    # the warnings the IATI validator would give, by rule, with the actions concerned
    "iati_avertissements": """select json_object('id', r.id, 'message', r.message, 'controle', r.controle,
        'correction', r.correction, 'nb_constats', r.nb_constats,
        'actions', json((select json_group_array(json_object('action_id', action_id, 'numero', numero,
                'plan_id', plan_id)) from (
            select distinct c.action_id, a.numero, a.plan_id, a.ordre from controles_iati c
            join actions a on a.id = c.action_id where c.regle_id = r.id order by a.ordre)))) as objet
    from regles_iati r where r.gravite = 'avertissement' and r.nb_constats > 0 order by r.ordre""",
    "iati_repartitions": """select json_object('action_id', action_id, 'nb_pays', nb_pays) as objet from (
        select distinct action_id, nb_pays, ordre from iati_pays where nb_pays > 1 order by ordre)""",
    "iati_statuts": """select json_object('id', id, 'libelle', libelle, 'code_iati', code_iati) as objet
    from statuts order by ordre""",
    "iati_parametres": """select json_object('cle', cle, 'valeur', valeur, 'origine', origine) as objet
    from parametres_iati order by cle""",
}

TRANSPARENCY_LISTS = "\nunion all\n".join(_list(name, sql) for name, sql in _LISTS.items())
IATI_LISTS = "\nunion all\n".join(_list(name, sql) for name, sql in _IATI_LISTS.items())
LISTS = (*_LISTS, *_IATI_LISTS)  # every list's name

# Computed after the IATI checks (load.py), which they count.
AFTER_CHECKS = ("transparence_chiffres", "transparence_listes", "transparence_iati")
ROLLUPS.update(zip(AFTER_CHECKS, (TRANSPARENCY_FIGURES, TRANSPARENCY_LISTS, IATI_LISTS), strict=True))

# Keys whose column name means a different table elsewhere (``statut``: a progress status here, a
# funding status in financements); every other key is found by its name (model.KEYS).
STATUS = {"statut": "statuts", "statut_declare": "statuts", "depend_de_statut": "statuts", "suivi_id": "suivi"}
KEYS: dict[str, dict[str, str]] = {
    "statut_activites": STATUS,
    "statut_actions": STATUS,
    "statut_elements": STATUS,
    "activites_detaillees": STATUS,
    "avancement_objectifs_statuts": STATUS,
    "statut_par_pays": STATUS,
    "statut_par_organisation": STATUS,
    "statut_par_region": STATUS,
    "iati_activites": STATUS,
    "financements_par_statut": {"statut": "statuts_financement"},
    "transparence_chiffres": {"table_source": "dictionnaire_tables"},
}


def keys(name: str, columns: list[str]) -> list[tuple[str, str]]:
    """(column, table) of each foreign key of a rollup: declared above, else by name (model.KEYS)."""
    from .model import KEYS as BY_NAME

    own = KEYS.get(name, {})
    return [(c, own.get(c) or BY_NAME[c]) for c in columns if c in own or c in BY_NAME]
