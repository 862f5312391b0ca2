"""Extensions created once and initialised in create_app."""
from flask_appbuilder.models.sqla import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

# FAB's Model shares its metadata with FAB's security tables, so one migration history covers all tables.
db = SQLA(model_class=Model)
migrate = Migrate()
# Every non-API POST needs a CSRF token (FAB only protects its own forms); FAB exempts its REST APIs.
csrf = CSRFProtect()
