"""Extensions, created unbound here and bound to an app in create_app."""

from __future__ import annotations

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from app.database import Base
from app.errors import JsonErrorApi

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = JsonErrorApi()
