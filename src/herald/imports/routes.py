"""Routes of contact imports (``/v1/imports``)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError

from herald.auth.dependencies import Manager, Viewer
from herald.imports import service, tasks
from herald.imports.models import ImportStatus
from herald.imports.schemas import ImportBatchRead, ImportOptions
from herald.kit.errors import Unprocessable
from herald.kit.jobs import defer
from herald.kit.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/v1/imports", tags=["imports"])
FORM_FIELDS = frozenset({"file", "force", *ImportOptions.model_fields})


async def known_form_fields(request: Request) -> None:
    """A multipart form has no schema to forbid extra keys: a misspelled option
    (``default_contry``) would be ignored and the file imported without it."""
    unknown = sorted(set((await request.form()).keys()) - FORM_FIELDS)
    if unknown:
        raise Unprocessable(
            f"Unknown form field {', '.join(unknown)}; "
            f"the fields are {', '.join(sorted(FORM_FIELDS))}.",
            errors=[
                {"field": name, "message": "Extra inputs are not permitted"} for name in unknown
            ],
        )


def _options(fields: dict[str, Any]) -> ImportOptions:
    """The form fields as options; a mistake answers 422 naming the field."""
    raw_mapping = fields.pop("mapping")
    if raw_mapping:
        try:
            fields["mapping"] = orjson.loads(raw_mapping)
        except orjson.JSONDecodeError as exc:
            raise Unprocessable(
                'mapping must be a JSON object {"<csv header>": "<field>"}: ' + str(exc)
            ) from exc
    tags = fields.pop("tags")
    fields["tags"] = [t.strip() for t in tags.split(",") if t.strip()] if tags else []
    try:
        options = ImportOptions.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise Unprocessable(f"The import options are invalid. {problems}") from exc
    if (options.consent_channel is None) != (options.consent_status is None):
        raise Unprocessable("consent_channel and consent_status go together: send both or neither.")
    return options


async def _one_file(request: Request) -> None:
    """One import is one file: a second ``file`` part would otherwise be ignored silently.
    The form is the one FastAPI already parsed (Starlette keeps it on the request)."""
    files = (await request.form()).getlist("file")
    if len(files) > 1:
        raise Unprocessable(
            f"The upload holds {len(files)} 'file' parts; send one file per import "
            "(POST /v1/imports once for each)."
        )


@router.post(
    "",
    response_model=ImportBatchRead,
    status_code=202,
    summary="Import contacts from a CSV file",
    dependencies=[Depends(known_form_fields)],
)
async def create_import(
    request: Request,
    auth: Manager,
    file: Annotated[UploadFile, File(description="The CSV file.")],
    mapping: Annotated[str | None, Form(description="JSON {csv header: field}.")] = None,
    default_country: Annotated[str | None, Form()] = None,
    tags: Annotated[str | None, Form(description="Comma-separated tags for every row.")] = None,
    consent_channel: Annotated[str | None, Form()] = None,
    consent_status: Annotated[str | None, Form()] = None,
    consent_source: Annotated[str | None, Form()] = None,
    update_existing: Annotated[bool, Form()] = True,
    delimiter: Annotated[str | None, Form()] = None,
    encoding: Annotated[str | None, Form()] = None,
    force: Annotated[bool, Form(description="Import a file already imported.")] = False,
) -> ImportBatchRead:
    await _one_file(request)
    options = _options(
        {
            "mapping": mapping,
            "default_country": default_country,
            "tags": tags,
            "consent_channel": consent_channel,
            "consent_status": consent_status,
            "consent_source": consent_source,
            "update_existing": update_existing,
            "delimiter": delimiter,
            "encoding": encoding,
        }
    )
    batch = await service.submit(
        auth.session,
        auth.tenant_id,
        file.file,
        file.filename or "upload.csv",
        options,
        force=force,
        actor=auth.actor,
    )
    if batch.status is ImportStatus.pending:  # stored for a worker: queue it in this transaction
        await defer(
            auth.session, tasks.run_import, lock=f"import:{batch.id}", batch_id=str(batch.id)
        )
    return service.to_read(batch)


@router.get("", response_model=Page[ImportBatchRead], summary="Import batches, newest first")
async def list_imports(
    auth: Viewer, params: Annotated[PageParams, Depends(page_params)]
) -> Page[ImportBatchRead]:
    return await service.list_batches(auth.session, auth.tenant_id, params)


@router.get("/{batch_id}", response_model=ImportBatchRead, summary="An import and its progress")
async def read_import(batch_id: UUID, auth: Viewer) -> ImportBatchRead:
    return service.to_read(await service.get(auth.session, auth.tenant_id, batch_id))


@router.get(
    "/{batch_id}/rejected.csv",
    summary="Rejected and skipped rows with their line and reason",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def rejected_rows(batch_id: UUID, auth: Viewer) -> Response:
    name, body = await service.rejected_csv(auth.session, auth.tenant_id, batch_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
