"""Extensions created once and initialised in create_app.

Two are per application on purpose, not module globals here: the rate limiter is FAB's own Flask-Limiter
(app.appbuilder.sm.limiter; the logins and the portal's forms use it), and the Celery app is built per
Flask app by app.tasks.celery_for (app.extensions["celery"]). One Limiter or Celery shared by several
apps (the tests build many) would share their limits and tasks between them."""
from flask_appbuilder.models.sqla import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

# FAB's Model shares its metadata with FAB's security tables, so one migration history covers all tables.
db = SQLA(model_class=Model)
migrate = Migrate()
# Every non-API POST needs a CSRF token (FAB only protects its own forms); FAB exempts its REST APIs.
csrf = CSRFProtect()
