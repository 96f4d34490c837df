"""Password quality: a strength estimate (zxcvbn) explained in German, and the vault's policy.

zxcvbn estimates how many guesses an attacker needs, from dictionaries of common passwords,
names and words, keyboard patterns, repeats, sequences and dates. Its dictionaries are English,
so the policy adds German words people put into passwords (``passwort``, ``kennwort`` …), the
county's and the app's names and whatever the caller knows about the person (her name): a
password made of these is as weak as ``password1``. Its feedback is English and is mapped to
German texts here; nothing of the password itself ever appears in a message.

The vault refuses a password below :data:`MIN_SCORE` when it is created, changed or reset after
a recovery. The demo vault (invented people only) is the one exception: its fixed password
``demo-passwort`` is allowed through an explicit flag of :func:`check_password_policy`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kimdesk.errors import ValidationError

MIN_PASSWORD_LENGTH = 10
# zxcvbn's score: 0 (too guessable) … 4 (very unguessable). 3 means at least 10^8 guesses,
# each of which costs an attacker a full Argon2id run (128 MiB) on a stolen laptop.
MIN_SCORE = 3
# zxcvbn refuses longer input and slows down quadratically; a longer password is judged by its
# beginning (which only underestimates it).
_MAX_ESTIMATED_LENGTH = 72

# German (and local) words zxcvbn's English dictionaries do not know, lower case.
GERMAN_WORDS: tuple[str, ...] = (
    "passwort", "kennwort", "geheim", "geheimnis", "zugang", "sicher", "sicherheit",
    "hallo", "willkommen", "schatz", "liebe", "sommer", "winter", "fruehling", "herbst",
    "januar", "februar", "maerz", "april", "mai", "juni", "juli", "august", "september",
    "oktober", "november", "dezember", "montag", "freitag", "deutschland", "fussball",
    "schalke", "borussia", "bayern", "kimdesk", "kim", "kreis", "kleve", "integration",
    "integrationsmanagement", "fallmanagement", "datentresor", "tresor", "demo", "test",
    "niederrhein", "rathaus", "verwaltung", "admin", "benutzer", "mitarbeiter",
)

_WARNINGS = {
    "Straight rows of keys are easy to guess.":
        "Tastenreihen wie „qwertz“ sind leicht zu erraten.",
    "Short keyboard patterns are easy to guess.":
        "Kurze Tastaturmuster sind leicht zu erraten.",
    'Repeats like "aaa" are easy to guess.':
        "Wiederholungen wie „aaa“ sind leicht zu erraten.",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".':
        "Wiederholungen wie „abcabcabc“ sind kaum schwerer zu erraten als „abc“.",
    'Sequences like "abc" or "6543" are easy to guess.':
        "Folgen wie „abc“ oder „6543“ sind leicht zu erraten.",
    "Recent years are easy to guess.": "Jahreszahlen der letzten Jahre sind leicht zu erraten.",
    "Dates are often easy to guess.": "Daten (Geburtstage, Jahrestage) sind leicht zu erraten.",
    "This is a top-10 common password.": "Dies ist eines der zehn häufigsten Passwörter.",
    "This is a top-100 common password.": "Dies ist eines der hundert häufigsten Passwörter.",
    "This is a very common password.": "Dies ist ein sehr häufiges Passwort.",
    "This is similar to a commonly used password.":
        "Das Passwort ähnelt einem sehr häufigen Passwort.",
    "A word by itself is easy to guess.": "Ein einzelnes Wort ist leicht zu erraten.",
    "Names and surnames by themselves are easy to guess.":
        "Vor- und Nachnamen allein sind leicht zu erraten.",
    "Common names and surnames are easy to guess.":
        "Häufige Vor- und Nachnamen sind leicht zu erraten.",
}

_SUGGESTIONS = {
    "Use a few words, avoid common phrases.":
        "Verwenden Sie mehrere Wörter, aber keine bekannten Redewendungen.",
    "No need for symbols, digits, or uppercase letters.":
        "Sonderzeichen, Ziffern oder Großbuchstaben sind nicht nötig.",
    "Add another word or two. Uncommon words are better.":
        "Fügen Sie ein oder zwei weitere Wörter hinzu – ungewöhnliche Wörter sind besser.",
    "Use a longer keyboard pattern with more turns.":
        "Vermeiden Sie Tastaturmuster.",
    "Avoid repeated words and characters.": "Vermeiden Sie wiederholte Wörter und Zeichen.",
    "Avoid sequences.": "Vermeiden Sie Folgen wie „abc“ oder „1234“.",
    "Avoid recent years.": "Vermeiden Sie Jahreszahlen der letzten Jahre.",
    "Avoid years that are associated with you.":
        "Vermeiden Sie Jahreszahlen, die mit Ihnen zu tun haben.",
    "Avoid dates and years that are associated with you.":
        "Vermeiden Sie Daten und Jahreszahlen, die mit Ihnen zu tun haben.",
    "Capitalization doesn't help very much.": "Großbuchstaben helfen wenig.",
    "All-uppercase is almost as easy to guess as all-lowercase.":
        "Nur Großbuchstaben sind kaum sicherer als nur Kleinbuchstaben.",
    "Reversed words aren't much harder to guess.":
        "Rückwärts geschriebene Wörter sind kaum schwerer zu erraten.",
    "Predictable substitutions like '@' instead of 'a' don't help very much.":
        "Vorhersehbare Ersetzungen wie „@“ statt „a“ helfen wenig.",
}

_RATINGS = ("sehr schwach", "schwach", "mittel", "stark", "sehr stark")
_GENERIC_ADVICE = ("Gut zu merken und schwer zu erraten sind drei oder vier Wörter, die nicht "
                   "zusammengehören, mit Bindestrichen verbunden.")


@dataclass(frozen=True)
class PasswordStrength:
    """The estimate for one password: ``score`` 0–4, a German rating and explanation."""

    score: int
    rating: str  # "sehr schwach" … "sehr stark"
    warning: str  # German; empty when zxcvbn names no particular weakness
    suggestions: tuple[str, ...]  # German

    @property
    def acceptable(self) -> bool:
        return self.score >= MIN_SCORE

    def summary(self) -> str:
        """One short German line for a live display beside the password field."""
        verdict = "" if self.acceptable else " – zu leicht zu erraten"
        return f"Passwortstärke: {self.rating}{verdict}"

    def explanation(self) -> str:
        """One German paragraph: rating, the weakness and what to do instead."""
        parts = [f"Passwortstärke: {self.rating}."]
        if self.warning:
            parts.append(self.warning)
        parts.extend(self.suggestions)
        if not self.acceptable and _GENERIC_ADVICE not in parts:
            parts.append(_GENERIC_ADVICE)
        return " ".join(parts)


def _personal_words(user_inputs: Iterable[str]) -> list[str]:
    """The caller's words (a name), whole and split into parts, lower case."""
    words: list[str] = []
    for text in user_inputs:
        cleaned = text.strip().lower()
        if not cleaned:
            continue
        words.append(cleaned)
        parts = [part for part in cleaned.replace("-", " ").replace(".", " ").split() if part]
        words.extend(parts)
        if len(parts) > 1:
            words.append("".join(parts))
    return words


def estimate_strength(password: str, user_inputs: Iterable[str] = ()) -> PasswordStrength:
    """zxcvbn's estimate with German feedback; ``user_inputs`` are words the person is known by."""
    from zxcvbn import zxcvbn  # imported when needed: it loads its word lists on import

    personal = _personal_words(user_inputs)
    result = zxcvbn(password[:_MAX_ESTIMATED_LENGTH], user_inputs=[*personal, *GERMAN_WORDS])
    score = int(result["score"])
    feedback = result["feedback"]
    warning_en = str(feedback.get("warning") or "")
    warning = _WARNINGS.get(warning_en, "Das Passwort ist leicht zu erraten." if warning_en else "")
    lowered = password.lower()
    if personal and any(len(word) >= 3 and word in lowered for word in personal):
        warning = "Das Passwort enthält Ihren Namen."
        score = min(score, MIN_SCORE - 1) if len(password) < 20 else score
    suggestions = tuple(dict.fromkeys(
        _SUGGESTIONS[text] for text in feedback.get("suggestions", []) if text in _SUGGESTIONS))
    return PasswordStrength(score=score, rating=_RATINGS[score], warning=warning,
                            suggestions=suggestions)


def check_password_policy(password: str, *, user_inputs: Iterable[str] = (),
                          allow_weak: bool = False) -> None:
    """:class:`ValidationError` (field ``password``) unless ``password`` may protect a vault.

    Always at least :data:`MIN_PASSWORD_LENGTH` characters; unless ``allow_weak`` (the demo
    vault only) also a zxcvbn score of at least :data:`MIN_SCORE`, with ``user_inputs`` (the
    person's name) counted as easy to guess.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"Das Passwort muss mindestens {MIN_PASSWORD_LENGTH} Zeichen lang sein.", "password"
        )
    if allow_weak:
        return
    strength = estimate_strength(password, user_inputs)
    if not strength.acceptable:
        raise ValidationError(
            "Das Passwort ist zu leicht zu erraten. " + strength.explanation(), "password"
        )
