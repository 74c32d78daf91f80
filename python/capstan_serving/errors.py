"""The exception a handler raises to answer a request with its own status code and message."""


class PredictionException(Exception):
    """Raised by a handler: the batch is answered with `error_code` and `message`."""

    def __init__(self, message, error_code=500):
        self.message = message
        self.error_code = error_code
        super().__init__(message)

    def __str__(self):
        return f"message : error_code => {self.message} : {self.error_code}"
