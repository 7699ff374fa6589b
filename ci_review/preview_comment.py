"""The pull request comment of one stack's `pulumi preview` (pulumi-preview.yml).

The preview job, which runs the pull request's program, writes it with the preview's output;
the comment job, which runs no code of the pull request, puts its own first line above it (the
marker it finds the comment again by, from the stack's name) and posts it. The output is the
pull request's to say: it is fenced, and its tail (where Pulumi sums up) is kept when it is too
long for a comment.
"""

from __future__ import annotations

from ci_review.build import COMMENT_LIMIT, fenced

OUTCOMES = {
    "success": "succeeded",
    "failure": "**failed**: the job's log has the error",
    "cancelled": "cancelled",
    "skipped": "**did not run**: an earlier step of the job failed",
}


def _tail(output: str, room: int) -> tuple[str, int]:
    """The last lines of `output` that fit in `room` bytes, and how many lines were left out."""
    lines = output.rstrip().splitlines()
    kept: list[str] = []
    size = 0
    for line in reversed(lines):
        size += len(line.encode()) + 1
        if size > room:
            break
        kept.append(line)
    kept.reverse()
    return "\n".join(kept), len(lines) - len(kept)


def preview_comment(stack: str, outcome: str, output: str, limit: int = COMMENT_LIMIT) -> str:
    """`### pulumi preview <stack>: <outcome>` and the output, fenced, within `limit` bytes."""
    heading = f"### `pulumi preview` of `{stack}`: {OUTCOMES.get(outcome, outcome)}\n\n"
    if not output.strip():
        return heading + "The preview printed nothing: the job's log and summary have the rest.\n"
    room = limit - len(heading.encode()) - 200  # the note, and the fences as a rule
    while True:
        shown, left_out = _tail(output, room)
        note = (
            f"_{left_out} earlier line(s) left out: over GitHub's comment limit; the job summary "
            "holds the whole preview._\n\n"
            if left_out
            else ""
        )
        comment = f"{heading}{note}{fenced(shown)}\n"
        over = len(comment.encode()) - limit
        if over <= 0:
            return comment
        room -= over  # fences longer than the rule (a long run of backticks in the output)
