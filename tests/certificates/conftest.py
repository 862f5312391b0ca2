from tests.service_requests.conftest import service  # noqa: F401  (shared fixture)
