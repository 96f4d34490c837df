"""Transfer state of documents' contents, which sync sends as encrypted blobs in chunks.

Device-local bookkeeping (never synced): the blob of each outgoing document change (so a
repeated push names the same blob and an interrupted upload resumes), and each received
document whose content is not on this device yet (its key and checksum from the verified
change; chunks already fetched wait, still encrypted, in the vault's folder).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from kimdesk.models.base import Base, utcnow


class BlobUpload(Base):
    """The blob an outgoing document change refers to (kept until the change is pushed)."""

    __tablename__ = "sync_blob_uploads"

    change_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    attachment_id: Mapped[str] = mapped_column(String(32))
    blob_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[bytes] = mapped_column(LargeBinary)  # AES-256-GCM key of this blob only
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BlobDownload(Base):
    """A received document whose content is still to be fetched (retried at every sync)."""

    __tablename__ = "sync_blob_downloads"

    attachment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    blob_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # The change that announced it: for the quarantine if the content fails verification.
    change_id: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer)
    author_device: Mapped[str] = mapped_column(String(32))
    hlc: Mapped[str] = mapped_column(String(100))
    epoch: Mapped[int] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
