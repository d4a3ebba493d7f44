"""initial: two key-value store tables (the KVEntry columns plus their own)"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.pre_upgrade()
    for name, columns in (
        (
            "access",
            [sa.Column("plate", sa.String(), nullable=False), sa.Column("note", sa.String(), nullable=True)],
        ),
        ("tariff", [sa.Column("cents", sa.String(), nullable=False)]),
    ):
        op.create_table(
            name,
            sa.Column("key", sa.String(), nullable=False),
            sa.Column("e_tag", sa.Integer(), nullable=False),
            *columns,
            sa.PrimaryKeyConstraint("e_tag"),
        )
        with op.batch_alter_table(name) as batch_op:
            batch_op.create_index(f"ix_{name}_e_tag", ["e_tag"], unique=False)
            batch_op.create_index(f"ix_{name}_key", ["key"], unique=True)
    op.post_upgrade()


def downgrade():
    op.pre_downgrade()
    op.drop_table("tariff")
    op.drop_table("access")
    op.post_downgrade()
