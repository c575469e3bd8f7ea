"""Bytes to text: Unicode signatures, UTF-8, legacy code pages, mojibake repair and quarantine of non-text.

The common case, a valid UTF-8 file, costs one ``bytes.decode`` and two regex scans; charset-normalizer and
ftfy only run for the files that need them.
"""

from __future__ import annotations

import codecs
import re

import polars as pl

Decoded = tuple[str | None, str | None, str | None]
"""``(text, encoding_name, quarantine_reason)``: text and encoding, or a reason and no text."""

_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive (or an Office/OpenDocument file)"),
    (b"PK\x05\x06", "ZIP archive"),
    (b"PK\x07\x08", "ZIP archive"),
    (b"\x1f\x8b", "GZIP archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\xfd7zXZ\x00", "XZ archive"),
    (b"\x28\xb5\x2f\xfd", "Zstandard archive"),
    (b"\x7fELF", "ELF executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Office document"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"OggS", "Ogg media"),
    (b"ID3", "MP3 audio"),
    (b"\x00asm", "WebAssembly binary"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\xca\xfe\xba\xbe", "Java class or Mach-O binary"),
    (b"\xcf\xfa\xed\xfe", "Mach-O binary"),
)
_BINARY_PREFIXES = tuple(signature for signature, _ in _BINARY_SIGNATURES)
_BZIP2_RE = re.compile(rb"BZh[1-9]1AY&SY")
_RIFF_RE = re.compile(rb"RIFF....(WEBP|WAVE|AVI )", re.DOTALL)
_ISO_MEDIA_RE = re.compile(rb"....ftyp", re.DOTALL)

_UNICODE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_LEGACY_ENCODINGS = [
    "cp1252", "latin_1", "iso8859_15",
    "cp1250", "iso8859_2", "iso8859_16",
    "cp1251", "koi8_r", "koi8_u", "iso8859_5", "cp866",
    "cp1253", "iso8859_7",
    "cp1254", "iso8859_9",
    "cp1255", "iso8859_8",
    "cp1256", "iso8859_6",
    "cp1257", "iso8859_13", "iso8859_4",
    "cp1258", "cp874", "tis_620",
    "gb2312", "gbk", "gb18030", "big5", "cp950",
    "shift_jis", "cp932", "euc_jp", "iso2022_jp",
    "euc_kr", "cp949",
]  # fmt: skip
"""Code pages news files are written in; DOS, Mac, EBCDIC and UTF-7 guesses are ruled out."""

_WESTERN_EQUIVALENT = {"cp1252", "latin_1", "iso8859_15", "ascii"}
_LATIN_CODE_PAGE_LANGUAGES: dict[str, frozenset[str]] = {
    "cp1250": frozenset({"hu", "cs", "sk", "pl", "sl", "hr", "bs", "sr", "ro", "sq"}),
    "iso8859_2": frozenset({"hu", "cs", "sk", "pl", "sl", "hr", "bs", "sr", "ro", "sq"}),
    "iso8859_16": frozenset({"ro", "hu", "pl", "sl", "hr", "sq"}),
    "cp1254": frozenset({"tr", "az", "ku"}),
    "iso8859_9": frozenset({"tr", "az", "ku"}),
    "cp1257": frozenset({"lt", "lv", "et"}),
    "iso8859_13": frozenset({"lt", "lv", "et"}),
    "iso8859_4": frozenset({"lt", "lv", "et"}),
    "cp1258": frozenset({"vi"}),
}
"""Latin code pages sharing most letters with cp1252: honoured only when the text's language fits."""

_NON_LATIN_MIN_LETTERS = 5
_WIDE_ZERO_SHARE = 0.6
_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_CONTROL_SHARE_LIMIT = 0.01
_MOJIBAKE_RE = re.compile("[ÂÃÄÅÐÑ][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]|â€|â„¢|ï»¿")
_MOJIBAKE_LEADS = "ÂÃÄÅÐÑâï"
_FFFD = "\ufffd"
_MARKUP_RE = re.compile(r"<[^>]*>|https?://\S+")
_LANGUAGE_SAMPLE_CHARS = 5000


def decode_bytes(raw: bytes | None) -> Decoded:
    """Decodes one file's bytes to text, or says in plain words why it is not text.

    Order of trust: a Unicode signature (BOM), then strict UTF-8, then BOM-less UTF-16/32, then a legacy
    code page. For legacy bytes cp1252 is preferred whenever it decodes and no other code page has real
    evidence for it (a script other than Latin, or a Central European, Turkish, Baltic or Vietnamese text).
    Mojibake (UTF-8 read as cp1252 somewhere upstream) is repaired with ftfy only when a cheap pre-check finds
    its tell-tale sequences. Text is never decoded with replacement characters.

    Args:
        raw: The file's content; None when the file could not be read.

    Returns:
        ``(text, encoding_name, None)`` on success, ``(None, None, reason)`` when the file must be
        quarantined. Encoding names are Python codec names such as ``utf-8``, ``utf-16-le`` or ``cp1252``.
    """
    if raw is None:
        return None, None, "file could not be read"
    if not raw:
        return None, None, "empty file"
    if raw.startswith(_BINARY_PREFIXES):
        return None, None, f"binary content: {_binary_kind(raw)}"
    if _BZIP2_RE.match(raw) or _RIFF_RE.match(raw) or _ISO_MEDIA_RE.match(raw):
        return None, None, "binary content: archive or media file"

    text: str | None = None
    encoding: str | None = None
    for signature, codec in _UNICODE_SIGNATURES:
        if raw.startswith(signature):
            text = _strict_decode(raw[len(signature) :], "utf-8" if codec == "utf-8-sig" else codec)
            if text is None:
                return None, None, f"undecodable bytes: {codec} signature but invalid {codec}"
            encoding = codec
            break
    else:
        if b"\x00" in raw:
            text, encoding = _decode_bomless_wide(raw)
            if text is None:
                return None, None, "binary content: NUL bytes in a file that is not UTF-16 or UTF-32"
        else:
            text = _strict_decode(raw, "utf-8")
            if text is not None:
                encoding = "utf-8"
            else:
                text, encoding = _decode_legacy(raw)
                if text is None:
                    return None, None, "undecodable bytes: not UTF-8 and no known legacy encoding fits"

    if not text.strip():
        return None, None, "whitespace-only file"
    if _is_mostly_control(text):
        return None, None, "binary content: control characters in the decoded text"
    if _looks_like_mojibake(text):
        text = _repair_mojibake(text)
    return text, encoding, None


def decode_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Adds decoded ``text`` and ``encoding`` to fetched files.

    Args:
        frame: Fetched files with at least ``raw`` (Binary, may be NULL) and ``quarantine_reason`` (String).

    Returns:
        ``frame`` plus ``text`` and ``encoding`` (String). ``quarantine_reason`` is set where decoding failed;
        a reason that was already there is kept, and such rows get no text.
    """
    existing_reasons = frame.get_column("quarantine_reason").to_list()
    texts: list[str | None] = []
    encodings: list[str | None] = []
    reasons: list[str | None] = []
    for raw, existing_reason in zip(frame.get_column("raw").to_list(), existing_reasons, strict=True):
        if existing_reason is not None:
            texts.append(None)
            encodings.append(None)
            reasons.append(existing_reason)
            continue
        text, encoding, reason = decode_bytes(raw)
        texts.append(text)
        encodings.append(encoding)
        reasons.append(reason)
    return frame.with_columns(
        pl.Series("text", texts, dtype=pl.String),
        pl.Series("encoding", encodings, dtype=pl.String),
        pl.Series("quarantine_reason", reasons, dtype=pl.String),
    )


def _binary_kind(raw: bytes) -> str:
    return next(kind for signature, kind in _BINARY_SIGNATURES if raw.startswith(signature))


def _strict_decode(raw: bytes, codec: str) -> str | None:
    try:
        return raw.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _decode_bomless_wide(raw: bytes) -> tuple[str | None, str | None]:
    """UTF-16/UTF-32 without a signature, recognised by where the NUL bytes sit in mostly-Latin text."""
    sample = raw[:4096]
    for codec, width, zero_positions in (
        ("utf-32-le", 4, (1, 2, 3)),
        ("utf-32-be", 4, (0, 1, 2)),
        ("utf-16-le", 2, (1,)),
        ("utf-16-be", 2, (0,)),
    ):
        if len(raw) % width or len(sample) < width:
            continue
        unit_count = len(sample) // width
        zero_share = min(sample[position::width].count(0) for position in zero_positions) / unit_count
        if zero_share < _WIDE_ZERO_SHARE:
            continue
        text = _strict_decode(raw, codec)
        if text is not None and "\x00" not in text and not _is_mostly_control(text):
            return text, codec
    return None, None


def _decode_legacy(raw: bytes) -> tuple[str | None, str | None]:
    from charset_normalizer import from_bytes

    western = _strict_decode(raw, "cp1252")
    best = from_bytes(raw, cp_isolation=_LEGACY_ENCODINGS).best()
    if best is None:
        return (western, "cp1252") if western is not None else (None, None)
    best_text = str(best)
    best_encoding = best.encoding
    if western is None:
        return (None, None) if _FFFD in best_text else (best_text, _codec_name(best_encoding))
    if best_encoding in _WESTERN_EQUIVALENT or best_text == western:
        return western, "cp1252"
    if best_encoding in _LATIN_CODE_PAGE_LANGUAGES:
        if _language_of(best_text) in _LATIN_CODE_PAGE_LANGUAGES[best_encoding]:
            return best_text, _codec_name(best_encoding)
        return western, "cp1252"
    if _non_latin_letter_count(best_text) >= _NON_LATIN_MIN_LETTERS and _FFFD not in best_text:
        return best_text, _codec_name(best_encoding)
    return western, "cp1252"


def _non_latin_letter_count(text: str) -> int:
    return sum(1 for char in text if ord(char) >= 0x0370 and char.isalpha())


def _language_of(text: str) -> str:
    """The language of the lines that carry non-ASCII letters, markup and URLs left out."""
    from tasks.language import most_likely_language

    accented_lines = [line for line in text.splitlines() if not line.isascii()]
    sample = _MARKUP_RE.sub(" ", "\n".join(accented_lines))[:_LANGUAGE_SAMPLE_CHARS]
    return most_likely_language(sample)


def _codec_name(encoding: str) -> str:
    return codecs.lookup(encoding).name


def _is_mostly_control(text: str) -> bool:
    if _CONTROL_RE.search(text) is None:
        return False
    return len(_CONTROL_RE.findall(text)) > max(2, _CONTROL_SHARE_LIMIT * len(text))


def _looks_like_mojibake(text: str) -> bool:
    if text.isascii() or not any(lead in text for lead in _MOJIBAKE_LEADS):
        return False
    return _MOJIBAKE_RE.search(text) is not None


def _repair_mojibake(text: str) -> str:
    import ftfy

    return ftfy.fix_encoding(text)
