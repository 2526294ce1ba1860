"""`POST /v1/provisions`: every provision on a topic, grouped by instrument (Assistant.provisions)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from .provisions import Provision
from .retrieval import Filters


class ProvisionsRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"topic": "registration of space objects", "k": 20}]})
    topic: str = Field(..., min_length=1, description="A legal concept in a sentence or two.")
    k: int = Field(20, ge=1, le=100, description="Provisions to list.")
    filters: Filters | None = None


class ProvisionsResponse(BaseModel):
    topic: str
    provisions: list[Provision] = Field(..., description="Grouped by instrument: UN treaties by date, UN principles "
                                        "and declarations, COPUOS guidelines, national laws, accords and programmes; "
                                        "`rank` orders them by relevance.")


def provisions_router(service, max_chars: int, responses: dict) -> APIRouter:
    """The route over the API's assistant service (`service.get()` returns the Assistant)."""
    router = APIRouter()

    @router.post("/provisions", response_model=ProvisionsResponse, tags=["answers"], responses=responses)
    def provisions(body: ProvisionsRequest):
        if len(body.topic) > max_chars:
            raise HTTPException(422, f"The topic is too long ({len(body.topic)} characters; the limit is {max_chars}).")
        found = service.get().provisions(body.topic, k=body.k, filters=body.filters)
        return ProvisionsResponse(topic=found.topic, provisions=found.provisions)

    return router
