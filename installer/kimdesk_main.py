"""Entry point of the installed KIMdesk (PyInstaller bundle): the `kimdesk` command and the app."""

from __future__ import annotations

import sys

# An installed program never writes into its own folder: alembic loads the migration scripts
# from source files, and Python would otherwise try to leave __pycache__ beside them.
sys.dont_write_bytecode = True

from kimdesk.cli import main  # noqa: E402 - after the bytecode switch

if __name__ == "__main__":
    sys.exit(main())
