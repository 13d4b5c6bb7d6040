"""Per-user request rate for /v1."""

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class UserThrottle(UserRateThrottle):
    """Per-user rate from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"]``.

    DRF binds the rates dict when the throttle module is imported; reading it per request keeps
    the rate configurable in tests and at run time.
    """

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
