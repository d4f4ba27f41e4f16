"""Exceptions services raise; the web layer turns them into pages or JSON errors."""


class ServiceError(Exception):
    """A rule was broken; `message` is safe to show the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(ServiceError):
    """Bad input: `errors` maps each field name to the message shown beside it."""

    def __init__(self, errors: dict[str, str], message: str = "Please correct the errors below.") -> None:
        super().__init__(message)
        self.errors = errors


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    pass
