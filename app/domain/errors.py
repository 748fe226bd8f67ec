"""The one base class for problems the user can fix (shown as a message, never a traceback)."""


class UserError(Exception):
    """Bad input or environment; the message says what is wrong and what to do."""


class NotFound(UserError, LookupError):
    """The user named something that does not exist; the message says how to find it."""
