from tests.service_fixtures import redis_down, redis_url, replica  # noqa: F401
