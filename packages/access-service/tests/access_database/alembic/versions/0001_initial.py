"""initial: the access table (the KVEntry and AccessModelBase columns)"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.pre_upgrade()
    op.create_table(
        "access",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("e_tag", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=True),
        sa.Column("car_id", sa.String(), nullable=True),
        sa.Column("group_id", sa.String(), nullable=True),
        sa.Column("access_infos", sa.String(), nullable=True),
        sa.Column("lpr_id", sa.String(), nullable=True),
        sa.Column("lpr_id_search", sa.String(), nullable=True),
        sa.Column("lpr_country", sa.String(), nullable=True),
        sa.Column("matching_scheme", sa.String(), nullable=True),
        sa.Column("matching_version", sa.Integer(), nullable=True),
        sa.Column("qr_id", sa.String(), nullable=True),
        sa.Column("nfc_id", sa.String(), nullable=True),
        sa.Column("pin_id", sa.String(), nullable=True),
        sa.Column("regex", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("e_tag"),
    )
    with op.batch_alter_table("access") as batch_op:
        batch_op.create_index("ix_access_e_tag", ["e_tag"], unique=False)
        batch_op.create_index("ix_access_key", ["key"], unique=True)
        for column in ("lpr_id_search", "qr_id", "nfc_id", "pin_id", "regex"):
            batch_op.create_index(f"ix_access_{column}", [column], unique=False)
    op.post_upgrade()


def downgrade():
    op.pre_downgrade()
    op.drop_table("access")
    op.post_downgrade()
