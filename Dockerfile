# One image for web, worker and beat (docker-compose.yml). Base images are pinned to full
# versions: a rebuild gets the same Node and Python, and a bump is a reviewed change.
# CI has no Docker daemon, so .ci/production does every step below on the host (same build
# context by .dockerignore, same npm step, same collectstatic) and serves the result.

# Stage 1: the front-end libraries from the npm registry, exactly as the Makefile's $(VENDOR)
# rule does (versions locked by package-lock.json; no CDN on a bank intranet).
FROM node:20.20.2-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
    && mkdir -p static/vendor \
    && cp node_modules/echarts/dist/echarts.min.js static/vendor/echarts.min.js

# Stage 2: the app.
FROM python:3.11.14-slim-bookworm
# A fixed uid/gid, so that volumes, NFS exports and a Kubernetes runAsUser can name it.
ARG APP_UID=10001
ARG APP_GID=10001
# PYTHONPATH: the code runs from /app (pyproject.toml installs the dependencies only).
# The data folders are where docker-compose.yml mounts its shared volumes.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    WEALTHSCORE_VAR=/app/var \
    WEALTHSCORE_STATIC_ROOT=/app/staticfiles \
    WEALTHSCORE_INBOX=/data/inbox \
    WEALTHSCORE_MEDIA_ROOT=/data/media
# gettext: compilemessages below needs msgfmt.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Dependencies first, from pyproject.toml alone: this layer is rebuilt only when it changes.
COPY pyproject.toml ./
RUN pip install .
COPY . .
# .dockerignore keeps static/vendor and node_modules out of the context: the vendor file
# comes from the assets stage, so it is always the locked version.
COPY --from=assets /build/static/vendor/echarts.min.js static/vendor/echarts.min.js
# Translations compiled and static files collected with the manifest storage (DEBUG off) at
# build time, into /app/staticfiles: a page naming a file that is not there fails the build's
# smoke test in CI (.ci/production), not a user. The build-only key signs nothing.
RUN python manage.py compilemessages --ignore .venv --ignore node_modules -v0 \
    && DJANGO_DEBUG=0 DJANGO_SECRET_KEY=build-only-collectstatic \
       python manage.py collectstatic --noinput -v0 \
    && test -f /app/staticfiles/staticfiles.json \
    && groupadd --system --gid "${APP_GID}" wealthscore \
    && useradd --system --uid "${APP_UID}" --gid "${APP_GID}" --home-dir /app \
       --no-create-home --shell /usr/sbin/nologin wealthscore \
    && mkdir -p /app/var /data/inbox /data/media \
    && chown -R "${APP_UID}:${APP_GID}" /app/var /data
# The code and the collected files stay root's (read-only to the app); the app writes only
# /app/var (beat's schedule) and /data. Named volumes mounted on /data/inbox and /data/media
# start with this owner because the folders exist in the image with it.
USER ${APP_UID}:${APP_GID}
EXPOSE 8000
# /healthz: the database and the broker. Sent with a Host the app allows (the first of
# DJANGO_ALLOWED_HOSTS, a leading "." of a domain pattern dropped), else Django answers 400.
# Over plain HTTP on purpose: /healthz is exempt from the HTTPS redirect. For web only; the
# worker and beat (same image, no HTTP) get their own check in docker-compose.yml.
HEALTHCHECK --interval=30s --timeout=10s --start-period=40s --retries=3 \
    CMD python -c "import os, urllib.request as u; h = (os.environ.get('DJANGO_ALLOWED_HOSTS') or 'localhost').split(',')[0].strip().lstrip('.*') or 'localhost'; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': h}), timeout=8)"
CMD ["gunicorn", "wealthscore.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--timeout", "120"]
