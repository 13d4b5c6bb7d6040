# syntax=docker/dockerfile:1
# CustOrder back office. One image, three uses:
#   web (default):  gunicorn on $PORT (8000)
#   SMS worker:     python manage.py db_worker
#   migrations:     python manage.py migrate --no-input
# Build: docker build -t custorder:$(git rev-parse HEAD) .

# Pin by digest (python:3.12-slim@sha256:...) for byte-for-byte rebuilds.
ARG PYTHON_IMAGE=python:3.12-slim

FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv

RUN pip install --no-cache-dir uv==0.13.9

WORKDIR /app

# Dependencies first: this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock .python-version ./
COPY scripts/docker-steps.sh scripts/
RUN --mount=type=cache,target=/root/.cache/uv scripts/docker-steps.sh install

COPY . .
RUN scripts/docker-steps.sh collectstatic \
    && scripts/docker-steps.sh check \
    && scripts/docker-steps.sh compile


FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=backoffice.settings.production \
    MEDIA_ROOT=/media \
    PORT=8000

# Uploaded files go to /media, the only place the app user may write besides /tmp (ECS mounts
# a shared file system there).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /app \
       --shell /usr/sbin/nologin app \
    && install -d -o app -g app -m 750 /media

WORKDIR /app

# Code and dependencies stay owned by root: the app user can read them but not change them.
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app

USER 10001:10001

EXPOSE 8000

# ECS and the load balancer use /readyz and their own checks; this one only says "serving".
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]

CMD ["gunicorn", "--config", "gunicorn.conf.py", "backoffice.wsgi:application"]
