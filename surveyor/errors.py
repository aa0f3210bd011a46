"""User-facing errors: each carries a sentence a person can act on."""

from __future__ import annotations


class SurveyorError(Exception):
    """An error whose message is shown to the user as is (no traceback).

    Raise it for bad input, refused saves and unusable files: the CLI prints the message and
    exits with code 2, the TUI shows it in a toast.
    """

    def __init__(self, message: str, *, zh: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: The same sentence in Chinese, for the interface in zh (the CLI prints ``message``).
        self.zh = zh

    def text(self, lang: str) -> str:
        """The message in ``lang`` (``zh`` or ``en``); English where no Chinese was given."""
        return self.zh if lang == "zh" and self.zh else self.message


class ValidationFailed(SurveyorError):
    """A save was refused because answers break the form's rules.

    ``errors`` maps field id to the message in the requested language, so the TUI can show each
    one inline at its field.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        detail = "; ".join(f"{field}: {msg}" for field, msg in self.errors.items())
        super().__init__(f"refused: {detail}", zh=f"未保存：{detail}")


class NotFound(SurveyorError):
    """A building (or other record) named by the user does not exist."""


class DiskFull(SurveyorError):
    """A write failed because the disk (or the database server's disk) is full.

    Nothing of that write was kept (its transaction rolled back); what was saved before is
    intact. Raised instead of the driver's "database or disk is full" (and, when opening a
    database on a disk with no room left, its "disk I/O error"), so every front end can say
    what to do: free some space and try again.
    """
