from __future__ import annotations

import codecs
from datetime import date
from uuid import UUID

import httpx
import orjson
import psycopg
import pytest
from psycopg import sql

from herald.contact.models import ConsentStatus
from herald.imports.repository import EMAIL_INDEX, PHONE_INDEX
from herald.kit.context import Role
from herald.kit.database import Database
from herald.kit.embedded import to_libpq_url
from tests.conftest import TenantFixture
from tests.imports.helpers import (
    add_contact,
    consent_events,
    contacts_by_phone,
    csv_bytes,
    rejected_rows,
    upload,
)

BASIC = csv_bytes(
    "Mobile,First Name,Surname,E-mail,Tags,DOB,Favourite Colour",
    "+1 212 234 5678,Ann,Lee,ann@example.com,vip;spring,12/31/1990,green",
    "(212) 234-5679,Bob,,,,,",
    "1 212 234 5670,Cid,Ray,,wholesale,,blue",
)


def _reindex(database_url: str, index: str) -> None:
    """Rebuild ``index``: it gets a new identity, the newest of the table's indexes."""
    with psycopg.connect(to_libpq_url(database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("REINDEX INDEX CONCURRENTLY {}").format(sql.Identifier(index)))


class TestImport:
    async def test_inline_import(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        response = await upload(client, tenant, BASIC, tags="fair-2026")
        assert response.status_code == 202, response.text
        batch = response.json()
        assert batch["status"] == "completed"
        assert batch["counts"] == {
            "created": 3,
            "updated": 0,
            "skipped": 0,
            "rejected": 0,
            "consent_kept": 0,
        }
        assert batch["total_rows"] == 3 and batch["processed_rows"] == 3
        assert batch["progress"] == 1.0
        assert batch["file_name"] == "contacts.csv" and len(batch["file_sha256"]) == 64
        contacts = await contacts_by_phone(db, tenant.id)
        ann = contacts["+12122345678"]
        assert (ann.first_name, ann.last_name, ann.email) == ("Ann", "Lee", "ann@example.com")
        assert ann.birth_date == date(1990, 12, 31)
        assert ann.tags == ["vip", "spring", "fair-2026"]
        assert ann.custom_fields == {"Favourite Colour": "green"}
        assert ann.source == "import" and ann.import_batch_id == UUID(batch["id"])
        assert contacts["+12122345679"].tags == ["fair-2026"]
        assert contacts["+12122345679"].custom_fields == {}
        assert set(contacts) == {"+12122345678", "+12122345679", "+12122345670"}

        again = await client.get(f"/v1/imports/{batch['id']}", headers=tenant.headers)
        assert again.json()["counts"]["created"] == 3
        listed = await client.get("/v1/imports", headers=tenant.headers)
        assert [b["id"] for b in listed.json()["items"]] == [batch["id"]]

    async def test_explicit_mapping_and_default_country(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        body = csv_bytes("Numéro;Prénom;Ville;Interne", "06 12 34 56 78;Zoé;Lyon;x")
        mapping = {"Numéro": "phone", "Prénom": "first_name", "Ville": "custom:city"}
        mapping["Interne"] = "ignore"
        response = await upload(
            client, tenant, body, mapping=orjson.dumps(mapping).decode(), default_country="fr"
        )
        assert response.status_code == 202, response.text
        contact = (await contacts_by_phone(db, tenant.id))["+33612345678"]
        assert contact.first_name == "Zoé"
        assert contact.custom_fields == {"city": "Lyon"}

    async def test_bad_rows_are_reported_and_good_rows_go_in(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        body = csv_bytes(
            "phone,name,note",
            '+12122345678,Ann,"two',
            'lines"',
            "12345,Bob,",
            "+12122345679,Cid,",
            "not a phone,Dee,",
            "+12122345678,Ann again,",
            "+12122345670,,",
        )
        response = await upload(client, tenant, body)
        counts = response.json()["counts"]
        assert (counts["created"], counts["rejected"], counts["skipped"]) == (3, 2, 1)
        rows = await rejected_rows(client, tenant, response.json()["id"])
        assert [(r["line"], r["status"]) for r in rows] == [
            ("4", "rejected"),
            ("6", "rejected"),
            ("7", "skipped"),
        ]
        assert rows[0]["reason"] == "phone '12345': too short"
        assert rows[0]["row"] == "12345,Bob,"
        assert rows[1]["reason"] == "phone 'not a phone': not a phone number"
        assert rows[2]["reason"] == "duplicate of line 2 (same phone +12122345678)"
        contacts = await contacts_by_phone(db, tenant.id)
        assert set(contacts) == {"+12122345678", "+12122345679", "+12122345670"}
        assert contacts["+12122345678"].custom_fields == {"name": "Ann", "note": "two\nlines"}

    async def test_utf16_file(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        text = "phone\tfirst_name\n+447911123456\tÅsa Öberg\n"
        response = await upload(client, tenant, codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
        assert response.json()["counts"]["created"] == 1
        assert (await contacts_by_phone(db, tenant.id))["+447911123456"].first_name == "Åsa Öberg"

    async def test_latin1_file(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        body = "téléphone;prénom\n+33612345678;Hélène\n".encode("latin-1")
        mapping = orjson.dumps({"téléphone": "phone", "prénom": "first_name"}).decode()
        response = await upload(client, tenant, body, mapping=mapping)
        assert response.status_code == 202, response.text
        assert (await contacts_by_phone(db, tenant.id))["+33612345678"].first_name == "Hélène"


class TestUnreadable:
    async def test_binary(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        response = await upload(client, tenant, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
        assert response.status_code == 422
        assert "binary" in response.json()["detail"]
        await _nothing_written(client, tenant, db)

    async def test_no_phone_column(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        response = await upload(client, tenant, csv_bytes("name,email", "Ann,a@example.com"))
        assert response.status_code == 422
        assert "No phone column" in response.json()["detail"]
        assert "name, email" in response.json()["detail"]
        await _nothing_written(client, tenant, db)

    async def test_empty_and_header_only(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        empty = await upload(client, tenant, b"")
        assert empty.status_code == 422 and "empty" in empty.json()["detail"]
        header = await upload(client, tenant, b"phone,name\n")
        assert header.status_code == 422 and "no rows" in header.json()["detail"]
        await _nothing_written(client, tenant, db)

    async def test_bad_options(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        bad_json = await upload(client, tenant, BASIC, mapping="{phone")
        assert bad_json.status_code == 422 and "mapping must be a JSON" in bad_json.json()["detail"]
        missing = await upload(client, tenant, BASIC, mapping='{"Portable": "phone"}')
        assert missing.status_code == 422 and "Portable" in missing.json()["detail"]
        half = await upload(client, tenant, BASIC, consent_channel="sms")
        assert half.status_code == 422 and "go together" in half.json()["detail"]
        status = await upload(client, tenant, BASIC, consent_channel="sms", consent_status="yes")
        assert status.status_code == 422 and "consent_status" in status.json()["detail"]
        codec = await upload(client, tenant, BASIC, encoding="klingon")
        assert codec.status_code == 422 and "not accepted" in codec.json()["detail"]
        quote = await upload(client, tenant, BASIC, delimiter='"')
        assert quote.status_code == 422 and "delimiter" in quote.json()["detail"]

    async def test_encoding_and_delimiter_overrides(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        body = "phone:first_name\n+33612345678:Zoë\n".encode("latin-1")
        response = await upload(client, tenant, body, encoding="latin-1", delimiter=":")
        assert response.status_code == 202, response.text
        assert response.json()["options"]["encoding"] == "iso8859-1"
        assert (await contacts_by_phone(db, tenant.id))["+33612345678"].first_name == "Zoë"


async def test_an_unknown_form_field_is_refused(
    client: httpx.AsyncClient, tenant: TenantFixture, db: Database
) -> None:
    response = await upload(client, tenant, BASIC, default_contry="FR")
    assert response.status_code == 422
    assert "Unknown form field default_contry" in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == "default_contry"
    await _nothing_written(client, tenant, db)


class TestEncodings:
    @pytest.mark.parametrize(
        "codec",
        ["rot13", "hex", "base64", "zlib", "bz2", "uu", "idna", "utf-32", "quopri", "punycode"],
    )
    async def test_only_text_encodings(
        self, client: httpx.AsyncClient, tenant: TenantFixture, codec: str
    ) -> None:
        response = await upload(client, tenant, BASIC, encoding=codec)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["request_id"] == response.headers["x-request-id"]
        detail = response.json()["detail"]
        assert f"encoding {codec!r} is not accepted" in detail
        assert "utf-8, utf-8-sig, utf-16" in detail and "latin-1" in detail

    async def test_utf16_without_a_byte_order_mark(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        body = "phone,first_name\n+33612345678,Zoë\n".encode("utf-16-le")
        refused = await upload(client, tenant, body, encoding="utf-16")
        assert refused.status_code == 422
        assert "byte order mark" in refused.json()["detail"]
        assert "utf-16-le" in refused.json()["detail"]
        await _nothing_written(client, tenant, db)
        accepted = await upload(client, tenant, body, encoding="UTF-16LE")
        assert accepted.status_code == 202, accepted.text
        assert accepted.json()["options"]["encoding"] == "utf-16-le"
        assert (await contacts_by_phone(db, tenant.id))["+33612345678"].first_name == "Zoë"

    @pytest.mark.parametrize(
        ("codec", "text"),
        [("windows-1252", "Zoë \u201cZ\u201d"), ("mac_roman", "Zoë"), ("iso-8859-15", "Zoë €")],
    )
    async def test_aliases_of_accepted_encodings(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database, codec: str, text: str
    ) -> None:
        body = f"phone,first_name\n+33612345678,{text}\n".encode(codec)
        response = await upload(client, tenant, body, encoding=codec)
        assert response.status_code == 202, response.text
        assert (await contacts_by_phone(db, tenant.id))["+33612345678"].first_name == text


async def _nothing_written(client: httpx.AsyncClient, tenant: TenantFixture, db: Database) -> None:
    listed = await client.get("/v1/imports", headers=tenant.headers)
    assert listed.json()["items"] == []
    assert await contacts_by_phone(db, tenant.id) == {}


class TestSameFile:
    async def test_detected_then_forced(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        first = await upload(client, tenant, BASIC)
        second = await upload(client, tenant, BASIC, name="renamed.csv")
        assert second.status_code == 409
        assert second.json()["earlier_batch_id"] == first.json()["id"]
        assert "force=true" in second.json()["detail"]
        forced = await upload(client, tenant, BASIC, force="true")
        assert forced.status_code == 202
        assert forced.json()["counts"]["created"] == 0
        assert forced.json()["counts"]["updated"] == 3
        assert len(await contacts_by_phone(db, tenant.id)) == 3

    async def test_other_tenant_may_import_the_same_file(
        self, client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
    ) -> None:
        assert (await upload(client, tenant, BASIC)).status_code == 202
        assert (await upload(client, other_tenant, BASIC, default_country="US")).status_code == 202


class TestMerge:
    async def test_existing_contacts_are_updated_with_tag_union(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        await add_contact(
            db,
            tenant.id,
            phone_e164="+12122345678",
            first_name="Annie",
            company="Acme",
            tags=["old"],
            custom_fields={"Favourite Colour": "red", "kept": "yes"},
        )
        response = await upload(client, tenant, BASIC)
        assert response.json()["counts"]["updated"] == 1
        assert response.json()["counts"]["created"] == 2
        ann = (await contacts_by_phone(db, tenant.id))["+12122345678"]
        assert ann.first_name == "Ann" and ann.company == "Acme"
        assert ann.tags == ["old", "vip", "spring"]
        assert ann.custom_fields == {"Favourite Colour": "green", "kept": "yes"}
        assert ann.import_batch_id is None  # the batch that created it is recorded, not updates

    @pytest.mark.parametrize("rebuilt", [None, PHONE_INDEX])
    async def test_an_existing_contact_with_its_own_email_whichever_index_is_checked_first(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        db: Database,
        database_url: str,
        rebuilt: str | None,
    ) -> None:
        """A plain insert of such a row breaks both unique indexes and PostgreSQL reports the
        first it checks, by the indexes' age: rebuilding the phone index makes it the newer."""
        await add_contact(db, tenant.id, phone_e164="+12122345678", email="ann@example.com")
        try:
            if rebuilt:
                _reindex(database_url, rebuilt)
            response = await upload(client, tenant, BASIC)
        finally:
            if rebuilt:
                _reindex(database_url, EMAIL_INDEX)  # the original order again
        assert response.status_code == 202, response.text
        assert (response.json()["counts"]["created"], response.json()["counts"]["updated"]) == (
            2,
            1,
        )
        assert (await contacts_by_phone(db, tenant.id))["+12122345678"].first_name == "Ann"

    async def test_update_existing_false_skips_them(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        await add_contact(db, tenant.id, phone_e164="+12122345678", first_name="Annie")
        response = await upload(client, tenant, BASIC, update_existing="false")
        counts = response.json()["counts"]
        assert (counts["created"], counts["updated"], counts["skipped"]) == (2, 0, 1)
        rows = await rejected_rows(client, tenant, response.json()["id"])
        assert rows[0]["line"] == "2" and "update_existing is false" in rows[0]["reason"]
        assert (await contacts_by_phone(db, tenant.id))["+12122345678"].first_name == "Annie"

    async def test_email_taken_rejects_the_row_not_the_chunk(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        owner = await add_contact(
            db, tenant.id, phone_e164="+12125550000", email="Taken@Example.com"
        )
        body = csv_bytes(
            "phone,email",
            "+12122345678,taken@example.com",
            "+12122345679,dup@example.com",
            "+12122345670,DUP@example.com",
            "+12122345671,free@example.com",
        )
        response = await upload(client, tenant, body)
        counts = response.json()["counts"]
        assert (counts["created"], counts["rejected"]) == (2, 2)
        rows = await rejected_rows(client, tenant, response.json()["id"])
        assert rows[0]["line"] == "2"
        assert rows[0]["reason"] == f"email taken@example.com is already used by contact {owner.id}"
        assert rows[1]["line"] == "4"
        assert rows[1]["reason"] == "email DUP@example.com is already used on line 3"
        assert set(await contacts_by_phone(db, tenant.id)) == {
            "+12125550000",
            "+12122345679",
            "+12122345671",
        }


class TestConsent:
    async def test_opted_out_is_never_turned_back_in(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        out = await add_contact(
            db,
            tenant.id,
            phone_e164="+12122345678",
            sms_status=ConsentStatus.opted_out,
            sms_source="STOP keyword",
        )
        response = await upload(
            client,
            tenant,
            BASIC,
            consent_channel="sms",
            consent_status="opted_in",
            consent_source="fair signup sheet",
        )
        batch = response.json()
        assert batch["counts"]["consent_kept"] == 1
        contacts = await contacts_by_phone(db, tenant.id)
        kept = contacts["+12122345678"]
        assert kept.sms_status is ConsentStatus.opted_out
        assert kept.sms_source == "STOP keyword"
        assert await consent_events(db, tenant.id, out.id) == []
        new = contacts["+12122345679"]
        assert new.sms_status is ConsentStatus.opted_in
        assert new.sms_source == "fair signup sheet"
        (event,) = await consent_events(db, tenant.id, new.id)
        assert (event.status, event.previous_status) == (ConsentStatus.opted_in, None)
        assert event.method.value == "import" and event.source == "fair signup sheet"
        assert event.details == {"import_batch_id": batch["id"], "line": 3}

    async def test_file_column_changes_consent_with_events(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        known = await add_contact(
            db, tenant.id, phone_e164="+12122345678", sms_status=ConsentStatus.implied
        )
        body = csv_bytes(
            "phone,sms_consent,whatsapp_consent",
            "+12122345678,no,yes",
            "+12122345679,,",
            "+12122345670,maybe,",
        )
        response = await upload(client, tenant, body)
        assert response.json()["counts"]["rejected"] == 1
        contacts = await contacts_by_phone(db, tenant.id)
        assert contacts["+12122345678"].sms_status is ConsentStatus.opted_out
        assert contacts["+12122345678"].whatsapp_status is ConsentStatus.opted_in
        assert contacts["+12122345679"].sms_status is ConsentStatus.unknown
        events = {e.channel.value: e for e in await consent_events(db, tenant.id, known.id)}
        assert events["sms"].previous_status is ConsentStatus.implied
        assert events["sms"].status is ConsentStatus.opted_out
        assert events["whatsapp"].previous_status is ConsentStatus.unknown
        assert await consent_events(db, tenant.id, contacts["+12122345679"].id) == []


class TestAccess:
    async def test_viewer_cannot_import_but_can_read(
        self, client: httpx.AsyncClient, tenant: TenantFixture, db: Database
    ) -> None:
        viewer = await tenant.key_for(Role.viewer)
        response = await upload(client, tenant, BASIC, headers=viewer)
        assert response.status_code == 403
        assert "manager" in response.json()["detail"]
        assert await contacts_by_phone(db, tenant.id) == {}
        assert (await client.get("/v1/imports", headers=viewer)).status_code == 200

    async def test_manager_can_import(
        self, client: httpx.AsyncClient, tenant: TenantFixture
    ) -> None:
        manager = await tenant.key_for(Role.manager)
        assert (await upload(client, tenant, BASIC, headers=manager)).status_code == 202

    async def test_other_tenant_sees_nothing(
        self,
        client: httpx.AsyncClient,
        tenant: TenantFixture,
        other_tenant: TenantFixture,
        db: Database,
    ) -> None:
        batch_id = (await upload(client, tenant, BASIC)).json()["id"]
        for path in (f"/v1/imports/{batch_id}", f"/v1/imports/{batch_id}/rejected.csv"):
            response = await client.get(path, headers=other_tenant.headers)
            assert response.status_code == 404
            assert "No import" in response.json()["detail"]
        listed = await client.get("/v1/imports", headers=other_tenant.headers)
        assert listed.json()["items"] == []
        assert await contacts_by_phone(db, other_tenant.id) == {}
        assert len(await contacts_by_phone(db, tenant.id)) == 3

    async def test_unknown_batch(self, client: httpx.AsyncClient, tenant: TenantFixture) -> None:
        response = await client.get(
            "/v1/imports/01a2011a-0000-7000-8000-000000000000", headers=tenant.headers
        )
        assert response.status_code == 404
