"""One-time unlock codes for the offline lease: county IT reads one out, the laptop checks it.

A code is ``N-XXXX-XXXX-XXXX-XXXX``: the counter ``N``, then base32 of the first 10 bytes of
HMAC-SHA256(lease secret, ``kimdesk lease v1 <device id> <N>``). The device and the server share
the lease secret from enrolment, so the laptop checks a code offline; a code works once, because
the laptop remembers the highest counter it accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

MAC_BYTES = 10
MAC_CHARS = 16  # base32 of 10 bytes, no padding
# Typed on a phone call: digits that cannot occur in base32 are read as the letters they resemble.
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})
_SHAPE = re.compile(r"([0-9]+)([A-Z2-7]{16})")


def _mac(secret: bytes, device_id: str, counter: int) -> str:
    message = f"kimdesk lease v1 {device_id} {counter}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()[:MAC_BYTES]
    return base64.b32encode(digest).decode("ascii").rstrip("=").upper()


def lease_code(secret: bytes, device_id: str, counter: int) -> str:
    """The unlock code number ``counter`` (≥ 1) for this device."""
    if counter < 1:
        raise ValueError("counter starts at 1")
    mac = _mac(secret, device_id, counter)
    return "-".join([str(counter), *(mac[i:i + 4] for i in range(0, MAC_CHARS, 4))])


def parse_and_verify(secret: bytes, device_id: str, code: str,
                     last_used_counter: int) -> int | None:
    """The code's counter if it is genuine and newer than ``last_used_counter``, else None.

    Tolerant of what people type: spaces, lower case, missing dashes, 0/1/8 for O/I/B.
    """
    compact = re.sub(r"[\s\-–—]", "", code).upper()
    if len(compact) <= MAC_CHARS or not compact[:-MAC_CHARS].isdigit():
        return None
    counter_text, mac_text = compact[:-MAC_CHARS], compact[-MAC_CHARS:].translate(_LOOKALIKES)
    if not _SHAPE.fullmatch(counter_text + mac_text) or len(counter_text) > 9:
        return None
    counter = int(counter_text)
    if counter < 1:
        return None
    valid = hmac.compare_digest(mac_text.encode(), _mac(secret, device_id, counter).encode())
    if not valid or counter <= last_used_counter:
        return None
    return counter
