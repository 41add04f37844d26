"""When the build happens: ``SOURCE_DATE_EPOCH`` when set, else now.

The standard variable of reproducible builds (https://reproducible-builds.org/specs/source-date-epoch/):
with it, the same sources give the same bytes. The construction date, the downloads' dates (data
package, IATI ``generated-datetime``, zip entries), the IATI checks' "now" and the build's
"today" (``periods.reference_date``, unless ``CISO_DATE_REFERENCE`` sets it) all come from here.
"""

from __future__ import annotations

import datetime as dt
import os

from .problems import Problem, SourceError

EPOCH_ENV = "SOURCE_DATE_EPOCH"


def build_time(environ=None) -> dt.datetime:
    """The build's time, in UTC to the second."""
    value = (os.environ if environ is None else environ).get(EPOCH_ENV, "").strip()
    if not value:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    if not (value.isascii() and value.isdigit()):
        message = (
            f"« {value[:40]} » n'est pas un nombre de secondes depuis 1970 (par exemple : $(git log -1 --format=%ct))"
        )
        raise SourceError([Problem(f"variable d'environnement {EPOCH_ENV}", 0, message)])
    return dt.datetime.fromtimestamp(int(value), dt.UTC)
