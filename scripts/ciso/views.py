"""SQL views stored in the database: one definition for pages, JSON and journalists.

Progress rules (documented in metadata.yml too):

* the latest statement wins (``suivi.rang``: the plan's statements first, then
  updates by date and log line);
* an activity takes the latest statement about itself or about its action;
* an action takes the latest statement about itself, otherwise one derived
  from its activities (all done -> done; some started or done -> ongoing; all
  cancelled / postponed / conditional -> the same; otherwise planned);
* the unit counted in the rollups is the *element*: each activity, plus each
  action that has no activity;
* with no statement, the status is ``prevu`` and ``sans_suivi`` is 1.

``statut_activites`` and ``statut_actions`` also carry the JSON id arrays
(``pays``, ``organisations``, ``instruments``, ``themes``) of their rows, so
staff can facet the current status by country, organisation, instrument or theme.
"""

from __future__ import annotations

STATUS_COUNTS = """
    count(e.element_id) as nb_elements,
    coalesce(sum(e.statut = 'prevu'), 0) as nb_prevu,
    coalesce(sum(e.statut = 'conditionnel'), 0) as nb_conditionnel,
    coalesce(sum(e.statut = 'en_cours'), 0) as nb_en_cours,
    coalesce(sum(e.statut = 'realise'), 0) as nb_realise,
    coalesce(sum(e.statut = 'reporte'), 0) as nb_reporte,
    coalesce(sum(e.statut = 'annule'), 0) as nb_annule,
    coalesce(sum(e.sans_suivi), 0) as nb_sans_suivi,
    round(1.0 * coalesce(sum(e.statut = 'realise'), 0) / max(count(e.element_id), 1), 4) as part_realise
"""

VIEWS: dict[str, str] = {
    "statut_activites": """
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
)
select
    a.id as activite_id, a.plan_id, a.objectif_id, a.action_id, a.numero, a.texte, a.ligne,
    coalesce(s.statut, 'prevu') as statut,
    st.libelle as statut_libelle,
    s.niveau as statut_de,
    (s.id is null) as sans_suivi,
    s.id as suivi_id, s.source, s.date, s.date_fin, s.avancement, s.citation, s.note, s.preuve,
    s.fichier as suivi_fichier, s.ligne as suivi_ligne,
    a.pays, a.organisations, a.instruments, a.themes,
    a.ordre
from activites a
left join choix c on c.activite_id = a.id
left join suivi s on s.id = c.suivi_id
left join statuts st on st.id = coalesce(s.statut, 'prevu')
""",
    "statut_actions": """
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
        sum(statut = 'prevu') as n_prevu,
        sum(statut = 'conditionnel') as n_conditionnel,
        sum(statut = 'en_cours') as n_en_cours,
        sum(statut = 'realise') as n_realise,
        sum(statut = 'reporte') as n_reporte,
        sum(statut = 'annule') as n_annule,
        sum(sans_suivi) as n_sans_suivi
    from statut_activites group by action_id
),
calcul as (
    select
        ac.id as action_id, ac.plan_id, ac.objectif_id, ac.numero, ac.titre, ac.ligne, ac.nb_activites,
        s.id as suivi_id,
        case
            when s.id is not null then s.statut
            when c.n is null then 'prevu'
            when c.n_realise = c.n then 'realise'
            when c.n_annule = c.n then 'annule'
            when c.n_realise + c.n_en_cours > 0 then 'en_cours'
            when c.n_reporte = c.n then 'reporte'
            when c.n_conditionnel = c.n then 'conditionnel'
            else 'prevu'
        end as statut,
        case
            when s.id is not null then 'action'
            when c.n is not null and c.n_sans_suivi < c.n then 'activites'
        end as statut_de,
        (s.id is null and coalesce(c.n_sans_suivi, 0) = coalesce(c.n, 0)) as sans_suivi,
        coalesce(c.n_prevu, 0) as nb_prevu,
        coalesce(c.n_conditionnel, 0) as nb_conditionnel,
        coalesce(c.n_en_cours, 0) as nb_en_cours,
        coalesce(c.n_realise, 0) as nb_realise,
        coalesce(c.n_reporte, 0) as nb_reporte,
        coalesce(c.n_annule, 0) as nb_annule,
        ac.pays, ac.organisations, ac.instruments, ac.themes,
        ac.ordre
    from actions ac
    left join propre p on p.element_id = ac.id
    left join suivi s on s.id = p.suivi_id
    left join comptes c on c.action_id = ac.id
)
select
    calcul.action_id, calcul.plan_id, calcul.objectif_id, calcul.numero, calcul.titre, calcul.ligne,
    calcul.nb_activites, calcul.statut, st.libelle as statut_libelle, calcul.statut_de, calcul.sans_suivi,
    calcul.suivi_id, s.source, s.date, s.date_fin, s.avancement, s.citation, s.note, s.preuve,
    calcul.nb_prevu, calcul.nb_conditionnel, calcul.nb_en_cours, calcul.nb_realise, calcul.nb_reporte,
    calcul.nb_annule, calcul.pays, calcul.organisations, calcul.instruments, calcul.themes, calcul.ordre
from calcul
left join suivi s on s.id = calcul.suivi_id
left join statuts st on st.id = calcul.statut
""",
    "statut_elements": """
select activite_id as element_id, 'activite' as niveau, plan_id, objectif_id, action_id, numero,
       texte as libelle, ligne, statut, statut_libelle, statut_de, sans_suivi, suivi_id, source, date, ordre
from statut_activites
union all
select action_id, 'action', plan_id, objectif_id, action_id, numero,
       titre, ligne, statut, statut_libelle, statut_de, sans_suivi, suivi_id, source, date, ordre
from statut_actions where nb_activites = 0
""",
    "avancement_objectifs": f"""
select
    o.id as objectif_id, o.plan_id, o.numero, o.titre,
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
    {STATUS_COUNTS},
    (select max(s.date) from suivi s where s.plan_id = p.id and s.source != 'plan')
        as derniere_mise_a_jour,
    (select count(*) from suivi s where s.plan_id = p.id and s.source != 'plan') as nb_mises_a_jour
from plans p
left join statut_elements e on e.plan_id = p.id
group by p.id
order by p.id
""",
    "financements_par_statut": """
select st.id as statut, st.libelle, count(f.id) as nombre
from statuts_financement st
left join financements f on f.statut = st.id
group by st.id
order by case st.id when 'obtenu' then 1 when 'en_attente' then 2 when 'vise' then 3 else 4 end
""",
    "pays_partenaires": """
select
    p.id as pays_id, p.nom, p.code_numerique,
    (select count(*) from activites_pays ap where ap.pays_id = p.id) as nb_activites,
    (select count(*) from organisations o where o.pays_id = p.id and o.id != 'ciso') as nb_organisations,
    (select count(*) from partenariats pa join organisations o on o.id = pa.organisation_id
        where o.pays_id = p.id) as nb_partenariats,
    (select count(*) from positions_pays pp where pp.pays_id = p.id) as nb_positions
from pays p
order by nb_activites desc, p.nom
""",
}
