"""Verifies SQLite's write-ahead log before the vault is opened.

SQLite drops WAL frames whose checksum fails and everything after them, which would silently roll
the vault back to an earlier state. A torn write at the tail (a crash before the commit) is
legitimate; a damaged frame that is followed by a valid commit is not: then committed data would
vanish, so we refuse to open instead. See https://www.sqlite.org/fileformat.html#the_write_ahead_log
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

_MAGIC_LE = 0x377F0682
_MAGIC_BE = 0x377F0683
_HEADER = 32
_FRAME_HEADER = 24
_MASK = 0xFFFFFFFF


@dataclass(frozen=True)
class WalReport:
    frames: int
    committed_frames: int
    damaged: bool
    detail: str = ""


def _checksum(data: bytes, s0: int, s1: int, big_endian: bool) -> tuple[int, int]:
    values = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    for i in range(0, len(values), 2):
        s0 = (s0 + values[i] + s1) & _MASK
        s1 = (s1 + values[i + 1] + s0) & _MASK
    return s0, s1


def check_wal(path: Path) -> WalReport:
    """Inspect ``path`` (a ``-wal`` file); a missing or empty file is fine."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return WalReport(0, 0, False)
    if len(data) < _HEADER:
        # A header that was never completely written precedes any commit.
        return WalReport(0, 0, False)

    magic, _version, page_size, _ckpt, salt1, salt2, hs0, hs1 = struct.unpack(">8I", data[:32])
    if magic not in (_MAGIC_LE, _MAGIC_BE):
        return WalReport(0, 0, True, "unbekannte Kennung des Protokolls")
    big_endian = magic == _MAGIC_BE
    header_ok = _checksum(data[:24], 0, 0, big_endian) == (hs0, hs1)
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        # A damaged page size hides every frame; if frames exist, data was committed.
        return WalReport(0, 0, len(data) > _HEADER, "ungültige Seitengröße im Protokoll")

    frame_size = _FRAME_HEADER + page_size
    s0, s1 = hs0, hs1
    frames = committed = 0
    first_bad: int | None = None
    last_commit: int | None = None
    for index, offset in enumerate(range(_HEADER, len(data) - frame_size + 1, frame_size)):
        head = data[offset : offset + _FRAME_HEADER]
        _page, truncate, f_salt1, f_salt2, fs0, fs1 = struct.unpack(">6I", head)
        computed = _checksum(head[:8] + data[offset + 24 : offset + frame_size], s0, s1, big_endian)
        valid = (f_salt1, f_salt2) == (salt1, salt2) and computed == (fs0, fs1)
        if valid:
            frames += 1
            if truncate:
                last_commit = index
                committed = frames
        elif first_bad is None:
            first_bad = index
        # Chain from the stored checksum, so the frames after a damaged one still verify.
        s0, s1 = fs0, fs1

    damaged_frame = first_bad is not None and last_commit is not None and first_bad < last_commit
    damaged_header = not header_ok and last_commit is not None
    if damaged_frame or damaged_header:
        return WalReport(frames, committed, True, "beschädigter Eintrag im Schreibprotokoll")
    return WalReport(frames, committed, False)
