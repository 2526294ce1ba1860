"""GET/POST /v1/documents and GET/DELETE /v1/documents/{doc_id}: calls on `Assistant.documents`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, HTTPException, Response, UploadFile

from ..api_models import DocumentDetail, DocumentList
from ..chain import Assistant
from ..documents import Documents
from ..settings import Settings
from ..types import IngestReport
from .deps import get_assistant, get_settings
from .errors import errors
from .middleware import upload_cap

UPLOAD = File(..., description="One .md/.txt/.html/.pdf file.")


def documents_router(settings: Settings) -> APIRouter:
    """The routes; the upload's body limit comes from `settings.max_upload_bytes`."""
    router = APIRouter(prefix="/documents", tags=["documents"])
    router.get("", response_model=DocumentList, responses=errors())(list_documents)
    router.get("/{doc_id}", response_model=DocumentDetail, responses=errors(404))(get_document)
    router.post("", response_model=IngestReport, status_code=201, responses=errors(403, 409, 413, 415),
                max_body_size=upload_cap(settings))(upload_document)
    router.delete("/{doc_id}", response_model=IngestReport, responses=errors(403, 404))(delete_document)
    return router


def list_documents(assistant: Assistant = Depends(get_assistant)):
    """GET /v1/documents: every indexed document with its passage count."""
    return DocumentList(documents=assistant.documents.summaries())


def get_document(doc_id: str, assistant: Assistant = Depends(get_assistant)):
    """GET /v1/documents/{doc_id}: one document with its passages in reading order."""
    return assistant.documents.get(doc_id)


def upload_document(response: Response, file: UploadFile = UPLOAD, assistant: Assistant = Depends(get_assistant),
                    settings: Settings = Depends(get_settings)):
    """POST /v1/documents: save and index one uploaded file (413 over the size limit); Location names it."""
    limit = settings.max_upload_bytes
    Documents.upload_name(file.filename)  # 415 before the body is read
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"The upload is larger than the limit of {limit} bytes.")
    doc_id, report = assistant.documents.add(file.filename, data)
    response.headers["Location"] = f"/v1/documents/{doc_id}"
    return report


def delete_document(doc_id: str, assistant: Assistant = Depends(get_assistant)):
    """DELETE /v1/documents/{doc_id}: remove an uploaded document and its passages."""
    return assistant.documents.remove(doc_id)
