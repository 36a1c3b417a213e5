"""Scenario ``import``: a generated CSV of ``size`` contacts through the whole import pipeline.

The file is generated once per work directory from a fixed seed: a US tenant's contacts in the
formats people export (E.164, national with punctuation, a leading 1, other countries'
international numbers), half with an email, some with tags and a birthday, one custom column,
and 2% bad rows (too short, letters, unknown country code, empty). Every run imports it into
a tenant of its own, so each run creates every contact.

Timed: ``import_local`` — what ``herald contacts import`` runs — from the open file to the
completed batch (hashing, sniffing, parsing, phone validation, COPY, merge, rejected rows).
Baseline: a raw ``COPY … FROM STDIN (FORMAT csv)`` of the same file into an unindexed table
of text columns, the floor of getting these bytes into PostgreSQL.
"""

from __future__ import annotations

import csv
import random
import time
from pathlib import Path
from uuid import UUID

from sqlalchemy import text

from herald.bench.types import BenchContext, Measurement
from herald.imports.schemas import ImportOptions
from herald.imports.service import import_local, workers_for
from herald.tenant.flows import onboard_tenant
from herald.tenant.schemas import TenantCreate

SEED = 20261122
BAD_SHARE = 0.02
HEADER = ["Phone", "First Name", "Last Name", "E-mail", "Tags", "Birthday", "City"]
AREA_CODES = (212, 213, 305, 312, 404, 415, 503, 512, 602, 617, 646, 702, 713, 718, 808, 917)
FOREIGN = ("+44 7911 1{:05d}", "+33 6 12 {:06d}", "+49 151 2{:07d}", "+61 412 {:06d}")
BAD = ("12345", "call me", "+999 1234 5678", "", "0000")
NAMES = ("Ana", "Bob", "Chloé", "Dmitri", "Eve", "Farah", "Gus", "Hana", "Ivo", "Jun")
SURNAMES = ("Smith", "García", "Nguyen", "Müller", "O'Brien", "Kowalski", "Okafor", "Rossi")
TAGS = ("", "", "", "vip", "newsletter", "vip, wholesale")
CITIES = ("Austin", "Boston", "Chicago", "Denver", "Miami", "Seattle")


def _phone(i: int, rng: random.Random) -> str:
    """A unique number for row ``i`` in one of the common spellings."""
    if i % 10 == 9:
        return FOREIGN[(i // 10) % len(FOREIGN)].format((i // 40) % 100_000)
    area = AREA_CODES[i % len(AREA_CODES)]
    # 7919 is prime to the range, so each area code gets distinct subscriber numbers.
    subscriber = 2_000_000 + ((i // len(AREA_CODES)) * 7919) % 7_000_000
    exchange, line = divmod(subscriber, 10_000)
    style = rng.randrange(4)
    if style == 0:
        return f"+1{area}{exchange}{line:04d}"
    if style == 1:
        return f"({area}) {exchange}-{line:04d}"
    if style == 2:
        return f"{area}.{exchange}.{line:04d}"
    return f"1 {area} {exchange} {line:04d}"


def generate(path: Path, rows: int) -> Path:
    """Write the benchmark file (once: the same seed always gives the same bytes)."""
    if path.exists():
        return path
    rng = random.Random(SEED)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(rows):
            bad = rng.random() < BAD_SHARE
            writer.writerow(
                [
                    rng.choice(BAD) if bad else _phone(i, rng),
                    NAMES[i % len(NAMES)],
                    SURNAMES[i % len(SURNAMES)],
                    f"contact{i}@example.com" if i % 2 else "",
                    TAGS[i % len(TAGS)],
                    f"{1 + i % 12:02d}/{1 + i % 28:02d}/{1950 + i % 50}" if i % 3 == 0 else "",
                    CITIES[i % len(CITIES)],
                ]
            )
    return path


async def _baseline(ctx: BenchContext, path: Path) -> float:
    columns = ", ".join(f"c{n} text" for n in range(len(HEADER)))
    async with ctx.db.system_session() as session:
        await session.execute(text("DROP TABLE IF EXISTS bench_import_raw"))
        await session.execute(text(f"CREATE TABLE bench_import_raw ({columns})"))
    started = time.perf_counter()
    async with ctx.db.system_session() as session:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        async with (
            driver.cursor() as cursor,
            cursor.copy("COPY bench_import_raw FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            with path.open("rb") as source:
                while block := source.read(1024 * 1024):
                    await copy.write(block)
    return time.perf_counter() - started


async def _tenant(ctx: BenchContext, run: int) -> UUID:
    data = TenantCreate(name=f"Import Bench {run}", country="US", timezone="America/New_York")
    async with ctx.db.system_session() as session:
        done = await onboard_tenant(session, data, f"import-bench-{run}@bench.test")
    return done.tenant.id


async def run(ctx: BenchContext, size: int) -> Measurement:
    path = generate(ctx.workdir / f"contacts-{size}.csv", size)
    baseline = await _baseline(ctx, path)
    runs = len(list(ctx.workdir.glob("run-*")))
    (ctx.workdir / f"run-{runs}").touch()
    tenant_id = await _tenant(ctx, runs)
    started = time.perf_counter()
    with path.open("rb") as source:
        batch = await import_local(ctx.db, tenant_id, source, path.name, ImportOptions())
    seconds = time.perf_counter() - started
    return Measurement(
        units=size,
        seconds=seconds,
        baseline_seconds=baseline,
        extra={
            "created": batch.created_count,
            "updated": batch.updated_count,
            "skipped": batch.skipped_count,
            "rejected": batch.rejected_count,
            "file_mb": round(path.stat().st_size / 1e6, 1),
            "workers": workers_for(path.stat().st_size),
        },
    )
