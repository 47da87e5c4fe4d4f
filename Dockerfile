# The migrate, web, worker and beat image (docker-compose.yml runs them all from it).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings

WORKDIR /app

# Dependencies first, so code changes reuse this layer.
COPY requirements.lock pyproject.toml ./
RUN pip install -r requirements.lock

COPY . .
RUN pip install --no-deps . \
    # collectstatic needs settings, not a database or the real secrets.
    && SECRET_KEY=collectstatic-only AUDIT_HMAC_KEY=collectstatic-only \
       DESTINATION_SECRET_KEY=Y29sbGVjdHN0YXRpYy1vbmx5LW5vdC1hLXNlY3JldCE= DEBUG=0 \
       python manage.py collectstatic --noinput \
    && useradd --create-home --uid 10001 app \
    && mkdir -p /app/media /app/var/audit-anchor \
    && chown -R app:app /app/media /app/var

USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
