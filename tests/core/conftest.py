from tests.service_fixtures import redis_url, replica  # noqa: F401
