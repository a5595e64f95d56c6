# One image for web, worker and beat (docker-compose.yml).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
COPY . .
RUN pip install --no-cache-dir . \
    && DJANGO_SECRET_KEY=build-only-collectstatic DJANGO_DEBUG=0 python manage.py collectstatic --noinput \
    && python manage.py compilemessages --ignore '.venv' -v0 \
    && useradd --system --home /app wealthscore && mkdir -p /app/var && chown -R wealthscore /app/var
USER wealthscore
EXPOSE 8000
CMD ["gunicorn", "wealthscore.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--timeout", "120"]
