"""gunicorn settings, all from the environment: `gunicorn -c deploy/gunicorn.conf.py`.

GUNICORN_BIND        address to listen on (default 127.0.0.1:8000; nginx in front terminates TLS)
GUNICORN_WORKERS     worker processes (default 2 x CPUs + 1)
GUNICORN_THREADS     threads per worker (default 4; gthread workers)
GUNICORN_TIMEOUT     seconds a request may take before its worker is restarted (default 60)
GUNICORN_GRACEFUL_TIMEOUT  seconds to finish requests on restart or stop (default 30)
GUNICORN_KEEPALIVE   seconds to hold an idle keep-alive connection (default 5)
GUNICORN_MAX_REQUESTS  restart a worker after this many requests, jittered (default 2000; 0: never)
GUNICORN_CONTROL_SOCKET  path of gunicorn's control socket (default: none)
FORWARDED_ALLOW_IPS  proxies whose X-Forwarded-* headers are trusted (default 127.0.0.1)
LOG_FORMAT, LOG_LEVEL  as for the app: gunicorn's own lines are JSON too with LOG_FORMAT=json (the default here)

gunicorn's access log is off: the app writes one access line per request itself (app/ops/logs.py), with the
request id, tenant and user that gunicorn cannot know.
"""
import multiprocessing
import os

os.environ.setdefault("LOG_FORMAT", "json")  # production: JSON lines unless told otherwise


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, "") or default)


wsgi_app = os.environ.get("GUNICORN_APP", "app:create_app()")
chdir = os.environ.get("GUNICORN_CHDIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
bind = [address.strip() for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",") if address]
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# uploads are up to MAX_CONTENT_LENGTH (60 MB): the app refuses more, gunicorn need not buffer to disk
limit_request_field_size = 8190
proc_name = "thongthin-web"
# gunicorn's control socket (gunicornc): only where GUNICORN_CONTROL_SOCKET says (systemd: /run/thongthin/),
# never a shared default path that two servers on one machine would fight over
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket

accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "INFO").lower()
capture_output = False

if os.environ["LOG_FORMAT"].lower() == "json":
    # gunicorn's own lines (start, stop, worker timeouts) in the app's JSON shape
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
            "json_ensure_ascii": False,
        }},
        "handlers": {"error_console": {"class": "logging.StreamHandler", "formatter": "json",
                                       "stream": "ext://sys.stderr"}},
        "loggers": {
            "gunicorn.error": {"level": loglevel.upper(), "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
        "root": {"level": loglevel.upper(), "handlers": []},
    }
