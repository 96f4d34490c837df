"""`kimdesk ARGS` run through the command line's ``main(argv)`` in the test process.

Starting `python -m kimdesk.cli` costs a second or more per command (the imports); a test that
types twenty commands spent most of its time starting interpreters. Where the process itself is
not what a test checks (a SIGKILL, the exit code of the real binary, a clean environment of its
own), the tests run the same ``main`` in process: the same parser, handlers and error handling
(``Fehler: …`` on stderr, exit codes 0/1/2), with the environment the process would have had
(no ``KIMDESK_*`` variable of the test process, only those given) and stdout/stderr captured.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from kimdesk.cli import main


def run_kimdesk(*args: str | Path, env: Mapping[str, str] | None = None,
                cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``kimdesk ARGS`` in process; the result looks like ``subprocess.run``'s.

    ``env`` holds the ``KIMDESK_*`` variables the command sees (all others of the test process
    are removed for the call). A traceback on stderr fails the test at once: the real binary
    would have printed one."""
    argv = [str(arg) for arg in args]
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("KIMDESK_")]:
            patch.delenv(name)
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        if cwd is not None:
            patch.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: usage errors (2) and --help (0)
                if exc.code is None or isinstance(exc.code, int):
                    code = exc.code or 0
                else:  # sys.exit("text"), as the interpreter reports it
                    print(exc.code, file=err)
                    code = 1
    result = subprocess.CompletedProcess(["kimdesk", *argv], code, out.getvalue(),
                                         err.getvalue())
    assert "Traceback" not in result.stderr, result.stderr
    return result
