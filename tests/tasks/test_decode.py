from __future__ import annotations

import codecs
import csv
from pathlib import Path

import polars as pl
import pytest

from tasks import decode
from tasks.decode import decode_bytes, decode_frame

WESTERN_TEXT = "Prices rose to £100 for the “café” crowd – naïve résumé."
HUNGARIAN_TEXT = (
    "A miniszterelnök szerdán kijelentette, hogy a kormány előterjesztése szerint a gazdasági növekedés "
    "üteme lassul. Az ügyről a hétfői ülésen döntenek, közölte a szóvivő."
)
RUSSIAN_TEXT = "Премьер-министр заявил в среду, что экономика сталкивается с серьезными проблемами."
GREEK_TEXT = "Ο πρωθυπουργός δήλωσε την Τετάρτη ότι η οικονομία αντιμετωπίζει μεγάλες προκλήσεις."


def _raw_frame(*raws: bytes | None, reasons: list[str | None] | None = None) -> pl.DataFrame:
    return pl.DataFrame(
        {"raw": list(raws), "quarantine_reason": reasons or [None] * len(raws)},
        schema={"raw": pl.Binary(), "quarantine_reason": pl.String()},
    )


@pytest.mark.parametrize(
    ("raw", "expected_text", "expected_encoding"),
    [
        (WESTERN_TEXT.encode("utf-8"), WESTERN_TEXT, "utf-8"),
        (codecs.BOM_UTF8 + WESTERN_TEXT.encode("utf-8"), WESTERN_TEXT, "utf-8-sig"),
        (codecs.BOM_UTF16_LE + WESTERN_TEXT.encode("utf-16-le"), WESTERN_TEXT, "utf-16-le"),
        (codecs.BOM_UTF16_BE + WESTERN_TEXT.encode("utf-16-be"), WESTERN_TEXT, "utf-16-be"),
        (codecs.BOM_UTF32_LE + WESTERN_TEXT.encode("utf-32-le"), WESTERN_TEXT, "utf-32-le"),
        (codecs.BOM_UTF32_BE + WESTERN_TEXT.encode("utf-32-be"), WESTERN_TEXT, "utf-32-be"),
        (WESTERN_TEXT.encode("utf-16-le"), WESTERN_TEXT, "utf-16-le"),
        (WESTERN_TEXT.encode("utf-16-be"), WESTERN_TEXT, "utf-16-be"),
        (WESTERN_TEXT.encode("cp1252"), WESTERN_TEXT, "cp1252"),
        (b"The fee was \xa315m.", "The fee was £15m.", "cp1252"),
        ("Müller sagt: Grüße aus Köln.".encode("latin-1"), "Müller sagt: Grüße aus Köln.", "cp1252"),
        (HUNGARIAN_TEXT.encode("cp1250"), HUNGARIAN_TEXT, "cp1250"),
        (RUSSIAN_TEXT.encode("cp1251"), RUSSIAN_TEXT, "cp1251"),
        (GREEK_TEXT.encode("iso8859-7"), GREEK_TEXT, None),
    ],
    ids=[
        "utf-8",
        "utf-8-bom",
        "utf-16-le-bom",
        "utf-16-be-bom",
        "utf-32-le-bom",
        "utf-32-be-bom",
        "utf-16-le-no-bom",
        "utf-16-be-no-bom",
        "cp1252",
        "raw-pound-byte",
        "latin-1",
        "cp1250-hungarian",
        "cp1251-russian",
        "iso8859-7-greek",
    ],
)
def test_decodes_each_encoding_without_replacement_characters(
    raw: bytes, expected_text: str, expected_encoding: str | None
) -> None:
    text, encoding, reason = decode_bytes(raw)

    assert reason is None
    assert text == expected_text
    assert "\ufffd" not in text
    if expected_encoding is not None:
        assert encoding == expected_encoding


def test_greek_is_decoded_with_a_greek_code_page() -> None:
    _, encoding, _ = decode_bytes(GREEK_TEXT.encode("iso8859-7"))

    assert encoding in {"iso8859-7", "cp1253"}


@pytest.mark.parametrize(
    ("mojibake", "repaired"),
    [
        ("It’s a Café story", "It’s a Café story"),
        ("The fee was £15m", "The fee was £15m"),
    ],
)
def test_repairs_mojibake(mojibake: str, repaired: str) -> None:
    broken = mojibake.encode("utf-8").decode("cp1252").encode("utf-8")

    text, encoding, reason = decode_bytes(broken)

    assert (text, encoding, reason) == (repaired, "utf-8", None)


@pytest.mark.parametrize(
    "legitimate",
    ["SÃO PAULO, April 7 - Brazil's coffee exports rose.", "ÃO is how the tilde looks in capitals."],
)
def test_text_with_a_legitimate_a_tilde_is_left_alone(legitimate: str) -> None:
    assert decode_bytes(legitimate.encode("utf-8"))[0] == legitimate


def test_ftfy_is_not_called_on_clean_text(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(text: str) -> str:
        raise AssertionError("ftfy called on clean text")

    monkeypatch.setattr(decode, "_repair_mojibake", fail)

    assert decode_bytes("naïve café for £5 — “quoted”".encode())[0] == "naïve café for £5 — “quoted”"


def test_utf8_frames_do_not_call_charset_normalizer(monkeypatch: pytest.MonkeyPatch) -> None:
    import charset_normalizer

    def fail(*args: object, **kwargs: object) -> object:
        raise AssertionError("charset-normalizer called for UTF-8")

    monkeypatch.setattr(charset_normalizer, "from_bytes", fail)

    decoded = decode_frame(_raw_frame(b"plain ASCII", "UTF-8 £".encode(), codecs.BOM_UTF8 + b"bom"))

    assert decoded["text"].to_list() == ["plain ASCII", "UTF-8 £", "bom"]


@pytest.mark.parametrize(
    ("raw", "reason_start"),
    [
        (None, "file could not be read"),
        (b"", "empty file"),
        (b" \r\n\t \n", "whitespace-only file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary content: PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "binary content: JPEG image"),
        (b"GIF89a\x01\x00\x01\x00", "binary content: GIF image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", "binary content: PDF document"),
        (b"PK\x03\x04\x14\x00\x00\x00", "binary content: ZIP archive"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "binary content: GZIP archive"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "binary content: 7z archive"),
        (b"Rar!\x1a\x07\x01\x00", "binary content: RAR archive"),
        (b"\x7fELF\x02\x01\x01\x00", "binary content: ELF executable"),
        (b"some text\x00\x01\x02 with NUL bytes \x00\xff", "binary content: NUL bytes"),
        (bytes(range(0x80, 0x100)) * 4, "undecodable bytes"),
        (codecs.BOM_UTF16_LE + b"\x00\xd8", "undecodable bytes"),
    ],
    ids=[
        "null",
        "empty",
        "whitespace",
        "png",
        "jpeg",
        "gif",
        "pdf",
        "zip",
        "gzip",
        "7z",
        "rar",
        "elf",
        "nul",
        "undecodable",
        "bad-utf-16",
    ],
)
def test_quarantines_non_text_with_a_plain_reason(raw: bytes | None, reason_start: str) -> None:
    text, encoding, reason = decode_bytes(raw)

    assert text is None
    assert encoding is None
    assert reason is not None
    assert reason.startswith(reason_start)


def test_decode_frame_adds_text_and_encoding_and_keeps_existing_reasons() -> None:
    frame = _raw_frame(
        "Headline\n\nBody £".encode(),
        b"\xa3100",
        b"",
        None,
        reasons=[None, None, None, "file too large"],
    )

    decoded = decode_frame(frame)

    assert decoded.schema["text"] == pl.String()
    assert decoded.schema["encoding"] == pl.String()
    assert decoded["text"].to_list() == ["Headline\n\nBody £", "£100", None, None]
    assert decoded["encoding"].to_list() == ["utf-8", "cp1252", None, None]
    assert decoded["quarantine_reason"].to_list() == [None, None, "empty file", "file too large"]


@pytest.mark.corpus
def test_bbc_corpus_decodes_without_replacement_characters(corpus_dir: Path) -> None:
    paths = sorted((corpus_dir / "bbc_news_fulltext").glob("*/*.txt"))
    decoded = decode_frame(_raw_frame(*(path.read_bytes() for path in paths)))

    assert len(paths) == 2225
    assert decoded["quarantine_reason"].null_count() == len(paths)
    assert not decoded["text"].str.contains("\ufffd").any()
    latin_1_index = [path.relative_to(corpus_dir / "bbc_news_fulltext").as_posix() for path in paths].index(
        "sport/199.txt"
    )
    assert decoded["encoding"][latin_1_index] == "cp1252"
    assert "£" in decoded["text"][latin_1_index]


@pytest.mark.corpus
def test_legacy_encoded_feeds_decode_to_their_known_encoding(corpus_dir: Path) -> None:
    folder = corpus_dir / "news_feeds" / "chardet_encodings"
    with (folder / "manifest.csv").open(encoding="utf-8") as handle:
        manifest = list(csv.DictReader(handle))

    for entry in manifest:
        raw = (folder / entry["file"]).read_bytes()
        text, _, reason = decode_bytes(raw)
        assert reason is None, entry["file"]
        assert text == raw.decode(entry["encoding"]), entry["file"]


@pytest.mark.corpus
def test_latin_1_feed_without_declaration_decodes_as_western(corpus_dir: Path) -> None:
    raw = (corpus_dir / "news_feeds" / "rss_parser" / "input" / "uolNoticias.rss").read_bytes()

    text, encoding, _ = decode_bytes(raw)

    assert encoding == "cp1252"
    assert text is not None
    assert "Últimas Notícias" in text
