"""Synthetic demo data: the one place in KIMdesk that invents people.

`kimdesk demo` fills an empty vault with Ratsuchende shaped like the Kreis Kleve's clients
(names of the main nationalities with their own spelling and diacritics, and the many German
transliterations of Arabic, Dari and Ukrainian names), households with children, consents,
residence statuses with their Fristen (§ 104c, § 24), cases of all three kinds in every CM phase,
contacts, assessments, Zielvereinbarungen, referrals into the network of each Kommune and
Wiedervorlagen — plus the five worked examples of the concept (Beispiel 1–5).

Every write goes through :mod:`kimdesk.casework`, exactly as a case manager's input would; the
context's clock is moved through the past so that each record carries a plausible date. The
demo vault shows the work of the whole county (each team's Kommunen, with fictional colleagues as
case managers) so that every screen and statistic has something to show; the vault's owner
carries a caseload of her own in her team's Kommunen. The same seed gives the same people and
cases (record ids and timestamps differ).
"""

from __future__ import annotations

import dataclasses
import functools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from datetime import time as clock_time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kimdesk import textmatch
from kimdesk.casework.appointments import ESCORT, add_appointment
from kimdesk.casework.cases import (
    CaseInput,
    ContactInput,
    add_participant,
    change_phase,
    close_case,
    convert_case,
    open_case,
    record_contact,
    record_intake,
)
from kimdesk.casework.clients import (
    ClientInput,
    add_to_household,
    create_client,
    create_household,
    update_client,
    without_cyclic_gc,
)
from kimdesk.casework.consents import ConsentInput, record_consent
from kimdesk.casework.context import Context
from kimdesk.casework.deadlines import (
    add_deadline,
    add_months,
    complete_deadline,
    p104c_expiry,
    record_residence,
    set_checklist_item,
)
from kimdesk.casework.network import (
    InstitutionInput,
    ReferralInput,
    create_institution,
    refer,
    set_referral_outcome,
)
from kimdesk.casework.overview import counts
from kimdesk.casework.planning import (
    AssessmentInput,
    add_goal,
    add_step,
    complete_step,
    evaluate_goal,
    goals_of,
    save_assessment,
)
from kimdesk.casework.profile import context_for
from kimdesk.errors import KimdeskError
from kimdesk.models import Deadline
from kimdesk.models.base import Base
from kimdesk.models.changelog import (
    LOCAL_ONLY,
    SYNCED_TABLES,
    LocalChange,
    append_changes,
    encode_value,
)
from kimdesk.models.enums import CaseKind, ClientKind, ConsentKind, Phase
from kimdesk.vault import Vault
from kimdesk.vault.store import JOIN_NESTED

DEMO_USER = "Demo Case Managerin"
DEMO_TEAM = "nord"
# The demo vault's password; written in README.md. Never a real vault's password.
DEMO_PASSWORD = "demo-passwort"
DEFAULT_CLIENTS = 150
DEFAULT_SEED = 20221231  # the day § 104c came into force

KI = CaseKind.SHORT_INTERVENTION.value
PB = CaseKind.PROCESS_SUPPORT.value
CM = CaseKind.CASE_MANAGEMENT.value
RELEASE = ConsentKind.RELEASE.value


# --- names ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NamePool:
    """Names of one nationality as they appear in German documents.

    Surnames are either one form, or (male form, female form) where the language inflects them
    (Polish -ski/-ska, Bulgarian -ov/-ova, Ukrainian -skyi/-ska).
    """

    male: tuple[str, ...]
    female: tuple[str, ...]
    surnames: tuple[str | tuple[str, str], ...]
    languages: str
    interpreter: str = ""  # language of a Sprach- und Kulturmittlung, "" if rarely needed


_ARABIC_MALE = (
    "Mohammed", "Muhammad", "Mohamad", "Mohammad", "Muhammed", "Ahmad", "Ahmed", "Mahmoud",
    "Mahmud", "Omar", "Khaled", "Chaled", "Yousef", "Youssef", "Jussuf", "Hussein", "Hussain",
    "Ali", "Hassan", "Abdulrahman", "Bassel", "Fadi", "Rami", "Samer", "Tarek", "Tarik",
    "Anas", "Amjad", "Ibrahim", "Walid", "Mustafa", "Moustafa",
)  # fmt: skip
_ARABIC_FEMALE = (
    "Fatima", "Fatma", "Aisha", "Aischa", "Rasha", "Hiba", "Heba", "Nour", "Noor", "Lina",
    "Rana", "Amal", "Yasmin", "Jasmin", "Huda", "Hoda", "Maryam", "Mariam", "Reem", "Dima",
    "Ghada", "Layla", "Leila", "Zeinab", "Zainab", "Samira", "Rouba", "Asmaa",
)  # fmt: skip

NAME_POOLS: dict[str, NamePool] = {
    "SY": NamePool(
        _ARABIC_MALE,
        _ARABIC_FEMALE,
        ("Al-Hassan", "Alhassan", "Al Ahmad", "Al-Ali", "Alali", "Haddad", "Khalil", "Chalil",
         "Mahmoud", "Hamdan", "Al-Khatib", "Alkhatib", "Darwish", "Darwisch", "Al-Kurdi",
         "Hamoud", "Hammoud", "Othman", "Osman", "Suleiman", "Sleiman", "Al-Masri", "Nasser",
         "Nassar", "Shaker", "Schaker", "Al-Jassem", "Aljasem", "Qasem", "Kassem", "Barakat",
         "Al-Hajj", "Sabbagh", "Zaher", "Ismail", "Halabi"),
        "Arabisch",
        "Arabisch",
    ),
    "IQ": NamePool(
        ("Ali", "Hussein", "Haider", "Haidar", "Mustafa", "Ahmed", "Karrar", "Abbas",
         "Muhammad", "Murtadha", "Sarhad", "Shvan", "Rebwar", "Dilshad", "Hiwa", "Kawa",
         "Khalaf", "Nawaf", "Saman", "Baraa"),
        ("Zainab", "Fatima", "Noor", "Shilan", "Avin", "Berivan", "Rozhin", "Dilan", "Zahra",
         "Sara", "Hana", "Bushra", "Nadia", "Jihan", "Evin", "Sozan"),
        ("Al-Saadi", "Al-Jubouri", "Aljuboori", "Al-Dulaimi", "Hassan", "Kareem", "Karim",
         "Mahmood", "Rashid", "Rasheed", "Khidr", "Qasim", "Murad", "Khalaf", "Hasso", "Haji",
         "Bakr", "Salih", "Saleh", "Ezzat", "Barzinji", "Mirza", "Naso"),
        "Arabisch, Kurdisch",
        "Kurdisch (Kurmancî)",
    ),
    "AF": NamePool(
        ("Ahmad", "Mohammad", "Mohammed", "Alireza", "Ali Reza", "Hamid", "Farid", "Jawad",
         "Javad", "Mustafa", "Sayed", "Sajjad", "Naweed", "Navid", "Zabihullah", "Rahmatullah",
         "Hekmatullah", "Wahid", "Omid", "Shafiq", "Murtaza", "Abdul Wahab"),
        ("Fatima", "Zahra", "Maryam", "Nargis", "Shabnam", "Parwana", "Soraya", "Freshta",
         "Fereshta", "Zarghona", "Malalai", "Laila", "Habiba", "Khadija", "Nilofar", "Mursal",
         "Mahbooba", "Shakila"),
        ("Ahmadi", "Mohammadi", "Hosseini", "Husseini", "Rahimi", "Karimi", "Sultani", "Hakimi",
         "Noori", "Nuri", "Amiri", "Rezaei", "Rezai", "Jafari", "Jafary", "Haidari", "Haydari",
         "Sadat", "Stanikzai", "Popal", "Safi", "Wardak", "Habibi", "Azizi", "Hashimi",
         "Hashemi", "Qaderi", "Nazari", "Sharifi", "Hamidi"),
        "Dari, Paschtu",
        "Dari",
    ),
    "UA": NamePool(
        ("Oleksandr", "Olexandr", "Andrii", "Andrij", "Serhii", "Serhij", "Dmytro", "Mykola",
         "Vasyl", "Wassyl", "Yurii", "Jurij", "Ihor", "Volodymyr", "Wolodymyr", "Bohdan",
         "Taras", "Maksym", "Oleh", "Roman", "Vitalii", "Artem", "Denys"),
        ("Olena", "Olha", "Olga", "Iryna", "Nataliia", "Natalija", "Tetiana", "Tetjana",
         "Kateryna", "Yuliia", "Julija", "Svitlana", "Swetlana", "Oksana", "Anastasiia",
         "Viktoriia", "Halyna", "Liudmyla", "Mariia", "Alina", "Daria", "Inna", "Larysa"),
        ("Shevchenko", "Schewtschenko", "Kovalenko", "Kowalenko", "Bondarenko", "Tkachenko",
         "Tkatschenko", "Kravchenko", "Krawtschenko", "Melnyk", "Boiko", "Bojko", "Kovalchuk",
         "Kowaltschuk", "Oliinyk", "Lysenko", "Moroz", "Marchenko", "Savchenko", "Rudenko",
         "Petrenko", "Koval", "Polishchuk", "Hnatiuk", "Zaiets", "Pavlenko",
         ("Kovalskyi", "Kovalska"), ("Zadorozhnyi", "Zadorozhna"), ("Vyshnevskyi", "Vyshnevska"),
         ("Kalynovskyi", "Kalynovska")),
        "Ukrainisch, Russisch",
        "Ukrainisch",
    ),
    "TR": NamePool(
        ("Mehmet", "Mustafa", "Ahmet", "Ali", "Hüseyin", "Hasan", "İbrahim", "İsmail", "Yusuf",
         "Murat", "Emre", "Burak", "Ömer", "Serkan", "Çağlar", "Oğuz", "Serhat", "Welat",
         "Diyar", "Barış"),
        ("Ayşe", "Fatma", "Emine", "Hatice", "Zeynep", "Elif", "Meryem", "Şerife", "Özlem",
         "Gülşen", "Büşra", "Derya", "Esra", "Songül", "Rojda", "Berfin", "Dilek", "Sevgi"),
        ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın",
         "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt",
         "Özkan", "Şimşek", "Polat", "Korkmaz", "Güler", "Aktaş", "Karataş", "Tekin"),
        "Türkisch, Kurdisch",
        "Türkisch",
    ),
    "PL": NamePool(
        ("Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Marcin", "Michał", "Łukasz",
         "Grzegorz", "Wojciech", "Mateusz", "Kamil", "Jakub", "Dawid", "Przemysław"),
        ("Anna", "Katarzyna", "Małgorzata", "Agnieszka", "Magdalena", "Joanna", "Barbara",
         "Ewa", "Monika", "Aleksandra", "Justyna", "Dorota", "Beata", "Żaneta", "Urszula"),
        ("Nowak", ("Kowalski", "Kowalska"), ("Wiśniewski", "Wiśniewska"), "Wójcik",
         "Kowalczyk", ("Kamiński", "Kamińska"), ("Lewandowski", "Lewandowska"),
         ("Zieliński", "Zielińska"), ("Szymański", "Szymańska"), "Woźniak",
         ("Dąbrowski", "Dąbrowska"), ("Kozłowski", "Kozłowska"), "Mazur", "Krawczyk",
         ("Jabłoński", "Jabłońska"), "Wróbel", "Stępień", "Król", "Wieczorek", "Zając",
         ("Gołębiowski", "Gołębiowska"), "Błaszczyk", "Sikora", "Pietrzak"),
        "Polnisch",
        "Polnisch",
    ),
    "RO": NamePool(
        ("Ion", "Ioan", "Andrei", "Alexandru", "Mihai", "Constantin", "Gheorghe", "Vasile",
         "Florin", "Marius", "Cătălin", "Ionuț", "Răzvan", "Bogdan", "Ștefan", "Nicolae"),
        ("Maria", "Elena", "Ioana", "Andreea", "Mihaela", "Gabriela", "Alexandra", "Cristina",
         "Ana-Maria", "Florentina", "Roxana", "Ramona", "Loredana", "Georgiana", "Mădălina",
         "Denisa"),
        ("Popescu", "Popa", "Ionescu", "Stan", "Dumitru", "Stoica", "Gheorghe", "Rusu",
         "Munteanu", "Matei", "Șerban", "Moldovan", "Ștefănescu", "Lungu", "Dobre", "Barbu",
         "Răducanu", "Niculescu", "Tănase", "Ciobanu", "Mocanu", "Oprea", "Nistor", "Voicu",
         "Cojocaru", "Bălan", "Țurcanu", "Pîrvu"),
        "Rumänisch",
        "Rumänisch",
    ),
    "BG": NamePool(
        ("Georgi", "Ivan", "Dimitar", "Nikolay", "Hristo", "Stoyan", "Petar", "Todor", "Angel",
         "Krasimir", "Plamen", "Yordan", "Asen", "Ahmed", "Mehmed", "Orhan"),
        ("Maria", "Ivanka", "Elena", "Yordanka", "Petya", "Desislava", "Svetlana", "Rositsa",
         "Galina", "Tsvetana", "Gergana", "Nadezhda", "Silviya", "Ayten", "Fatme"),
        (("Ivanov", "Ivanova"), ("Georgiev", "Georgieva"), ("Dimitrov", "Dimitrova"),
         ("Petrov", "Petrova"), ("Nikolov", "Nikolova"), ("Hristov", "Hristova"),
         ("Stoyanov", "Stoyanova"), ("Todorov", "Todorova"), ("Iliev", "Ilieva"),
         ("Angelov", "Angelova"), ("Atanasov", "Atanasova"), ("Kolev", "Koleva"),
         ("Marinov", "Marinova"), ("Ahmedov", "Ahmedova"), ("Mehmedov", "Mehmedova"),
         ("Aliev", "Alieva"), ("Hasanov", "Hasanova"), ("Borisov", "Borisova")),
        "Bulgarisch, Türkisch",
        "Bulgarisch",
    ),
    "IT": NamePool(
        ("Giuseppe", "Antonio", "Francesco", "Salvatore", "Marco", "Luca", "Alessandro",
         "Giovanni", "Vincenzo"),
        ("Maria", "Anna", "Giulia", "Francesca", "Chiara", "Rosa", "Angela", "Giuseppina"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
         "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Costa", "Giordano",
         "Mancini", "D'Angelo"),
        "Italienisch",
        "Italienisch",
    ),
    "NL": NamePool(
        ("Jan", "Pieter", "Kees", "Bram", "Daan", "Sander", "Joost", "Ruud", "Thijs"),
        ("Anouk", "Sanne", "Femke", "Lotte", "Marieke", "Ilse", "Esther", "Inge", "Floor"),
        ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser",
         "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "van Leeuwen", "Dijkstra",
         "van der Meer"),
        "Niederländisch, Deutsch",
    ),
    "ER": NamePool(
        ("Tesfay", "Yonas", "Merhawi", "Filmon", "Dawit", "Samuel", "Berhane", "Habtom"),
        ("Senait", "Helen", "Yordanos", "Saba", "Luwam", "Selam", "Mehret", "Rahwa"),
        ("Gebremedhin", "Tesfamariam", "Haile", "Kidane", "Tekle", "Ghebreyesus", "Woldu",
         "Berhe", "Andemariam"),
        "Tigrinya",
        "Tigrinya",
    ),
    "IR": NamePool(
        ("Reza", "Mehdi", "Amir", "Hossein", "Saeed", "Babak", "Arash", "Kian"),
        ("Maryam", "Narges", "Shirin", "Parisa", "Leila", "Mahsa", "Niloofar", "Azadeh"),
        ("Hosseini", "Mohammadi", "Rezaei", "Karimi", "Moradi", "Jafari", "Ahmadi", "Sadeghi",
         "Rahmani", "Tehrani"),
        "Farsi",
        "Farsi",
    ),
    "XK": NamePool(
        ("Arben", "Besnik", "Driton", "Fatmir", "Labinot", "Valon", "Florent"),
        ("Arta", "Blerta", "Drita", "Fjolla", "Teuta", "Vlora", "Shqipe"),
        ("Krasniqi", "Gashi", "Berisha", "Morina", "Shala", "Hoxha", "Kastrati", "Rexhepi"),
        "Albanisch, Serbisch",
        "Albanisch",
    ),
    "GN": NamePool(
        ("Mamadou", "Alpha", "Ibrahima", "Ousmane", "Sekou", "Amadou", "Abdoulaye"),
        ("Mariama", "Fatoumata", "Aissatou", "Kadiatou", "Hawa", "Aminata"),
        ("Diallo", "Bah", "Barry", "Sow", "Camara", "Condé", "Touré", "Keïta"),
        "Französisch, Pular",
        "Französisch",
    ),
    "RU": NamePool(
        ("Sergej", "Alexej", "Dmitrij", "Nikolaj", "Andrej", "Pawel", "Ilja"),
        ("Tatjana", "Swetlana", "Natalja", "Jelena", "Irina", "Olga", "Ljudmila"),
        (("Iwanow", "Iwanowa"), ("Petrow", "Petrowa"), ("Smirnow", "Smirnowa"),
         ("Kusnezow", "Kusnezowa"), ("Popow", "Popowa"), ("Sokolow", "Sokolowa")),
        "Russisch",
        "Russisch",
    ),
}

# Share of the KIM clientele per nationality (synthetic; refugees and EU migrants dominate).
NATIONALITY_WEIGHTS: dict[str, float] = {
    "SY": 20, "UA": 16, "AF": 12, "IQ": 9, "TR": 9, "RO": 8, "BG": 7, "PL": 6, "IT": 2,
    "NL": 1, "ER": 3, "IR": 2, "XK": 2, "GN": 2, "RU": 1,
}  # fmt: skip

# Children born here often get names that work in both languages.
_CHILD_NAMES = {
    "male": ("Adam", "Elias", "Noah", "Yusuf", "Amir", "Leon", "Karim", "Sami", "David"),
    "female": ("Lina", "Sofia", "Mila", "Sara", "Emilia", "Maya", "Lea", "Hana", "Nora"),
}


@dataclass(frozen=True)
class Sketch:
    """A synthetic person before it is stored."""

    first_name: str
    last_name: str
    gender: str
    birth_date: date
    nationality: str

    @property
    def languages(self) -> str:
        return NAME_POOLS[self.nationality].languages

    @property
    def interpreter(self) -> str:
        return NAME_POOLS[self.nationality].interpreter


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _surname(pool: NamePool, rng: random.Random, gender: str) -> str:
    surname = rng.choice(pool.surnames)
    if isinstance(surname, tuple):
        return surname[1] if gender == "female" else surname[0]
    return surname


def _birth_date(rng: random.Random, today: date, min_age: int, max_age: int) -> date:
    oldest = today - timedelta(days=int((max_age + 1) * 365.25) - 1)
    youngest = today - timedelta(days=int(min_age * 365.25))
    return oldest + timedelta(days=rng.randrange(max(1, (youngest - oldest).days)))


def random_person(rng: random.Random, today: date, *, nationality: str | None = None,
                  gender: str | None = None, min_age: int = 18, max_age: int = 64,
                  last_name: str | None = None) -> Sketch:
    """A plausible person of the Kreis Kleve's KIM clientele (also used by the benchmarks)."""
    nationality = nationality or _weighted(rng, NATIONALITY_WEIGHTS)
    pool = NAME_POOLS[nationality]
    gender = gender or rng.choice(("female", "male"))
    names = pool.female if gender == "female" else pool.male
    if max_age < 12 and rng.random() < 0.3:
        names = _CHILD_NAMES[gender]
    if last_name is None:
        last_name = _surname(pool, rng, gender)
    elif any(isinstance(s, tuple) and last_name in s for s in pool.surnames):
        # Polish, Bulgarian, ... family names change with the gender of the bearer.
        pair = next(s for s in pool.surnames if isinstance(s, tuple) and last_name in s)
        last_name = pair[1] if gender == "female" else pair[0]
    return Sketch(rng.choice(names), last_name, gender,
                  _birth_date(rng, today, min_age, max_age), nationality)


# --- the Kreis Kleve around the cases ---------------------------------------------------------

# Rough size of each Kommune (thousands of inhabitants): where people live, cases are.
_KOMMUNE_WEIGHTS = {
    "kleve": 53, "goch": 35, "geldern": 34, "emmerich": 31, "kevelaer": 28, "rees": 21,
    "straelen": 16, "kalkar": 14, "bedburg-hau": 13, "kerken": 13, "issum": 12,
    "kranenburg": 11, "weeze": 11, "uedem": 8, "wachtendonk": 8, "rheurdt": 7,
}  # fmt: skip
_POSTCODES = {
    "kleve": "47533", "bedburg-hau": "47551", "kranenburg": "47559", "emmerich": "46446",
    "rees": "46459", "kalkar": "47546", "goch": "47574", "kevelaer": "47623", "uedem": "47589",
    "weeze": "47652", "geldern": "47608", "issum": "47661", "kerken": "47647",
    "rheurdt": "47509", "straelen": "47638", "wachtendonk": "47669",
}  # fmt: skip
_TOWNS = {"kleve", "emmerich", "rees", "kalkar", "goch", "kevelaer", "geldern", "straelen"}
_STREETS = ("Bahnhofstraße", "Hauptstraße", "Kirchstraße", "Gartenstraße", "Lindenallee",
            "Schulstraße", "Mühlenweg", "Ringstraße", "Feldstraße", "Am Markt", "Parkstraße",
            "Weststraße", "Lindenstraße", "Birkenweg", "Rosenstraße")
# Fictional colleagues: the demo shows the whole county, each team with its case managers.
TEAM_STAFF = {
    "nord": ("Jana Hermsen", "Markus Verhoeven"),
    "ost": ("Sabine Tebest", "Kerem Aydın"),
    "mitte": ("Laura Giesen", "Thomas Peters", "Miriam Koenen"),
    "sued": ("Stefanie van Aken", "Jörg Lenders", "Katharina Janßen"),
    "welcome": ("Nadine Vos", "Daniel Ostendorf"),
}
# Seats of the Jobcenter and Agentur für Arbeit serving each regional team.
_TEAM_SEAT = {"nord": "kleve", "ost": "emmerich", "mitte": "goch", "sued": "geldern"}
_OWN_YOUTH_OFFICE = {"kleve", "emmerich", "goch", "geldern", "kevelaer"}


def _kommune_label(ctx: Context, code: str) -> str:
    name = ctx.reference.municipality(code).name
    return f"der Stadt {name}" if code in _TOWNS else f"der Gemeinde {name}"


# --- what case managers write ---------------------------------------------------------------

CONCERNS: dict[str, tuple[str, ...]] = {
    "residence": ("Fragen zur Verlängerung der Aufenthaltserlaubnis",
                  "Unterstützung beim Antrag auf Niederlassungserlaubnis",
                  "Passbeschaffung und Mitwirkungspflichten gegenüber der Ausländerbehörde"),
    "language": ("Sucht einen Integrationskurs mit Kinderbetreuung",
                 "Möchte einen Berufssprachkurs (B2) besuchen",
                 "Anmeldung zum Deutschkurs, Träger und Voraussetzungen unklar"),
    "education": ("Schulanmeldung der Kinder", "Schwierigkeiten in der Schule, Nachhilfe gesucht",
                  "Fragen zu Schulbriefen, Elternabend und Offenem Ganztag"),
    "qualification": ("Anerkennung des ausländischen Berufsabschlusses",
                      "Berufliche Orientierung, Interesse an einer Ausbildung",
                      "Zeugnisse übersetzen und bewerten lassen"),
    "work": ("Sucht Arbeit, Bewerbungsunterlagen fehlen",
             "Fragen zum Arbeitsvertrag und zur Beschäftigungserlaubnis",
             "Möchte eine Ausbildung in der Pflege beginnen"),
    "livelihood": ("Antrag auf Bürgergeld (SGB II) ausfüllen",
                   "Weiterbewilligungsantrag beim Jobcenter",
                   "Mietschulden und Mahnungen", "Kindergeld und Kinderzuschlag beantragen"),
    "housing": ("Sucht eine eigene Wohnung, lebt noch in der Unterkunft",
                "Schimmel in der Wohnung, Vermieter reagiert nicht",
                "Wohnberechtigungsschein beantragen"),
    "health": ("Sucht eine Hausarztpraxis", "Starke Belastung nach der Flucht, sucht Therapieplatz",
               "Fragen zur Krankenversicherung und zu Zuzahlungen"),
    "childcare": ("Kita-Platz gesucht", "Anmeldung in der Kindertagespflege",
                  "Betreuung der Kinder während des Sprachkurses"),
    "family": ("Familiennachzug des Ehepartners", "Fragen zur Erziehung und zu Hilfen für Familien",
               "Trennung, Fragen zum Sorgerecht"),
    "social_integration": ("Sucht Kontakt zu Vereinen und Freizeitangeboten",
                           "Möchte sich ehrenamtlich engagieren",
                           "Schwimmkurs und Sportverein für die Kinder"),
    "orientation": ("Briefe von Behörden verstehen", "Ummeldung beim Bürgerbüro, Rundfunkbeitrag",
                    "Bankkonto eröffnen, Handyvertrag prüfen"),
    "other": ("Kleidung und Grundausstattung für die Familie", "Fragen zum Führerschein"),
}
_NOTES: dict[str, tuple[str, ...]] = {
    "residence": ("Unterlagen für die Ausländerbehörde gesichtet, fehlende Nachweise notiert.",
                  "Antrag auf Verlängerung gemeinsam ausgefüllt; Termin bei der ABH steht.",
                  "Voraussetzungen für § 25b erläutert: Lebensunterhalt, Sprache, Identität."),
    "language": ("Kursangebote in der Nähe herausgesucht, Anmeldung telefonisch vorbereitet.",
                 "Berechtigungsschein für den Integrationskurs beantragt.",
                 "Über Kurszeiten, Fahrtkostenzuschuss und Kinderbetreuung informiert."),
    "education": ("Schulbrief erläutert, Rückmeldebogen gemeinsam ausgefüllt.",
                  "Kontakt zur Klassenleitung aufgenommen, Gesprächstermin vereinbart.",
                  "Lernförderung über das Bildungs- und Teilhabepaket beantragt."),
    "qualification": ("Zeugnisse gesichtet; Übersetzung und Anerkennungsberatung besprochen.",
                      "Berufliche Interessen und bisherige Erfahrungen gesammelt."),
    "work": ("Lebenslauf gemeinsam erstellt, zwei Bewerbungen vorbereitet.",
             "Arbeitsvertrag erläutert (Probezeit, Kündigungsfrist, Urlaub).",
             "Termin bei der Arbeitsvermittlung vorbereitet."),
    "livelihood": ("Weiterbewilligungsantrag ausgefüllt, Kopien für das Jobcenter gemacht.",
                   "Bescheid erläutert; Widerspruchsfrist notiert.",
                   "Haushaltsplan aufgestellt, Ratenzahlung mit dem Gläubiger besprochen."),
    "housing": ("Wohnungsanzeigen gemeinsam durchgesehen, zwei Besichtigungen vereinbart.",
                "Schreiben an den Vermieter wegen Schimmel aufgesetzt.",
                "Antrag auf Wohnberechtigungsschein ausgefüllt."),
    "health": ("Hausarztpraxen mit freien Plätzen herausgesucht.",
               "Belastung angesprochen; Kontakt zum Psychosozialen Zentrum angeboten.",
               "Fragen zur Gesundheitskarte und Zuzahlungsbefreiung geklärt."),
    "childcare": ("Kita-Anmeldung über das Portal der Kommune gemeinsam erledigt.",
                  "Tagespflege über das Jugendamt angefragt.",
                  "Betreuungszeiten mit den Kurszeiten abgeglichen."),
    "family": ("Ablauf des Familiennachzugs erläutert, Unterlagen zusammengestellt.",
               "Über Angebote der Familienberatung informiert."),
    "social_integration": ("Angebote von Vereinen und Begegnungscafés zusammengestellt.",
                           "Kontakt zur Ehrenamtsinitiative hergestellt."),
    "orientation": ("Behördenpost durchgesehen und erklärt, Fristen notiert.",
                    "Bürgerbüro-Termin zur Ummeldung gebucht."),
    "other": ("Kleiderkammer und Sozialkaufhaus genannt, Berechtigungsschein ausgestellt.",),
}
_ASSESSMENTS: dict[str, tuple[str, str, str, str]] = {
    "residence": ("Aufenthaltserlaubnis befristet, Verlängerung steht an.",
                  "Pass liegt vor; Unterlagen sind geordnet.",
                  "Unsicherheit über Voraussetzungen für ein dauerhaftes Bleiberecht.",
                  "Möchte dauerhaft bleiben und sich sicher fühlen."),
    "language": ("Deutschkenntnisse auf A1-Niveau, Alltag nur mit Hilfe.",
                 "Hohe Lernmotivation; spricht gut Englisch.",
                 "Kein Kursplatz in erreichbarer Nähe; Betreuung der Kinder ungeklärt.",
                 "Möchte schnell Deutsch lernen, um selbständig zu sein."),
    "education": ("Kinder besuchen Grund- bzw. weiterführende Schule.",
                  "Kinder gehen gern zur Schule; Lehrkräfte sind ansprechbar.",
                  "Lücken in Deutsch und Mathematik; Schulbriefe werden nicht verstanden.",
                  "Die Kinder sollen einen guten Abschluss machen."),
    "qualification": ("Berufserfahrung im Herkunftsland, Abschluss nicht anerkannt.",
                      "Zeugnisse und Nachweise sind vorhanden.",
                      "Anerkennungsverfahren unbekannt, Übersetzungskosten.",
                      "Möchte wieder im eigenen Beruf arbeiten."),
    "work": ("Derzeit ohne Arbeit, Leistungen nach dem SGB II.",
             "Zuverlässig, handwerklich geschickt, Führerschein vorhanden.",
             "Fehlende Sprachkenntnisse für den Arbeitsmarkt; keine Bewerbungsunterlagen.",
             "Möchte möglichst bald eigenes Geld verdienen."),
    "livelihood": ("Lebensunterhalt über Bürgergeld; Anträge werden nicht rechtzeitig gestellt.",
                   "Kennt die Fristen, wenn sie erklärt werden.",
                   "Mahnungen und kleinere Schulden; Bescheide werden nicht verstanden.",
                   "Möchte den Überblick über die Finanzen behalten."),
    "housing": ("Lebt in einer Wohnung der Kommune/Unterkunft.",
                "Gute Nachbarschaft, Unterstützung durch Ehrenamtliche.",
                "Wohnung zu klein; Wohnungssuche bisher erfolglos.",
                "Wünscht sich eine eigene, größere Wohnung."),
    "health": ("Keine feste Hausarztpraxis; Kind häufig krank.",
               "Krankenversicherung besteht.",
               "Erschöpfung und Schlafprobleme; Termine werden verpasst.",
               "Möchte wieder mehr Kraft für den Alltag haben."),
    "childcare": ("Jüngstes Kind ohne Betreuungsplatz.",
                  "Nachbarin kann stundenweise aushelfen.",
                  "Ohne Betreuung ist keine Kursteilnahme möglich.",
                  "Das Kind soll mit anderen Kindern Deutsch lernen."),
    "family": ("Familie lebt teilweise noch im Herkunftsland.",
               "Enger Zusammenhalt in der Familie.",
               "Verfahren zum Familiennachzug dauert lange.",
               "Die Familie soll wieder zusammenleben."),
    "social_integration": ("Wenige Kontakte außerhalb der Familie.",
                           "Offen, interessiert an Vereinen.",
                           "Angebote sind unbekannt; Hemmschwelle wegen der Sprache.",
                           "Möchte Menschen vor Ort kennenlernen."),
    "orientation": ("Behördenpost stapelt sich.", "Bringt Unterlagen geordnet mit.",
                    "Zuständigkeiten und Fristen sind unklar.",
                    "Möchte Briefe bald selbst verstehen."),
    "other": ("Grundausstattung fehlt.", "Kennt die Kleiderkammer.", "Wenig Geld für Kleidung.",
              "Braucht Kleidung für die Kinder."),
}
# (Ziel grob, Ziel fein, [(Handlungsschritt, verantwortlich)]) per Handlungsfeld.
_GOALS: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    "residence": ("Aufenthalt dauerhaft sichern", "Antrag nach § 25b vollständig stellen",
                  (("Nachweise zu Lebensunterhalt und Sprache zusammenstellen", "Ratsuchende:r"),
                   ("Termin bei der Ausländerbehörde vereinbaren", "Case Management"))),
    "language": ("Deutsch auf B1-Niveau lernen", "Integrationskurs besuchen und abschließen",
                 (("Kursplatz beim Integrationskursträger suchen", "Case Management"),
                  ("Anmeldung zum Kurs", "Ratsuchende:r"),
                  ("Regelmäßige Teilnahme, Prüfung DTZ", "Ratsuchende:r"))),
    "education": ("Schulischen Erfolg der Kinder sichern", "Nachhilfe und Lernförderung (BuT)",
                  (("Lernförderung über BuT beantragen", "Ratsuchende:r"),
                   ("Gespräch mit der Klassenleitung", "Case Management"))),
    "qualification": ("Berufsabschluss anerkennen lassen", "Anerkennungsverfahren einleiten",
                      (("Zeugnisse übersetzen lassen", "Ratsuchende:r"),
                       ("Termin bei der Anerkennungsberatung", "Case Management"))),
    "work": ("Eine Arbeitsstelle finden", "Bewerbungen im Lager- oder Pflegebereich",
             (("Lebenslauf und Anschreiben erstellen", "Case Management"),
              ("Termin bei der Arbeitsvermittlung des Jobcenters", "Ratsuchende:r"),
              ("Drei Bewerbungen versenden", "Ratsuchende:r"))),
    "livelihood": ("Lebensunterhalt stabil sichern", "Anträge rechtzeitig stellen, Schulden regeln",
                   (("Weiterbewilligungsantrag rechtzeitig stellen", "Ratsuchende:r"),
                    ("Termin bei der Schuldnerberatung", "Case Management"))),
    "housing": ("Eine eigene Wohnung finden", "Wohnung mit drei Zimmern im Ort",
                (("Wohnberechtigungsschein beantragen", "Ratsuchende:r"),
                 ("Wohnungsanzeigen wöchentlich prüfen", "Ratsuchende:r"))),
    "health": ("Gesundheitliche Versorgung sichern", "Hausarztpraxis und ggf. Therapieplatz",
               (("Hausarztpraxis finden", "Case Management"),
                ("Erstgespräch im Psychosozialen Zentrum", "Ratsuchende:r"))),
    "childcare": ("Betreuungsplatz für das jüngste Kind", "Kita oder Kindertagespflege",
                  (("Kita-Anmeldung über das Portal", "Ratsuchende:r"),
                   ("Tagespflege beim Jugendamt anfragen", "Case Management"))),
    "family": ("Familie zusammenführen", "Familiennachzug beantragen",
               (("Unterlagen für den Familiennachzug zusammenstellen", "Ratsuchende:r"),
                ("Rücksprache mit der Ausländerbehörde", "Case Management"))),
    "social_integration": ("Soziale Kontakte aufbauen", "Verein oder Begegnungscafé besuchen",
                           (("Angebote heraussuchen", "Case Management"),
                            ("Erstes Treffen besuchen", "Ratsuchende:r"))),
    "orientation": ("Behördenpost selbständig bearbeiten", "Fristen kennen und einhalten",
                    (("Ordner für Bescheide anlegen", "Ratsuchende:r"),
                     ("Gemeinsame Durchsicht der Post alle zwei Wochen", "Case Management"))),
    "other": ("Grundausstattung besorgen", "Kleidung für die Familie",
              (("Berechtigungsschein Kleiderkammer", "Case Management"),)),
}
# Institution type a topic's referral goes to.
_REFERRAL_TARGETS = {
    "residence": "immigration_office", "language": "integration_course_provider",
    "education": "school", "qualification": "recognition_counselling", "work": "jobcenter",
    "livelihood": "jobcenter", "housing": "social_welfare_office", "health": "health_care",
    "childcare": "youth_office", "family": "mbe", "social_integration": "volunteers",
    "orientation": "municipality", "other": "volunteers",
}  # fmt: skip
_REFERRAL_INFO = {
    "immigration_office": ["master_data", "residence"], "jobcenter": ["master_data", "finances"],
    "youth_office": ["master_data", "family"], "school": ["master_data", "family"],
    "integration_course_provider": ["master_data", "residence"],
    "health_care": ["master_data", "health"],
}  # fmt: skip
_TOPIC_WEIGHTS = {
    "livelihood": 14, "language": 12, "residence": 12, "orientation": 10, "education": 8,
    "work": 9, "housing": 8, "childcare": 6, "health": 6, "qualification": 5, "family": 4,
    "social_integration": 4, "other": 2,
}  # fmt: skip
_CONTACT_MODES = {
    "office": 34, "phone": 24, "outreach": 14, "home_visit": 8, "accompaniment": 7,
    "messenger": 6, "email": 4, "video": 1, "case_conference": 2,
}  # fmt: skip
_RESIDENCE_BY_NATIONALITY: dict[str, dict[str, float]] = {
    "SY": {"ae_25_2_refugee": 40, "ae_25_2_subsidiary": 30, "settlement": 15, "gestattung": 10,
           "p104c": 5},
    "AF": {"ae_25_3": 25, "ae_25_2_refugee": 20, "gestattung": 30, "duldung": 12, "p104c": 13},
    "IQ": {"gestattung": 20, "duldung": 20, "p104c": 25, "ae_25_2_subsidiary": 15,
           "ae_family": 10, "duldung_employment": 10},
    "TR": {"gestattung": 50, "ae_family": 25, "settlement": 15, "duldung": 10},
    "UA": {"ae_24": 100},
    "ER": {"ae_25_2_refugee": 70, "gestattung": 30},
    "IR": {"gestattung": 50, "ae_25_2_refugee": 50},
    "XK": {"duldung": 40, "p104c": 30, "ae_employment": 30},
    "GN": {"duldung": 50, "p104c": 30, "duldung_training": 20},
    "RU": {"gestattung": 70, "ae_25_3": 30},
}
_EU = {"PL", "RO", "BG", "IT", "NL"}
_CLOSING_REASONS = {
    KI: {"no_further_need": 45, "goals_achieved": 25, "handed_over": 15, "contact_lost": 15},
    PB: {"goals_achieved": 40, "no_further_need": 25, "moved_away": 10, "contact_lost": 15,
         "handed_over": 10},
}
_PHASES = list(Phase)
_OPEN_CM_PHASE_WEIGHTS = {"intake": 10, "assessment": 15, "planning": 15, "linking": 20,
                          "monitoring": 30, "evaluation": 10}


# --- the builder ------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    """What `kimdesk demo` reports."""

    clients: int = 0
    households: int = 0
    cases: int = 0
    contacts: int = 0
    institutions: int = 0
    seconds: float = 0.0
    examples: dict[str, str] = field(default_factory=dict)  # "Beispiel 1" → Kommune


def fill(vault: Vault, *, clients: int = DEFAULT_CLIENTS, seed: int = DEFAULT_SEED,
         today: date | None = None,
         progress: Callable[[int, int], None] | None = None) -> DemoSummary:
    """Fill an empty vault (with profile) with about ``clients`` synthetic Ratsuchende.

    The five worked examples of the concept are always included; ``clients`` counts them too.
    Refuses a vault that already holds clients: demo people must never mix with real ones.
    """
    started = time.monotonic()
    context = context_for(vault)
    builder = _Builder(_DemoContext(**{f.name: getattr(context, f.name)
                                       for f in dataclasses.fields(context)}),
                       random.Random(seed), today or date.today())
    if counts(builder.ctx).clients:
        raise KimdeskError(
            "Der Datentresor enthält bereits Ratsuchende. Demo-Daten werden nur in einen leeren "
            "Datentresor geschrieben."
        )
    # The whole demo is one unit of work: every household's savepoint inside one transaction,
    # one commit (a commit per household cost more than all the SQL together), no cyclic GC
    # walking the growing heap of ORM objects meanwhile.
    # Its records enter the sync change log once, with their final values, at the end: the
    # log needs no history of a demo nobody has synchronised yet (the vault was empty), and
    # capturing each of the thousands of flushes cost a third of the time.
    # Any error gives up the whole demo (nothing is written), so the use cases join the one
    # transaction without a savepoint each (JOIN_NESTED: two statements and two flushes fewer
    # per use case).
    with vault.writing() as session, without_cyclic_gc():
        session.info[LOCAL_ONLY] = True
        session.info[JOIN_NESTED] = True
        try:
            summary = builder.build(clients, progress)
            session.flush()  # still outside the change log
        finally:
            session.info.pop(LOCAL_ONLY, None)
            session.info.pop(JOIN_NESTED, None)
        _log_every_record(session)
    summary.seconds = time.monotonic() - started
    return summary


@dataclass
class _DemoContext(Context):
    """The demo's context: the audit key derived once, not for each of ~20,000 entries."""

    @functools.cached_property
    def audit_key(self) -> bytes:
        return self.vault.derived_key("audit")


def _log_every_record(session: Session) -> None:
    """Enter every shared record into the sync change log as created with its values now."""
    changes: list[LocalChange] = []
    for name in SYNCED_TABLES:
        table = Base.metadata.tables[name]
        columns = [column for column in table.columns if column.name != "id"]
        for row in session.execute(select(table.c.id, *columns)):
            values = row._mapping
            changes.append(LocalChange(name, values["id"], {
                column.name: encode_value(values[column.name]) for column in columns}))
    append_changes(session, changes)


class _DuplicateGuard:
    """Keeps generated names apart the way the app's duplicate warning would see them."""


    def __init__(self) -> None:
        self._buckets: dict[str, list[textmatch.PersonKey]] = {}

    def _keys(self, name: str) -> list[str]:
        # The keys the app's duplicate check compares (spelling rules and particles included).
        return sorted(textmatch.name_keys(name))

    def taken(self, first: str, last: str, birth_date: date | None) -> bool:
        key = textmatch.PersonKey(first, last, birth_date)
        for bucket in self._keys(last) + self._keys(first):
            for other in self._buckets.get(bucket, ()):
                if textmatch.likely_same_person(key, other):
                    return True
        return False

    def add(self, first: str, last: str, birth_date: date | None) -> None:
        key = textmatch.PersonKey(first, last, birth_date)
        for bucket in self._keys(last):
            self._buckets.setdefault(bucket, []).append(key)


@dataclass
class _Member:
    sketch: Sketch
    role: str  # household role
    consent: bool = True
    client_id: str = ""


class _Builder:
    def __init__(self, ctx: Context, rng: random.Random, today: date) -> None:
        self.today = today
        self.now = today
        self.rng = rng
        self.ctx = dataclasses.replace(ctx, clock=self._clock)
        self.reference = ctx.reference
        self.user_team = ctx.team
        self.staff: dict[str, Context] = {}
        self.institutions: dict[tuple[str, str], str] = {}  # (type, kommune or "") → id
        self.guard = _DuplicateGuard()
        self.summary = DemoSummary()
        self.example_kommunen: dict[str, int] = {}  # Kommune → examples placed there

    # --- time -----------------------------------------------------------------------------

    def _clock(self) -> date:
        return self.now

    def at(self, day: date) -> date:
        """Move the clock to ``day`` (never beyond today) and return it."""
        self.now = min(day, self.today)
        return self.now

    def days(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    # --- people ---------------------------------------------------------------------------

    def staff_ctx(self, team: str) -> Context:
        """The context of a case manager of ``team``; the vault's owner takes most of hers."""
        if team == self.user_team and self.rng.random() < 0.65:
            return self.ctx
        name = self.rng.choice(TEAM_STAFF[team])
        if name not in self.staff:
            self.staff[name] = dataclasses.replace(self.ctx, user=name, team=team)
        return self.staff[name]

    def unique(self, sketch: Sketch, *, with_birth_date: bool = True,
               keep_last_name: bool = False) -> Sketch:
        for attempt in range(60):
            birth = sketch.birth_date if with_birth_date else None
            if not self.guard.taken(sketch.first_name, sketch.last_name, birth):
                self.guard.add(sketch.first_name, sketch.last_name, birth)
                return sketch
            pool = NAME_POOLS[sketch.nationality]
            names = pool.female if sketch.gender == "female" else pool.male
            last = sketch.last_name
            if not keep_last_name and attempt % 3 == 2:
                last = _surname(pool, self.rng, sketch.gender)
            sketch = dataclasses.replace(sketch, first_name=self.rng.choice(names),
                                         last_name=last)
        # The pools are exhausted for this name: a second given name keeps people apart.
        second = self.rng.choice(NAME_POOLS[sketch.nationality].male
                                 if sketch.gender == "male" else
                                 NAME_POOLS[sketch.nationality].female)
        sketch = dataclasses.replace(sketch, first_name=f"{sketch.first_name} {second}")
        self.guard.add(sketch.first_name, sketch.last_name,
                       sketch.birth_date if with_birth_date else None)
        return sketch

    def family(self, kommune: str, *, spouse: bool, children: int, min_age: int = 20,
               max_age: int = 55, nationality: str | None = None,
               gender: str | None = None) -> list[_Member]:
        head = self.unique(random_person(self.rng, self.now, nationality=nationality,
                                         gender=gender, min_age=min_age, max_age=max_age))
        members = [_Member(head, "Haushaltsvorstand")]
        head_age = (self.now - head.birth_date).days // 365

        def relative(**kwargs: Any) -> Sketch:
            # No two members of one household share a first name.
            taken = {m.sketch.first_name for m in members}
            for _ in range(20):
                person = random_person(self.rng, self.now, nationality=head.nationality,
                                       last_name=head.last_name, **kwargs)
                if person.first_name not in taken:
                    break
            return self.unique(person, keep_last_name=True)

        if spouse:
            members.append(_Member(relative(
                gender="male" if head.gender == "female" else "female",
                min_age=max(18, head_age - 8), max_age=min(70, head_age + 6)), "Ehepartner:in"))
        for _ in range(children):
            members.append(_Member(relative(min_age=0, max_age=max(1, min(17, head_age - 18))),
                                   "Kind"))
        return members

    def store_people(self, ctx: Context, members: list[_Member], kommune: str, *,
                     household: bool, given_on: date, interpreter: bool = False,
                     address: str | None = None) -> str | None:
        """Create the persons (one transaction), their Einwilligungen and the household."""
        self.at(given_on)
        with ctx.vault.writing() as session:
            for member in members:
                s = member.sketch
                data = ClientInput(first_name=s.first_name, last_name=s.last_name,
                                   gender=s.gender, municipality=kommune,
                                   languages=s.languages)
                consent = None
                if member.consent:
                    data.birth_date = s.birth_date
                    data.nationality = s.nationality
                    data.arrival_date = self.arrival(s)
                    data.household_role = member.role if household else ""
                    if s.interpreter and self.rng.random() < 0.4:
                        data.interpreter_language = s.interpreter
                    consent = ConsentInput(
                        given_on=given_on, form="schriftlich",
                        language=s.interpreter or "Deutsch",
                        interpreter=interpreter and bool(s.interpreter))
                client = create_client(ctx, data, consent=consent, allow_duplicate=True,
                                       session=session)
                member.client_id = client.id
        self.summary.clients += len(members)
        if not household:
            return None
        head = members[0].sketch
        address = address or self.address(kommune)
        household_row = create_household(ctx, f"Familie {head.last_name}", kommune, address)
        for member in members:
            add_to_household(ctx, household_row.id, member.client_id, member.role)
        self.summary.households += 1
        return household_row.id

    def arrival(self, sketch: Sketch) -> date | None:
        age_days = (self.now - sketch.birth_date).days
        earliest = {"UA": date(2022, 3, 1), "SY": date(2014, 1, 1), "AF": date(2015, 6, 1)}.get(
            sketch.nationality, date(2012, 1, 1))
        earliest = max(earliest, sketch.birth_date)
        span = (self.now - earliest).days
        if age_days < 3 * 365 and self.rng.random() < 0.6:
            return None  # born in Germany
        return earliest + timedelta(days=self.rng.randrange(max(1, span)))

    def address(self, kommune: str) -> str:
        name = self.reference.municipality(kommune).name
        return (f"{self.rng.choice(_STREETS)} {self.rng.randint(1, 80)}, "
                f"{_POSTCODES[kommune]} {name}")

    # --- network --------------------------------------------------------------------------

    def build_network(self) -> None:
        ctx = self.ctx
        self.at(self.today - timedelta(days=900))
        county = [
            ("immigration_office", "Ausländerbehörde des Kreises Kleve", "kleve"),
            ("naturalisation_office", "Einbürgerungsbehörde des Kreises Kleve", "kleve"),
            ("bamf", "Bundesamt für Migration und Flüchtlinge (BAMF)", ""),
            ("family_benefits_office", "Familienkasse Nordrhein-Westfalen", ""),
            ("health_insurance", "AOK Rheinland/Hamburg, Geschäftsstelle Kleve", "kleve"),
            ("jmd", "Jugendmigrationsdienst im Kreis Kleve", "kleve"),
            ("mbe", "Migrationsberatung für Erwachsene (MBE)", "goch"),
            ("recognition_counselling", "IQ Netzwerk NRW – Anerkennungsberatung", ""),
            ("health_care", "Gesundheitsamt des Kreises Kleve", "kleve"),
            ("psychosocial_centre", "Psychosoziales Zentrum für Geflüchtete", ""),
            ("debt_counselling", "Schuldner- und Insolvenzberatung der Caritas", "geldern"),
            ("youth_office", "Jugendamt des Kreises Kleve", "kleve"),
            ("lawyer", "Kanzlei für Aufenthalts- und Sozialrecht", "kleve"),
            ("integration_course_provider", "Volkshochschule Kleve", "kleve"),
            ("integration_course_provider", "Volkshochschule Goch", "goch"),
            ("integration_course_provider", "VHS Gelderland", "geldern"),
            ("integration_course_provider", "Volkshochschule Emmerich – Rees – Isselburg",
             "emmerich"),
        ]
        for seat in _TEAM_SEAT.values():
            name = self.reference.municipality(seat).name
            county.append(("jobcenter", f"Jobcenter Kreis Kleve, Geschäftsstelle {name}", seat))
            county.append(("employment_agency",
                           f"Agentur für Arbeit Wesel, Geschäftsstelle {name}", seat))
        for kommune in _OWN_YOUTH_OFFICE:
            county.append(("youth_office", f"Jugendamt {_kommune_label(ctx, kommune)}", kommune))
        for institution_type, name, kommune in county:
            self._institution(institution_type, name, kommune)
        for m in self.reference.municipalities:
            label = _kommune_label(ctx, m.code)
            self._institution("social_welfare_office", f"Sozialamt {label}", m.code)
            self._institution("municipality", f"Bürgerbüro {label}", m.code)
            self._institution("school", f"Städtische Grundschule {m.name}"
                              if m.code in _TOWNS else f"Gemeinschaftsgrundschule {m.name}",
                              m.code)
            self._institution("daycare", f"Kindertageseinrichtung {m.name}", m.code)
            self._institution("volunteers", f"Flüchtlingshilfe {m.name} e. V.", m.code)
            self._institution("health_care", f"Kinder- und Hausarztpraxis in {m.name}", m.code)

    def _institution(self, institution_type: str, name: str, kommune: str) -> str:
        institution = create_institution(self.ctx, InstitutionInput(
            name=name, institution_type=institution_type, municipality=kommune))
        self.institutions.setdefault((institution_type, kommune), institution.id)
        self.institutions.setdefault((institution_type, ""), institution.id)
        self.summary.institutions += 1
        return institution.id

    def institution_for(self, institution_type: str, kommune: str) -> str:
        """The institution of that type nearest to the Kommune: its own, its team's, any."""
        if (institution_type, kommune) in self.institutions:
            return self.institutions[(institution_type, kommune)]
        team = self.reference.municipality(kommune).team
        seat = _TEAM_SEAT.get(team, "kleve")
        return self.institutions.get((institution_type, seat)) or self.institutions[
            (institution_type, "")]

    # --- case helpers ---------------------------------------------------------------------

    def contact(self, ctx: Context, case_id: str, day: date, topics: Sequence[str], *,
                mode: str | None = None, note: str | None = None, minutes: int | None = None,
                interpreter: str = "", client_id: str | None = None, place: str = "",
                follow_up: date | None = None, present: bool = True) -> None:
        self.at(day)
        mode = mode or _weighted(self.rng, _CONTACT_MODES)
        if note is None:
            note = " ".join(self.rng.choice(_NOTES[t]) for t in topics[:2])
        if minutes is None:
            minutes = {"phone": 15, "messenger": 5, "email": 10}.get(mode, 45)
            minutes = max(5, int(minutes * self.rng.uniform(0.6, 1.8)))
        record_contact(ctx, case_id, ContactInput(
            contact_on=self.now, mode=mode, duration_minutes=minutes, place=place,
            interpreter=bool(interpreter), interpreter_language=interpreter,
            client_present=present and mode not in ("case_conference",), topics=list(topics),
            note=note, follow_up_on=follow_up if follow_up is None else max(follow_up, self.now),
            client_id=client_id))
        self.summary.contacts += 1

    def topics(self, count: int) -> list[str]:
        chosen: list[str] = []
        while len(chosen) < count:
            topic = _weighted(self.rng, _TOPIC_WEIGHTS)
            if topic not in chosen:
                chosen.append(topic)
        return chosen

    def residence(self, ctx: Context, member: _Member, day: date) -> None:
        s = member.sketch
        if s.nationality in _EU:
            self.at(day)
            record_residence(ctx, member.client_id, "eu_free_movement")
            return
        weights = _RESIDENCE_BY_NATIONALITY.get(s.nationality)
        if not weights:
            return
        status = _weighted(self.rng, weights)
        rules = self.reference.rules
        self.at(day)
        if status == "p104c":
            last = min(rules.p104c_last_grant_date, day)
            granted = last - timedelta(days=self.days(0, 540))
            record_residence(ctx, member.client_id, "p104c", granted_on=granted,
                             note="Chancen-Aufenthaltsrecht; Übergang in § 25a/§ 25b vorbereiten")
            expiry = p104c_expiry(ctx, granted)
            fulfilled = self.rng.sample([t.code for t in rules.p104c_checklist],
                                        self.days(0, len(rules.p104c_checklist)))
            if expiry < self.today:
                fulfilled = [t.code for t in rules.p104c_checklist]
            for item in fulfilled:
                set_checklist_item(ctx, member.client_id, item, True,
                                   note="Nachweis liegt vor")
            if expiry < self.today:
                # Filed before expiry (§ 81 Abs. 4); recorded no earlier than the file exists.
                self.at(max(day, expiry - timedelta(days=self.days(14, 40))))
                follow = "ae_25b" if self.rng.random() < 0.7 else "ae_25a"
                record_residence(ctx, member.client_id, follow, granted_on=self.now,
                                 valid_until=add_months(self.now, 24),
                                 note="Anschlussaufenthalt nach § 104c")
            return
        if status == "ae_24":
            granted = date(2022, 3, 15) + timedelta(days=self.days(0, 1200))
            granted = min(granted, day)
            record_residence(ctx, member.client_id, "ae_24", granted_on=granted,
                             valid_until=date(2026, 3, 4) if granted.year < 2025 else
                             rules.p24_continued_until)
            return
        granted = day - timedelta(days=self.days(0, 300))
        months = {"gestattung": 6, "duldung": 3, "duldung_training": 24,
                  "duldung_employment": 24, "settlement": 0}.get(status, 36)
        valid_until = add_months(granted, months) if months else None
        if valid_until is not None and valid_until < day and months <= 6:
            # A Gestattung or Duldung is renewed: the current paper runs into the future.
            granted = day - timedelta(days=self.days(0, 60))
            valid_until = add_months(granted, months)
        record_residence(ctx, member.client_id, status, granted_on=granted,
                         valid_until=valid_until)

    def refer_to(self, ctx: Context, case_id: str, client_id: str, institution_type: str,
                 kommune: str, day: date, purpose: str, outcomes: Sequence[tuple[str, int]],
                 share: bool | None = None) -> None:
        institution_id = self.institution_for(institution_type, kommune)
        info = _REFERRAL_INFO.get(institution_type, ["master_data"])
        if share is None:
            share = self.rng.random() < 0.5
        self.at(day)
        if share:
            record_consent(ctx, client_id, ConsentInput(
                kind=RELEASE, purpose=purpose, given_on=self.now,
                recipient_institution_id=institution_id, information_kinds=list(info),
                special_categories="health" in info))
        referral = refer(ctx, case_id, ReferralInput(
            institution_id=institution_id, purpose=purpose, referred_on=self.now,
            shares_data=share, information_kinds=list(info) if share else [],
            client_id=client_id))
        for outcome, after in outcomes:
            if self.now + timedelta(days=after) > self.today:
                break
            self.at(self.now + timedelta(days=after))
            set_referral_outcome(ctx, referral.id, outcome)

    def goal(self, ctx: Context, case_id: str, client_id: str, life_area: str, day: date,
             *, complete: float, due_in: int = 120) -> str:
        title, detail, steps = _GOALS[life_area]
        self.at(day)
        goal = add_goal(ctx, case_id, client_id, title, detail=detail, life_area=life_area,
                        due_on=day + timedelta(days=due_in), agreed_on=day)
        for index, (description, responsible) in enumerate(steps):
            due = day + timedelta(days=14 + 21 * index + self.days(0, 10))
            step = add_step(ctx, goal.id, description, responsible, due_on=due)
            if self.rng.random() < complete and due - timedelta(days=3) <= self.today:
                self.at(min(due - timedelta(days=self.days(0, 5)), self.today))
                complete_step(ctx, step.id)
                self.at(day)
        return goal.id

    def assessment(self, ctx: Context, case_id: str, client_id: str, life_area: str,
                   day: date, need: int, priority: int | None = None, **texts: str) -> None:
        situation, resources, problems, view = _ASSESSMENTS[life_area]
        self.at(day)
        save_assessment(ctx, case_id, client_id, AssessmentInput(
            life_area=life_area, situation=texts.get("situation", situation),
            resources=texts.get("resources", resources),
            problems=texts.get("problems", problems),
            client_view=texts.get("client_view", view), need=need, priority=priority,
            institutions=texts.get("institutions", "")))

    def deadline(self, ctx: Context, client_id: str, case_id: str | None) -> None:
        kind, title = self.rng.choice((
            ("appointment", "Termin bei der Ausländerbehörde"),
            ("benefit_renewal", "Weiterbewilligungsantrag Jobcenter stellen"),
            ("cooperation", "Nachweise beim Jobcenter einreichen"),
            ("course_registration", "Anmeldung Integrationskurs"),
            ("passport_expiry", "Pass läuft ab – Verlängerung bei der Botschaft"),
            ("consent_review", "Einwilligung mit der Person überprüfen"),
            ("appeal", "Widerspruchsfrist gegen den Bescheid"),
        ))
        due = self.today + timedelta(days=self.days(-10, 60))
        add_deadline(ctx, client_id, kind, due, title, case_id=case_id)

    def walk_phases(self, ctx: Context, case_id: str, start: Phase, target: Phase,
                    day: date, note: str = "") -> None:
        for phase in _PHASES[start.index + 1 : target.index + 1]:
            self.at(day)
            change_phase(ctx, case_id, phase.value, note=note)

    # --- the volume -----------------------------------------------------------------------

    def build(self, total: int, progress: Callable[[int, int], None] | None) -> DemoSummary:
        self.build_network()
        self.examples()
        regional = {t.code: t.vza for t in self.reference.regional_teams}
        weights = {code: vza * (2.5 if code == self.user_team else 1.0)
                   for code, vza in regional.items()}
        weights["welcome"] = 2.0 * (2.5 if self.user_team == "welcome" else 1.0)
        reported = 0
        while self.summary.clients < total:
            team = _weighted(self.rng, weights)
            ctx = self.staff_ctx(team)
            # One household's whole story is one unit of work: the use cases nest as
            # savepoints in a single transaction instead of committing one by one.
            with ctx.vault.writing():
                if team == "welcome":
                    kommune = _weighted(self.rng, _KOMMUNE_WEIGHTS)
                    self.welcome_unit(ctx, kommune)
                else:
                    kommune = _weighted(self.rng, {
                        m.code: _KOMMUNE_WEIGHTS[m.code] for m in self.reference.municipalities
                        if m.team == team})
                    kind = _weighted(self.rng, {KI: 40, PB: 30, CM: 30})
                    {KI: self.short_unit, PB: self.support_unit, CM: self.cm_unit}[kind](
                        ctx, kommune)
            if progress is not None and self.summary.clients - reported >= 100:
                reported = self.summary.clients
                progress(min(reported, total), total)
        self.tidy_deadlines()
        final = counts(self.ctx)
        self.summary.clients = final.clients
        self.summary.households = final.households
        self.summary.cases = final.cases_open + final.cases_closed
        if progress is not None:
            progress(self.summary.clients, total)
        return self.summary

    def start_day(self, span_days: int, *, open_case: bool) -> date:
        """First contact of a case that takes ``span_days``: open ones end near today."""
        if open_case:
            return self.today - timedelta(days=span_days + self.days(0, 20))
        return self.today - timedelta(days=span_days + self.days(20, 540))

    def short_unit(self, ctx: Context, kommune: str) -> None:
        """Kurzintervention: one concern, a few sessions, only what the concern needs."""
        rng = self.rng
        roll = rng.random()
        anonymous, consent = roll < 0.12, roll >= 0.55
        sessions = rng.choice((1, 1, 2, 2, 3, 4))
        span = (sessions - 1) * self.days(2, 12)
        is_open = rng.random() < 0.3
        day = self.start_day(span, open_case=is_open)
        topics = self.topics(rng.choice((1, 1, 2)))
        self.at(day)
        if anonymous:
            client = create_client(ctx, ClientInput(
                anonymous=True, gender=rng.choice(("female", "male", "not_stated")),
                municipality=kommune))
            client_id, interpreter = client.id, ""
            self.summary.clients += 1
        else:
            sketch = random_person(rng, day, min_age=18, max_age=70)
            member = _Member(self.unique(sketch, with_birth_date=consent), "", consent=consent)
            self.store_people(ctx, [member], kommune, household=False, given_on=day)
            client_id = member.client_id
            interpreter = sketch.interpreter if rng.random() < 0.3 else ""
            if consent and rng.random() < 0.5:
                self.residence(ctx, member, day)
        case = open_case(ctx, client_id, CaseInput(
            kind=KI, opened_on=day, concern=rng.choice(CONCERNS[topics[0]]), topics=topics,
            access_route=_weighted(rng, {"self_referral": 40, "accommodation": 20,
                                         "family_friends": 15, "social_welfare_office": 10,
                                         "volunteers": 10, "jobcenter": 5})))
        self.summary.cases += 1
        converts = consent and not anonymous and sessions >= 2 and rng.random() < 0.12
        for index in range(sessions):
            contact_day = day + timedelta(days=index * span // max(1, sessions - 1))
            last = index == sessions - 1
            follow = (self.today + timedelta(days=self.days(-3, 14))
                      if last and is_open and rng.random() < 0.6 else None)
            self.contact(ctx, case.id, contact_day, topics, interpreter=interpreter,
                         mode=rng.choice(("office", "outreach", "phone")), follow_up=follow)
        if converts:
            self.at(day + timedelta(days=span + 1))
            convert_case(ctx, case.id, PB, reason="Mehrere zusammenhängende Anliegen, "
                                                  "längere Begleitung nötig")
            for _ in range(self.days(1, 4)):
                if self.now >= self.today:
                    break
                self.contact(ctx, case.id, self.now + timedelta(days=self.days(3, 14)),
                             topics, interpreter=interpreter)
        if not is_open:
            self.at(max(self.now, day + timedelta(days=span + self.days(7, 40))))
            close_case(ctx, case.id, _weighted(rng, _CLOSING_REASONS[PB if converts else KI]))

    def support_unit(self, ctx: Context, kommune: str) -> None:
        """Prozesshafte Begleitung: one topic complex, frequent contacts, often a family."""
        rng = self.rng
        topics = self.topics(rng.choice((1, 2, 2, 3)))
        with_family = rng.random() < 0.45 or topics[0] in ("education", "childcare")
        sessions = self.days(3, 10)
        span = sessions * self.days(7, 18)
        is_open = rng.random() < 0.5
        day = self.start_day(span, open_case=is_open)
        self.at(day)
        members = self.family(kommune, spouse=with_family and rng.random() < 0.5,
                              children=self.days(1, 3) if with_family else 0)
        interpreter = members[0].sketch.interpreter if rng.random() < 0.35 else ""
        self.store_people(ctx, members, kommune, household=with_family, given_on=day,
                          interpreter=bool(interpreter))
        for member in members:
            if member.role != "Kind" and rng.random() < 0.8:
                self.residence(ctx, member, day)
        head = members[0].client_id
        self.at(day)
        case = open_case(ctx, head, CaseInput(
            kind=PB, opened_on=day, concern=rng.choice(CONCERNS[topics[0]]), topics=topics,
            access_route=_weighted(rng, {"self_referral": 30, "accommodation": 15,
                                         "school_daycare": 15, "jobcenter": 10,
                                         "counselling_service": 10, "family_friends": 20})))
        self.summary.cases += 1
        if len(members) > 1 and members[1].role == "Ehepartner:in":
            add_participant(ctx, case.id, members[1].client_id)
        goal_id = None
        if rng.random() < 0.4:
            goal_id = self.goal(ctx, case.id, head, topics[0], day + timedelta(days=7),
                                complete=0.7)
        referral_at = day + timedelta(days=span // 3)
        if rng.random() < 0.5 and referral_at <= self.today:
            self.refer_to(ctx, case.id, head, _REFERRAL_TARGETS[topics[0]], kommune,
                          referral_at, rng.choice(CONCERNS[topics[0]]),
                          (("appointment_made", 6), ("attended", 14)))
        for index in range(sessions):
            contact_day = day + timedelta(days=index * span // sessions)
            last = index == sessions - 1
            follow = (self.today + timedelta(days=self.days(-5, 21))
                      if last and is_open else None)
            self.contact(ctx, case.id, contact_day, [rng.choice(topics)],
                         interpreter=interpreter if rng.random() < 0.6 else "",
                         follow_up=follow)
        if is_open:
            if rng.random() < 0.5:
                self.at(self.today - timedelta(days=self.days(0, 20)))
                self.deadline(ctx, head, case.id)
        else:
            self.at(day + timedelta(days=span + self.days(5, 30)))
            reason = _weighted(rng, _CLOSING_REASONS[PB])
            if goal_id is not None:
                evaluate_goal(ctx, goal_id, {"goals_achieved": "full", "no_further_need": "full",
                                             "handed_over": "partial"}.get(reason, "none"))
            close_case(ctx, case.id, reason)

    def cm_unit(self, ctx: Context, kommune: str) -> None:
        """Rechtskreisübergreifendes Case Management through its phases, often a household.

        Open cases stand in any phase; closed ones went through the evaluation, except some
        that ended early (moved away, contact lost, ended by the client).
        """
        rng = self.rng
        is_open = rng.random() < 0.65
        ends_early = not is_open and rng.random() < 0.15
        if is_open:
            target = Phase(_weighted(rng, _OPEN_CM_PHASE_WEIGHTS))
        elif ends_early:
            target = rng.choice(_PHASES[1:5])
        else:
            target = Phase.EVALUATION
        durations = [self.days(10, 30), self.days(14, 40), self.days(14, 45),
                     self.days(30, 120), self.days(60, 240), self.days(7, 30)]
        span = sum(durations[: target.index + 1])
        day = self.start_day(span, open_case=is_open)
        self.at(day)
        with_family = rng.random() < 0.65
        members = self.family(kommune, spouse=with_family and rng.random() < 0.8,
                              children=self.days(0, 4) if with_family else 0)
        head_sketch = members[0].sketch
        interpreter = head_sketch.interpreter if rng.random() < 0.5 else ""
        self.store_people(ctx, members, kommune, household=with_family, given_on=day,
                          interpreter=bool(interpreter))
        adults = [m for m in members if m.role != "Kind"]
        for member in adults:
            self.residence(ctx, member, day)
        head = members[0].client_id
        topics = self.topics(rng.choice((2, 3, 3, 4)))
        self.at(day)
        case = open_case(ctx, head, CaseInput(
            kind=CM, opened_on=day, concern="; ".join(rng.choice(CONCERNS[t]) for t in topics),
            topics=topics,
            access_route=_weighted(rng, {"public_order_office": 15, "social_welfare_office": 15,
                                         "accommodation": 20, "self_referral": 15,
                                         "jobcenter": 15, "immigration_office": 5,
                                         "counselling_service": 15})))
        self.summary.cases += 1
        for member in members[1:]:
            add_participant(ctx, case.id, member.client_id)
        record_intake(ctx, case.id, concern=case.concern, access_route=case.access_route,
                      cm_indicated=True, art13_informed_on=day)
        self.contact(ctx, case.id, day, topics, mode="office", minutes=60,
                     interpreter=interpreter, note="Erstgespräch: Anliegen gesammelt, Ablauf "
                     "des Case Managements und Datenschutz (Art. 13 DSGVO) erklärt.")
        phase_day = day
        for phase in _PHASES[1 : target.index + 1]:
            phase_day += timedelta(days=durations[phase.index - 1])
            self.walk_phases(ctx, case.id, _PHASES[phase.index - 1], phase, phase_day)
            self.cm_phase_work(ctx, case.id, phase, phase_day, durations[phase.index],
                               members, topics, kommune, interpreter,
                               beyond_planning=target.index > Phase.PLANNING.index)
        if is_open:
            follow = self.today + timedelta(days=self.days(-5, 21))
            self.contact(ctx, case.id, min(self.today, phase_day + timedelta(days=7)),
                         [rng.choice(topics)], follow_up=follow)
            if rng.random() < 0.6:
                self.deadline(ctx, head, case.id)
        elif ends_early:
            self.at(phase_day + timedelta(days=durations[target.index] // 2))
            close_case(ctx, case.id, rng.choice(("moved_away", "contact_lost", "ended_by_client",
                                                 "handed_over")))
        else:
            self.at(phase_day + timedelta(days=durations[-1]))
            close_case(ctx, case.id, rng.choice(("goals_achieved", "goals_achieved",
                                                 "goals_partly_achieved", "no_further_need")),
                       note="Abschlussgespräch geführt; Kontaktdaten von Beratungsstellen "
                            "mitgegeben.")

    def cm_phase_work(self, ctx: Context, case_id: str, phase: Phase, day: date, length: int,
                      members: list[_Member], topics: list[str], kommune: str,
                      interpreter: str, *, beyond_planning: bool) -> None:
        rng = self.rng
        adults = [m for m in members if m.role != "Kind"]
        if phase == Phase.ASSESSMENT:
            for member in adults:
                for priority, area in enumerate(topics if member is adults[0] else topics[:1]):
                    self.assessment(ctx, case_id, member.client_id, area, day,
                                    need=self.days(1, 3), priority=priority + 1)
            self.contact(ctx, case_id, day + timedelta(days=length // 2), topics[:2],
                         mode="home_visit", interpreter=interpreter)
        elif phase == Phase.PLANNING:
            for member in adults:
                self.goal(ctx, case_id, member.client_id,
                          topics[0] if member is adults[0] else rng.choice(topics), day,
                          complete=0.7 if beyond_planning else 0.0)
            self.contact(ctx, case_id, day, topics, mode="office", minutes=90,
                         interpreter=interpreter,
                         note="Zielvereinbarung besprochen, priorisiert und unterschrieben.")
        elif phase == Phase.LINKING:
            for area in topics[: self.days(1, 3)]:
                self.refer_to(ctx, case_id, adults[0].client_id, _REFERRAL_TARGETS[area],
                              kommune, day + timedelta(days=self.days(0, length // 2)),
                              rng.choice(CONCERNS[area]),
                              (("appointment_made", self.days(3, 10)),
                               (rng.choice(("attended", "granted", "waiting_list", "attended")),
                                self.days(7, 30))))
            self.contact(ctx, case_id, day + timedelta(days=length // 2), topics[:1],
                         mode="accompaniment", minutes=120)
        elif phase == Phase.MONITORING:
            for week in range(0, length, 21):
                self.contact(ctx, case_id, day + timedelta(days=week), [rng.choice(topics)],
                             mode=rng.choice(("phone", "phone", "office", "messenger")))
        elif phase == Phase.EVALUATION:
            self.at(day)
            self.contact(ctx, case_id, day, topics, mode="office", minutes=60,
                         note="Auswertungsgespräch: Ziele und Veränderungen gemeinsam bewertet.")
            for goal in goals_of(ctx, case_id):
                evaluate_goal(ctx, goal.id, _weighted(rng, {"full": 55, "partial": 35,
                                                            "none": 5, "not_assessable": 5}))

    def welcome_unit(self, ctx: Context, kommune: str) -> None:
        """Welcome-Center: § 104c holders on their way to § 25a/§ 25b, and employers."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.3:
            self.employer_unit(ctx, kommune)
            return
        nationality = rng.choice(("AF", "IQ", "XK", "GN", "TR"))
        is_open = rng.random() < 0.7
        span = self.days(30, 300)
        day = self.start_day(span, open_case=is_open)
        self.at(day)
        sketch = self.unique(random_person(rng, day, nationality=nationality, min_age=20,
                                           max_age=45))
        member = _Member(sketch, "")
        self.store_people(ctx, [member], kommune, household=False, given_on=day)
        rules = self.reference.rules
        granted = min(rules.p104c_last_grant_date, day) - timedelta(days=self.days(0, 300))
        self.at(day)
        record_residence(ctx, member.client_id, "p104c", granted_on=granted,
                         note="Beratung im Welcome-Center")
        topics = ["residence", "work"] if roll < 0.8 else ["residence", "language"]
        case = open_case(ctx, member.client_id, CaseInput(
            kind=PB, opened_on=day, topics=topics, access_route="immigration_office",
            concern="Chancen-Aufenthaltsrecht: Voraussetzungen für § 25b klären "
                    "(Lebensunterhalt, Sprache, Identität)"))
        self.summary.cases += 1
        for index, item in enumerate(rules.p104c_checklist):
            if rng.random() < 0.55:
                set_checklist_item(ctx, member.client_id, item.code, True,
                                   note="Nachweis geprüft", on=day)
            self.contact(ctx, case.id, day + timedelta(days=index * span // 4), topics,
                         interpreter=sketch.interpreter if rng.random() < 0.5 else "")
        if not is_open:
            self.at(day + timedelta(days=span + 10))
            close_case(ctx, case.id, "goals_achieved", note="Antrag nach § 25b gestellt.")

    def employer_unit(self, ctx: Context, kommune: str) -> None:
        """An employer asking the Welcome-Center about hiring or training a refugee."""
        rng = self.rng
        trade = rng.choice(("Gartenbau", "Gemüsebau", "Pflegedienst", "Logistik", "Metallbau",
                            "Bäckerei", "Hotel und Gastronomie", "Elektrotechnik", "Malerbetrieb"))
        suffix = rng.choice(("GmbH", "GmbH & Co. KG", "e. K.", "gGmbH"))
        name = f"{trade} {self.reference.municipality(kommune).name} {suffix}"
        is_open = rng.random() < 0.5
        day = self.start_day(40, open_case=is_open)
        self.at(day)
        employer = create_client(ctx, ClientInput(kind=ClientKind.ORGANISATION.value,
                                                  organisation_name=name,
                                                  municipality=kommune))
        self.summary.clients += 1
        case = open_case(ctx, employer.id, CaseInput(
            kind=KI, opened_on=day, topics=["work"], access_route="self_referral",
            concern=rng.choice(("Möchte eine geflüchtete Person ausbilden: Fragen zur "
                                "Ausbildungsduldung", "Fragen zur Beschäftigungserlaubnis und "
                                "zu Förderungen der Agentur für Arbeit",
                                "Sucht Auszubildende, Kontakt zu Sprachkursen"))))
        self.summary.cases += 1
        for offset in (0, self.days(5, 20)):
            self.contact(ctx, case.id, day + timedelta(days=offset), ["work"],
                         mode=rng.choice(("phone", "office", "email")),
                         note="Ablauf der Beschäftigungserlaubnis und Fördermöglichkeiten "
                              "erläutert.")
        if not is_open:
            self.at(day + timedelta(days=40))
            close_case(ctx, case.id, "goals_achieved")

    def tidy_deadlines(self) -> None:
        """A diligent case manager: old Fristen are done; a few recent ones are overdue."""
        self.at(self.today)
        cutoff = self.today - timedelta(days=7)
        with self.ctx.vault.reading() as session:
            rows = session.execute(
                select(Deadline.id, Deadline.due_on).where(Deadline.done_on.is_(None),
                                                           Deadline.due_on < cutoff)
                .order_by(Deadline.due_on, Deadline.id)).all()
        for deadline_id, due_on in rows:
            if due_on < self.today - timedelta(days=45) or self.rng.random() < 0.8:
                done = min(self.today, due_on + timedelta(days=self.days(-3, 5)))
                complete_deadline(self.ctx, deadline_id, done_on=done, note="erledigt")

    # --- the five worked examples of the concept (5.1.1–5.1.3, 5.5.1) ---------------------

    def example_kommune(self, letter: str) -> str:
        """A Kommune of the demo team whose name starts with the concept's letter, if any.

        The concept's letters (Kommune C, K, R, T) are placeholders: the Kreis Kleve has no
        Kommune starting with C or T, so those examples go to the team's least used (then
        largest) Kommune.
        """
        team = self.reference.team(self.user_team)
        pool = [m.code for m in self.reference.municipalities
                if team.countywide or m.team == team.code]
        used = self.example_kommunen
        matching = [c for c in pool if not used.get(c)
                    and self.reference.municipality(c).name.startswith(letter)]
        chosen = matching[0] if matching else min(
            pool, key=lambda c: (used.get(c, 0), -_KOMMUNE_WEIGHTS[c]))
        used[chosen] = used.get(chosen, 0) + 1
        return chosen

    def examples(self) -> None:
        self.example_1()
        self.example_2()
        self.example_3()
        self.example_4()
        self.example_5()

    def _example_person(self, first: str, last: str, gender: str, age_years: float,
                        nationality: str, role: str = "Haushaltsvorstand",
                        consent: bool = True) -> _Member:
        birth = self.today - timedelta(days=int(age_years * 365.25) + self.days(0, 200))
        sketch = Sketch(first, last, gender, birth, nationality)
        self.guard.add(first, last, birth if consent else None)
        return _Member(sketch, role, consent=consent)

    def example_1(self) -> None:
        """Beispiel 1, Herr B.: Kurzintervention, Nachhilfe for his son and a hint on BuT."""
        ctx = self.ctx
        kommune = self.example_kommune("C")
        self.summary.examples["Beispiel 1"] = kommune
        day = self.at(self.today - timedelta(days=150))
        herr_b = self._example_person("Georgi", "Borisov", "male", 38, "BG", consent=False)
        self.store_people(ctx, [herr_b], kommune, household=False, given_on=day)
        case = open_case(ctx, herr_b.client_id, CaseInput(
            kind=KI, opened_on=day, topics=["education", "livelihood"],
            access_route="self_referral",
            concern="Sucht Nachhilfe für den älteren Sohn (9 Jahre) wegen schulischer "
                    "Wissenslücken. Lebt mit Ehefrau und zwei Kindern (3 und 9 Jahre)."))
        self.summary.cases += 1
        self.contact(ctx, case.id, day, ["education", "livelihood"], mode="office", minutes=30,
                     note="Kontakte zu Nachhilfeangeboten (Hausaufgabenhilfe der "
                          "Flüchtlingshilfe, VHS, Nachhilfeinstitute) mitgegeben. Hinweis auf "
                          "Lernförderung nach dem Bildungs- und Teilhabepaket (BuT) beim "
                          "Jobcenter. Angeboten, sich bei Bedarf wieder zu melden.")
        self.at(day + timedelta(days=42))
        close_case(ctx, case.id, "no_further_need",
                   note="Keine Rückmeldung und keine weitere Anfrage von Herrn B.")

    def example_2(self) -> None:
        """Beispiel 2, Frau T. from Syria: Kurzintervention for a Deutschkurs, three contacts."""
        ctx = self.ctx
        kommune = self.example_kommune("K")
        self.summary.examples["Beispiel 2"] = kommune
        day = self.at(self.today - timedelta(days=95))
        frau_t = self._example_person("Rasha", "Tahhan", "female", 31, "SY")
        self.store_people(ctx, [frau_t], kommune, household=False, given_on=day,
                          interpreter=True)
        update_client(ctx, frau_t.client_id, {
            "arrival_date": self.today - timedelta(days=3 * 365 + 20),
            "address": f"Gemeinschaftsunterkunft, {_POSTCODES[kommune]} "
                       f"{self.reference.municipality(kommune).name}",
            "interpreter_language": "Arabisch"})
        record_residence(ctx, frau_t.client_id, "ae_25_2_refugee",
                         granted_on=self.today - timedelta(days=2 * 365),
                         valid_until=add_months(self.today - timedelta(days=2 * 365), 36))
        case = open_case(ctx, frau_t.client_id, CaseInput(
            kind=KI, opened_on=day, topics=["language"], access_route="accommodation",
            concern="Möchte einen Deutschkurs besuchen; kennt Voraussetzungen und Träger "
                    "nicht."))
        self.summary.cases += 1
        self.contact(ctx, case.id, day, ["language"], mode="outreach", minutes=50,
                     place="Außensprechstunde in der Unterkunft", interpreter="Arabisch",
                     note="Möglichkeiten und Zugänge zu Sprachkursen besprochen. Kaum "
                          "Deutschkenntnisse: im Beisein von Frau T. bei den Trägern "
                          "telefonisch nach Kursplätzen gefragt und einen ersten Termin zur "
                          "Anmeldung vereinbart.")
        self.refer_to(ctx, case.id, frau_t.client_id, "integration_course_provider", kommune,
                      day, "Anmeldung zum Integrationskurs",
                      (("appointment_made", 0), ("attended", 8)), share=False)
        self.contact(ctx, case.id, day + timedelta(days=5), ["language"], mode="office",
                     minutes=45, interpreter="Arabisch",
                     note="Anmeldeunterlagen gemeinsam ausgefüllt. Informationsschreiben "
                          "erläutert: Kursbeginn, Kurszeiten, Unterrichtsmaterial.")
        self.contact(ctx, case.id, day + timedelta(days=40), ["language"], mode="outreach",
                     minutes=10, place="Unterkunft",
                     note="Frau T. bedankt sich für die Unterstützung und spricht schon erste "
                          "Sätze auf Deutsch.")
        close_case(ctx, case.id, "goals_achieved", note="Kurs läuft.")

    def example_3(self) -> None:
        """Beispiel 3, Frau P.: prozesshafte Begleitung of her daughter's Schulanmeldung."""
        ctx = self.ctx
        kommune = self.example_kommune("R")
        self.summary.examples["Beispiel 3"] = kommune
        day = self.at(self.today - timedelta(days=400))
        frau_p = self._example_person("Ioana", "Popescu", "female", 33, "RO")
        daughter = self._example_person("Ștefania", "Popescu", "female", 5, "RO", role="Kind")
        son = self._example_person("Mihai", "Popescu", "male", 10, "RO", role="Kind")
        members = [frau_p, daughter, son]
        self.store_people(ctx, members, kommune, household=True, given_on=day)
        record_residence(ctx, frau_p.client_id, "eu_free_movement")
        case = open_case(ctx, frau_p.client_id, CaseInput(
            kind=PB, opened_on=day, topics=["education", "childcare"],
            access_route="school_daycare",
            concern="Schreiben des Kindergartens zur Schulanmeldung der Tochter nicht "
                    "verstanden; weiß nicht, wie eine Schulanmeldung funktioniert."))
        self.summary.cases += 1
        add_participant(ctx, case.id, daughter.client_id)
        goal = add_goal(ctx, case.id, daughter.client_id, "Tochter S. ist in der Grundschule "
                        "angemeldet und gut eingeschult", life_area="education",
                        due_on=day + timedelta(days=300), agreed_on=day,
                        detail="Frau P. kennt das Verfahren und kann Schulpost selbst lesen.")
        steps = [add_step(ctx, goal.id, text, who, due_on=day + timedelta(days=offset))
                 for text, who, offset in (
                     ("Termin zur Schulanmeldung vereinbaren", "Case Management", 3),
                     ("Anmeldeunterlagen ausfüllen und abgeben", "Frau P.", 30),
                     ("Schuleingangsuntersuchung wahrnehmen", "Frau P. (begleitet)", 60),
                     ("Schulmaterial besorgen, Elternabend besuchen", "Frau P.", 270))]
        school = "Grundschule"
        timeline = (
            (0, "office", 50, "", "Schreiben erläutert: Tochter muss in einer Grundschule "
             "angemeldet werden, umliegende Schulen sind benannt. Anmeldeverfahren erklärt; "
             "Termin in der gewählten Schule vereinbart; Sprach- und Kulturmittlung "
             "(Rumänisch) für den Termin organisiert."),
            (16, "office", 45, "", "Bericht vom Anmeldetermin: vieles verstanden, aber sehr "
             "viele Informationen und eine Mappe mit Papieren. Termin zur gemeinsamen "
             "Durchsicht angeboten."),
            (21, "office", 90, "Rumänisch", "Unterlagen und Brief zur "
             "Schuleingangsuntersuchung durchgesehen und ausgefüllt. Ein weiterer persönlicher "
             "Termin zur Abgabe ist nötig; Begleitung angeboten."),
            (33, "office", 30, "", "Vorbereitung des zweiten Schultermins: Fragen von Frau P. "
             "notiert, benötigte Unterlagen abgestimmt."),
            (35, "accompaniment", 75, "", f"Begleitung zur {school}: Unterlagen abgegeben. Die "
             "Schule braucht eine E-Mail-Adresse für Elterninformationen; E-Mail-Adresse mit "
             "Frau P. eingerichtet und der Schule mitgeteilt."),
            (58, "accompaniment", 90, "Rumänisch", "Begleitung zur Schuleingangsuntersuchung "
             "beim Gesundheitsamt."),
            (200, "office", 45, "", "Briefe der Schule erläutert; Materialliste besprochen."),
            (228, "office", 40, "", "Schulmaterial gemeinsam besorgt, Teilnahme am Elternabend "
             "organisiert."),
            (240, "accompaniment", 120, "", "Begleitung zum Elternabend im Kindergarten: Ende "
             "der Kindergartenzeit und deren Gestaltung."),
            (243, "office", 30, "", "Bräuche und Veranstaltungen rund um die Einschulung "
             "erklärt (Schultüte, Einschulungsfeier, Offener Ganztag)."),
        )
        for offset, mode, minutes, interpreter, note in timeline:
            self.contact(ctx, case.id, day + timedelta(days=offset), ["education"], mode=mode,
                         minutes=minutes, interpreter=interpreter, note=note,
                         client_id=frau_p.client_id)
            if offset == 0:
                self.refer_to(ctx, case.id, frau_p.client_id, "school", kommune, self.now,
                              "Schulanmeldung der Tochter", (("appointment_made", 0),
                                                             ("attended", 14)), share=False)
            if offset == 35:
                update_client(ctx, frau_p.client_id, {"email": "ioana.popescu@example.org"})
        for step, offset in zip(steps, (0, 35, 58, 228), strict=True):
            self.at(day + timedelta(days=offset))
            complete_step(ctx, step.id)
        self.at(day + timedelta(days=300))
        evaluate_goal(ctx, goal.id, "full")
        close_case(ctx, case.id, "no_further_need",
                   note="Nach der Einschulung zufällig getroffen: Tochter hat eine tolle Zeit "
                        "in der Schule; Frau P. sieht keinen weiteren Unterstützungsbedarf.")

    def example_4(self) -> None:
        """Beispiel 4, Familie H. from Afghanistan: case management through all six phases."""
        ctx = self.ctx
        kommune = self.example_kommune("T")
        self.summary.examples["Beispiel 4"] = kommune
        started = 650
        day = self.at(self.today - timedelta(days=started))
        years = started / 365.25
        herr = self._example_person("Jawad", "Haidari", "male", 37 + years, "AF")
        frau = self._example_person("Soraya", "Haidari", "female", 33 + years, "AF",
                                    "Ehepartner:in")
        sima = self._example_person("Sima", "Haidari", "female", 4 + years, "AF", "Kind")
        karim = self._example_person("Karim", "Haidari", "male", 7 + years, "AF", "Kind")
        parwana = self._example_person("Parwana", "Haidari", "female", 10 + years, "AF",
                                       "Kind")
        members = [herr, frau, sima, karim, parwana]
        self.store_people(ctx, members, kommune, household=True, given_on=day,
                          interpreter=True,
                          address=f"Wohneinheit der Kommune, {_POSTCODES[kommune]} "
                                  f"{self.reference.municipality(kommune).name}")
        for member in members:
            update_client(ctx, member.client_id, {"arrival_date": day - timedelta(days=365)})
            record_residence(ctx, member.client_id, "gestattung",
                             granted_on=day - timedelta(days=300),
                             valid_until=day + timedelta(days=60),
                             note="Asylantrag vor vier Wochen positiv beschieden; "
                                  "Aufenthaltserlaubnis beantragt.")
        update_client(ctx, frau.client_id, {"languages": "Dari, Englisch (sehr gut)"})
        topics = ["childcare", "education", "language", "livelihood", "other",
                  "social_integration"]
        case = open_case(ctx, herr.client_id, CaseInput(
            kind=CM, opened_on=day, topics=topics, access_route="public_order_office",
            concern="Familie seit zwei Wochen in der Kommune, viele Alltagsfragen: Kita-Platz "
                    "für S., Schulanmeldung von K. und P., Sprachkurs für beide Eltern, "
                    "Anträge SGB II, Kleidung, K. möchte schwimmen lernen."))
        self.summary.cases += 1
        for member in members[1:]:
            add_participant(ctx, case.id, member.client_id)
        record_intake(ctx, case.id, concern=case.concern, access_route="public_order_office",
                      cm_indicated=True, art13_informed_on=day)
        self.contact(ctx, case.id, day, topics, mode="outreach", minutes=60,
                     interpreter="Dari", place="Gruppenraum der Unterkunft mit Spielecke",
                     note="Vorstellung durch den Mitarbeitenden der Ordnungsbehörde. Ehepaar "
                          "kam ohne Kinder (Nachbarin betreut). Bericht über die Flucht und "
                          "die vielen Unterkunftswechsel; alle wichtigen Dokumente sind da. "
                          "Themen gesammelt: Kita für S., Schulanmeldung K. und P., Sprachkurs, "
                          "SGB-II-Anträge, Kleidung, Schwimmen für K. Wichtigstes zuerst: "
                          "Sozialleistungen beantragen, Kinder in der Schule anmelden.")
        jobcenter_purpose = "Antrag auf Leistungen nach dem SGB II"
        self.refer_to(ctx, case.id, herr.client_id, "jobcenter", kommune,
                      day + timedelta(days=6), jobcenter_purpose,
                      (("appointment_made", 1), ("granted", 30)), share=True)
        self.contact(ctx, case.id, day + timedelta(days=6), ["livelihood", "education"],
                     mode="office", minutes=120, client_id=frau.client_id,
                     note="SGB-II-Anträge gemeinsam ausgefüllt, Schulanmeldung für K. und P. "
                          "vorbereitet. Frau H. spricht sehr gut Englisch: keine Sprachmittlung "
                          "nötig.")
        self.refer_to(ctx, case.id, karim.client_id, "school", kommune,
                      day + timedelta(days=9), "Schulanmeldung von K. und P.",
                      (("appointment_made", 2), ("attended", 10)), share=False)
        self.refer_to(ctx, case.id, herr.client_id, "volunteers", kommune,
                      day + timedelta(days=9), "Kleidung aus der Kleiderkammer",
                      (("attended", 4),), share=False)
        for member in members:
            self.at(day + timedelta(days=50))
            record_residence(ctx, member.client_id, "ae_25_2_refugee", granted_on=self.now,
                             valid_until=add_months(self.now, 36),
                             note="Flüchtlingsschutz zuerkannt")
        # Assessment: what the case manager learns in the following meetings, per person.
        assessed = day + timedelta(days=21)
        self.walk_phases(ctx, case.id, Phase.INTAKE, Phase.ASSESSMENT, assessed)
        for member, area, need, texts in (
            (herr, "livelihood", 3, {"situation": "SGB-II-Antrag gestellt, Bescheid steht aus."}),
            (herr, "language", 1, {"situation": "Grundlegende Deutschkenntnisse."}),
            (herr, "work", 3, {"situation": "Ohne Arbeit; in Afghanistan Handwerker.",
                               "client_view": "Möchte beruflich Fuß fassen, Coaching."}),
            (herr, "qualification", 2, {"resources": "Zeugnisse und Dokumente aus "
                                                     "Afghanistan vorhanden."}),
            (frau, "language", 3, {"resources": "Spricht sehr gut Englisch.",
                                   "client_view": "Möchte schnell Deutsch lernen."}),
            (frau, "childcare", 3, {"problems": "Ohne Betreuung für S. kein Sprachkurs.",
                                    "resources": "Nachbarin kann stundenweise betreuen."}),
            (frau, "social_integration", 2, {}),
            (sima, "childcare", 3, {"situation": "Kein Kita-Platz vor dem kommenden Jahr."}),
            (karim, "education", 2, {"situation": "Schulanmeldung erfolgt, Einschulung steht "
                                                  "bevor."}),
            (karim, "social_integration", 1, {"client_view": "Möchte unbedingt Schwimmen "
                                                             "lernen."}),
            (parwana, "education", 2, {"situation": "Grundschule, Wechsel zur weiterführenden "
                                                    "Schule in einem Jahr."}),
        ):
            self.assessment(ctx, case.id, member.client_id, area, assessed + timedelta(days=7),
                            need=need, **texts)
        for offset in (7, 20):
            self.contact(ctx, case.id, assessed + timedelta(days=offset),
                         ["livelihood", "language"], mode="office", minutes=60,
                         note="Weitere Gespräche: Geschichte der Familie, Wünsche in der neuen "
                              "Heimat; im Assessment strukturiert dokumentiert.")
        # Planning: after the benefits were granted, before school starts.
        planned = assessed + timedelta(days=35)
        self.walk_phases(ctx, case.id, Phase.ASSESSMENT, Phase.PLANNING, planned)
        self.contact(ctx, case.id, planned, ["language", "work", "childcare"], mode="office",
                     minutes=120, note="Planungsgespräch mit beiden Eheleuten: bisherige "
                     "Schritte, Wünsche und Pläne; Themen priorisiert; je eine schriftliche "
                     "Zielvereinbarung mit Handlungsschritten und Verantwortlichkeiten.")
        frau_goal = add_goal(ctx, case.id, frau.client_id, "Sprachkurs besuchen und schnell "
                             "Deutsch lernen", life_area="language", agreed_on=planned,
                             due_on=planned + timedelta(days=360),
                             detail="Integrationskurs in Teilzeit, solange S. keinen "
                                    "Kita-Platz hat")
        frau_steps = [add_step(ctx, frau_goal.id, text, who, due_on=planned + timedelta(days=d))
                      for text, who, d in (
                          ("Geeigneten Sprachkurs mit kurzen Unterrichtszeiten suchen",
                           "Case Management", 21),
                          ("Betreuung von S. während des Kurses klären (Nachbarin, "
                           "Tagespflege über das Jugendamt)", "Frau H. / Case Management", 28),
                          ("Anmeldung beim Integrationskursträger", "Frau H.", 35))]
        herr_goal = add_goal(ctx, case.id, herr.client_id, "Berufliche Perspektive entwickeln",
                             life_area="work", agreed_on=planned,
                             due_on=planned + timedelta(days=360),
                             detail="Coaching mit Deutschunterricht über das Jobcenter; "
                                    "Anerkennung der Zeugnisse prüfen")
        herr_steps = [add_step(ctx, herr_goal.id, text, who, due_on=planned + timedelta(days=d))
                      for text, who, d in (
                          ("Termin bei der Fallmanagerin des Jobcenters vereinbaren",
                           "Case Management", 10),
                          ("Begleitung zum Jobcenter-Termin", "Case Management", 20),
                          ("Zeugnisse für die Anerkennungsberatung zusammenstellen", "Herr H.",
                           45),
                          ("Teilnahme am Coaching", "Herr H.", 120))]
        kita_goal = add_goal(ctx, case.id, frau.client_id, "Kita-Platz für Tochter S.",
                             life_area="childcare", agreed_on=planned,
                             due_on=planned + timedelta(days=330))
        kita_step = add_step(ctx, kita_goal.id, "Kita-Anmeldung für S. zum kommenden "
                             "Kindergartenjahr", "Frau H. / Case Management",
                             due_on=planned + timedelta(days=240))
        # Linking.
        linked = planned + timedelta(days=7)
        self.walk_phases(ctx, case.id, Phase.PLANNING, Phase.LINKING, linked)
        self.refer_to(ctx, case.id, frau.client_id, "integration_course_provider", kommune,
                      linked + timedelta(days=10), "Integrationskurs in Teilzeit",
                      (("appointment_made", 3), ("attended", 25)), share=True)
        self.refer_to(ctx, case.id, sima.client_id, "youth_office", kommune,
                      linked + timedelta(days=5), "Kindertagespflege für S.",
                      (("waiting_list", 10),), share=True)
        self.at(linked + timedelta(days=12))
        complete_step(ctx, herr_steps[0].id)
        complete_step(ctx, frau_steps[0].id)
        self.contact(ctx, case.id, linked + timedelta(days=19), ["work"], mode="accompaniment",
                     minutes=90, client_id=herr.client_id,
                     note="Begleitung zum Jobcenter: kurz vorgestellt, Herr H. berichtet selbst "
                          "von seinen Plänen. Coaching mit Deutschunterricht startet in zwei "
                          "Wochen; Hinweis auf die Anerkennungsberatung.")
        self.refer_to(ctx, case.id, herr.client_id, "jobcenter", kommune,
                      linked + timedelta(days=19), "Coaching mit Deutschunterricht",
                      (("granted", 1), ("attended", 14)), share=False)
        self.refer_to(ctx, case.id, herr.client_id, "recognition_counselling", kommune,
                      linked + timedelta(days=22), "Anerkennung der Zeugnisse aus Afghanistan",
                      (("appointment_made", 5), ("attended", 21)), share=False)
        self.at(linked + timedelta(days=20))
        complete_step(ctx, herr_steps[1].id)
        self.at(linked + timedelta(days=26))
        complete_step(ctx, frau_steps[1].id)
        complete_step(ctx, frau_steps[2].id)
        self.contact(ctx, case.id, linked + timedelta(days=26), ["language", "childcare"],
                     mode="office", client_id=frau.client_id, minutes=45,
                     note="Nachbarin betreut S., solange der Kurs täglich nur wenige Stunden "
                          "dauert. Kurs gefunden, Start in wenigen Wochen.")
        # Monitoring: weekly phone calls, fewer over time.
        monitored = linked + timedelta(days=40)
        self.walk_phases(ctx, case.id, Phase.LINKING, Phase.MONITORING, monitored)
        for week in [*range(0, 150, 7), *range(150, 420, 28)]:
            self.contact(ctx, case.id, monitored + timedelta(days=week),
                         [self.rng.choice(("language", "work", "education", "childcare"))],
                         mode="phone", minutes=15, client_id=self.rng.choice(
                             (herr.client_id, frau.client_id)),
                         note="Wöchentliches Telefonat: aktuelle Fragen und Entwicklung.")
        self.at(monitored + timedelta(days=60))
        complete_step(ctx, herr_steps[2].id)
        self.at(monitored + timedelta(days=150))
        complete_step(ctx, herr_steps[3].id)
        self.refer_to(ctx, case.id, sima.client_id, "daycare", kommune,
                      monitored + timedelta(days=180), "Kita-Anmeldung für S.",
                      (("granted", 30),), share=False)
        self.at(monitored + timedelta(days=215))
        complete_step(ctx, kita_step.id)
        self.refer_to(ctx, case.id, parwana.client_id, "school", kommune,
                      monitored + timedelta(days=190), "Wechsel von P. zur weiterführenden "
                      "Schule", (("attended", 20),), share=False)
        self.refer_to(ctx, case.id, karim.client_id, "volunteers", kommune,
                      monitored + timedelta(days=120), "Schwimmkurs für K.",
                      (("attended", 30),), share=False)
        self.contact(ctx, case.id, monitored + timedelta(days=400),
                     ["work", "social_integration"], mode="home_visit", minutes=60,
                     note="Herr H. hat über das Coaching ein Praktikum und kann voraussichtlich "
                          "als Helfer anfangen (Begleitung durch die Sozialpädagogin des "
                          "Coachings). Frau H. besucht einen Kunstkurs und engagiert sich "
                          "ehrenamtlich im Café der Caritas. K. nimmt am Schwimmkurs teil. "
                          "Familie wird zunehmend selbständig.")
        # Evaluation after about one and a half years.
        evaluated = monitored + timedelta(days=425)
        self.walk_phases(ctx, case.id, Phase.MONITORING, Phase.EVALUATION, evaluated)
        self.contact(ctx, case.id, evaluated, ["language", "work", "childcare"], mode="office",
                     minutes=75, note="Gemeinsamer Rückblick auf eineinhalb Jahre: die "
                     "Familie ist selbst überrascht, wie viel sie geschafft hat, und braucht "
                     "die Unterstützung derzeit nicht mehr. Ergebnisse festgehalten; "
                     "Kontaktdaten von Beratungsstellen (MBE, JMD) weitergegeben.")
        for goal, attainment in ((frau_goal, "full"), (herr_goal, "full"), (kita_goal, "full")):
            evaluate_goal(ctx, goal.id, attainment)
        self.at(evaluated + timedelta(days=7))
        close_case(ctx, case.id, "goals_achieved",
                   note="Abschließendes Gespräch geführt; Familie ist selbständig.")

    def example_5(self) -> None:
        """Beispiel 5, Frau A. (22, alleinerziehend): case management in monitoring."""
        ctx = self.ctx
        kommune = self.example_kommune("A")
        self.summary.examples["Beispiel 5"] = kommune
        day = self.at(self.today - timedelta(days=210))
        frau_a = self._example_person("Zainab", "Abdullah", "female", 22, "IQ")
        daughter = self._example_person("Lina", "Abdullah", "female", 3, "IQ", role="Kind")
        self.store_people(ctx, [frau_a, daughter], kommune, household=True, given_on=day)
        record_residence(ctx, frau_a.client_id, "ae_25_2_subsidiary",
                         granted_on=day - timedelta(days=200),
                         valid_until=add_months(day - timedelta(days=200), 36))
        topics = ["work", "social_integration", "childcare", "qualification", "health",
                  "livelihood"]
        case = open_case(ctx, frau_a.client_id, CaseInput(
            kind=CM, opened_on=day, topics=topics, access_route="jobcenter",
            concern="Möchte eine Ausbildung machen, um ihrer Tochter eine gute Zukunft zu "
                    "bieten; Berufsfeld noch offen. Keine Kinderbetreuung, Schulden."))
        self.summary.cases += 1
        add_participant(ctx, case.id, daughter.client_id)
        record_intake(ctx, case.id, concern=case.concern, access_route="jobcenter",
                      cm_indicated=True, art13_informed_on=day)
        self.contact(ctx, case.id, day, ["work", "childcare"], mode="office", minutes=60,
                     note="Erstgespräch: Frau A. wünscht sich Unterstützung auf dem Weg in "
                          "eine Ausbildung.")
        assessed = day + timedelta(days=14)
        self.walk_phases(ctx, case.id, Phase.INTAKE, Phase.ASSESSMENT, assessed)
        for area, need, texts in (
            ("work", 3, {"situation": "Ohne Arbeit; möchte keine Zeit verlieren und Geld "
                                      "verdienen."}),
            ("social_integration", 2, {"situation": "Alleinerziehend, wenig Entlastung im "
                                                    "Alltag."}),
            ("childcare", 3, {"problems": "Keine Kinderbetreuung: berufsvorbereitende "
                                          "Maßnahme derzeit nicht möglich."}),
            ("qualification", 3, {"situation": "Abschluss auf Realschulniveau; Sprachkenntnisse "
                                               "noch nicht ausreichend.",
                                  "client_view": "Möchte erfolgreich eine Ausbildung "
                                                 "absolvieren, Berufsfeld noch unklar."}),
            ("health", 2, {"problems": "Tochter ist immer wieder krank; wenig Kraft für "
                                       "gesunde, ausgewogene Ernährung."}),
            ("livelihood", 2, {"problems": "Einige Schulden."}),
        ):
            self.assessment(ctx, case.id, frau_a.client_id, area,
                            assessed + timedelta(days=10), need=need, **texts)
        planned = assessed + timedelta(days=28)
        self.walk_phases(ctx, case.id, Phase.ASSESSMENT, Phase.PLANNING, planned)
        goal = add_goal(ctx, case.id, frau_a.client_id, "Erfolgreich eine Ausbildung "
                        "absolvieren", life_area="qualification", agreed_on=planned,
                        due_on=planned + timedelta(days=540),
                        detail="Berufsfeld klären, Deutsch verbessern, Betreuung der Tochter "
                               "sichern, Schulden regeln")
        steps = [add_step(ctx, goal.id, text, who, due_on=self.today + timedelta(days=d))
                 for text, who, d in (
                     ("Betreuungsplatz für die Tochter (Kita/Tagespflege) beantragen",
                      "Frau A. / Case Management", -90),
                     ("Berufsorientierung bei der Berufsberatung der Agentur für Arbeit",
                      "Case Management", -40),
                     ("Termin bei der Schuldnerberatung", "Frau A.", -20),
                     ("Berufsbezogenen Deutschkurs beginnen", "Frau A.", 9),
                     ("Kinderärztliche Abklärung der häufigen Infekte", "Frau A.", 4),
                 )]
        linked = planned + timedelta(days=10)
        self.walk_phases(ctx, case.id, Phase.PLANNING, Phase.LINKING, linked)
        self.refer_to(ctx, case.id, frau_a.client_id, "youth_office", kommune, linked,
                      "Kindertagespflege für die Tochter", (("waiting_list", 14),), share=True)
        self.refer_to(ctx, case.id, frau_a.client_id, "jobcenter", kommune,
                      linked + timedelta(days=3), "Berufsvorbereitende Maßnahme",
                      (("appointment_made", 5), ("discontinued", 20)), share=True)
        self.refer_to(ctx, case.id, frau_a.client_id, "employment_agency", kommune,
                      linked + timedelta(days=20), "Berufsberatung und Berufsorientierung",
                      (("appointment_made", 7), ("attended", 14)), share=False)
        self.refer_to(ctx, case.id, frau_a.client_id, "debt_counselling", kommune,
                      linked + timedelta(days=25), "Schuldenregulierung",
                      (("waiting_list", 10),), share=False)
        for step in steps[:3]:
            self.at(min(self.today, step.due_on or self.today))
            complete_step(ctx, step.id)
        monitored = linked + timedelta(days=45)
        self.walk_phases(ctx, case.id, Phase.LINKING, Phase.MONITORING, monitored)
        for week in range(0, (self.today - monitored).days, 21):
            self.contact(ctx, case.id, monitored + timedelta(days=week),
                         [self.rng.choice(("childcare", "qualification", "health"))],
                         mode=self.rng.choice(("phone", "office")),
                         note="Prozessbeobachtung: Betreuung weiter ungeklärt, Berufsfeld "
                              "Pflege/Erziehung im Gespräch.")
        self.at(self.today - timedelta(days=2))
        add_deadline(ctx, frau_a.client_id, "plan_review", self.today + timedelta(days=18),
                     "Zielvereinbarung überprüfen (Fallrekonstruktion im Team)", case_id=case.id)
        # Termine with a time: Heute lists them, the iCalendar export carries them pseudonymised.
        add_appointment(ctx, frau_a.client_id, self.today + timedelta(days=2),
                        clock_time(10, 0), kind=ESCORT, duration_minutes=90,
                        title="Begleitung zum Jobcenter: Maßnahme nach Abbruch klären",
                        place="Jobcenter", case_id=case.id)
        add_appointment(ctx, frau_a.client_id, self.today + timedelta(days=6),
                        clock_time(14, 30), title="Gespräch: Kinderbetreuung und Deutschkurs",
                        place="Büro", case_id=case.id)

