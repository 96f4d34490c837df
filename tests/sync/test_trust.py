"""The chain of trust as a pure function: which signed documents make a device a team member."""

from __future__ import annotations

import pytest

from kimdesk.sync import crypto, trust


def _device() -> tuple[crypto.DeviceKeys, str]:
    keys = crypto.DeviceKeys.generate()
    return keys, keys.fingerprint


ROOT = trust.new_root_key()
ROOT_PUBLIC = trust.public_key_of(ROOT)


def _evaluate(documents, devices, **known) -> trust.TeamTrust:
    return trust.evaluate(root_public=ROOT_PUBLIC, team="nord", documents=documents,
                          sign_keys={fp: keys.sign_public for keys, fp in devices}, **known)


def test_the_root_certifies_coordinators_and_coordinators_certify_members():
    (coord_keys, coord), (member_keys, member) = _device(), _device()
    documents = [
        trust.certify(team="nord", fingerprint=member, role="member", issuer=coord,
                      signer_private=coord_keys.sign_private),
        trust.certify(team="nord", fingerprint=coord, role="coordinator", issuer=trust.ROOT,
                      signer_private=ROOT),
    ]
    verdict = _evaluate(documents, [(coord_keys, coord), (member_keys, member)])
    assert verdict.members == {coord: "coordinator", member: "member"}
    assert len(verdict.accepted) == 2


@pytest.mark.parametrize("forgery", ["other root", "other team", "member certifies",
                                     "coordinator self-promotes", "altered body"])
def test_documents_outside_the_chain_are_ignored(forgery):
    (coord_keys, coord), (member_keys, member), (mallory_keys, mallory) = (
        _device(), _device(), _device())
    chain = [trust.certify(team="nord", fingerprint=coord, role="coordinator",
                           issuer=trust.ROOT, signer_private=ROOT),
             trust.certify(team="nord", fingerprint=member, role="member", issuer=coord,
                           signer_private=coord_keys.sign_private)]
    if forgery == "other root":
        bad = trust.certify(team="nord", fingerprint=mallory, role="coordinator",
                            issuer=trust.ROOT, signer_private=trust.new_root_key())
    elif forgery == "other team":
        bad = trust.certify(team="sued", fingerprint=mallory, role="coordinator",
                            issuer=trust.ROOT, signer_private=ROOT)
    elif forgery == "member certifies":
        bad = trust.certify(team="nord", fingerprint=mallory, role="member", issuer=member,
                            signer_private=member_keys.sign_private)
    elif forgery == "coordinator self-promotes":
        bad = trust.certify(team="nord", fingerprint=mallory, role="coordinator", issuer=coord,
                            signer_private=coord_keys.sign_private)
    else:
        bad = trust.certify(team="nord", fingerprint=mallory, role="member", issuer=coord,
                            signer_private=coord_keys.sign_private)
        bad["body"]["role"] = "coordinator"
    verdict = _evaluate([*chain, bad], [(coord_keys, coord), (member_keys, member),
                                        (mallory_keys, mallory)])
    assert verdict.role(mallory) is None
    assert verdict.members == {coord: "coordinator", member: "member"}


def test_a_revocation_by_the_root_removes_a_coordinator_but_keeps_what_it_certified_before():
    (coord_keys, coord), (member_keys, member), (late_keys, late) = (
        _device(), _device(), _device())
    documents = [trust.certify(team="nord", fingerprint=coord, role="coordinator",
                               issuer=trust.ROOT, signer_private=ROOT),
                 trust.certify(team="nord", fingerprint=member, role="member", issuer=coord,
                               signer_private=coord_keys.sign_private),
                 trust.revoke(team="nord", fingerprint=coord, issuer=trust.ROOT,
                              signer_private=ROOT),
                 trust.certify(team="nord", fingerprint=late, role="member", issuer=coord,
                               signer_private=coord_keys.sign_private)]
    verdict = _evaluate(documents, [(coord_keys, coord), (member_keys, member),
                                    (late_keys, late)])
    assert verdict.role(coord) is None
    assert verdict.role(member) == "member"
    assert verdict.role(late) is None  # signed after the revocation (a stolen laptop)


def test_a_coordinator_revokes_members_but_not_coordinators_and_forged_revocations_fail():
    (coord_keys, coord), (other_keys, other), (member_keys, member) = (
        _device(), _device(), _device())
    base = [trust.certify(team="nord", fingerprint=fp, role="coordinator", issuer=trust.ROOT,
                          signer_private=ROOT) for fp in (coord, other)]
    base.append(trust.certify(team="nord", fingerprint=member, role="member", issuer=coord,
                              signer_private=coord_keys.sign_private))
    devices = [(coord_keys, coord), (other_keys, other), (member_keys, member)]
    revocations = [
        trust.revoke(team="nord", fingerprint=other, issuer=coord,
                     signer_private=coord_keys.sign_private),  # coordinators: the county only
        trust.revoke(team="nord", fingerprint=coord, issuer=trust.ROOT,
                     signer_private=trust.new_root_key()),  # forged root
    ]
    verdict = _evaluate([*base, *revocations], devices)
    assert verdict.role(coord) == verdict.role(other) == "coordinator"
    verdict = _evaluate([*base, trust.revoke(team="nord", fingerprint=member, issuer=coord,
                                             signer_private=coord_keys.sign_private)], devices)
    assert verdict.role(member) is None


def test_shapes_and_fingerprints_are_checked():
    with pytest.raises(trust.TrustError):
        trust.normalise_fingerprint("not a fingerprint")
    assert trust.normalise_fingerprint("3f2a" * 8) == "-".join(["3F2A"] * 8)
    for bad in (None, {}, {"body": {}, "signature": ""}, {"body": {"v": 2}, "signature": "x"}):
        with pytest.raises(trust.TrustError):
            trust.check_shape(bad)
