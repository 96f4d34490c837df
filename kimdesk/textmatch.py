"""Name matching for client search: folding, Kölner Phonetik, FTS5 index tokens and queries."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from anyascii import anyascii

__all__ = [
    "PersonKey",
    "cologne_phonetic",
    "date_tokens",
    "fold",
    "fts_query",
    "index_tokens",
    "likely_same_person",
    "name_keys",
    "spelling",
    "worth_ranking",
]

# --- folding -----------------------------------------------------------------

# Ukrainian national system (Cabinet of Ministers resolution No. 55, 2010), the one used in
# Ukrainian passports, so a name typed from a passport matches the same name typed in Cyrillic.
# Russian-only letters get their common values. A few South Slavic / Belarusian letters are
# added because those clients exist too and the letters would otherwise stay Cyrillic.
_CYRILLIC: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie",
    "ж": "zh", "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l",
    "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu",
    "я": "ia",
    # Russian-only letters.
    "ы": "y", "э": "e", "ё": "e", "ъ": "",
    # Serbian/Macedonian/Belarusian, matching their usual Latin spellings after folding.
    "ђ": "d", "ј": "j", "љ": "lj", "њ": "nj", "ћ": "c", "џ": "dz", "ѓ": "g", "ќ": "k",
    "ѕ": "dz", "ў": "u",
}  # fmt: skip

# The 2010 system spells these differently at the start of a word (Yevhen, Yulia, Yosyp).
_CYRILLIC_INITIAL: dict[str, str] = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}

# Latin letters that carry no combining mark under NFKD, so stripping marks leaves them alone.
# Applied after stripping so that marked variants (ǿ, ǽ) end up the same as the bare letter.
_LATIN = str.maketrans({
    "ł": "l", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ı": "i", "ħ": "h",
    "þ": "th", "ð": "d", "ŧ": "t", "ŀ": "l",
    # NFKC turns ŀ into "l·"; the Catalan middle dot joins letters, it does not separate words.
    "·": "",
    # Umlauts already lose their diaeresis with the other marks; listed so the intent is explicit
    # (Müller == Muller; Mueller is matched by the phonetic key instead).
    "ä": "a", "ö": "o", "ü": "u",
})  # fmt: skip

_APOSTROPHES = "'’‘`ʼʻ"
# The 2010 system drops the apostrophe (Мар'яна → Mariana); elsewhere it separates words.
_CYRILLIC_APOSTROPHE = re.compile(rf"(?<=[\u0400-\u04ff])[{_APOSTROPHES}](?=[\u0400-\u04ff])")
_HAS_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def _transliterate_cyrillic(text: str) -> str:
    if not _HAS_CYRILLIC.search(text):
        return text
    out: list[str] = []
    previous = ""
    for ch in text:
        initial = not previous.isalpha()
        if initial and ch in _CYRILLIC_INITIAL:
            out.append(_CYRILLIC_INITIAL[ch])
        elif ch == "г" and previous == "з":
            # "зг" is spelled "zgh" so it is not read as "ж" (zh): Zghurskyi.
            out.append("gh")
        else:
            out.append(_CYRILLIC.get(ch, ch))
        previous = ch
    return "".join(out)


@lru_cache(maxsize=4096)
def _is_word_char(ch: str) -> bool:
    # Letters, digits and (spacing) marks of scripts such as Devanagari form words; punctuation,
    # symbols, emoji and spaces separate them, as SQLite's unicode61 tokenizer does.
    return unicodedata.category(ch)[0] in "LNM" and ch not in _APOSTROPHES


def _words(folded_text: str) -> list[str]:
    return folded_text.split(" ") if folded_text else []


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Return ``text`` lowercased, without diacritics, Cyrillic transliterated, words by one space.

    Everything that is not a letter, digit or mark separates words, so hyphens, apostrophes and
    dots do too. Scripts other than Latin and Cyrillic keep their letters.
    """
    s = unicodedata.normalize("NFKC", text).casefold()
    s = _CYRILLIC_APOSTROPHE.sub("", s)
    # Before stripping marks: й, ї, ё, ў are letters of their own, not и, і, е, у with a mark.
    s = _transliterate_cyrillic(s)
    s = "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch))
    # Again after stripping, for rare letters that decompose to a plain Cyrillic one (ӣ → и);
    # otherwise folding would not be idempotent.
    s = _transliterate_cyrillic(s).translate(_LATIN)
    # Recompose what stripping left decomposed (Hangul syllables, some Indic vowel signs).
    s = unicodedata.normalize("NFC", s)
    chars = "".join(ch if _is_word_char(ch) else " " for ch in s)
    # A word of marks alone (left after its base letter was a separator) is no word.
    words = [w for w in chars.split() if any(unicodedata.category(c)[0] in "LN" for c in w)]
    return " ".join(words)


# --- Kölner Phonetik -------------------------------------------------------------

_SIMPLE_CODES: dict[str, str] = {
    **dict.fromkeys("aeijouy", "0"),
    "b": "1",
    **dict.fromkeys("fvw", "3"),
    **dict.fromkeys("gkq", "4"),
    "l": "5",
    **dict.fromkeys("mn", "6"),
    "r": "7",
    **dict.fromkeys("sz", "8"),
}


def _letter_code(prev: str, ch: str, nxt: str, at_start: bool) -> str:
    if ch in _SIMPLE_CODES:
        return _SIMPLE_CODES[ch]
    if ch == "h":
        return ""
    if ch == "p":
        return "3" if nxt == "h" else "1"
    if ch in "dt":
        return "8" if nxt in ("c", "s", "z") else "2"
    if ch == "x":
        return "8" if prev in ("c", "k", "q") else "48"
    # ch == "c"
    if at_start:
        return "4" if nxt in ("a", "h", "k", "l", "o", "q", "r", "u", "x") else "8"
    if prev in ("s", "z"):
        return "8"
    return "4" if nxt in ("a", "h", "k", "o", "q", "u", "x") else "8"


@lru_cache(maxsize=65536)
def cologne_phonetic(word: str) -> str:
    """Return the Kölner Phonetik code (Postel 1969) of ``word``, "" if it has no Latin letter.

    ``word`` is folded first; characters that are not a-z afterwards are ignored, so a
    double-barrelled name gives one code ("Müller-Lüdenscheidt" → "65752682").
    """
    letters = [ch for ch in fold(word) if "a" <= ch <= "z"]
    raw: list[str] = []
    for i, ch in enumerate(letters):
        prev = letters[i - 1] if i > 0 else ""
        nxt = letters[i + 1] if i + 1 < len(letters) else ""
        raw.append(_letter_code(prev, ch, nxt, at_start=i == 0))
    digits = "".join(raw)
    collapsed = "".join(d for i, d in enumerate(digits) if i == 0 or d != digits[i - 1])
    if not collapsed:
        return ""
    return collapsed[0] + collapsed[1:].replace("0", "")


# --- spellings across languages ------------------------------------------------

# Latin letters that stand for a sound written with two letters elsewhere: Ševčenko is
# Shevchenko, not Sevcenko. Mapped before folding strips their marks (Czech, Slovak, Croatian,
# Polish, Romanian, Turkish, Latvian, Lithuanian).
_SOUND_LETTERS = str.maketrans({
    "č": "ch", "ć": "ch", "ç": "ch", "š": "sh", "ś": "sh", "ș": "sh", "ş": "sh",
    "ž": "zh", "ź": "zh", "ż": "zh", "đ": "dj",
})  # fmt: skip

# One name, transcribed by a German, an English and a French office, comes out as Dschawad,
# Jawad and Djawad; Schewtschenko, Shevchenko, Chevtchenko. The rules bring the spellings to
# one; they are applied in this order to a folded word (docs/name-matching.md lists them).
_SPELLING_RULES: tuple[tuple[str, str], ...] = (
    ("dsch", "j"),  # German dsch = English/French j, dj: Dschawad, Jawad, Djawad
    ("dzh", "j"),  # Ukrainian/Russian transliteration of дж: Dzhamal
    ("dj", "j"),  # French: Djamila
    ("tsch", "ch"),  # German tsch = English ch = French tch: Schewtschenko, Shevchenko
    ("tch", "ch"),
    ("cz", "ch"),  # Polish: Szewczenko
    ("sch", "sh"),  # German sch = English sh = French ch: Schamil, Shamil
    ("sz", "sh"),  # Polish
    ("kh", "ch"),  # Khalil, Chalil; Mykhailo, Michailo
    ("ph", "f"),
    ("ou", "u"),  # French/Greek: Youssef, Yusuf; Papadopoulos
    ("w", "v"),  # German w = English v: Wiktor, Viktor
    ("y", "i"),  # Haydari, Haidari; Yusuf, Iusuf
)


@lru_cache(maxsize=65536)
def spelling(word: str) -> str:
    """Return a folded word in the one spelling of the German/English/French rules above."""
    for old, new in _SPELLING_RULES:
        word = word.replace(old, new)
    return word


def _spelled_words(text: str, *, transliterate: bool) -> list[tuple[str, str]]:
    """Each folded word of ``text`` with its spelling for the phonetic key.

    ``transliterate``: words in other scripts (Arabic, Greek, Georgian, Armenian, Ge'ez …) are
    transliterated with anyascii for their key; without it they keep no spelling (""). Cyrillic
    is transliterated by :func:`fold` itself (the Ukrainian passport system).
    """
    plain = _words(fold(text))
    sounded = _words(fold(unicodedata.normalize("NFC", text).casefold().translate(_SOUND_LETTERS)))
    if len(sounded) != len(plain):  # cannot happen (letters map to letters); stay safe
        sounded = plain
    pairs: list[tuple[str, str]] = []
    for word, sound in zip(plain, sounded, strict=True):
        if not sound.isascii():
            sound = "".join(_words(fold(anyascii(sound)))) if transliterate else ""
        pairs.append((word, spelling(sound) if sound.isascii() else ""))
    return pairs


# --- full-text index and queries -----------------------------------------------

_PHONETIC_PREFIX = "ph"


def _phonetic_token(word: str) -> str | None:
    code = cologne_phonetic(word)
    return _PHONETIC_PREFIX + code if code else None


def _phonetic_tokens(word: str, spelled: str) -> list[str]:
    """The codes of a word as written and in the one spelling (:func:`spelling`), each once.

    Both: the spelling rules join Dschawad and Jawad, but a letter typed without its mark
    (Djordjevic for Đorđević, whose ć counts as "ch") still meets the plain code."""
    tokens = [_phonetic_token(word), _phonetic_token(spelled) if spelled else None]
    return [token for token in dict.fromkeys(tokens) if token]


def index_tokens(*texts: str | None) -> str:
    """Return the FTS5 column content for ``texts``: folded words and "ph<code>" tokens.

    Each word is followed by its phonetic token; duplicates are dropped, first one wins, so the
    result is deterministic for the same input.
    """
    tokens: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        for word, spelled in _spelled_words(text, transliterate=True):
            tokens.setdefault(word)
            for phonetic in _phonetic_tokens(word, spelled):
                tokens.setdefault(phonetic)
    return " ".join(tokens)


def date_tokens(d: date) -> list[str]:
    """Return the tokens under which a birth date is indexed: yyyymmdd, ddmmyyyy, yyyy."""
    ymd = f"{d.year:04d}{d.month:02d}{d.day:02d}"
    dmy = f"{d.day:02d}{d.month:02d}{d.year:04d}"
    return [ymd, dmy, f"{d.year:04d}"]


_GERMAN_DATE = re.compile(r"(?<![0-9])([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})(?![0-9])")
_ISO_DATE = re.compile(r"(?<![0-9])([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?![0-9])")


def _valid_date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _join_dates(text: str) -> str:
    # Dots and hyphens separate words, so a typed date would fall apart into three numbers that
    # match any date containing them; rewrite it into the single token that date_tokens indexes.
    def german(m: re.Match[str]) -> str:
        d = _valid_date(m[3], m[2], m[1])
        return f" {date_tokens(d)[1]} " if d else m[0]

    def iso(m: re.Match[str]) -> str:
        d = _valid_date(m[1], m[2], m[3])
        return f" {date_tokens(d)[0]} " if d else m[0]

    return _ISO_DATE.sub(iso, _GERMAN_DATE.sub(german, text))


def _fts_string(token: str) -> str:
    # An FTS5 string: nothing inside double quotes is an operator, column filter or prefix mark.
    return '"' + token.replace('"', '""') + '"'


def fts_query(user_input: str) -> str | None:
    """Turn what a user typed into a safe FTS5 MATCH expression, or None if nothing to search.

    Every word becomes ``("word"* OR "ph<code>")``, words are ANDed. The phonetic alternative is
    only added for words of three or more letters: shorter ones would match half the register.
    """
    words: dict[str, str] = {}
    for word, spelled in _spelled_words(_join_dates(user_input), transliterate=True):
        words.setdefault(word, spelled)
    clauses: list[str] = []
    for word, spelled in words.items():
        alternatives = [_fts_string(word) + "*"]
        if sum(ch.isalpha() for ch in word) >= 3:
            alternatives += [_fts_string(token) for token in _phonetic_tokens(word, spelled)]
        clauses.append("(" + " OR ".join(alternatives) + ")")
    return " AND ".join(clauses) if clauses else None


def worth_ranking(user_input: str) -> bool:
    """False when every word typed is shorter than three letters ("a", "al-", "Mo").

    Such a query matches a large part of the register by prefix alone; ranking all those hits
    (bm25 over every one of them: 12 ms for "a" in 50,000 clients) says nothing about which
    is meant, and the list is refined with the next letter anyway."""
    return any(sum(ch.isalpha() for ch in word) >= 3 for word in _words(fold(user_input)))


# --- duplicate detection ---------------------------------------------------------

# Particles are shared by unrelated names ("al Hassan" / "al Rashid", "van Dijk" / "van Berg");
# they must not make two names match on their own.
_NAME_PARTICLES = frozenset(
    {"al", "el", "ul", "bin", "ben", "ibn", "bint", "abu", "von", "van", "der", "den", "de",
     "da", "di", "du", "la", "le", "zu", "ter", "ten"}
)  # fmt: skip


@dataclass(frozen=True)
class PersonKey:
    """What identifies a client for duplicate detection."""

    first_name: str
    last_name: str
    birth_date: date | None


@lru_cache(maxsize=65536)
def name_keys(name: str) -> frozenset[str]:
    """The keys under which a name is compared for duplicates (phonetic codes, or words)."""
    pairs = _spelled_words(name, transliterate=False)
    significant = [(w, sp) for w, sp in pairs if w not in _NAME_PARTICLES] or pairs
    if len(pairs) > 1:
        # The same name is often written as one word in another record: Al-Hassan / Alhassan.
        significant.append(("".join(w for w, _ in pairs),
                            "".join(sp for _, sp in pairs) if all(sp for _, sp in pairs) else ""))
    # Words in other scripts (Arabic, say) get no phonetic code here: transliterated without
    # vowels, Muhammad and Ahmad would sound alike. They are compared as written.
    keys: set[str] = set()
    for word, spelled in significant:
        keys.update(_phonetic_tokens(word, spelled) or ["w:" + word])
    return frozenset(keys)


def _names_match(a: str, b: str) -> bool:
    return bool(name_keys(a) & name_keys(b))


def likely_same_person(a: PersonKey, b: PersonKey) -> bool:
    """Return True if ``a`` and ``b`` are probably the same client.

    First and last name must each share a phonetic code (or an identical word); first and last
    name may be swapped, which happens often with Arabic names. Birth dates must be equal
    unless one is unknown. Empty names never match.
    """
    if a.birth_date is not None and b.birth_date is not None and a.birth_date != b.birth_date:
        return False
    straight = _names_match(a.first_name, b.first_name) and _names_match(a.last_name, b.last_name)
    swapped = _names_match(a.first_name, b.last_name) and _names_match(a.last_name, b.first_name)
    return straight or swapped
