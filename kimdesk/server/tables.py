"""The county server's tables (SQLAlchemy Core); the same schema on SQLite and PostgreSQL.

What is stored: teams with their key epoch and change-log head, enrolment codes (as hashes),
devices with public keys and a hash of their token, wrapped team keys, the encrypted change log,
per record the highest HLC (and per team their checksum, kept current by each push), which seqs
of the log each device was sent (for a lost-device report), statistics counts, and the server's
own audit. No client name, ever: records
are ciphertext under team keys the server never has.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()


def _sortable(length: int) -> String:
    # HLCs are compared as strings: byte order, not a locale's (which may skip dashes).
    return String(length).with_variant(String(length, collation="C"), "postgresql")


teams = Table(
    "teams", metadata,
    Column("code", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("epoch", Integer, nullable=False, default=0),  # current team key; 0 = none yet
    Column("rotation_needed", Boolean, nullable=False, default=False),
    Column("head", BigInteger, nullable=False, default=0),  # highest seq assigned
    Column("compacted_below", BigInteger, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # protocol.team_checksum of record_versions, updated with each push, and the head it
    # belongs to. Only used while checksum_head = head; otherwise (a database from before, a
    # compaction, anything that wrote the log another way) it is summed again from
    # record_versions once.
    Column("checksum", String(64)),
    Column("checksum_head", BigInteger),
)

enrolment_codes = Table(
    "enrolment_codes", metadata,
    Column("code_hash", String(64), primary_key=True),  # sha256 of the normalised code
    Column("team", ForeignKey("teams.code"), nullable=False),
    Column("user_name", String(200), nullable=False),
    Column("coordinator", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("device_id", String(32)),
)

devices = Table(
    "devices", metadata,
    Column("id", String(32), primary_key=True),  # uuid4 hex
    Column("team", ForeignKey("teams.code"), nullable=False, index=True),
    Column("user_name", String(200), nullable=False),
    Column("device_name", String(200), nullable=False),
    Column("coordinator", Boolean, nullable=False),
    Column("state", String(10), nullable=False),  # pending | active | revoked
    Column("sign_public", LargeBinary(32), nullable=False),
    Column("box_public", LargeBinary(32), nullable=False),
    Column("fingerprint", String(40), nullable=False),
    Column("token_hash", String(64), nullable=False),  # sha256 hex of the token's secret
    Column("lease_secret", LargeBinary(32), nullable=False),
    Column("lease_counter", Integer, nullable=False, default=0),  # last unlock code issued
    Column("enrolled_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

# Base64 text exactly as signed: the signature covers these strings.
envelopes = Table(
    "envelopes", metadata,
    Column("recipient_id", ForeignKey("devices.id"), primary_key=True),
    Column("epoch", Integer, primary_key=True),
    Column("team", ForeignKey("teams.code"), nullable=False),
    Column("granter_id", ForeignKey("devices.id"), nullable=False),
    Column("ephemeral_public", Text, nullable=False),
    Column("nonce", Text, nullable=False),
    Column("ciphertext", Text, nullable=False),
    Column("signature", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

changes = Table(
    "changes", metadata,
    Column("team", ForeignKey("teams.code"), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("change_id", String(32), nullable=False),
    Column("device_id", String(32), nullable=False),  # author
    Column("record_id", String(200), nullable=False),
    Column("kind", String(60), nullable=False),
    Column("hlc", String(100), nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # Ed25519 signature of the author device (protocol.change_signing_bytes); NULL only in
    # rows stored before changes were signed (receivers quarantine those).
    Column("signature", LargeBinary),
    UniqueConstraint("team", "change_id", name="uq_changes_team_change_id"),
    # A device's own changes (lost-device report: what it wrote, when it last pushed).
    Index("ix_changes_team_device", "team", "device_id", "seq"),
)

# The highest HLC per record: the team checksum is computed from it.
record_versions = Table(
    "record_versions", metadata,
    Column("team", ForeignKey("teams.code"), primary_key=True),
    Column("record_id", String(200), primary_key=True),
    Column("kind", String(60), primary_key=True),
    Column("max_hlc", _sortable(100), nullable=False),
)

# Which seqs of its team's log a device was sent: one row per contiguous range (a device that
# pulls page after page extends its one row). With the device's own changes (``changes`` by
# author) and ``compacted_changes`` this says which records a lost laptop may hold, without a
# row per device and record: storage grows with the log, not with devices × records.
device_deliveries = Table(
    "device_deliveries", metadata,
    Column("device_id", String(32), primary_key=True),
    Column("first_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("team", String(40), nullable=False),
)

# Where a compaction deleted a change: its place only (seq, record, author; no ciphertext), so
# the lost-device report still names the records of changes a device was sent before.
compacted_changes = Table(
    "compacted_changes", metadata,
    Column("team", String(40), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("device_id", String(32), nullable=False),
    Column("record_id", String(200), nullable=False),
    Column("kind", String(60), nullable=False),
)

# Before device_deliveries: one row per device and record it wrote or was sent. No longer
# written; rows of a database from before stay and count in the lost-device report.
device_records = Table(
    "device_records", metadata,
    Column("device_id", String(32), primary_key=True),
    Column("record_id", String(200), primary_key=True),
    Column("kind", String(60), primary_key=True),
)

# Statistics: a team's protected counts (cell key method, never 1–4) per month, Kommune,
# dimension and measure, replaced as a whole by each upload of the team. Nothing here names a
# device, a user or a case (kimdesk/server/statistics.py).
team_stat_cells = Table(
    "team_stat_cells", metadata,
    Column("team", ForeignKey("teams.code"), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("municipality", String(60), primary_key=True),
    Column("dimension", String(40), primary_key=True),
    Column("value", String(60), primary_key=True),
    Column("measure", String(20), primary_key=True),
    Column("count", BigInteger, nullable=False),
)

# When a team's figures of a month were last uploaded (shown with the county view).
team_stat_uploads = Table(
    "team_stat_uploads", metadata,
    Column("team", ForeignKey("teams.code"), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
)

# Certificates and revocations of the chain of trust (kimdesk.sync.trust), stored and relayed
# for the devices, which verify them; the server's own decisions never rest on them.
trust_documents = Table(
    "trust_documents", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("team", ForeignKey("teams.code"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),  # certificate | revocation
    Column("fingerprint", String(60), nullable=False),
    Column("issuer", String(60), nullable=False),
    Column("document", Text, nullable=False),  # canonical JSON, exactly as signed
    Column("digest", String(64), nullable=False, unique=True),  # sha256 of document
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Changes a device refused to apply (undecryptable, bad shape, clock far ahead): for county IT.
quarantine_reports = Table(
    "quarantine_reports", metadata,
    Column("reporter_id", String(32), primary_key=True),
    Column("change_id", String(32), primary_key=True),
    Column("team", ForeignKey("teams.code"), nullable=False, index=True),
    Column("seq", BigInteger, nullable=False),
    Column("author_id", String(32), nullable=False),  # who pushed it (from the change log)
    Column("reason", String(200), nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
)

# The head of each device's local audit trail after a sync (sequence number and its chained MAC,
# no content): anchors outside the vault, against which the device detects that entries were
# cut off or rewritten by someone who knew the password (kimdesk/server/anchors.py).
audit_anchors = Table(
    "audit_anchors", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(32), nullable=False, index=True),
    Column("seq", BigInteger, nullable=False),
    Column("mac", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("action", String(40), nullable=False),
    # "admin:<os user>", "device:<id>" or, for a refused enrolment, "address:<ip>"
    Column("actor", String(200), nullable=False),
    Column("team", String(40)),
    Column("device_id", String(32)),
    Column("detail", Text, nullable=False, default="{}"),  # JSON; ids and counts only
)

# Refused enrolment attempts (wrong, used or expired code, another person or team), counted per
# client address and per team for the rate limit of kimdesk/server/enrolment.py; in the database,
# so all worker processes count together. Never the code: a short hash prefix only. Rows older
# than a day are deleted as new ones come in; the audit log keeps the record.
enrolment_attempts = Table(
    "enrolment_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("address", String(64), nullable=False, index=True),
    Column("team", String(40), index=True),  # of the code, or the one the device named
    Column("reason", String(20), nullable=False),
)

# Documents' contents as blobs of encrypted chunks (kimdesk/server/blobs.py): the server keeps
# ciphertext only, under a key that travels inside the team's encrypted change. A blob belongs
# to the change (and record) its author device named when it declared it; it is deleted when
# that change is gone from the log (purge compaction) or was never pushed.
blobs = Table(
    "blobs", metadata,
    Column("team", ForeignKey("teams.code"), primary_key=True),
    Column("blob_id", String(32), primary_key=True),
    Column("device_id", String(32), nullable=False),  # the author: the only one who uploads
    Column("record_id", String(200), nullable=False),
    Column("change_id", String(32), nullable=False),
    Column("size", BigInteger, nullable=False),  # of the plaintext; fixes chunks and lengths
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("touched_at", DateTime(timezone=True), nullable=False),
)

blob_chunks = Table(
    "blob_chunks", metadata,
    Column("team", String(40), primary_key=True),
    Column("blob_id", String(32), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),  # AES-GCM ciphertext with tag
)

# Cases that move between teams (kimdesk/server/transfers.py): a bundle sealed by a device of the
# sending team for the certified devices of the receiving team (HPKE envelopes inside the
# signed header), in chunks of AES-GCM ciphertext. The server never has a key; the chunks are
# deleted as soon as the receiving team acknowledged, the row once the sender erased its copy.
transfers = Table(
    "transfers", metadata,
    Column("id", String(32), primary_key=True),
    Column("from_team", ForeignKey("teams.code"), nullable=False, index=True),
    Column("to_team", ForeignKey("teams.code"), nullable=False, index=True),
    Column("sender_id", String(32), nullable=False),
    Column("header", Text, nullable=False),  # canonical JSON, exactly as signed
    Column("signature", Text, nullable=False),
    Column("chunks", Integer, nullable=False),
    Column("sealed", Boolean, nullable=False, default=False),
    Column("ack", Text),  # the receiving device's signed acknowledgement (canonical JSON)
    Column("ack_signature", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("acked_at", DateTime(timezone=True)),
)

transfer_chunks = Table(
    "transfer_chunks", metadata,
    Column("transfer_id", String(32), primary_key=True),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),  # AES-GCM ciphertext with tag
)
