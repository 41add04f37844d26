# The public site as a container image: the package installed from these sources (non-editable),
# the database, the downloads and the inspect file built into the image, served read-only
# (Datasette's immutable mode) by our runner, as a user without privileges.
#
#   docker build --build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) -t ciso-donnees .
#   docker run --rm -p 8001:8001 --memory 512m --read-only ciso-donnees
#
# BASE: any Debian-like image with python3 (3.11 or later) and its venv module. The default serves
# real deployments; the tests build on a base made from Debian's packages (tests/test_container.py).
# SOURCE_DATE_EPOCH: the build time written into the database and the downloads (reproducible
# builds); without it, the time of the build.
ARG BASE=python:3.11-slim

# 1. The package as a wheel (a stage of its own: the sources stay out of the image).
FROM ${BASE} AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY scripts/ scripts/
COPY plugins/ plugins/
COPY templates/ templates/
COPY static/ static/
RUN python3 -m venv /tmp/venv \
 && /tmp/venv/bin/pip install --quiet --disable-pip-version-check --no-cache-dir "setuptools>=68" \
 && /tmp/venv/bin/pip wheel --quiet --disable-pip-version-check --no-cache-dir --no-deps --no-build-isolation \
    --wheel-dir /wheels .

# 2. The site.
FROM ${BASE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    CISO_ROOT=/app \
    PORT=8001
RUN python3 -m venv /opt/venv \
 && useradd --uid 10001 --user-group --no-create-home --home-dir /app --shell /usr/sbin/nologin ciso
WORKDIR /app

# The dependencies alone, pinned by constraints.txt: this layer is rebuilt only when they change.
COPY pyproject.toml constraints.txt ./
RUN python3 -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
    > /tmp/requirements.txt \
 && pip install --quiet -c constraints.txt -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY --from=wheel /wheels /tmp/wheels
RUN pip install --quiet -c constraints.txt /tmp/wheels/*.whl && rm -r /tmp/wheels

# The data, built now: the image serves exactly what these sources give, and never rebuilds.
COPY metadata.yml ./
COPY data/ data/
ARG SOURCE_DATE_EPOCH=""
ARG CISO_IATI_IDENTIFIANT=""
ARG CISO_IATI_ADRESSE_SITE=""
RUN ciso build --data data --db ciso.db \
 && datasette inspect ciso.db --inspect-file ciso-inspect.json

USER ciso
EXPOSE 8001
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python3 -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/-/sante' % os.environ.get('PORT', '8001'), timeout=4)"
# HOST: 0.0.0.0 by default (the platform's proxy reaches the container from outside).
CMD exec python3 -m ciso.server --db ciso.db --inspect-file ciso-inspect.json --host "${HOST:-0.0.0.0}" --port "${PORT}"
