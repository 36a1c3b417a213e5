"""All SQL of imports. The hot path (``stage``, ``reject_taken_emails``, ``merge``) is set-based:
one COPY and three statements per chunk, whatever its size."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg.errors import UniqueViolation
from sqlalchemy import (
    ColumnElement,
    String,
    delete,
    exists,
    func,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from herald.contact.consent import guarded_status_sql, refused_sql
from herald.contact.models import ChannelKind, Contact
from herald.imports.models import (
    ImportBatch,
    ImportFilePart,
    ImportIssue,
    ImportStatus,
    IssueKind,
)
from herald.imports.normalize import PROFILE_FIELDS, STAGING_COLUMNS
from herald.imports.schemas import Totals
from herald.kit.pagination import PageParams, Slice
from herald.kit.repository import Repository

STAGING = "import_staging"
EMAIL_INDEX = "uq_contacts_tenant_id_email"
PHONE_INDEX = "uq_contacts_tenant_id_phone_e164"
UUID7_SQL = (
    "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing "
    "substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) "
    "FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid"
)
"""A UUIDv7 made in SQL (PostgreSQL 15 has no ``uuidv7()``), for rows created set-based."""
_CHUNK_SETTINGS = "SELECT set_config('work_mem', '64MB', true)"
"""For the rest of the transaction: the merge sorts a whole chunk by phone, in memory rather
than in temporary files."""
_REJECT_TAKEN_EMAILS = f"""
    DELETE FROM {STAGING} AS s USING (
        SELECT DISTINCT ON (line) line, reason FROM (
            SELECT st.line, 'email ' || st.email || ' is already used by contact '
                || c.id AS reason
            FROM {STAGING} st JOIN contacts c
              ON c.tenant_id = :tenant_id AND lower(c.email) = lower(st.email)
             AND c.phone_e164 IS DISTINCT FROM st.phone_e164
            UNION ALL
            SELECT st.line, 'email ' || st.email || ' is already used on line '
                || min(other.line)
            FROM {STAGING} st JOIN {STAGING} other
              ON lower(other.email) = lower(st.email) AND other.line < st.line
            GROUP BY st.line, st.email
        ) found ORDER BY line
    ) AS bad
    WHERE s.line = bad.line
    RETURNING s.line, bad.reason
    """  # noqa: S608 - constant table name
_ADD_ISSUES = (
    "INSERT INTO import_issues (tenant_id, batch_id, line, kind, reason, raw) "
    "SELECT :tenant_id, :batch_id, * FROM unnest("
    "CAST(:lines AS integer[]), CAST(:kinds AS text[]), CAST(:reasons AS text[]), "
    "CAST(:raws AS text[]))"
)
"""One INSERT for all of a chunk's issues (COPY is refused on tables under row security)."""
_REDACT_ISSUES = """
    UPDATE import_issues SET raw = :marker, reason = :marker
    WHERE tenant_id = :tenant_id AND raw <> :marker AND (
        (CAST(:digits AS text) IS NOT NULL
         AND strpos(regexp_replace(raw, '[^0-9]', '', 'g'), :digits) > 0)
        OR (CAST(:email AS text) IS NOT NULL
         AND strpos(lower(raw || ' ' || reason), lower(:email)) > 0))
    """


@dataclass
class MergeResult:
    created: int
    updated: int
    consent_kept: int
    skipped_lines: list[int]


_DIALECT = PGDialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it unannotated


def _sql(expression: ColumnElement[Any]) -> str:
    """An expression built from ``literal_column``s and constants as SQL text for the merge."""
    return str(expression.compile(dialect=_DIALECT, compile_kwargs={"literal_binds": True}))


def _consent_set(channel: str) -> str:
    """The consent columns on conflict, by the consent rule (``herald.contact.consent``): a
    status the file gives replaces the stored one unless the rule refuses it (an opted-out
    contact stays out); the source and time change only with the status."""
    current = literal_column(f"c.{channel}_status", String)
    given = f"EXCLUDED.{channel}_changed_at IS NOT NULL"
    incoming = literal_column(f"(CASE WHEN {given} THEN EXCLUDED.{channel}_status END)", String)
    status = guarded_status_sql(current, incoming)
    changed = _sql(status.is_distinct_from(current))
    return ",\n".join(
        [
            f"{channel}_status = {_sql(status)}",
            *(
                f"{channel}_{col} = CASE WHEN {changed} "
                f"THEN EXCLUDED.{channel}_{col} ELSE c.{channel}_{col} END"
                for col in ("source", "changed_at")
            ),
        ]
    )


_SET_ON_CONFLICT = [
    *(f"{col} = COALESCE(EXCLUDED.{col}, c.{col})" for col in PROFILE_FIELDS),
    "tags = c.tags || ARRAY(SELECT t FROM unnest(EXCLUDED.tags) AS t WHERE NOT t = ANY(c.tags))",
    "custom_fields = c.custom_fields || EXCLUDED.custom_fields",
    *(_consent_set(channel) for channel in ChannelKind),
    "updated_at = now()",
]
"""Existing contacts: a value the file gives replaces the stored one, an empty cell keeps it;
tags are a union, custom fields a merge, consent follows the opt-out rule."""
_ON_CONFLICT_UPDATE = "DO UPDATE SET " + ",\n".join(_SET_ON_CONFLICT)


def _incoming(channel: str) -> str:
    return (
        f"COALESCE(s.{channel}_status, 'unknown'), "
        f"CASE WHEN s.{channel}_status IS NOT NULL THEN :consent_source END, "
        f"CASE WHEN s.{channel}_status IS NOT NULL THEN now() END"
    )


_PREV = f"""
    prev AS (
        SELECT c.id, c.phone_e164, c.sms_status, c.whatsapp_status
        FROM contacts c JOIN {STAGING} s
          ON c.tenant_id = :tenant_id AND c.phone_e164 = s.phone_e164
    ),"""  # noqa: S608 - constant
"""The stored consent before the merge: CTEs of one statement share its snapshot."""

_EVENTS = f""",
    changes AS (
        SELECT m.id, s.line, v.channel, v.status, v.previous
        FROM merged m
        JOIN {STAGING} s ON s.phone_e164 = m.phone_e164
        LEFT JOIN prev p ON p.id = m.id
        CROSS JOIN LATERAL (VALUES
            ('sms', m.sms_status, p.sms_status),
            ('whatsapp', m.whatsapp_status, p.whatsapp_status)
        ) AS v(channel, status, previous)
        WHERE v.status IS DISTINCT FROM COALESCE(v.previous, 'unknown')
    ), events AS (
        INSERT INTO consent_events (
            id, tenant_id, contact_id, channel, status, previous_status, method, source,
            actor, details, occurred_at)
        SELECT {UUID7_SQL}, :tenant_id, ch.id, ch.channel, ch.status, ch.previous, 'import',
            :consent_source, :actor,
            jsonb_build_object('import_batch_id', CAST(:batch_id AS text), 'line', ch.line),
            now()
        FROM changes ch
        RETURNING 1
    )"""  # noqa: S608 - constant
"""One consent event per contact and channel whose status actually changed."""


def _refused(channel: str) -> str:
    return _sql(
        refused_sql(
            literal_column(f"p.{channel}_status", String),
            literal_column(f"s.{channel}_status", String),
        )
    )


_CONSENT_KEPT = f"""
    (SELECT count(*) FROM prev p JOIN {STAGING} s ON s.phone_e164 = p.phone_e164
      WHERE {" OR ".join(_refused(channel) for channel in ChannelKind)})"""  # noqa: S608
"""Rows whose consent the rule refused on some channel."""


_SKIPPED = f"""ARRAY(SELECT s.line FROM {STAGING} s
    WHERE NOT EXISTS (SELECT 1 FROM merged m WHERE m.phone_e164 = s.phone_e164))"""  # noqa: S608
"""Lines of staging the merge did not write (existing contacts, with update_existing off)."""


def _merge_sql(*, update_existing: bool, consent: bool, new_only: bool) -> str:
    """The merge, without the consent bookkeeping when the import sets no consent (the
    statuses are then left as they are and nothing can change), and as a plain INSERT when
    every row is expected to be new (``new_only``: an existing number fails the statement)."""
    action = _ON_CONFLICT_UPDATE if update_existing else "DO NOTHING"
    conflict = "" if new_only else f"ON CONFLICT (tenant_id, phone_e164) {action}"
    skipped = "'{}'::int[]" if update_existing else _SKIPPED
    return f"""
    WITH {_PREV if consent else ""}
    merged AS (
        INSERT INTO contacts AS c (
            id, tenant_id, phone_e164, {", ".join(PROFILE_FIELDS)}, tags, custom_fields, source,
            sms_status, sms_source, sms_changed_at,
            whatsapp_status, whatsapp_source, whatsapp_changed_at,
            import_batch_id, created_at, updated_at)
        SELECT s.id, :tenant_id, s.phone_e164, {", ".join(f"s.{f}" for f in PROFILE_FIELDS)},
            s.tags, s.custom_fields, 'import',
            {_incoming("sms")}, {_incoming("whatsapp")}, :batch_id, now(), now()
        FROM {STAGING} s ORDER BY s.phone_e164
        {conflict}
        RETURNING c.id, c.phone_e164, (c.xmax = 0) AS created, c.sms_status, c.whatsapp_status
    ){_EVENTS if consent else ""}
    SELECT
        (SELECT count(*) FROM merged WHERE created) AS created,
        (SELECT count(*) FROM merged WHERE NOT created) AS updated,
        {_CONSENT_KEPT if consent else "0"} AS consent_kept,
        {skipped} AS skipped_lines
    """  # noqa: S608 - constant fragments only; every value is a bound parameter


def clashed_index(exc: IntegrityError) -> str | None:
    """The unique index the merge hit, if that is what failed it (``PHONE_INDEX``: a row's
    number is taken; ``EMAIL_INDEX``: a row's email is)."""
    orig = exc.orig
    return orig.diag.constraint_name if isinstance(orig, UniqueViolation) else None


@asynccontextmanager
async def exclusive_run(engine: AsyncEngine, batch_id: UUID) -> AsyncIterator[bool]:
    """Whether this process may run the batch: a session advisory lock, held on a connection
    of its own for the whole run (chunks commit on others), so two runs never interleave.
    It takes the engine, not a session: the lock must outlive every chunk's transaction."""
    key = {"key": f"import:{batch_id}"}
    async with engine.connect() as connection:
        mine = bool(
            await connection.scalar(
                text("SELECT pg_try_advisory_lock(hashtextextended(:key, 0))"), key
            )
        )
        await connection.commit()
        try:
            yield mine
        finally:
            if mine:
                await connection.execute(
                    text("SELECT pg_advisory_unlock(hashtextextended(:key, 0))"), key
                )
                await connection.commit()


class ImportRepository(Repository):
    """Batches, their stored file and issues, and the chunk-by-chunk writes of a run."""

    async def get_batch(self, tenant_id: UUID, batch_id: UUID) -> ImportBatch | None:
        return await self.session.scalar(
            select(ImportBatch).where(
                ImportBatch.tenant_id == tenant_id, ImportBatch.id == batch_id
            )
        )

    async def batch_by_id(self, batch_id: UUID) -> ImportBatch | None:
        """Any tenant's batch (a worker's system session, before it scopes itself)."""
        return await self.session.scalar(select(ImportBatch).where(ImportBatch.id == batch_id))

    async def lock_file(self, tenant_id: UUID, sha256: str) -> None:
        """Wait for any other transaction submitting the same file to the same tenant to end:
        held until this transaction ends, so "was it imported already?" and the new batch
        are one atomic step and concurrent uploads of a file make one batch."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"import-file:{tenant_id}:{sha256}"},
        )

    async def find_by_hash(self, tenant_id: UUID, sha256: str) -> ImportBatch | None:
        """The latest earlier batch of the same file."""
        return await self.session.scalar(
            select(ImportBatch)
            .where(ImportBatch.tenant_id == tenant_id, ImportBatch.file_sha256 == sha256)
            .order_by(ImportBatch.created_at.desc())
            .limit(1)
        )

    async def list_page(self, tenant_id: UUID, params: PageParams) -> Slice[ImportBatch]:
        """Newest first (ids are time-ordered)."""
        stmt = select(ImportBatch).where(ImportBatch.tenant_id == tenant_id)
        return await self.page(stmt, params, ImportBatch.id, ImportBatch.id, descending=True)

    async def add_batch(self, batch: ImportBatch) -> ImportBatch:
        self.session.add(batch)
        await self.session.flush()
        return batch

    async def reload(self, batch: ImportBatch) -> ImportBatch:
        """The batch as stored now (a run updates it with SQL, behind the ORM's back)."""
        await self.session.refresh(batch)
        return batch

    async def save_file_part(self, tenant_id: UUID, batch_id: UUID, seq: int, data: bytes) -> None:
        self.session.add(ImportFilePart(tenant_id=tenant_id, batch_id=batch_id, seq=seq, data=data))
        await self.session.flush()

    async def file_part(self, batch_id: UUID, seq: int) -> bytes | None:
        data: bytes | None = await self.session.scalar(
            select(ImportFilePart.data).where(
                ImportFilePart.batch_id == batch_id, ImportFilePart.seq == seq
            )
        )
        return data

    async def drop_file(self, batch_id: UUID) -> None:
        await self.session.execute(
            delete(ImportFilePart).where(ImportFilePart.batch_id == batch_id)
        )

    async def redact_issues(
        self, tenant_id: UUID, digits: str | None, email: str | None, marker: str
    ) -> int:
        """Replace the row and the reason of every issue of the tenant that holds the
        number's ``digits`` (whatever its spelling: separators are ignored) or ``email``
        (any case); the line and the kind stay, so the batch's counts still add up."""
        result = await self.session.execute(
            text(_REDACT_ISSUES),
            {"tenant_id": tenant_id, "digits": digits, "email": email, "marker": marker},
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def drop_failed_files(self, tenant_id: UUID, note: str) -> int:
        """Drop the stored files of the tenant's failed batches (nobody is reading them) and
        say so in each batch's error; returns how many batches lost their file."""
        failed = select(ImportBatch.id).where(
            ImportBatch.tenant_id == tenant_id, ImportBatch.status == ImportStatus.failed
        )
        dropped = await self.session.execute(
            delete(ImportFilePart)
            .where(ImportFilePart.tenant_id == tenant_id, ImportFilePart.batch_id.in_(failed))
            .returning(ImportFilePart.batch_id)
        )
        batch_ids = set(dropped.scalars())
        if batch_ids:
            await self.session.execute(
                update(ImportBatch)
                .where(ImportBatch.tenant_id == tenant_id, ImportBatch.id.in_(batch_ids))
                .values(error=func.concat(ImportBatch.error, note), updated_at=func.now())
            )
        return len(batch_ids)

    async def issues(self, batch_id: UUID) -> Sequence[ImportIssue]:
        result = await self.session.scalars(
            select(ImportIssue).where(ImportIssue.batch_id == batch_id).order_by(ImportIssue.line)
        )
        return result.all()

    async def add_issues(
        self, tenant_id: UUID, batch_id: UUID, rows: Sequence[tuple[int, IssueKind, str, str]]
    ) -> None:
        if not rows:
            return
        lines, kinds, reasons, raws = zip(*rows, strict=True)
        await self.session.execute(
            text(_ADD_ISSUES),
            {
                "tenant_id": tenant_id,
                "batch_id": batch_id,
                "lines": list(lines),
                "kinds": [k.value for k in kinds],
                "reasons": list(reasons),
                "raws": list(raws),
            },
        )

    async def advance(self, batch_id: UUID, totals: Totals) -> None:
        """Store the running counts and the checkpoint, in the transaction of the chunk they
        count."""
        await self.session.execute(
            update(ImportBatch)
            .where(ImportBatch.id == batch_id)
            .values(**totals.columns(), updated_at=func.now())
        )

    async def stage(self, copy_lines: list[str]) -> None:
        """A temporary table for this transaction, filled with one COPY."""
        await self.session.execute(text(_CHUNK_SETTINGS))
        await self.session.execute(
            text(
                f"CREATE TEMP TABLE {STAGING} (line integer, id uuid, phone_e164 text, "
                "email text, first_name text, last_name text, gender text, birth_date date, "
                "timezone text, language text, company text, tags text[], custom_fields jsonb, "
                "sms_status text, whatsapp_status text) ON COMMIT DROP"
            )
        )
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        columns = ", ".join(STAGING_COLUMNS)
        async with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {STAGING} ({columns}) FROM STDIN") as copy,
        ):
            await copy.write("\n".join(copy_lines).encode() + b"\n")

    async def analyze_staging(self) -> None:
        """Fresh statistics, so that a statement joining staging to the tenant's contacts looks
        them up by index rather than by a tenant scan. A merge without consent that keeps
        updating existing contacts reads staging alone and needs none."""
        await self.session.execute(text(f"ANALYZE {STAGING}"))

    async def unstage(self) -> None:
        """Drop the staging table now: an inline import writes several chunks in one
        transaction."""
        await self.session.execute(text(f"DROP TABLE {STAGING}"))

    async def has_emails(self, tenant_id: UUID) -> bool:
        """Whether any contact of the tenant has an email (once per run; stops at the first)."""
        found = await self.session.scalar(
            select(exists().where(Contact.tenant_id == tenant_id, Contact.email.is_not(None)))
        )
        return bool(found)

    async def reject_taken_emails(self, tenant_id: UUID) -> list[tuple[int, str]]:
        """Take out of staging the rows whose email belongs to another contact (in the tenant
        or earlier in the chunk): the unique email index would otherwise fail the whole
        chunk."""
        result = await self.session.execute(text(_REJECT_TAKEN_EMAILS), {"tenant_id": tenant_id})
        return [(row.line, row.reason) for row in result]

    async def merge(
        self,
        tenant_id: UUID,
        batch_id: UUID,
        *,
        update_existing: bool,
        consent: bool,
        consent_source: str,
        actor_label: str | None,
        new_only: bool = False,
    ) -> MergeResult:
        """Insert new contacts and update existing ones from staging in one statement, with
        the consent events of every actual change (``consent``: the file or the options give
        any). ``actor_label`` goes to the events' ``actor`` column."""
        sql = _merge_sql(update_existing=update_existing, consent=consent, new_only=new_only)
        params = {
            "tenant_id": tenant_id,
            "batch_id": batch_id,
            "consent_source": consent_source,
            "actor": actor_label,
        }
        row = (await self.session.execute(text(sql), params)).one()
        return MergeResult(row.created, row.updated, row.consent_kept, list(row.skipped_lines))

    async def start(self, batch_id: UUID) -> None:
        await self.session.execute(
            update(ImportBatch)
            .where(ImportBatch.id == batch_id)
            .values(
                status=ImportStatus.processing,
                started_at=func.coalesce(ImportBatch.started_at, func.clock_timestamp()),
                error=None,
            )
        )

    async def complete(self, batch_id: UUID, total_rows: int) -> None:
        """Done: the exact row count replaces the estimate, and the stored file is dropped."""
        await self.session.execute(
            update(ImportBatch)
            .where(ImportBatch.id == batch_id)
            .values(
                status=ImportStatus.completed,
                total_rows=total_rows,
                error=None,
                completed_at=func.clock_timestamp(),
                updated_at=func.now(),
            )
        )
        await self.drop_file(batch_id)

    async def fail(self, batch_id: UUID, error: str) -> None:
        await self.session.execute(
            update(ImportBatch)
            .where(ImportBatch.id == batch_id)
            .values(
                status=ImportStatus.failed,
                error=error,
                completed_at=func.clock_timestamp(),
                updated_at=func.now(),
            )
        )
