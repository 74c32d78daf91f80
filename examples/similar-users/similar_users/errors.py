"""The one error type a stage raises for bad input: its message says what is wrong, where
(file, column or parameter) and what would be accepted, and the stage prints it as one line."""


#: The stage running in this process (set by run_stage and NotebookStage), used to label errors.
current_stage: str | None = None


class StageError(Exception):
    """Expected failure of a stage caused by its input or parameters.

    The message must be complete on its own: the stage runner prints
    ``similar-users/<stage>: <message>`` to stderr and exits non-zero, without a traceback.
    """

    def __init__(self, message: str, *, stage: str | None = None) -> None:
        super().__init__(message)
        self.stage = stage

    def line(self, stage: str | None = None) -> str:
        """The one-line report, prefixed with the stage name."""
        name = self.stage or stage or current_stage or "stage"
        return f"similar-users/{name}: {self}"

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of a Python traceback, so an executed notebook and the
        # notebook runner's error report carry the same one clear line as a Python stage.
        return [self.line()]
