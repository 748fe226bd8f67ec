"""The one base class for problems the user can fix (shown as a message, never a traceback)."""


class UserError(Exception):
    """Bad input or environment; the message says what is wrong and what to do."""


class NotFound(UserError, LookupError):
    """The user named something that does not exist; the message says how to find it."""


class DraftError(UserError, ValueError):
    """A setting that cannot be used; ``field`` names it, the message says what to do.
    ``where`` says where the field was given (an API request's body or query)."""

    def __init__(self, field: str, message: str, *, where: str = "body") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.where = where
