"""Settings for bench/api_orders.py only: test settings plus the bench-only URLs.

The floor view lives in ``bench.api_urls`` and is never mounted by the project's own URLconf.
"""

from backoffice.settings.test import *  # noqa: F403
from backoffice.settings.test import REST_FRAMEWORK

ROOT_URLCONF = "bench.api_urls"
DEBUG = False
# One user drives the whole run: the throttle would otherwise cap it at the production rate.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "100000000/minute"}}
# The browsable API is not what is measured; JSON is negotiated anyway (Accept header).
