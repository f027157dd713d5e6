"""The one error a run can meet in the model itself: a value known only while running that does
not fit (a string past its length cap, a number outside its Avro field, a non-symbol for an enum).
"""

from __future__ import annotations

from connector.errors import Problem, UserError


class TransitionValueError(UserError):
    """A value computed by transition `transition` does not fit; `field` names the record field
    (with `topic`) when the value was for one. A user mistake in the model: `doge run` prints it
    and exits 2; a worker fails the task with this message (no restart can help)."""

    def __init__(self, message: str, *, transition: str, file: str | None, path: str | None,
                 topic: str | None = None, field: str | None = None) -> None:
        self.transition = transition
        self.topic = topic
        self.field = field
        where = f"transition '{transition}'"
        if field is not None:
            where += f", field '{field}' of topic '{topic}'"
        super().__init__([Problem(f"{where}: {message}", file=file, path=path)])

    def __reduce__(self) -> tuple[object, ...]:
        # Tasks run in processes of their own: the error must cross back intact.
        problem = self.problems[0]
        return (_rebuild, (problem.message, problem.file, problem.path, self.transition,
                           self.topic, self.field))


def _rebuild(rendered: str, file: str | None, path: str | None, transition: str,
             topic: str | None, field: str | None) -> TransitionValueError:
    error = TransitionValueError("", transition=transition, file=file, path=path, topic=topic,
                                 field=field)
    error.problems = [Problem(rendered, file=file, path=path)]
    error.args = (error.problems[0].render(),)
    return error
