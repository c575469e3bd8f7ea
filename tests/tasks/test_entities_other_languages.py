from __future__ import annotations

import polars as pl
import pytest

from tasks.entities import extract_entities
from tasks.entities_other_languages import organisations_in_other_languages, people_in_other_languages
from tasks.quotes import extract_quotes


def _people(language: str, body: str) -> dict[str, int]:
    frame = pl.DataFrame({"article_id": ["a"], "language": [language], "body": [body]})
    return dict(people_in_other_languages(frame).select("entity", "mentions").iter_rows())


@pytest.mark.parametrize(
    ("language", "body", "people"),
    [
        (
            "de",
            "Kolumbiens Präsident Iván Duque gratulierte. Duque sagte, er sei stolz.",
            {"Iván Duque": 2},
        ),
        ("de", "Bundeskanzlerin Angela Merkel reiste ab. Merkel kam am Abend zurück.", {"Angela Merkel": 2}),
        ("de", "„Wir sind bereit“, sagte Olaf Scholz am Montag in Berlin.", {"Olaf Scholz": 1}),
        ("de", "Polizeisprecher Klaus Müller sagte, die Lage sei ruhig.", {"Klaus Müller": 1}),
        ("de", "Frau Baerbock widersprach.", {"Baerbock": 1}),
        (
            "fr",
            "Le président français Emmanuel Macron a déclaré mardi. « Nous sommes prêts », a dit Macron.",
            {"Emmanuel Macron": 2},
        ),
        ("fr", "Selon Jean-Luc Mélenchon, le texte ne passera pas.", {"Jean-Luc Mélenchon": 1}),
        (
            "es",
            "Según Pedro Sánchez, el gobierno actuará. El presidente Sánchez dijo que no.",
            {"Pedro Sánchez": 2},
        ),
        ("it", "La premier Giorgia Meloni ha detto che il governo andrà avanti.", {"Giorgia Meloni": 1}),
        (
            "pt",
            "O presidente Luiz Inácio Lula da Silva disse que o Brasil crescerá.",
            {"Luiz Inácio Lula da Silva": 1},
        ),
    ],
)
def test_people_named_by_role_or_speech_verb(language: str, body: str, people: dict[str, int]) -> None:
    assert _people(language, body) == people


@pytest.mark.parametrize(
    ("language", "body"),
    [
        ("de", "Die Regierung sagte nichts. Der Konzern Volkswagen teilte mit, er wachse."),
        ("de", "Danach braucht der Geschäftsführer Sport definitiv eine Auszeit."),
        ("fr", "Un appel au président de la République a été lancé par les patrons."),
        ("es", "El presidente de la Organización Médica Colegial dijo que no."),
        ("en", "President Joe Biden said so, and Chancellor Olaf Scholz agreed."),
        ("fr", "Le président est à Paris. Paris accueille le sommet des dirigeants."),
        ("de", "Der Bürgermeister ist in Regensburg. Regensburg steht unter Wasser."),
    ],
)
def test_offices_nouns_and_english_articles_give_no_one(language: str, body: str) -> None:
    assert _people(language, body) == {}


def test_entities_carry_people_of_other_languages_beside_places() -> None:
    articles = pl.DataFrame(
        {
            "article_id": ["a"],
            "title": ["Scholz in Paris"],
            "body": [
                "Bundeskanzler Olaf Scholz traf in Paris ein. Scholz sagte, Frankreich sei ein Partner."
            ],
            "dateline": [None],
            "language": ["de"],
        },
        schema_overrides={"dateline": pl.String},
    )
    entities = extract_entities(articles)
    rows = set(entities.select("entity", "entity_type").iter_rows())
    assert ("Olaf Scholz", "PERSON") in rows
    assert ("France", "LOCATION") in rows or ("Paris", "LOCATION") in rows


@pytest.mark.parametrize(
    ("language", "body", "dateline", "place"),
    [
        ("de", "Die Lage ist ernst, sagte er bei einem Besuch in Regensburg.", "MÜNCHEN", "Munich"),
        ("fr", "Le sommet s'ouvre à Londres. Londres accueille trente pays.", None, "London"),
        ("es", "La cumbre se celebra en Nueva York. Nueva York recibe a los líderes.", None, "New York City"),
        ("it", "Il vertice si apre a Mosca. Mosca accoglie i leader.", None, "Moscow"),
    ],
)
def test_cities_are_found_by_their_names_in_other_languages(
    language: str, body: str, dateline: str | None, place: str
) -> None:
    articles = pl.DataFrame(
        {"article_id": ["a"], "title": [""], "body": [body], "dateline": [dateline], "language": [language]},
        schema_overrides={"dateline": pl.String},
    )
    rows = set(extract_entities(articles).select("entity", "entity_type").iter_rows())
    assert (place, "LOCATION") in rows
    assert not {entity for entity, kind in rows if kind == "PERSON"}


def test_quotes_in_other_languages_get_their_speakers() -> None:
    bodies = {
        "de": "„Wir sind bereit für die Gespräche“, sagte Bundeskanzler Olaf Scholz am Montag. "
        "Später: „Das wird nicht leicht werden“, sagte Scholz.",
        "fr": "« Nous ne céderons pas sur ce point », a déclaré le président Emmanuel Macron. "
        "Selon Macron, « la France restera ferme sur tout cela ».",
        "es": "“No vamos a aceptar este acuerdo”, dijo el presidente Pedro Sánchez en Madrid.",
        "pt": "Scholz disse: “Este é um bom dia para todos nós.” O chanceler Olaf Scholz partiu.",
        "en": "“We will not accept this deal at all,” said President Joe Biden. "
        "“We will not sign,” Scholz said.",
    }
    articles = pl.DataFrame(
        {
            "article_id": list(bodies),
            "language": list(bodies),
            "body": list(bodies.values()),
            "title": ["t"] * len(bodies),
            "dateline": [None] * len(bodies),
        },
        schema_overrides={"dateline": pl.String},
    )
    quotes = extract_quotes(articles)
    assert sorted(quotes.select("article_id", "speaker").rows(), key=str) == [
        ("de", "Olaf Scholz"),
        ("de", "Olaf Scholz"),
        ("en", "Joe Biden"),
        ("en", "Scholz"),
        ("es", "Pedro Sánchez"),
        ("fr", "Emmanuel Macron"),
        ("fr", "Emmanuel Macron"),
        ("pt", "Olaf Scholz"),
    ]


@pytest.mark.parametrize(
    ("language", "body", "companies"),
    [
        ("de", "Die Volkswagen AG meldete Gewinne. Die Volkswagen AG investiert.", {"Volkswagen AG": 2}),
        ("de", "Die Werkfeuerwehr der Bayer AG rückte aus.", {"Bayer AG": 1}),
        ("fr", "Le groupe Sanofi SA a publié ses résultats.", {"Sanofi SA": 1}),
        ("it", "Il gruppo Eni S.p.A. ha annunciato un accordo.", {"Eni S.p.A.": 1}),
        ("de", "Das neue iPhone SE kostet weniger.", {}),
        ("en", "Volkswagen AG said profits rose.", {}),
    ],
)
def test_companies_named_with_their_legal_form(language: str, body: str, companies: dict[str, int]) -> None:
    frame = pl.DataFrame({"article_id": ["a"], "language": [language], "body": [body]})
    found = organisations_in_other_languages(frame)
    assert dict(found.select("entity", "mentions").iter_rows()) == companies
