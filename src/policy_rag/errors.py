"""Errors a person can act on: each says what failed, on which input, and what to do."""

from __future__ import annotations


class PolicyRagError(Exception):
    """Base class. The CLI prints the message (no stack trace) and exits non-zero."""


class ParseError(PolicyRagError):
    """A source file could not be read. Ingestion reports it, skips the file, goes on."""

    def __init__(self, path: object, problem: str, hint: str = "", *, source_id: str = "",
                 details: str = "") -> None:
        self.path = str(path)
        self.problem = problem
        self.hint = hint
        self.source_id = source_id
        self.details = details  # the traceback of an unexpected error, shown with --verbose
        where = f"{self.path} (source {source_id})" if source_id else self.path
        msg = f"Could not read {where}: {problem}."
        if hint:
            msg += f" {hint}"
        super().__init__(msg)


class SourceError(PolicyRagError):
    """A manifest row could not be fetched or failed its checksum, or the manifest cannot be read."""


class SettingsError(PolicyRagError):
    """A setting (POLICY_RAG_* variable) has a value policy-rag cannot use: the run stops."""


class IndexLockedError(PolicyRagError):
    """Another ingest holds the index folder's lock."""


class IndexMismatchError(PolicyRagError):
    """The index on disk was built differently from what the settings ask for."""


class MissingIndexError(PolicyRagError):
    """No index was found where the settings point."""


class ModelUnavailableError(PolicyRagError):
    """A model (embedding or LLM) is not present or could not be loaded."""
