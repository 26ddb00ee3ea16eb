"""request history in the change log: written at commit, spliced into the CRM feed

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 22:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    # Changes logged before this stay without one: the feed reads their history.
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('history', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.drop_column('history')
