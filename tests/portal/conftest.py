from tests.service_requests.conftest import service, smtp_server  # noqa: F401  (shared fixtures)
