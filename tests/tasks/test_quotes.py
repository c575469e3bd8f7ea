from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tasks.entities import extract_entities
from tasks.quotes import QUOTE_SCHEMA, extract_entities_and_quotes, extract_quotes

INTRO = "Prime Minister Margaret Thatcher visited the plant on Monday."


def _articles(*bodies: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "article_id": [f"a{index}" for index in range(len(bodies))],
            "title": ["Headline"] * len(bodies),
            "body": list(bodies),
            "dateline": [None] * len(bodies),
            "language": ["en"] * len(bodies),
        },
        schema={
            "article_id": pl.String,
            "title": pl.String,
            "body": pl.String,
            "dateline": pl.String,
            "language": pl.String,
        },
    )


def _pairs(*bodies: str) -> list[tuple[str, str | None]]:
    result = extract_quotes(_articles(*bodies))
    return list(zip(result["quote"].to_list(), result["speaker"].to_list(), strict=True))


def test_schema_and_empty_input() -> None:
    assert extract_quotes(_articles()).schema == pl.Schema(QUOTE_SCHEMA)
    assert extract_quotes(_articles("No quotes at all here.")).height == 0
    result = extract_quotes(_articles('"We will win this fight," Thatcher said.'))
    assert result.schema == pl.Schema(QUOTE_SCHEMA)
    assert result.rows() == [("a0", 1, "We will win this fight,", "Thatcher")]


@pytest.mark.parametrize(
    ("body", "speaker"),
    [
        (f'{INTRO}\n\n"We will win this fight," Thatcher said.', "Margaret Thatcher"),
        (f'{INTRO}\n\n"We will win this fight," said Thatcher.', "Margaret Thatcher"),
        (f'{INTRO}\n\n"We will win this fight," Thatcher says.', "Margaret Thatcher"),
        (f'{INTRO}\n\nThatcher told Parliament that "we will win this fight".', "Margaret Thatcher"),
        (f'{INTRO}\n\nThatcher said: "We will win this fight."', "Margaret Thatcher"),
        (f'{INTRO}\n\n"We will win this fight," Thatcher added.', "Margaret Thatcher"),
        (f'{INTRO}\n\n"We will win this fight," Thatcher warned on Tuesday.', "Margaret Thatcher"),
        (f'{INTRO}\n\n"We will win this fight," Thatcher has said.', "Margaret Thatcher"),
        (f'{INTRO}\n\n"We will win this fight," according to Thatcher.', "Margaret Thatcher"),
        (f'{INTRO}\n\n"We will win this fight," she said.', "Margaret Thatcher"),
        (f'{INTRO}\n\nShe said: "We will win this fight."', "Margaret Thatcher"),
        ('"We will win this fight," said Rep. Ed Jones (D-Tenn.), the panel chairman.', "Ed Jones"),
        ('"We will win this fight," Secretary-General Jens Stoltenberg said.', "Jens Stoltenberg"),
        ('"We will win this fight," Nato leaders said in a declaration.', "NATO"),
        ('Nato leaders urged China "to cease all material support to Russia."', "NATO"),
        ('"We will win this fight," said Joseph Liro of S.G. Warburg and Co.', "Joseph Liro"),
        ('"Tesco is in good shape," said analyst Clive Black of Shore Capital.', "Clive Black"),
        (
            '"Tesco is in good shape," said Analyst Clive Black of Shore Capital. "Sales rose," he said.',
            "Clive Black",
        ),
        ('"The water came up so fast," said Pontypridd resident Gaynor Jones.', "Gaynor Jones"),
        ('"We will win this fight," said Tesla chief executive Elon Musk.', "Elon Musk"),
        (
            "According to Commission President Ursula von der Leyen, \u201cEurope must spend far more.\u201d",
            "Ursula von der Leyen",
        ),
        (
            'Secretary of State Marco Rubio met officials. "The ball is in their court," Rubio said.',
            "Marco Rubio",
        ),
        ('President Yoon Suk Yeol left detention. "I thank the court," Yoon said.', "Yoon Suk Yeol"),
        (
            "Federal Reserve Chair Jerome Powell spoke after the Trump administration raised tariffs. "
            '"A good part of it is coming from tariffs," he said.',
            "Jerome Powell",
        ),
    ],
)
def test_attribution(body: str, speaker: str) -> None:
    assert _pairs(body)[-1][1] == speaker


@pytest.mark.parametrize(
    "body",
    [
        '"This includes the transfer of materials," the declaration said.',
        '"We cannot allow this to go on," the alliance said.',
        '"We will win this fight," a spokesman said.',
        '"We will win this fight and more."',
        'Nato is ready. "We will win this fight." The ministry said prices rose.',
    ],
)
def test_unnamed_or_unattributed(body: str) -> None:
    assert _pairs(body) == [(_pairs(body)[0][0], None)]


def test_curly_and_straight_quotes() -> None:
    curly = _pairs("\u201cWe will win this fight,\u201d Jens Stoltenberg said.")
    straight = _pairs('"We will win this fight," Jens Stoltenberg said.')
    assert curly == straight == [("We will win this fight,", "Jens Stoltenberg")]


def test_partial_quote_inside_a_sentence() -> None:
    body = "China \u201chas become a decisive enabler of Russia\u2019s war,\u201d Nato leaders said."
    assert _pairs(body) == [("has become a decisive enabler of Russia\u2019s war,", "NATO")]


def test_scare_quotes_are_left_out() -> None:
    body = (
        "Leaders voiced \u201cdeep concern\u201d over the \u201cno limits\u201d deal, Jens Stoltenberg said."
    )
    assert _pairs(body) == []


def test_quote_spanning_paragraphs() -> None:
    body = (
        "Jens Stoltenberg spoke first.\n\n"
        '"We will defend every inch of allied territory.\n\n'
        '"And we will do it together," Stoltenberg said.'
    )
    assert _pairs(body) == [
        ("We will defend every inch of allied territory. And we will do it together,", "Jens Stoltenberg")
    ]


def test_later_quote_in_a_paragraph_inherits_the_speaker() -> None:
    body = '"We will win this fight," Jens Stoltenberg said. "Nobody should doubt that for a moment."'
    assert [speaker for _, speaker in _pairs(body)] == ["Jens Stoltenberg", "Jens Stoltenberg"]


def test_reopened_straight_quote_without_closing_mark() -> None:
    body = 'Ms Hewitt said: "We have doubled the pay already. "We are going to extend it further." She left.'
    assert _pairs(body) == [
        ("We have doubled the pay already.", "Hewitt"),
        ("We are going to extend it further.", "Hewitt"),
    ]


def test_pronoun_takes_the_last_person_named() -> None:
    body = (
        "Treasury Secretary James Baker met Finance Minister Kiichi Miyazawa.\n\n"
        "Miyazawa spoke later.\n\n"
        '"The yen is too strong," he said.'
    )
    assert _pairs(body) == [("The yen is too strong,", "Kiichi Miyazawa")]


def test_ordinals_follow_the_text_in_each_article() -> None:
    result = extract_quotes(
        _articles(
            '"First of the quotes here," Jens Stoltenberg said.\n\n"Second of the quotes here," he said.',
            '"Only quote of the second one," Ed Jones said.',
        )
    )
    assert result.select("article_id", "ordinal").rows() == [("a0", 1), ("a0", 2), ("a1", 1)]
    assert result["speaker"].to_list() == ["Jens Stoltenberg", "Jens Stoltenberg", "Ed Jones"]


def test_many_articles_in_partitions_match_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tasks.entities.PARTITION_ROWS", 10)
    bodies = [
        f'Minister John Smith{index} arrived.\n\n"We will win {index} times," he said.' for index in range(40)
    ]
    together = extract_quotes(_articles(*bodies))
    one = pl.concat(
        [
            extract_quotes(_articles(body)).with_columns(article_id=pl.lit(f"a{i}"))
            for i, body in enumerate(bodies)
        ]
    )
    assert together.equals(one)


@pytest.mark.parametrize("partition_rows", [2_000, 10])
def test_entities_and_quotes_together_match_apart(
    monkeypatch: pytest.MonkeyPatch, partition_rows: int
) -> None:
    monkeypatch.setattr("tasks.entities.PARTITION_ROWS", partition_rows)
    bodies = [
        f'Minister John Smith{index} of Acme Corp came to New York.\n\n"We will win {index} times," he said.'
        for index in range(30)
    ]
    bodies += [
        '"The alliance stands ready," Secretary-General Jens Stoltenberg said in Brussels. Nato agreed.',
        "No quotes here, said Tom Jones of Leadplex Inc. Leadplex LLC and Leadplex Inc disagreed.",
        "",
    ]
    articles = _articles(*bodies)
    entities, quotes = extract_entities_and_quotes(articles)
    assert entities.equals(extract_entities(articles))
    assert quotes.equals(extract_quotes(articles))
    empty_entities, empty_quotes = extract_entities_and_quotes(articles.clear())
    assert empty_entities.is_empty() and empty_quotes.schema == pl.Schema(QUOTE_SCHEMA)


@pytest.mark.corpus
def test_seed_article_quotes(corpus_dir: Path) -> None:
    from bench.eval_entities import seed_article

    result = extract_quotes(seed_article(corpus_dir))
    assert result["speaker"].to_list() == ["NATO", "NATO", None, None, "Jens Stoltenberg"]
    assert result["quote"][4].startswith("I think the message sent from Nato")
    assert result["ordinal"].to_list() == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "body",
    [
        "\u201eWir werden die Ukraine weiter unterst\u00fctzen\u201c, sagte Annalena Baerbock am Montag. "
        "\u201eDas ist unsere Pflicht gegen\u00fcber Europa\u201c, f\u00fcgte sie hinzu.",
        "\u00bbWir werden die Ukraine weiter unterst\u00fctzen\u00ab, sagte Annalena Baerbock am Montag. "
        "\u00bbDas ist unsere Pflicht gegen\u00fcber Europa\u00ab, f\u00fcgte sie hinzu.",
    ],
)
def test_german_quote_marks(body: str) -> None:
    quotes = [quote for quote, _ in _pairs(body)]
    assert quotes == [
        "Wir werden die Ukraine weiter unterst\u00fctzen",
        "Das ist unsere Pflicht gegen\u00fcber Europa",
    ]


def test_french_guillemets() -> None:
    body = "\u00ab Nous ne c\u00e9derons pas sur ce point \u00bb, a d\u00e9clar\u00e9 le ministre."
    assert [quote for quote, _ in _pairs(body)] == ["Nous ne c\u00e9derons pas sur ce point"]


def test_german_marks_are_read_without_changing_the_articles() -> None:
    articles = _articles(
        "\u201eWir werden die Ukraine weiter unterst\u00fctzen\u201c, sagte sie.", "No quotes here."
    )
    bodies = articles["body"].to_list()
    assert [quote for quote, _ in _pairs(*bodies)] == ["Wir werden die Ukraine weiter unterst\u00fctzen"]
    extract_quotes(articles)
    assert articles["body"].to_list() == bodies
