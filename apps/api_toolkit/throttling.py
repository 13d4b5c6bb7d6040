"""Per-user request rate for /v1."""

from typing import cast

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class UserThrottle(UserRateThrottle):
    """Per-user rate from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"]``.

    DRF binds the rates dict when the throttle module is imported; reading it per request keeps
    the rate configurable in tests and at run time.
    """

    def get_rate(self) -> str | None:
        # djangorestframework-stubs type the rates as numbers; DRF's rates are "100/min" strings.
        rates = cast("dict[str, str | None]", api_settings.DEFAULT_THROTTLE_RATES)
        return rates.get(self.scope) if self.scope is not None else None
