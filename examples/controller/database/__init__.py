"""The controller's database: models in models.py, alembic migrations in alembic/versions/."""
