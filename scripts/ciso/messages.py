"""French for the error messages visitors can meet: Datasette's, SQLite's and our own.

One place, used by the error page, the SQL query page and every JSON error answer, so a
visitor and a journalist's script read the same words. An unknown message is returned
unchanged (SQLite has hundreds; the common ones are here).
"""

from __future__ import annotations

from .site import SETTINGS

TITLES = {
    "Forbidden": "Accès refusé",
    "Invalid SQL": "SQL invalide",
    "SQL Interrupted": "Requête SQL interrompue",
}
STATUS_TITLES = {
    400: "Requête invalide",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non permise",
    429: "Trop de tentatives",
    500: "Erreur interne du serveur",
}
EXACT = {
    "404": "La page demandée n'existe pas.",
    "Table not found": "Cette table n'existe pas.",
    "Database not found": "Cette base de données n'existe pas.",
    "Record not found": "Cette ligne n'existe pas.",
    "No data": "Aucune donnée.",
    "Invalid database": "Base de données invalide.",
    "Permission denied": "Permission refusée.",
    "You do not have permission to view this table": "Vous n'avez pas la permission de voir cette table.",
    "You do not have permission to view this database": "Vous n'avez pas la permission de voir cette base de données.",
    "You do not have permission to view this query": "Vous n'avez pas la permission de voir cette requête.",
    "Database download is forbidden": "Le téléchargement de la base de données est interdit.",
    "Cannot download database": "Impossible de télécharger la base de données.",
    "Cannot download in-memory databases": "Impossible de télécharger une base de données en mémoire.",
    "Database is immutable": "La base de données est en lecture seule.",
    "Cannot search by that column": "Impossible de chercher dans cette colonne.",
    "Cannot use _sort and _sort_desc at the same time": "Impossible d'utiliser _sort et _sort_desc en même temps.",
    "_facet= is not allowed": "Le paramètre _facet= n'est pas permis.",
    "_where= is not allowed": "Le paramètre _where= n'est pas permis.",
    "_size must be a positive integer": "_size doit être un entier positif.",
    "CSV streaming is disabled": "L'exportation CSV en continu est désactivée.",
    "_next not allowed for CSV streaming": "_next n'est pas permis pour l'exportation CSV en continu.",
    "Invalid _through - could not find corresponding foreign key": (
        "_through invalide : aucune clé étrangère ne relie ces tables."
    ),
    "Statement must be a SELECT": "La requête doit être un SELECT.",
    "incomplete input": "Requête incomplète.",
    "string or blob too big": (
        "Valeur trop longue : une requête ne peut pas construire de texte ou de blob de plus de 1 Mo."
    ),
    "out of memory": "La requête demande trop de mémoire ; simplifiez-la ou ajoutez une limite (LIMIT).",
    "user-defined function raised exception": (
        "Fonction refusée sur ce site (fts3_tokenizer, load_extension, ou printf avec plus de "
        "10 000 répétitions d'un caractère)."
    ),
    "You can only execute one statement at a time.": "Une seule instruction SQL à la fois.",
    "statement too long": "Requête SQL trop longue (au plus 50 000 caractères).",
    "too many columns in result set": "Trop de colonnes dans le résultat (au plus 100).",
    "parser stack overflow": "Requête trop imbriquée.",
    "LIKE or GLOB pattern too complex": "Motif LIKE ou GLOB trop long (au plus 1 000 caractères).",
    "too many SQL variables": "Trop de paramètres dans la requête (au plus 100).",
    "Python int too large to convert to SQLite INTEGER": "Nombre trop grand pour SQLite (au plus 2⁶³ − 1).",
}
# Datasette's 403 gives the permission's name (view-instance…) as the message: what it would allow, in French.
PERMISSIONS = {
    "view-instance": "voir ce site",
    "view-database": "voir cette base de données",
    "view-database-download": "télécharger cette base de données",
    "view-table": "voir cette table",
    "view-query": "voir cette requête",
    "execute-sql": "exécuter du SQL sur cette base",
    "permissions-debug": "voir le débogage des permissions",
    "debug-menu": "voir le menu de débogage",
}
EXACT.update({name: f"Accès refusé : il faut la permission de {what}." for name, what in PERMISSIONS.items()})
EXACT["view-instance"] = "Ce site est réservé à l'équipe du CISO : il faut être connecté pour le voir."
# Datasette says « Database not found » for any address it cannot place (/nexistepas, /-/nexistepas):
# the 404 page says which address instead (not_found_fr).
NOT_FOUND = ("Database not found", "404", "Not found", "Not Found")
PREFIXES = (
    ("Cannot sort table by ", "Impossible de trier la table par « {} » : cette colonne n'existe pas."),
    ("_size must be <= ", "_size doit être inférieur ou égal à {}."),
    ("no such table: ", "Table inexistante : {}"),
    ("no such column: ", "Colonne inexistante : {}"),
    ("no such function: ", "Fonction inexistante : {}"),
    ("wrong number of arguments to function ", "Mauvais nombre d'arguments pour la fonction {}"),
    ("too many terms in compound SELECT", "Trop de SELECT combinés (au plus 50)."),
    ("Expression tree is too large", "Expression trop imbriquée (profondeur maximale 100)."),
    ("too many arguments on function ", "Trop d'arguments pour la fonction {} (au plus 64)."),
    ("ambiguous column name: ", "Nom de colonne ambigu : {}"),
    ("_col=", "Colonne inconnue dans _col={}"),
    ("_nocol=", "Colonne inconnue ou clé primaire dans _nocol={}"),
)
DISALLOWED_PRAGMA = "Statement contained a disallowed PRAGMA. Allowed pragma functions are "
TOO_SLOW = "<p>SQL query took too long."
# Messages that Datasette raises with status 500 although the visitor's parameters caused them.
CLIENT_ERRORS_AS_500 = ("Cannot sort table by ", "Cannot use _sort and _sort_desc", "Invalid _through")


def title_fr(title: str | None, status: int) -> str:
    if title:
        return TITLES.get(title, title)
    return STATUS_TITLES.get(status, f"Erreur {status}")


def message_fr(message) -> str:
    """French for one of Datasette's or SQLite's messages (unchanged when unknown)."""
    message = str(message or "")
    if message in EXACT:
        return EXACT[message]
    if message.startswith(TOO_SLOW):
        limit = SETTINGS["sql_time_limit_ms"]
        return (
            f"La requête SQL a pris trop de temps : elle est interrompue au-delà de {limit} ms. "
            "Simplifiez-la, ajoutez une limite (LIMIT), ou téléchargez la base entière."
        )
    if message.startswith(DISALLOWED_PRAGMA):
        return (
            f"La requête contient un PRAGMA interdit. Fonctions pragma permises : {message[len(DISALLOWED_PRAGMA) :]}"
        )
    if message.startswith('near "') and message.endswith('": syntax error'):
        return f"Erreur de syntaxe près de « {message[6:-15]} »."
    for prefix, french in PREFIXES:
        if message.startswith(prefix):
            rest = message[len(prefix) :]
            if prefix in ("_col=", "_nocol="):
                rest = rest.split(" - ")[0]
            return french.format(rest)  # (format ignores the argument when there is no {})
    return message


def not_found_fr(message, path: str) -> str | None:
    """The 404 message that names the address nothing answers, for Datasette's vague ones; else None."""
    if str(message or "") in NOT_FOUND:
        return f"Aucune page à l'adresse {path}."
    return None


def is_client_error(message) -> bool:
    return str(message or "").startswith(CLIENT_ERRORS_AS_500)
