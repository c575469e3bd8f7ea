from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tasks.clean import NOTHING_LEFT, clean_records, clean_text, extract_datelines
from tasks.decode import decode_frame
from tasks.parse_text import parse_text_records
from tasks.schema import RECORDS_SCHEMA, conform


def _paragraph_frame(*first_paragraphs: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"paragraphs": [[first, "Second paragraph."] for first in first_paragraphs]},
        schema={"paragraphs": pl.List(pl.String())},
    )


def _records(**columns: list[object]) -> pl.DataFrame:
    return conform(
        pl.DataFrame(columns, schema={name: RECORDS_SCHEMA[name] for name in columns}), RECORDS_SCHEMA
    )


def _pipeline(paths: list[Path]) -> pl.DataFrame:
    keys = [path.as_uri() for path in paths]
    fetched = pl.DataFrame(
        {
            "file_uri": keys,
            "uri": keys,
            "record_key": keys,
            "sha256": keys,
            "raw": [path.read_bytes() for path in paths],
            "quarantine_reason": [None] * len(paths),
        },
        schema_overrides={"raw": pl.Binary(), "quarantine_reason": pl.String()},
    )
    return clean_records(parse_text_records(decode_frame(fetched)))


@pytest.mark.parametrize(
    ("first_paragraph", "place", "date", "rest"),
    [
        ("WASHINGTON — Nato leaders on Wednesday said", "WASHINGTON", None, "Nato leaders on Wednesday said"),
        ("WASHINGTON—Nato leaders on Wednesday said", "WASHINGTON", None, "Nato leaders on Wednesday said"),
        ("LONDON, March 3 - Shares fell", "LONDON", "March 3", "Shares fell"),
        (
            "PARIS (AFP) - Protesters marched on the capital",
            "PARIS",
            None,
            "Protesters marched on the capital",
        ),
        ("NEW YORK, April 7 (Reuters) - Stocks rose", "NEW YORK", "April 7", "Stocks rose"),
        ("CHICAGO, Ill., April 7 - Amoco said", "CHICAGO, Ill.", "April 7", "Amoco said"),
        ("BEIJING, Jan. 5 (Xinhua) -- China said", "BEIJING", "Jan. 5", "China said"),
        ("CAMBRIDGE, Mass., March 26 - Biogen Inc said", "CAMBRIDGE, Mass.", "March 26", "Biogen Inc said"),
        (
            "CHARLOTTETOWN, Prince Edward Island, March 26 - <Island Telephone Co Ltd> said",
            "CHARLOTTETOWN, Prince Edward Island",
            "March 26",
            "<Island Telephone Co Ltd> said",
        ),
        ("Toronto, March 30 - Shr 13 cts vs 14 cts", "Toronto", "March 30", "Shr 13 cts vs 14 cts"),
        ("BRUSSELS, March 27, Reuter - Greece and Turkey", "BRUSSELS", "March 27", "Greece and Turkey"),
        (
            "ROTTERDAM, April 1- Internatio-Mueller NV said",
            "ROTTERDAM",
            "April 1",
            "Internatio-Mueller NV said",
        ),
        (
            "WINSTON-SALEM, N.C. - RJR Nabisco Inc's RJ Reynolds Tobacco USA unit said it sold four brands",
            "WINSTON-SALEM, N.C.",
            None,
            "RJR Nabisco Inc's RJ Reynolds Tobacco USA unit said it sold four brands",
        ),
        (
            "TOKYO - The Bank of Japan intervened in early afternoon trading",
            "TOKYO",
            None,
            "The Bank of Japan intervened in early afternoon trading",
        ),
        (
            "KYIV, July 10, 2024 – Russia launched a barrage",
            "KYIV",
            "July 10, 2024",
            "Russia launched a barrage",
        ),
        ("TOKYO - The yen rose.", "TOKYO", None, "The yen rose."),
        ("SAN JUAN, Puerto Rico (AP) — Power came back.", "SAN JUAN, Puerto Rico", None, "Power came back."),
        ("PARIS, 10 octobre 2024 (AFP) - Le budget arrive", "PARIS", "10 octobre 2024", "Le budget arrive"),
        (
            "CIUDAD DE MÉXICO, 4 mar (EFE).- La presidenta dijo",
            "CIUDAD DE MÉXICO",
            "4 mar",
            "La presidenta dijo",
        ),
        (
            "BERLIN, 10. März 2025 (dpa) - Die Ministerin sagte",
            "BERLIN",
            "10. März 2025",
            "Die Ministerin sagte",
        ),
        (
            "MADRID (EFE).- El Gobierno aprobó el proyecto de ley",
            "MADRID",
            None,
            "El Gobierno aprobó el proyecto de ley",
        ),
        (
            "Washington (CNN) -- Democrats pledged Friday to keep Social Security",
            "Washington",
            None,
            "Democrats pledged Friday to keep Social Security",
        ),
        (
            "Hong Kong (CNN Business)A muddled view of trade talks weighed on markets",
            "Hong Kong",
            None,
            "A muddled view of trade talks weighed on markets",
        ),
        (
            "Rostow (Russland) - Bei einem Brand in einem Wohnhaus sind fünf Kinder gestorben",
            "Rostow",
            None,
            "Bei einem Brand in einem Wohnhaus sind fünf Kinder gestorben",
        ),
        (
            "Dekalb, Ill. — Mike Glass threw for three touchdowns and ran for another",
            "Dekalb, Ill.",
            None,
            "Mike Glass threw for three touchdowns and ran for another",
        ),
    ],
)
def test_dateline_forms(first_paragraph: str, place: str, date: str | None, rest: str) -> None:
    result = extract_datelines(_paragraph_frame(first_paragraph)).row(0, named=True)

    assert (result["dateline"], result["dateline_date"]) == (place, date)
    assert result["paragraphs"] == [rest, "Second paragraph."]


@pytest.mark.parametrize(
    ("first_paragraph", "rest"),
    [
        (
            "(CNN)President Donald Trump made an unscheduled trip",
            "President Donald Trump made an unscheduled trip",
        ),
        (
            "(Reuters) — The state attorney general is investigating",
            "The state attorney general is investigating",
        ),
        (
            "(Bloomberg) -- Nvidia Corp. shares rose to a record on Wednesday",
            "Nvidia Corp. shares rose to a record on Wednesday",
        ),
        (
            "(Xinhua) -- The Chinese mainland reported new cases on Sunday",
            "The Chinese mainland reported new cases on Sunday",
        ),
        (
            "(Note) The figures were revised on Tuesday by the office",
            "(Note) The figures were revised on Tuesday by the office",
        ),
    ],
)
def test_a_bare_agency_credit_leaves_the_story(first_paragraph: str, rest: str) -> None:
    result = extract_datelines(_paragraph_frame(first_paragraph)).row(0, named=True)

    assert (result["dateline"], result["dateline_date"]) == (None, None)
    assert result["paragraphs"] == [rest, "Second paragraph."]


@pytest.mark.parametrize(
    "first_paragraph",
    [
        "us        7.8015 - 7.8035",
        "COPPER GRADE A - 2650 tonnes mainly carries cash nil",
        "COPPER GRADE A - steadier 7750 (Total 10400) tonnes mainly",
        "WHEAT - No Two Soft Red Winter Jne 129.50 up 1.50 Jly 124.00 up 1.00",
        "APRIL 11 - ISRAEL INTRODUCES SUMMER TIME.",
        "Federal Express Corp - New York",
        "NEW ZEALAND EXCHS CLOSE - April 7",
        "GRADINGS - None posted, Total todate 20 originals.",
        "SILVER - total 156,708,754 off 323,664.",
        "FOB RIVER - CLOSE      APRIL 6",
        "Mar       ---    ---    ---    ---    ---   ---",
        "UPDATE 2 - Stocks rose on Monday as investors cheered the earnings news",
        "The minister - who spoke on condition of anonymity - said talks would go on.",
        "Quarterly profits at US media giant TimeWarner jumped 76% to $1.13bn (£600m).",
        "The Fed (Federal Reserve) Chairman said rates would stay where they are for now.",
        "Boris Johnson (pictured) Said on Monday that he would not resign over the affair.",
        "Jane Doe (Green Party) - the councillor said she would stand again next year.",
        "Apple (AAPL) Shares of the company rose on Monday after the results were out.",
    ],
)
def test_not_a_dateline(first_paragraph: str) -> None:
    result = extract_datelines(_paragraph_frame(first_paragraph)).row(0, named=True)

    assert (result["dateline"], result["dateline_date"]) == (None, None)
    assert result["paragraphs"] == [first_paragraph, "Second paragraph."]


def test_datelines_skip_quarantined_and_empty_records() -> None:
    frame = pl.DataFrame(
        {
            "paragraphs": [["LONDON, March 3 - Shares fell"], [], None],
            "quarantine_reason": ["headline with no body", None, None],
        },
        schema={"paragraphs": pl.List(pl.String()), "quarantine_reason": pl.String()},
    )

    result = extract_datelines(frame)

    assert result["dateline"].to_list() == [None, None, None]
    assert result["paragraphs"].to_list() == [["LONDON, March 3 - Shares fell"], [], None]


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  Nato\u00a0leaders \t said  ", "Nato leaders said"),
        ("cafe\u0301", "café"),
        ("zero\u200bwidth soft\u00adhyphen", "zerowidth softhyphen"),
        ("control\x07 chars\x1b here", "control chars here"),
        ("thin\u2009space and ideographic\u3000space", "thin space and ideographic space"),
        ("line\nbreak\r\nhere", "line break here"),
        ("\u00a0\u2003 ", ""),
    ],
)
def test_clean_text(raw: str, cleaned: str) -> None:
    assert pl.select(clean_text(pl.lit(raw))).item() == cleaned


def test_clean_records_normalises_and_joins_the_body() -> None:
    records = _records(
        title=["  Nato\u00a0leaders  meet ", "Quarantined  title"],
        paragraphs=[
            ["WASHINGTON —\u00a0Nato leaders on Wednesday said so.", "  ", "Second\u00a0 one."],
            ["x  y"],
        ],
        caption=["  A  caption. AFP ", None],
        related=[["  Related\u00a0one ", "   "], []],
        quarantine_reason=[None, "headline with no body"],
    )

    cleaned = clean_records(records)
    first, quarantined = cleaned.rows(named=True)

    assert first["title"] == "Nato leaders  meet"
    assert first["caption"] == "A caption. AFP"
    assert first["related"] == ["Related one"]
    assert first["dateline"] == "WASHINGTON"
    assert first["paragraphs"] == ["Nato leaders on Wednesday said so.", "Second one."]
    assert first["body"] == "Nato leaders on Wednesday said so.\n\nSecond one."
    assert quarantined["title"] == "Quarantined  title"
    assert quarantined["paragraphs"] == ["x  y"]
    assert (quarantined["body"], quarantined["dateline"]) == (None, None)


def test_title_keeps_runs_of_spaces_as_written() -> None:
    cleaned = clean_records(
        _records(title=["BID -  ANALYSTS\t"], paragraphs=[["Body."]], quarantine_reason=[None])
    )

    assert cleaned["title"].item() == "BID -  ANALYSTS"


def test_empty_title_and_caption_become_null() -> None:
    cleaned = clean_records(
        _records(title=["\u200b "], paragraphs=[["Body."]], caption=[" "], quarantine_reason=[None])
    )

    assert (cleaned["title"].item(), cleaned["caption"].item()) == (None, None)


@pytest.fixture(scope="module")
def reuters(corpus_dir: Path) -> tuple[pl.DataFrame, list[dict[str, object]]]:
    folder = corpus_dir / "reuters_dev"
    gold = [json.loads(line) for line in (folder / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    return _pipeline([folder / "files" / str(entry["path"]) for entry in gold]), gold


@pytest.mark.corpus
def test_reuters_titles(reuters: tuple[pl.DataFrame, list[dict[str, object]]]) -> None:
    cleaned, gold = reuters

    assert cleaned.height == len(gold) == 3390
    assert cleaned["quarantine_reason"].null_count() == len(gold)
    assert cleaned["title"].to_list() == [entry["title"] for entry in gold]


@pytest.mark.corpus
def test_reuters_dateline_accuracy(reuters: tuple[pl.DataFrame, list[dict[str, object]]]) -> None:
    cleaned, gold = reuters
    places = cleaned["dateline"].to_list()
    dates = cleaned["dateline_date"].to_list()

    place_accuracy = sum(found == entry["dateline_place"] for found, entry in zip(places, gold, strict=True))
    date_accuracy = sum(found == entry["dateline_date"] for found, entry in zip(dates, gold, strict=True))
    false_datelines = [
        entry["path"]
        for found, entry in zip(places, gold, strict=True)
        if found and not entry["dateline_place"]
    ]

    assert place_accuracy / len(gold) >= 0.99
    assert date_accuracy / len(gold) >= 0.99
    assert false_datelines == []


@pytest.mark.corpus
def test_reuters_first_paragraph_loses_exactly_its_dateline(
    reuters: tuple[pl.DataFrame, list[dict[str, object]]],
) -> None:
    cleaned, _ = reuters
    first = cleaned.row(0, named=True)

    assert first["dateline"] == "CHICAGO"
    assert first["body"].startswith("Amoco Corp said its Amoco Fabrics Co will expand the capacity")
    assert "\n\nIt said the expansion of the plant in Andalusia" in first["body"]
    assert (
        not cleaned.filter(pl.col("dateline").is_not_null())["body"].str.contains(r"^\S+, \w+ \d+ - ").any()
    )


@pytest.mark.corpus
def test_seed_article(corpus_dir: Path) -> None:
    article = _pipeline([corpus_dir / "seed" / "000_9135530c8063760a.txt"]).row(0, named=True)

    assert article["title"] == "Nato leaders express ‘profound concern’ over China-Russia ties"
    assert article["caption"].endswith("Agence France-Presse")
    assert article["dateline"] == "WASHINGTON"
    assert article["dateline_date"] is None
    assert article["body"].startswith("Nato leaders on Wednesday said")
    assert article["related"] == [
        "NATO boosts Ukraine air defenses as doubts over Biden cloud summit",
        "Xi to world powers: Help Russia, Ukraine ‘resume direct dialogue’",
    ]
    assert "Read more" not in article["body"]
    assert "READ:" not in article["body"]
    assert "Jens Stoltenberg" in article["body"]
    assert "\u00a0" not in article["body"]
    assert "\n\n\n" not in article["body"]


def _line_one(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    return text.split("\n", 1)[0].strip()


@pytest.mark.corpus
def test_bbc_corpus(corpus_dir: Path) -> None:
    paths = sorted((corpus_dir / "bbc_news_fulltext").glob("*/*.txt"))

    cleaned = _pipeline(paths)

    first_lines = [_line_one(path.read_bytes()) for path in paths]
    assert cleaned["quarantine_reason"].null_count() == len(paths)
    assert cleaned["title"].to_list() == first_lines
    assert not cleaned["body"].str.contains("\ufffd").any()
    assert not cleaned["title"].str.contains("\ufffd").any()
    assert cleaned["dateline"].null_count() == len(paths)
    latin_1 = cleaned.filter(pl.col("uri").str.ends_with("/sport/199.txt"))
    assert "£" in latin_1["body"].item()


def _page(
    paragraphs: list[str], title: str = "Port traffic rises", byline: str | None = None
) -> pl.DataFrame:
    return _records(
        title=[title],
        paragraphs=[paragraphs],
        byline=[byline],
        raw_format=["html"],
        quarantine_reason=[None],
    )


@pytest.mark.parametrize(
    "trailer",
    [
        "--With assistance from Ian King.",
        "To contact the reporter on this story:",
        "To contact the editors responsible for this story: Jane Roe at jroe@bloomberg.net",
        "Dina Bass in Seattle at dbass2@bloomberg.net",
    ],
)
def test_wire_contact_trailers_leave_the_body(trailer: str) -> None:
    story = "Container traffic at the port rose 4% in May, the harbour authority said on Tuesday."
    cleaned = clean_records(_page([story, trailer]).with_columns(raw_format=pl.lit("text"))).row(
        0, named=True
    )
    assert cleaned["body"] == story


def test_page_furniture_and_trailers_leave_the_body() -> None:
    story = "Container traffic at the port rose 4% in May, the harbour authority said on Tuesday."
    cleaned = clean_records(
        _page(
            [
                "Shipping",
                "Port traffic rises",
                "By François Dubois - Published 24 July 2025",
                "18.03.2025, 16:55 Uhr",
                f"ROTTERDAM (AP) — {story}",
                "Exports led the rise, while imports were flat.",
                "___",
                "Associated Press writer Mike Corder in The Hague contributed to this report.",
                "Harbour Wire © 2025",
                "Sign up for our business newsletter",
                "The post Port traffic rises appeared first on Harbour Wire.",
            ]
        )
    ).row(0, named=True)
    assert cleaned["body"] == f"{story}\n\nExports led the rise, while imports were flat."
    assert (cleaned["dateline"], cleaned["byline"]) == ("ROTTERDAM", "François Dubois")


def test_a_page_dateline_may_follow_its_standfirst() -> None:
    standfirst = "Lagarde declines to commit to a June cut as trade uncertainty clouds the outlook"
    cleaned = clean_records(
        _page([standfirst, "FRANKFURT — The European Central Bank cut rates on Thursday.", "More."])
    ).row(0, named=True)
    assert cleaned["dateline"] == "FRANKFURT"
    assert cleaned["paragraphs"] == [standfirst, "The European Central Bank cut rates on Thursday.", "More."]


def test_plain_text_keeps_its_leading_paragraphs() -> None:
    paragraphs = ["Port traffic rises", "Posted", "Container traffic rose in May, the authority said."]
    records = _page(paragraphs).with_columns(raw_format=pl.lit("text"))
    assert clean_records(records)["paragraphs"][0].to_list() == paragraphs


@pytest.mark.parametrize(
    ("byline", "cleaned"),
    [
        ("MATTHEW LEE and ELLEN KNICKMEYER Associated Press", "MATTHEW LEE and ELLEN KNICKMEYER"),
        ("DAVID McHUGH AP Business Writer", "DAVID McHUGH"),
        ("Jane Smith, Political Correspondent", "Jane Smith"),
        ("John Writer", "John Writer"),
        ("Maria Gonzalez; Thomas Becker", "Maria Gonzalez; Thomas Becker"),
        ("By Jeanna Smialek", "Jeanna Smialek"),
        ("BY JOHN BAKER, Associated Press", "JOHN BAKER"),
        ("Par Jean Dupont", "Jean Dupont"),
        ("Byron Scott", "Byron Scott"),
    ],
)
def test_bylines_lose_lead_ins_roles_and_outlets(byline: str, cleaned: str) -> None:
    story = ["Container traffic at the port rose 4% in May, the harbour authority said on Tuesday."]
    assert clean_records(_page(story, byline=byline))["byline"][0] == cleaned


def test_a_caption_loses_its_label() -> None:
    records = _page(
        ["Container traffic at the port rose 4% in May, the harbour authority said."]
    ).with_columns(caption=pl.lit("Photo: Cranes at the port on Monday. (Reuters/Eva Manez)"))
    assert clean_records(records)["caption"][0] == "Cranes at the port on Monday. (Reuters/Eva Manez)"


@pytest.mark.parametrize(
    "first",
    [
        "By Tuesday, officials had moved 3,000 people out of the valley",
        "By March, the harbour authority expects traffic to double.",
        "By Jane Smith.",
    ],
)
def test_a_sentence_starting_with_by_is_not_a_byline(first: str) -> None:
    story = "Container traffic at the port rose 4% in May, the harbour authority said on Tuesday."
    cleaned = clean_records(_page([first, story])).row(0, named=True)
    assert cleaned["paragraphs"][0] == first
    assert cleaned["byline"] is None


def test_a_record_left_without_text_is_quarantined() -> None:
    cleaned = clean_records(_page(["Port traffic rises", "By Jane Smith", "Harbour Wire © 2025"])).row(
        0, named=True
    )
    assert cleaned["quarantine_reason"] == NOTHING_LEFT
    assert cleaned["body"] is None


@pytest.mark.parametrize(
    "chrome",
    [
        "Subscribe now",
        "Already a subscriber? Sign in",
        "skip past newsletter promotion",
        "Anzeige",
        "Comentarios",
        "1 of 15",
        "Puedes seguir a EL PAÍS en Facebook y X, o apuntarte aquí para recibir nuestra newsletter semanal.",
        "Tom Wheeler can be reached at 606-555-2211 or twheeler@example.com.",
        "Our stories may be republished for free under a Creative Commons license.",
    ],
)
def test_paywall_comment_and_contact_chrome_leaves_the_body(chrome: str) -> None:
    story = "Container traffic at the port rose 4% in May, the harbour authority said on Tuesday."
    assert clean_records(_page([story, chrome]))["paragraphs"][0].to_list() == [story]


def test_related_lines_of_a_page_move_to_related() -> None:
    story = "La sécheresse s'aggrave dans le sud de la France, a indiqué mardi Météo-France."
    records = _page([story, "Lire aussi | Plan eau : les cinquante-trois mesures du gouvernement", "Suite."])
    cleaned = clean_records(records).row(0, named=True)
    assert cleaned["paragraphs"] == [story, "Suite."]
    assert cleaned["related"] == ["Plan eau : les cinquante-trois mesures du gouvernement"]


@pytest.mark.parametrize(
    ("caption", "cleaned"),
    [
        ("Image caption, The Glen Sannox was handed over.", "The Glen Sannox was handed over."),
        (
            "Workers at a plant. REUTERS/Eli Hartman/File Photo Purchase Licensing Rights , opens new tab",
            "Workers at a plant. REUTERS/Eli Hartman/File Photo",
        ),
        (
            "A crowd in Boston. (AP Photo/Jenny Kane, File) Read More",
            "A crowd in Boston. (AP Photo/Jenny Kane, File)",
        ),
        ("1 / 15 Devotees throw coloured powder.", "Devotees throw coloured powder."),
    ],
)
def test_caption_chrome(caption: str, cleaned: str) -> None:
    story = ["Container traffic at the port rose 4% in May, the harbour authority said on Tuesday."]
    assert clean_records(_page(story).with_columns(caption=pl.lit(caption)))["caption"][0] == cleaned


def test_time_stamp_words_left_without_their_times_leave_a_page() -> None:
    story = "Container traffic at the port rose 4% in May, the harbour authority said on Tuesday."
    assert clean_records(_page(["Posted , updated", story]))["paragraphs"][0].to_list() == [story]
