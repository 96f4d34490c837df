"""Offline-lease unlock codes: the format IT reads out, and what the laptop accepts."""

from __future__ import annotations

import re

from kimdesk.sync.lease import lease_code, parse_and_verify

SECRET = bytes(range(32))
DEVICE = "0f" * 16
CODE = re.compile(r"[1-9][0-9]*(-[A-Z2-7]{4}){4}")


def test_codes_have_the_documented_shape_and_differ_per_counter_and_device() -> None:
    codes = {lease_code(SECRET, DEVICE, n) for n in range(1, 50)}

    assert len(codes) == 49
    assert all(CODE.fullmatch(code) for code in codes)
    assert lease_code(SECRET, DEVICE, 7).startswith("7-")
    assert lease_code(SECRET, DEVICE, 1) != lease_code(SECRET, "1e" * 16, 1)
    assert lease_code(SECRET, DEVICE, 1) != lease_code(b"x" * 32, DEVICE, 1)


def test_a_genuine_code_is_accepted_once_per_counter() -> None:
    code = lease_code(SECRET, DEVICE, 3)

    assert parse_and_verify(SECRET, DEVICE, code, 0) == 3
    assert parse_and_verify(SECRET, DEVICE, code, 2) == 3
    assert parse_and_verify(SECRET, DEVICE, code, 3) is None  # used already
    assert parse_and_verify(SECRET, DEVICE, code, 9) is None  # a newer one was used


def test_what_people_type_is_tolerated() -> None:
    code = lease_code(SECRET, DEVICE, 12)
    compact = code.replace("-", "")
    variants = [code.lower(), compact, " ".join(code.split("-")), f"  {code}  ",
                code.replace("-", " - "), code.replace("O", "0").replace("I", "1")
                .replace("B", "8")]

    assert all(parse_and_verify(SECRET, DEVICE, v, 0) == 12 for v in variants), variants


def test_forged_or_broken_codes_are_refused() -> None:
    code = lease_code(SECRET, DEVICE, 5)
    last = code[-1]
    tampered = code[:-1] + ("A" if last != "A" else "B")

    for bad in (tampered, lease_code(SECRET, "1e" * 16, 5), lease_code(b"y" * 32, DEVICE, 5),
                "5-" + code.split("-", 1)[1].replace("-", "")[:-1], "", "5", "abc",
                "0-" + code.split("-", 1)[1], "6-" + code.split("-", 1)[1],
                "9" * 20 + code.split("-", 1)[1]):
        assert parse_and_verify(SECRET, DEVICE, bad, 0) is None, bad
