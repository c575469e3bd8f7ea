from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tasks.decode import decode_bytes
from tasks.parse_text import EDITORIAL_NOTE_RE, parse_header_datetimes, parse_text_records
from tasks.schema import RECORDS_SCHEMA

SEED_LIKE = """Leaders express ‘profound concern’ over ties

Leaders express 'profound concern' over ties

 (L-R) Leaders watch from the balcony at the White House on July 10, 2024. Agence France-Presse

WASHINGTON — Leaders on Wednesday said the ties are a cause of “deep concern”.

The alliance urged an end to support.

READ: Alliance boosts air defenses as doubts cloud summit

“This includes the transfer of dual-use materials,” the declaration said.

READ: Xi to world powers: Help ‘resume direct dialogue’

The statement came before the summit.

Read more...
"""

REUTERS_LIKE = """AMOCO <AN> UNIT EXPANDS CARPET YARN PLANT

CHICAGO, March 26 - Amoco Corp said its Amoco Fabrics Co
will expand the capacity of its polypropylene carpet face yarn
facility by 55 pct.

It said the expansion of the plant in Andalusia, Ala., will
bring Amoco's total face yarn capacity to nearly 140 mln pounds
a year.
"""


def _records(*texts: str | None, reasons: list[str | None] | None = None) -> pl.DataFrame:
    keys = [f"file:///landing/{number}.txt" for number in range(len(texts))]
    return pl.DataFrame(
        {
            "file_uri": keys,
            "uri": keys,
            "record_key": keys,
            "sha256": [f"hash{number}" for number in range(len(texts))],
            "text": list(texts),
            "quarantine_reason": reasons or [None] * len(texts),
        },
        schema={
            "file_uri": pl.String(),
            "uri": pl.String(),
            "record_key": pl.String(),
            "sha256": pl.String(),
            "text": pl.String(),
            "quarantine_reason": pl.String(),
        },
    )


def _parse_one(text: str) -> dict[str, Any]:
    return parse_text_records(_records(text)).row(0, named=True)


def test_output_follows_the_records_schema_one_row_per_input_in_order() -> None:
    parsed = parse_text_records(_records("B headline\n\nBody b.", "A headline\n\nBody a.", None))

    assert parsed.schema == pl.Schema(RECORDS_SCHEMA)
    assert parsed["title"].to_list() == ["B headline", "A headline", None]
    assert parsed["raw_format"].to_list() == ["text"] * 3
    assert parsed["record_key"].to_list() == [f"file:///landing/{number}.txt" for number in range(3)]


def test_bbc_layout() -> None:
    record = _parse_one(
        "Ad sales boost Time Warner profit\n\nQuarterly profits jumped 76%.\n\nThe firm gained.\n"
    )

    assert record["title"] == "Ad sales boost Time Warner profit"
    assert record["paragraphs"] == ["Quarterly profits jumped 76%.", "The firm gained."]
    assert record["caption"] is None
    assert record["related"] == []
    assert record["quarantine_reason"] is None


def test_reuters_layout_joins_hard_wrapped_lines() -> None:
    record = _parse_one(REUTERS_LIKE)

    assert record["title"] == "AMOCO <AN> UNIT EXPANDS CARPET YARN PLANT"
    assert record["paragraphs"] == [
        "CHICAGO, March 26 - Amoco Corp said its Amoco Fabrics Co will expand the capacity of its "
        "polypropylene carpet face yarn facility by 55 pct.",
        "It said the expansion of the plant in Andalusia, Ala., will bring Amoco's total face yarn capacity "
        "to nearly 140 mln pounds a year.",
    ]


def test_wire_paragraphs_marked_by_indentation_only() -> None:
    record = _parse_one(
        "TITLE\n\n    LONDON, March 3 - The first paragraph of the story wraps at about sixty\n"
        "columns and continues here.\n    The second paragraph is indented like the first one and it\n"
        "wraps as well."
    )

    assert record["paragraphs"] == [
        "LONDON, March 3 - The first paragraph of the story wraps at about sixty columns and continues here.",
        "The second paragraph is indented like the first one and it wraps as well.",
    ]


def test_seed_layout() -> None:
    record = _parse_one(SEED_LIKE)

    assert record["title"] == "Leaders express ‘profound concern’ over ties"
    assert record["caption"] is not None
    assert record["caption"].startswith("(L-R) Leaders watch")
    assert record["caption"].endswith("Agence France-Presse")
    assert record["related"] == [
        "Alliance boosts air defenses as doubts cloud summit",
        "Xi to world powers: Help ‘resume direct dialogue’",
    ]
    assert record["paragraphs"] == [
        "WASHINGTON — Leaders on Wednesday said the ties are a cause of “deep concern”.",
        "The alliance urged an end to support.",
        "“This includes the transfer of dual-use materials,” the declaration said.",
        "The statement came before the summit.",
    ]


@pytest.mark.parametrize(
    "repeat",
    [
        "Leaders express 'profound concern' over ties",
        "LEADERS EXPRESS ‘PROFOUND CONCERN’ OVER TIES",
        "Leaders express profound concern over ties.",
        "Leaders express “profound concern” — over ties",
    ],
)
def test_repeated_headline_is_dropped(repeat: str) -> None:
    record = _parse_one(f"Leaders express ‘profound concern’ over ties\n\n{repeat}\n\nThe body.")

    assert record["paragraphs"] == ["The body."]


def test_a_subtitle_that_is_not_the_headline_is_kept() -> None:
    record = _parse_one(
        "Leaders express concern\n\nLeaders express concern over China-Russia ties\n\nThe body."
    )

    assert record["paragraphs"] == ["Leaders express concern over China-Russia ties", "The body."]


@pytest.mark.parametrize(
    ("line", "headline"),
    [
        ("READ: Alliance boosts air defenses", "Alliance boosts air defenses"),
        ("READ MORE: Alliance boosts air defenses", "Alliance boosts air defenses"),
        ("Read more: Alliance boosts air defenses", "Alliance boosts air defenses"),
        ("Related: Alliance boosts air defenses", "Alliance boosts air defenses"),
        ("ALSO READ: Alliance boosts air defenses", "Alliance boosts air defenses"),
        ("SEE ALSO: Alliance boosts air defenses", "Alliance boosts air defenses"),
        ("Related story | Alliance boosts air defenses", "Alliance boosts air defenses"),
    ],
)
def test_related_story_lines_become_related(line: str, headline: str) -> None:
    record = _parse_one(f"Headline\n\nFirst paragraph.\n\n{line}\n\nLast paragraph.")

    assert record["related"] == [headline]
    assert record["paragraphs"] == ["First paragraph.", "Last paragraph."]


@pytest.mark.parametrize(
    "trailer",
    [
        "Read more...",
        "Read more",
        "Read more…",
        "Continue reading...",
        "Click here to subscribe to our newsletter.",
        "Follow us on Twitter and Facebook",
        "(Reporting by Jane Doe; Editing by John Smith)",
        "Reporting by Jane Doe; Editing by John Smith",
        "Reuter",
        "© 2024 Example News. All rights reserved.",
    ],
)
def test_trailers_are_dropped(trailer: str) -> None:
    record = _parse_one(f"Headline\n\nFirst paragraph.\n\nLast paragraph.\n\n{trailer}\n")

    assert record["paragraphs"] == ["First paragraph.", "Last paragraph."]
    assert record["related"] == []


def test_reporting_credit_at_the_end_of_the_last_paragraph_is_dropped() -> None:
    record = _parse_one(
        "Headline\n\nFirst.\n\nThe index rose 2 pct. (Reporting by Jane Doe; Editing by Jo Bloggs)"
    )

    assert record["paragraphs"] == ["First.", "The index rose 2 pct."]


@pytest.mark.parametrize(
    "text",
    [
        "Headline here\r\n\r\nFirst paragraph.\r\n\r\nSecond paragraph.\r\n",
        "\n\n   \nHeadline here\n\nFirst paragraph.\n\nSecond paragraph.",
        "Headline here\nFirst paragraph.\n\nSecond paragraph.",
        "Title: Headline here\n\nFirst paragraph.\n\nSecond paragraph.",
        "Headline: Headline here\nFirst paragraph.\nSecond paragraph.",
        "\ufeffHeadline here\n\nFirst paragraph.\n\nSecond paragraph.",
    ],
    ids=["crlf", "leading-blank-lines", "single-newline", "title-label", "headline-label", "bom-char"],
)
def test_layout_variants(text: str) -> None:
    record = _parse_one(text)

    assert record["title"] == "Headline here"
    assert record["paragraphs"] == ["First paragraph.", "Second paragraph."]


def test_metadata_header_lines() -> None:
    record = _parse_one(
        "Headline here\nBy Jane Doe and John Smith\nPublished: 2024-07-10 14:00\nSource: Example News\n"
        "URL: https://example.com/story\n\nFirst paragraph.\n\nSecond paragraph."
    )

    assert record["title"] == "Headline here"
    assert record["byline"] == "Jane Doe and John Smith"
    assert record["published_at"] == datetime(2024, 7, 10, 14, 0)
    assert record["published_at_source"] == "text"
    assert record["source_hint"] == "Example News"
    assert record["canonical_url"] == "https://example.com/story"
    assert record["paragraphs"] == ["First paragraph.", "Second paragraph."]


def test_labelled_header_before_a_title_label() -> None:
    record = _parse_one("Date: 10 July 2024\nTitle: Headline here\nAuthor: Jane Doe\n\nBody.")

    assert (record["title"], record["byline"]) == ("Headline here", "Jane Doe")
    assert record["published_at"] == datetime(2024, 7, 10)
    assert record["paragraphs"] == ["Body."]


@pytest.mark.parametrize(
    "body_line",
    [
        "By the end of the year, prices had risen sharply.",
        "By Monday, the market had recovered.",
        "Source: officials familiar with the talks said the plan, which has not been made public, would be "
        "announced next week after months of negotiation.",
        "Date: to be confirmed, officials said.",
    ],
)
def test_header_look_alikes_in_the_body_are_kept(body_line: str) -> None:
    record = _parse_one(f"Headline here\n\n{body_line}\n\nMore text.")

    assert record["paragraphs"] == [body_line, "More text."]
    assert record["byline"] is None
    assert record["published_at"] is None


def test_header_lines_after_the_body_starts_are_body() -> None:
    record = _parse_one("Headline here\n\nFirst paragraph.\n\nBy Jane Doe\n\nLast paragraph.")

    assert record["byline"] is None
    assert record["paragraphs"] == ["First paragraph.", "By Jane Doe", "Last paragraph."]


@pytest.mark.parametrize(
    ("first_paragraph", "is_caption"),
    [
        ("A man walks past a shop in London on Monday. Photo by Jane Doe/Getty Images", True),
        ("Police officers stand guard outside the court. REUTERS/Jane Doe", True),
        ("President Joe Biden speaks in the Rose Garden. (AP Photo/Evan Vucci)", True),
        ("Shares rose after the results, according to a Reuters/Ipsos poll", False),
        ("Protesters march in Paris on Saturday. (AFP)", True),
        ("Photo: Protesters march in Paris on Saturday.", True),
        (
            "President Yoon Suk Yeol speaks in Seoul. (Photo: The Presidential Office/Handout via REUTERS)",
            True,
        ),
        ("The company declined to comment when contacted by Reuters.", False),
        ("PARIS (AFP) - Protesters marched on Saturday, AFP reporters saw. AFP", False),
    ],
)
def test_caption_is_the_credited_paragraph_before_the_story(first_paragraph: str, is_caption: bool) -> None:
    record = _parse_one(f"Headline\n\n{first_paragraph}\n\nThe story starts here.")

    assert (record["caption"] == first_paragraph) is is_caption
    assert (first_paragraph in record["paragraphs"]) is not is_caption


def test_an_editorial_note_before_the_dateline_is_neither_caption_nor_body() -> None:
    note = "(Corrects paragraph 2 to show Catherine Mann, not Dave Ramsden, voted for a cut)"
    record = _parse_one(f"Headline\n\n{note}\n\nLONDON, Feb 26 (Reuters) - The bank held rates.\n\nMore.")

    assert record["caption"] is None
    assert record["paragraphs"] == ["LONDON, Feb 26 (Reuters) - The bank held rates.", "More."]


def test_a_credit_line_alone_is_not_taken_as_caption() -> None:
    record = _parse_one("Headline\n\nProtesters march in Paris on Saturday. (AFP)")

    assert record["caption"] is None
    assert record["paragraphs"] == ["Protesters march in Paris on Saturday. (AFP)"]


def test_list_items_are_paragraphs() -> None:
    record = _parse_one(
        "Headline\n\nThe plan includes\n\n - lower taxes for small firms \n - more money for schools \n"
        "\nThe end."
    )

    assert record["paragraphs"] == [
        "The plan includes",
        "- lower taxes for small firms",
        "- more money for schools",
        "The end.",
    ]


def test_a_wrapped_line_starting_with_a_dash_is_not_a_list_item() -> None:
    record = _parse_one(
        "HEADLINE\n\nPrices quickly fell by a full point, even though the dollar\n- the market's concern of "
        "late - rose sharply on the\nnews.\n\nSecond paragraph."
    )

    assert record["paragraphs"][0] == (
        "Prices quickly fell by a full point, even though the dollar - the market's concern of late - rose "
        "sharply on the news."
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Just a headline\n\n", "headline with no body"),
        ("Just a headline\n\nRead more...\n", "headline with no body"),
        ("Title: Just a headline\nBy: Jane Doe\n", "headline with no body"),
    ],
)
def test_headline_without_body_is_quarantined(text: str, reason: str) -> None:
    assert _parse_one(text)["quarantine_reason"] == reason


def test_missing_text_keeps_the_decode_reason_or_gets_one() -> None:
    parsed = parse_text_records(_records(None, None, reasons=["empty file", None]))

    assert parsed["quarantine_reason"].to_list() == ["empty file", "no text to parse"]
    assert parsed["paragraphs"].to_list() == [[], []]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-07-10 14:00", datetime(2024, 7, 10, 14, 0)),
        ("2024-07-10T14:00:00+02:00", datetime(2024, 7, 10, 12, 0)),
        ("2024-07-10T14:00:00Z", datetime(2024, 7, 10, 14, 0)),
        ("Wed, 10 Jul 2024 14:00:00 -0500", datetime(2024, 7, 10, 19, 0)),
        ("Wednesday, July 10, 2024 at 2:00 p.m.", datetime(2024, 7, 10, 14, 0)),
        ("10 July 2024", datetime(2024, 7, 10)),
        ("14 March 2025, 09:30 GMT", datetime(2025, 3, 14, 9, 30)),
        ("Fri 14 Mar 2025 09.30 GMT", datetime(2025, 3, 14, 9, 30)),
        ("Mar 14, 2025, 9:30 a.m. ET", datetime(2025, 3, 14, 13, 30)),
        ("Jan 15, 2025, 9:30 a.m. ET", datetime(2025, 1, 15, 14, 30)),
        ("10 July 2024 14:00 BST", datetime(2024, 7, 10, 13, 0)),
        ("14/03/2025 09:30", datetime(2025, 3, 14, 9, 30)),
        ("18.03.2025, 16:55", datetime(2025, 3, 18, 16, 55)),
        ("sometime soon 2", None),
    ],
)
def test_header_datetimes(value: str, expected: datetime | None) -> None:
    parsed = parse_header_datetimes(pl.Series("value", [None, value], dtype=pl.String))

    assert parsed.to_list() == [None, expected]


@pytest.mark.corpus
def test_seed_article(corpus_dir: Path) -> None:
    text, _, _ = decode_bytes((corpus_dir / "seed" / "000_9135530c8063760a.txt").read_bytes())
    assert text is not None

    record = _parse_one(text)

    assert record["title"] == "Nato leaders express ‘profound concern’ over China-Russia ties"
    assert record["caption"].endswith("Agence France-Presse")
    assert record["paragraphs"][0].startswith("WASHINGTON — Nato leaders on Wednesday said")
    assert record["related"] == [
        "NATO boosts Ukraine air defenses as doubts over Biden cloud summit",
        "Xi to world powers: Help Russia, Ukraine ‘resume direct dialogue’",
    ]
    assert not any(paragraph.startswith(("READ", "Read more")) for paragraph in record["paragraphs"])
    assert len(record["paragraphs"]) == 10
    assert record["quarantine_reason"] is None


@pytest.mark.corpus
def test_reuters_titles_and_paragraphs(corpus_dir: Path) -> None:
    folder = corpus_dir / "reuters_dev"
    gold = [json.loads(line) for line in (folder / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = [(folder / "files" / entry["path"]).read_text(encoding="utf-8") for entry in gold]

    parsed = parse_text_records(_records(*texts))

    assert len(gold) == 3390
    assert parsed["title"].to_list() == [entry["title"] for entry in gold]
    assert parsed["quarantine_reason"].null_count() == len(gold)
    blocks = [re.split(r"\n\s*\n", text.strip())[1:] for text in texts]
    note = re.compile(EDITORIAL_NOTE_RE.replace("(?i:", "(?:"), re.I)
    blank_line_blocks = [sum(not note.match(" ".join(block.split())) for block in found) for found in blocks]
    paragraph_counts = parsed["paragraphs"].list.len().to_list()
    same_count = sum(
        count == blocks for count, blocks in zip(paragraph_counts, blank_line_blocks, strict=True)
    )
    assert same_count / len(gold) >= 0.995
    assert all(count >= blocks for count, blocks in zip(paragraph_counts, blank_line_blocks, strict=True))
    story_lines = [
        [
            line
            for block in found
            if not note.match(" ".join(block.split()))
            for line in block.splitlines()
            if not note.match(line.strip())
        ]
        for found in blocks
    ]
    bodies = [re.sub(r" REUTER$", "", " ".join(" ".join(lines).split())) for lines in story_lines]
    assert [" ".join(" ".join(paragraphs).split()) for paragraphs in parsed["paragraphs"].to_list()] == bodies
    assert parsed["caption"].null_count() == len(gold)
    assert parsed["related"].list.len().sum() == 0


@pytest.mark.corpus
def test_bbc_titles_are_line_one_and_nothing_is_lost(corpus_dir: Path) -> None:
    paths = sorted((corpus_dir / "bbc_news_fulltext").glob("*/*.txt"))
    texts = [decode_bytes(path.read_bytes())[0] for path in paths]

    parsed = parse_text_records(_records(*texts))

    assert parsed["title"].to_list() == [text.split("\n", 1)[0].strip() for text in texts if text]
    assert parsed["quarantine_reason"].null_count() == len(paths)
    blank_line_blocks = [len(re.split(r"\n\s*\n", text.strip())) - 1 for text in texts if text]
    assert all(
        paragraphs >= blocks
        for paragraphs, blocks in zip(
            parsed["paragraphs"].list.len().to_list(), blank_line_blocks, strict=True
        )
    )
    assert parsed["caption"].null_count() == len(paths)


def test_a_wrapped_line_reading_reuters_is_prose_but_a_final_sign_off_is_dropped() -> None:
    record = _parse_one(
        "TAIWAN TO ISSUE SAVINGS BONDS\n\nTAIPEI, March 27 - Taiwan's Central Bank will issue bonds, a bank\n"
        "spokesman told\nReuters. He said the new bonds carry interest rates of about five\npct, the "
        "spokesman said.\n\nThe bank issued 20 billion dlrs of similar bonds last month. REUTER\n\nReuter\n"
    )

    assert record["paragraphs"] == [
        "TAIPEI, March 27 - Taiwan's Central Bank will issue bonds, a bank spokesman told Reuters. He said "
        "the new bonds carry interest rates of about five pct, the spokesman said.",
        "The bank issued 20 billion dlrs of similar bonds last month.",
    ]


def test_yaml_front_matter_is_a_header_not_a_headline() -> None:
    record = _parse_one(
        "---\ntitle: Floods hit Valencia\nauthor: Ana Ruiz\ndate: 2024-10-30\n---\n\n"
        "VALENCIA, Spain (Reuters) - Flash floods killed dozens of people.\n\nRescue teams searched.\n"
    )
    assert (record["title"], record["byline"]) == ("Floods hit Valencia", "Ana Ruiz")
    assert record["paragraphs"] == [
        "VALENCIA, Spain (Reuters) - Flash floods killed dozens of people.",
        "Rescue teams searched.",
    ]


def test_markdown_headline_byline_image_and_date_lines() -> None:
    record = _parse_one(
        "# NASA delays Artemis landing\n\n**By Joey Roulette**\n\n*Updated December 6, 2024*\n\n"
        "![crew](a.jpg)\n\n"
        "HOUSTON — NASA on Thursday delayed its crewed Moon landing to 2027, officials said.\n\n"
        "More text here.\n"
    )
    assert (record["title"], record["byline"], record["caption"]) == (
        "NASA delays Artemis landing",
        "Joey Roulette",
        None,
    )
    assert record["paragraphs"][0].startswith("HOUSTON — NASA")
