"""The shell commands of a Markdown page's ```sh blocks, for the tests that run a page
(docs/tutorial.md, README.md's tour) command by command and check each one's exit code."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    text: str
    exit_code: int
    line: int


def commands(markdown: str) -> list[Command]:
    """Every command of the ```sh blocks: continuation lines and heredocs joined to the command
    they belong to; `# exit N` after a command is the exit code it must have (else 0). Comment
    lines between commands are not commands."""
    out: list[Command] = []
    in_block = False
    current: list[str] = []
    heredoc: str | None = None
    start = 0
    for number, line in enumerate(markdown.splitlines(), start=1):
        if not in_block:
            in_block = line.strip() == "```sh"
            continue
        if heredoc is None and line.strip() == "```":
            assert not current, f"line {start}: a command is not finished at the block's end"
            in_block = False
            continue
        if not current:
            start = number
            if not line.strip() or line.lstrip().startswith("#"):
                continue
        current.append(line)
        if heredoc is not None:
            if line.strip() == heredoc:
                heredoc = None
            else:
                continue
        elif (match := re.search(r"<<-?'?(\w+)'?", line)) is not None:
            heredoc = match.group(1)
            continue
        if line.rstrip().endswith("\\"):
            continue
        text = "\n".join(current)
        code = re.search(r"#\s*exit\s+(\d+)\s*$", current[-1] if heredoc is None else current[0])
        out.append(Command(text, int(code.group(1)) if code else 0, start))
        current = []
    assert not current and heredoc is None, f"line {start}: a command is not finished"
    assert not in_block, "a ```sh block is not closed"
    return out
