"""The few errors the assistant raises; each message is meant to be shown to a user."""


class AssistantError(Exception):
    """Base class: the message is displayed as is."""


class BadQuestion(AssistantError):
    """The question is empty, too long or otherwise unusable."""


class CorpusError(AssistantError):
    """The corpus cannot be ingested (missing folder, no readable documents, bad file)."""


class IndexUnavailable(AssistantError):
    """The index or the Chroma server cannot be reached."""


class DocumentNotFound(AssistantError):
    """No document with that id is in the index."""
