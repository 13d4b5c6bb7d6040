from tests.idp_fixtures import idp, sso_settings, start_idp  # noqa: F401
