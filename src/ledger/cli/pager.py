"""Long output through a pager, as `git log` does: only on a terminal, never into a pipe.

The pager is `$PAGER` (empty or `cat`: none), else `less`; `LESS` defaults to `FRX`
(quit if one screen, keep colours and the screen), as git sets it. Text shorter than the
screen is written directly.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys


def paged(text: str) -> bool:
    """Show `text` through the pager when stdout is a terminal and the text is taller than
    it; False where it was not paged (the caller writes it)."""
    if not sys.stdout.isatty() or not sys.stdin.isatty():
        return False
    if text.count("\n") + 1 < shutil.get_terminal_size().lines:
        return False
    command = shlex.split(os.environ.get("PAGER", "less"))
    if not command or command == ["cat"] or shutil.which(command[0]) is None:
        return False
    env = {**os.environ, "LESS": os.environ.get("LESS", "FRX"), "LV": os.environ.get("LV", "-c")}
    try:
        pager = subprocess.Popen(command, stdin=subprocess.PIPE, env=env)
    except OSError:
        return False
    assert pager.stdin is not None
    try:
        pager.stdin.write((text + "\n").encode("utf-8", "backslashreplace"))
        pager.stdin.close()
    except BrokenPipeError:  # the reader quit the pager early: that is fine
        pass
    while True:
        try:
            pager.wait()
            return True
        except KeyboardInterrupt:  # ^C belongs to the pager, as in git
            continue
