#!/usr/bin/env bash
# The image's build steps, one function each. The Dockerfile runs them, and CI runs the same
# steps outside Docker (no engine there) so a step that would break the image build fails CI.
#
#   scripts/docker-steps.sh install        # runtime dependencies from uv.lock into $UV_PROJECT_ENVIRONMENT
#   scripts/docker-steps.sh collectstatic  # hashed, compressed static files for whitenoise
#   scripts/docker-steps.sh check          # manage.py check --deploy with production settings
#   scripts/docker-steps.sh compile        # bytecode for the app (the container's root is read-only)
#
# collectstatic and check need production settings to import, but nothing at build time may hold
# a real secret or reach a database: they run with throwaway values that exist only here.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${UV_PROJECT_ENVIRONMENT:-.venv}
uv=${UV:-uv}

with_build_env() {
  env \
    DJANGO_SETTINGS_MODULE=backoffice.settings.production \
    DJANGO_SECRET_KEY="build-time-only-$("$venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=postgres://build:build@127.0.0.1:1/build \
    SMS_ALLOW_CONSOLE_BACKEND=true \
    "$@"
}

case "${1:-}" in
  install)
    UV_PROJECT_ENVIRONMENT=$venv "$uv" sync --frozen --no-dev --no-install-project
    ;;
  collectstatic)
    with_build_env "$venv/bin/python" manage.py collectstatic --no-input --clear -v 0
    ;;
  check)
    with_build_env "$venv/bin/python" manage.py check --deploy --fail-level WARNING
    ;;
  compile)
    "$venv/bin/python" -m compileall -q -j 0 apps backoffice
    ;;
  *)
    echo "usage: $0 install|collectstatic|check|compile" >&2
    exit 2
    ;;
esac
