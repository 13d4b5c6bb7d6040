from tests.accounts.bearer_helpers import threads  # noqa: F401
from tests.idp_fixtures import (  # noqa: F401
    fault_proxy,
    idp,
    refused_url,
    sso_settings,
    start_idp,
)
