import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.production")

from apps.security.body_limits import ChunkedBodyLimit

# A chunked request body is counted while it is read (apps/security/body_limits.py).
application = ChunkedBodyLimit(get_wsgi_application())
