"""Coordination use cases: Fallbesprechung, Erkenntnisse, Fallrekonstruktion, Projektgruppen,
Lenkungsgruppe. Their objects hold no personal data: every text taken from a case passes the
confirmation of :mod:`kimdesk.casework.pseudonymise`."""
