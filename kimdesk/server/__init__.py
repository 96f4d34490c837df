"""The county server: FastAPI over SQLAlchemy; stores only ciphertext, public keys and counts.

Nothing here may be imported by the desktop app: FastAPI and uvicorn are the ``server`` extra.
``kimdesk.server.cli`` is the exception: it registers ``serve`` and ``server-admin`` and imports
the rest only inside its commands.
"""
