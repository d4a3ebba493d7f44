"""parking session table

Revision ID: 0001_parking_session
Revises:
Create Date: 2026-11-28 16:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import openmodule.database.custom_types

revision: str = "0001_parking_session"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.pre_upgrade()
    op.create_table(
        "parking_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.String(length=32), nullable=False),
        sa.Column("plate", sa.String(length=20), nullable=True),
        sa.Column("gate", sa.String(length=50), nullable=False),
        sa.Column("access", sa.Boolean(), nullable=False),
        sa.Column("customer", sa.String(length=50), nullable=True),
        sa.Column("entry", openmodule.database.custom_types.TZDateTime(), nullable=False),
        sa.Column("exit", openmodule.database.custom_types.TZDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parking_session")),
    )
    with op.batch_alter_table("parking_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parking_session_vehicle_id"), ["vehicle_id"], unique=False)
    op.post_upgrade()


def downgrade() -> None:
    op.pre_downgrade()
    with op.batch_alter_table("parking_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parking_session_vehicle_id"))
    op.drop_table("parking_session")
    op.post_downgrade()
