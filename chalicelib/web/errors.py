"""HTTP errors for views and guards; ChaliceUnhandledError, or Chalice answers them with its own 500."""

from chalice.app import ChaliceUnhandledError

STATUS_TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too much data",
    415: "Unsupported content type",
    422: "Check your input",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Service busy",
}

# Machine-readable codes for the JSON error shape.
ERROR_CODES = {
    400: "BadRequest",
    401: "NotAuthenticated",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "ValidationFailed",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
}

DEFAULT_MESSAGES = {
    400: "The request could not be understood.",
    401: "Please log in to continue.",
    403: "You are not allowed to do that.",
    404: "We could not find that page.",
    405: "That method is not allowed here.",
    413: "The form sent more data than we accept.",
    415: "That content type is not accepted here.",
    500: "Something went wrong on our side. Please try again in a moment.",
    503: "The shop is busy right now. Please try again in a moment.",
}


class HTTPError(ChaliceUnhandledError):
    def __init__(self, status: int, message: str | None = None, code: str | None = None) -> None:
        self.status = status
        self.message = message or DEFAULT_MESSAGES.get(status, STATUS_TITLES.get(status, "Error"))
        self.code = code or ERROR_CODES.get(status, "Error")
        super().__init__(self.message)
