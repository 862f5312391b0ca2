"""Extensions created once and initialised in create_app."""
from flask_appbuilder.models.sqla import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate

# FAB's Model shares its metadata with FAB's security tables, so one migration history covers all tables.
db = SQLA(model_class=Model)
migrate = Migrate()
