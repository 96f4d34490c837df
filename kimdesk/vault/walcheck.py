"""Verifies SQLite's write-ahead log before the vault is opened.

SQLite drops WAL frames whose checksum fails and everything after them, and it ignores the whole
log when the log's header is damaged; either would silently roll the vault back to an earlier
state. A torn write at the tail (a crash before the commit) is legitimate; damage that is followed
by a valid commit is not: then committed data would vanish, so we refuse to open instead.

What this cannot see: damage inside the *last* transaction of the log looks exactly like a crash
during that commit (a torn write), so SQLite drops that transaction and this check lets it pass.
See https://www.sqlite.org/fileformat.html#the_write_ahead_log
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

_MAGIC_LE = 0x377F0682
_MAGIC_BE = 0x377F0683
_VERSION = 3007000
_HEADER = 32
_FRAME_HEADER = 24
_MASK = 0xFFFFFFFF
# Possible running checksums kept after a damaged frame (see _scan); one flip needs two.
_MAX_CHAINS = 4
_PAGE_SIZES = tuple(2**n for n in range(9, 17))  # 512 ... 65536


@dataclass(frozen=True)
class WalReport:
    frames: int
    committed_frames: int
    damaged: bool
    detail: str = ""


@dataclass(frozen=True)
class _Scan:
    frames: int
    committed_frames: int
    first_bad: int | None
    last_commit: int | None


def _checksum(data: bytes, s0: int, s1: int, big_endian: bool) -> tuple[int, int]:
    values = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    for i in range(0, len(values), 2):
        s0 = (s0 + values[i] + s1) & _MASK
        s1 = (s1 + values[i + 1] + s0) & _MASK
    return s0, s1


def _scan(
    data: bytes,
    page_size: int,
    big_endian: bool,
    salts: tuple[int, int],
    starts: list[tuple[int, int]],
) -> _Scan:
    """Walk the frames with ``salts``, the running checksum beginning at one of ``starts``.

    After a damaged frame the true running checksum is either the one stored in the frame (the
    page was damaged) or the one computed over it (the stored checksum was damaged); both are
    followed, so the valid frames after one damaged frame are still recognised.
    """
    frame_size = _FRAME_HEADER + page_size
    chains = list(dict.fromkeys(starts))
    frames = committed = 0
    first_bad: int | None = None
    last_commit: int | None = None
    for index, offset in enumerate(range(_HEADER, len(data) - frame_size + 1, frame_size)):
        head = data[offset : offset + _FRAME_HEADER]
        _page, truncate, f_salt1, f_salt2, fs0, fs1 = struct.unpack(">6I", head)
        stored = (fs0, fs1)
        if (f_salt1, f_salt2) != salts:
            # Another generation of the log (or a damaged salt): the stored checksum goes on.
            if first_bad is None:
                first_bad = index
            chains = [stored]
            continue
        body = head[:8] + data[offset + _FRAME_HEADER : offset + frame_size]
        computed = [_checksum(body, s0, s1, big_endian) for s0, s1 in chains]
        if stored in computed:
            frames += 1
            if truncate:
                last_commit = index
                committed = frames
            chains = [stored]
        else:
            if first_bad is None:
                first_bad = index
            chains = list(dict.fromkeys([stored, *computed]))[:_MAX_CHAINS]
    return _Scan(frames, committed, first_bad, last_commit)


def check_wal(path: Path) -> WalReport:
    """Inspect ``path`` (a ``-wal`` file); a missing or empty file is fine."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return WalReport(0, 0, False)
    if len(data) < _HEADER:
        # A header that was never completely written precedes any commit.
        return WalReport(0, 0, False)

    magic, version, page_size, _ckpt, salt1, salt2, hs0, hs1 = struct.unpack(">8I", data[:32])
    big_endian = magic == _MAGIC_BE
    header_ok = (
        magic in (_MAGIC_LE, _MAGIC_BE)
        and version == _VERSION
        and page_size in _PAGE_SIZES
        and _checksum(data[:24], 0, 0, big_endian) == (hs0, hs1)
    )
    if not header_ok:
        return _check_without_header(data, (salt1, salt2), (hs0, hs1))

    scan = _scan(data, page_size, big_endian, (salt1, salt2), [(hs0, hs1)])
    bad, commit = scan.first_bad, scan.last_commit
    damaged = bad is not None and commit is not None and bad < commit
    detail = "beschädigter Eintrag im Schreibprotokoll" if damaged else ""
    return WalReport(scan.frames, scan.committed_frames, damaged, detail)


def _check_without_header(
    data: bytes, header_salts: tuple[int, int], header_sums: tuple[int, int]
) -> WalReport:
    """SQLite ignores a log whose header is damaged; that loses nothing only without commits.

    So look for a committed frame under every reading of the damaged header: either byte order,
    every page size, the header's salts or the first frame's, the header's stored checksum or
    the one it should have. Misread sizes put the frame headers in the wrong place, where their
    salts do not match, so the wrong readings find nothing.
    """
    salt_choices = [header_salts]
    if len(data) >= _HEADER + _FRAME_HEADER:
        first_salts = struct.unpack(">2I", data[_HEADER + 8 : _HEADER + 16])
        salt_choices.append((first_salts[0], first_salts[1]))
    for big_endian in (False, True):
        starts = [header_sums, _checksum(data[:24], 0, 0, big_endian)]
        for page_size in _PAGE_SIZES:
            for salts in dict.fromkeys(salt_choices):
                scan = _scan(data, page_size, big_endian, salts, starts)
                if scan.last_commit is not None:
                    return WalReport(
                        scan.frames,
                        scan.committed_frames,
                        True,
                        "beschädigter Kopf des Schreibprotokolls",
                    )
    return WalReport(0, 0, False)
