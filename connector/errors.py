"""User-facing errors: one paragraph naming the file, the field or line, and what was expected."""

from __future__ import annotations

import attrs

_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)] if c != 0x0A}


@attrs.frozen
class Problem:
    """One validation finding; `severity` is "error" or "warning"."""

    message: str
    file: str | None = None
    path: str | None = None
    line: int | None = None
    severity: str = "error"

    def render(self) -> str:
        where = []
        if self.file:
            where.append(self.file if self.line is None else f"{self.file}:{self.line}")
        elif self.line is not None:
            where.append(f"line {self.line}")
        if self.path:
            where.append(self.path)
        prefix = ": ".join(where)
        label = "warning" if self.severity == "warning" else "error"
        text = f"{label}: {prefix}: {self.message}" if prefix else f"{label}: {self.message}"
        # Names from user files reach the terminal here: no escape sequences, no broken text.
        return text.translate(_CONTROLS).encode("utf-8", "backslashreplace").decode("utf-8")


class UserError(Exception):
    """A mistake in the user's input; the CLI prints it without a traceback and exits 2."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        self.problems = problems
        super().__init__("\n".join(p.render() for p in problems))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


class InfrastructureError(Exception):
    """Kafka or the registry misbehaved in a way retries did not fix."""

    exit_code = 3


def hide_root(exc: UserError, root: str) -> UserError:
    """`exc` with file paths under `root` shown relative to it (a worker's `models.dir` is not
    the REST client's business: it named its files relative to it)."""
    prefix = root.rstrip("/") + "/"

    def strip(text: str) -> str:
        return text.replace(prefix, "")

    return UserError([attrs.evolve(p, file=strip(p.file) if p.file else p.file,
                                   message=strip(p.message)) for p in exc.problems])
