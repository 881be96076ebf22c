"""The one base of every error a user can fix: :class:`UserError`.

A bad scenario or settings file, an output folder that cannot be used, an executor that cannot
start, a folder that cannot be reported on, a path the explorer refuses: each is a subclass,
defined beside the code that raises it. The command line catches this one type and reports it
in one line (``adoptsim: error: ...``, exit code 2), without a traceback.

The lowest layer: it imports nothing from the package.
"""

from __future__ import annotations

MAX_LISTED_ERRORS = 10


class UserError(Exception):
    """A problem the user can fix, and where it lies: ``file`` (a path, or ``--set a.b=value``
    when a command-line override caused it), ``line`` and the dotted ``key_path``, each when
    known; ``others`` holds further problems found together with it (e.g. in one validation)."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 key_path: str | None = None, others: tuple[UserError, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.key_path = key_path
        self.others = others

    def headline(self) -> str:
        """This problem alone, as ``file:line: key.path: message``."""
        where = ":".join([self.file or "", str(self.line or "")]).strip(":")
        return ": ".join(part for part in (where, self.key_path, self.message) if part)

    def __str__(self) -> str:
        problems = (self, *self.others)
        lines = [problem.headline() for problem in problems[:MAX_LISTED_ERRORS]]
        if len(problems) > MAX_LISTED_ERRORS:
            lines.append(f"(and {len(problems) - MAX_LISTED_ERRORS} more)")
        return "\n".join(lines)
