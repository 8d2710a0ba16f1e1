# One image for web (gunicorn), worker and beat (Celery): see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_VAR_DIR=/app/var

WORKDIR /app

RUN groupadd --system --gid 1000 sib && useradd --system --uid 1000 --gid sib --home-dir /app sib

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Static files are collected into the image (served by WhiteNoise) and translations compiled. The
# values below exist only so that production settings load during the build; the real ones come from
# the environment at run time.
RUN export DJANGO_DEBUG=0 \
        DJANGO_SECRET_KEY=build-only-not-a-secret \
        DJANGO_ALLOWED_HOSTS=localhost \
        CPR_ENCRYPTION_KEYS=build-only \
        CPR_HASH_KEY=build-only \
    && python manage.py collectstatic --noinput -v 0 \
    && if ls locale/*/LC_MESSAGES/*.po >/dev/null 2>&1; then \
         apt-get update && apt-get install -y --no-install-recommends gettext \
         && python manage.py compilemessages -v 0 \
         && apt-get purge -y --auto-remove gettext && rm -rf /var/lib/apt/lists/*; \
       fi \
    && rm -rf /app/var/db.sqlite3 /app/var/celery \
    && chown -R sib:sib /app/var

USER sib
EXPOSE 8000

CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "--no-control-socket"]
