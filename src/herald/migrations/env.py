from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from herald.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "sqlalchemy.url is set by herald.migrations.alembic_config"


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Autogenerate ignores the task queue's own tables (procrastinate manages them)."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
