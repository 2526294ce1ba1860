"""What routes depend on: the app's one Assistant (`get_assistant`), its settings, the bearer token, length limits."""

from __future__ import annotations

import threading

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials

from ..chain import Assistant
from ..documents import with_uploads
from ..errors import AssistantError, IndexUnavailable
from ..settings import Settings
from ..web_security import bearer, token_matches

JSON_LIMIT = 1 << 20  # bytes of a JSON request body


class AssistantHolder:
    """The app's one Assistant, built again on demand if it could not start (the uploads folder is a corpus
    folder of the one it builds)."""

    def __init__(self, settings: Settings, assistant: Assistant | None) -> None:
        self.settings, self.assistant = settings, assistant
        self._lock = threading.Lock()

    def get(self) -> Assistant:
        """The Assistant, built now if it is not running yet (`IndexUnavailable` while it cannot start)."""
        with self._lock:
            if self.assistant is None:
                try:
                    self.assistant = Assistant.from_settings(with_uploads(self.settings))
                except AssistantError as exc:
                    raise IndexUnavailable(f"The assistant could not start: {exc}") from exc
            return self.assistant


def get_assistant(request: Request) -> Assistant:
    """The Assistant every route calls (a 503 `IndexUnavailable` while it cannot start)."""
    return request.app.state.assistants.get()


def get_settings(request: Request) -> Settings:
    """The app's settings (create_app's, which may differ from the Assistant's in its HTTP limits)."""
    return request.app.state.settings


def require_token(credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
                  settings: Settings = Depends(get_settings)) -> None:
    """401 unless the request sends `Authorization: Bearer <SGA_API_TOKEN>` (the /v1 routes, when a token is set)."""
    if not token_matches(credentials, settings.api_token):
        raise HTTPException(401, "Missing or wrong API token: send 'Authorization: Bearer <token>'.",
                            headers={"WWW-Authenticate": "Bearer"})


def check_length(text: str, limit: int, what: str = "question") -> None:
    """422 for a text over `limit` characters (settings.max_question_chars)."""
    if len(text) > limit:
        raise HTTPException(422, f"The {what} is too long ({len(text)} characters; the limit is {limit}).")
