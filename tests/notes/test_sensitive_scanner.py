"""The sensitive-content scanner: each category in English and French, the traps shop
notes really hold, checked identifiers, the operator's lexicon, and precision and
recall on the labelled notes."""

import json

import pytest

from server.notes import sensitive
from server.notes.sensitive import LexiconError, categories_in
from tests.benchmarks.scanner_eval import evaluate, labelled_notes, table

CATEGORIES = ["health", "pregnancy", "religion", "ethnicity", "sexual_orientation",
              "politics", "criminal", "bereavement", "identifiers"]


@pytest.fixture(autouse=True)
def default_lexicon(monkeypatch):
    monkeypatch.delenv(sensitive.SETTING, raising=False)


@pytest.mark.parametrize("text, category", [
    ("Diabetic, needs seamless socks", "health"),
    ("Recovering from a hip operation, flat shoes only", "health"),
    ("Has been ill since March", "health"),
    ("Opérée de la hanche le mois dernier", "health"),
    ("En fauteuil roulant, cabine accessible", "health"),
    ("She's pregnant with her second", "pregnancy"),
    ("Expecting a baby in May", "pregnancy"),
    ("Enceinte de cinq mois", "pregnancy"),
    ("Attend un bébé pour juin", "pregnancy"),
    ("Wears a hijab, longer scarves please", "religion"),
    ("Attends the temple on Saturdays", "religion"),
    ("Va à la messe le dimanche", "religion"),
    ("Mixed race, foundation shade match", "ethnicity"),
    ("D'origine algérienne, tissu pour une robe kabyle", "ethnicity"),
    ("Anniversary gift for his husband", "sexual_orientation"),
    ("Elle vient avec sa femme pour la liste de mariage", "sexual_orientation"),
    ("Trade union rep, bulk order for the conference", "politics"),
    ("Délégué syndical, t-shirts pour la manif", "politics"),
    ("Very active in Labour, wants rosettes", "politics"),
    ("Has a criminal record, asked about the vacancy", "criminal"),
    ("Sorti de prison le mois dernier", "criminal"),
    ("Husband passed away, coat for the funeral", "bereavement"),
    ("A perdu sa mère au printemps", "bereavement"),
])
def test_each_category_is_found_in_english_and_french(text, category):
    assert categories_in(text) == [category]


@pytest.mark.parametrize("text, category", [
    ("DIABÉTIQUE, chaussettes sans élastique", "health"),
    ("diabetique, chaussettes sans elastique", "health"),
    ("Hospitalisée jusqu'à lundi", "health"),
    ("HOSPITALISED twice this winter", "health"),
    ("Two pregnancies in three years", "pregnancy"),
    ("Mum to be, gift list", "pregnancy"),
    ("Sa sœur est décédée", "bereavement"),
    ("Sa soeur est decedee", "bereavement"),
    ("Fait le Ramadân", "religion"),
    ("Her late husband\u2019s watch", "bereavement"),
])
def test_case_accents_ligatures_and_inflections_do_not_matter(text, category):
    assert categories_in(text) == [category]


@pytest.mark.parametrize("text", [
    "Prefers a call after 5pm",
    "Wants the navy in M, will collect Saturday",
    "Buying a gift for her husband",
    "Back from holiday next week",
    "Expecting a delivery on Tuesday",
    "Due date of the special order is 3 June",
    "Bought the silver bracelet, wants the earrings too",
    "Loves the Embrace perfume",
    "Outfit for race day at Ascot",
    "Jacket was ill-fitting on the shoulders",
    "Says she is sick of waiting for the 38",
    "Will call back, phone died",
    "Church's brogues in black, size 9",
    "Deliver to 14 Church Road",
    "Works near Temple, collect at the Strand store",
    "Christian Louboutin heels in 37",
    "Closing-down operation next month",
    "Roller blind in grey, 90 x 160",
    "Blind hem on the trousers, 2 cm",
    "Hypoallergenic earrings only",
    "Hospitality manager at the hotel opposite",
    "Heritage collection trench in camel",
    "Union Jack tote bags for her nieces",
    "Strike on the trains, will come Thursday",
    "Party dress with sequins",
    "Cancer star sign, zodiac necklace",
    "Enceinte Bluetooth en promo",
    "Dans l'enceinte du centre commercial",
    "Politique de retour expliquée",
    "Parti en vacances jusqu'au 20",
    "Opération soldes : la prévenir",
    "Voile de mariée à raccourcir",
    "Draps en lin métis",
    "Enterrement de vie de jeune fille samedi",
    "Veuve Clicquot en coffret",
    "Livraison rue de l'Église",
    "Motif ethnique sur la jupe",
    "Emballage d'origine gardé",
    "Prière de rappeler avant 18h",
    "Traitement de la commande retardé",
    "Syndicat d'initiative : 30 sacs",
    "Acier chirurgical pour le piercing",
    "Chaussures à droite de la caisse",
    "Pour le chien, race labrador",
    "Lost her receipt; found it on the till log",
    "A perdu sa carte de fidélité",
    "Jailbroken iPhone, screen repair",
    "Bailed on her fitting twice",
    "Kidney beans for the hamper",
    "Death by chocolate cake for Saturday",
    "White picket fence panels x6",
    "A donné sa parole pour samedi",
    "Stock détenu en entrepôt",
])
def test_what_shop_notes_really_say_is_not_flagged(text):
    assert categories_in(text) == []


@pytest.mark.parametrize("text, flagged", [
    ("Card 4532 0151 1283 0366 for the deposit", True),
    ("Card 4532-0151-1283-0366", True),
    ("card:4532015112830366", True),
    ("Amex 3714 496353 98431", True),
    ("Visa 4111 1111 1111 1111 09/27, CVV given", True),
    ("Mastercard 2223 0000 4840 0011", True),
    ("Card 4532 0151 1283 0367 (one digit wrong)", False),
    ("Card 4111 1111 1111 1112", False),
    ("Call 07700 900123 or +44 7700 900 123", False),
    ("Appeler le 06 12 34 56 78", False),
    ("Barcode 5012345678900 scanned wrong", False),
    ("Loyalty card 2900 1234 5678", False),
    ("Order ref 40012345678", False),
    ("Sizes 38 40 42 44 46 48 50 in stock", False),
    ("Card ending 4242 declined", False),
    ("NI number JG 10 37 59 A", True),
    ("National insurance np482107d", True),
    ("NI QQ 12 34 56 C (the specimen: Q never starts one)", False),
    ("NI GB 12 34 56 A (a prefix never issued)", False),
    ("NI JG 10 37 59 E (no E suffix)", False),
    ("Sécu 2 84 01 76 451 089 14", True),
    ("NIR 185057800608491", True),
    ("Corse : 1 70 07 2A 004 015 58", True),
    ("Sécu 2 84 01 76 451 089 15 (wrong key)", False),
    ("Passport number 533401372", True),
    ("Passeport n° 12AB34567", True),
    ("Passport holder in tan, ref 4567", False),
])
def test_identifiers_are_checked_not_guessed(text, flagged):
    assert categories_in(text) == (["identifiers"] if flagged else [])


def test_categories_come_in_lexicon_order():
    text = "Card 4111 1111 1111 1111; widowed, pregnant and diabetic; goes to the mosque"
    assert categories_in(text) == ["health", "pregnancy", "religion", "bereavement",
                                   "identifiers"]


def test_the_default_lexicon_covers_every_category_in_order():
    assert [category.name for category in sensitive.load().categories] == CATEGORIES


def write(tmp_path, spec):
    path = tmp_path / "lexicon.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return str(path)


def test_an_operator_lexicon_extends_adds_and_drops_categories(tmp_path, monkeypatch):
    monkeypatch.setenv(sensitive.SETTING, write(tmp_path, {"categories": {
        "health": {"terms": ["gout"]},
        "tattoos": {"terms": ["tattoo*"], "_comment": "a new one, reported last"},
        "bereavement": None}}))
    assert categories_in("Has gout and tattoos, going to a funeral") == ["health", "tattoos"]
    assert categories_in("Diabetic") == ["health"]  # the default terms still count


def test_an_operator_lexicon_can_replace_one_category_or_all(tmp_path, monkeypatch):
    monkeypatch.setenv(sensitive.SETTING, write(tmp_path, {"categories": {
        "politics": {"replace": True, "terms": ["rosette*"]}}}))
    assert categories_in("Tory activist, wants rosettes") == ["politics"]
    assert categories_in("Tory activist") == []

    (tmp_path / "all").mkdir()
    monkeypatch.setenv(sensitive.SETTING, write(tmp_path / "all", {
        "replace": True, "categories": {"vip": {"terms": ["vip"]}}}))
    assert categories_in("VIP, pregnant") == ["vip"]


def test_near_rules_and_exceptions_can_be_configured(tmp_path):
    scanner = sensitive.load(write(tmp_path, {"replace": True, "categories": {"sport": {
        "near": [{"terms": ["match"], "context": ["football", "rugby"], "within": 3}],
        "except": ["match of the day"]}}}))
    assert scanner.categories_in("Going to the rugby match") == ["sport"]
    assert scanner.categories_in("Wants a match for the blue sofa") == []
    assert scanner.categories_in("Football fan, Match of the Day mug") == []


@pytest.mark.parametrize("spec, fault", [
    ({"health": {"terms": ["x"]}}, "expected"),
    ({"categories": {"health": {"words": ["x"]}}}, "unknown keys"),
    ({"categories": {"health": {"terms": "gout"}}}, "lists of strings"),
    ({"categories": {"health": {"patterns": ["(unclosed"]}}}, r"missing \)"),
    ({"categories": {"ids": {"detectors": ["iban"]}}}, "unknown detectors"),
    ({"categories": {"x": {"near": [{"terms": ["a"], "context": []}]}}}, "near is a list"),
    ({"categories": {"x": ["a"]}}, "expected an object"),
])
def test_a_malformed_lexicon_is_refused_naming_the_file(tmp_path, spec, fault):
    path = write(tmp_path, spec)
    with pytest.raises(LexiconError, match=fault) as refused:
        sensitive.load(path)
    assert path in str(refused.value)


def test_a_lexicon_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "lexicon.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(LexiconError, match="lexicon.json"):
        sensitive.load(path)


def test_the_labelled_notes_are_a_fair_test():
    notes = labelled_notes()
    sensitive_notes = [note for note in notes if note["categories"]]
    assert len(notes) >= 200
    assert 0.4 <= len(sensitive_notes) / len(notes) <= 0.6
    assert sum(note["language"] == "fr" for note in notes) >= 50
    assert {c for note in notes for c in note["categories"]} == set(CATEGORIES)
    assert all(set(note) == {"text", "language", "categories"} for note in notes)
    assert len({note["text"] for note in notes}) == len(notes)


def test_precision_and_recall_on_the_labelled_notes():
    scores = evaluate(categories_in, labelled_notes())
    overall = scores["overall"]
    assert overall.recall >= 0.9 and overall.precision >= 0.9, "\n" + table(scores)
