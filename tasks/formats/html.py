"""HTML pages: charset-honouring decoding, then trafilatura for the body and the page's metadata."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import lxml.html
import polars as pl
from lxml import etree
from trafilatura import bare_extraction

from tasks.clean import byline_names
from tasks.decode import decode_bytes
from tasks.formats.common import (
    Blob,
    Record,
    body_paragraphs,
    clean_text,
    iso639_1,
    new_record,
    parse_datetime,
    quarantined,
)

_DECLARED = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.+-]+)|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_:.+-]+)""",
    re.I,
)
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>", re.I)
_WHATWG_SUPERSETS = {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252", "iso8859-9": "cp1254"}
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def declared_charset(raw: bytes) -> str | None:
    """The Python codec named by the page's ``<meta charset>`` / ``http-equiv`` / XML declaration, or None."""
    match = _DECLARED.search(raw[:8192])
    if not match:
        return None
    label = (match.group(1) or match.group(2)).decode("ascii", errors="ignore")
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _WHATWG_SUPERSETS.get(name, name)


def decode_html(raw: bytes) -> tuple[str, str]:
    """The page as text and the encoding used: BOM, valid UTF-8, the declared charset, then a guess.

    A declared legacy charset loses to UTF-8 only when the bytes are valid UTF-8: with multi-byte sequences
    present that combination is a stale declaration, and honouring it would garble every accented letter.
    Pages that are neither UTF-8 nor decodable as declared go through ``tasks.decode.decode_bytes``.
    """
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return raw[len(bom) :].decode(encoding, errors="replace"), encoding
    declared = declared_charset(raw)
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if declared is not None and declared != "utf-8":
        try:
            return raw.decode(declared), declared
        except (UnicodeDecodeError, LookupError):
            pass
    decoded, codec, _ = decode_bytes(raw)
    if decoded is not None and codec is not None:
        return decoded, codec
    return raw.decode("cp1252", errors="replace"), "cp1252"


def _page_language(tree: Any) -> str | None:
    for xpath in (
        "/html/@lang",
        "/html/@xml:lang",
        "//meta[translate(@http-equiv,'CONTENT-LANGUAGE','content-language')='content-language']/@content",
        "//meta[@property='og:locale']/@content",
        "//meta[@name='language']/@content",
    ):
        try:
            values = tree.xpath(xpath, namespaces={"xml": "http://www.w3.org/XML/1998/namespace"})
        except etree.XPathError:
            continue
        for value in values:
            code = iso639_1(str(value))
            if code:
                return code
    return None


def _canonical(tree: Any) -> str | None:
    for xpath in ("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content"):
        for value in tree.xpath(xpath):
            href = str(value).strip()
            if href.startswith(("http://", "https://")):
                return href
    return None


MIN_BODY_WORDS = 10
"""Extracted text shorter than this is navigation or a stub, not an article."""

_TITLE_SEPARATORS = re.compile(r"\s+(?:\||-|–|—|·|•|::|/|»)\s+")
_WORDS = re.compile(r"\w+")


def _squash(text: str) -> str:
    return "".join(_WORDS.findall(text.lower()))


def _host_label(hostname: str | None) -> str:
    """The label naming the site in a host name, squashed: ``www.spiegel.de`` gives ``spiegel``."""
    labels = [label for label in (hostname or "").lower().split(".") if label not in ("www", "")]
    return _squash(labels[-2] if len(labels) >= 2 else "".join(labels))


def _is_site_name(segment: str, sitename: str | None, hostname: str | None) -> bool:
    squashed = _squash(segment)
    if not squashed:
        return False
    site = _squash(sitename or "")
    main_label = _host_label(hostname)
    return bool(
        (
            site
            and (
                squashed == site
                or (len(site) >= 4 and site in squashed)
                or (len(squashed) >= 4 and squashed in site)
            )
        )
        or (len(main_label) >= 3 and main_label in squashed)
    )


def _strip_site_name(title: str, sitename: str | None, hostname: str | None) -> str:
    if sitename:
        for separator in (" | ", " - ", " – ", " — ", " · ", " • "):
            if title.endswith(separator + sitename):
                return title[: -len(separator + sitename)].strip()
            if title.startswith(sitename + separator):
                return title[len(sitename + separator) :].strip()
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) > 1 and _is_site_name(parts[-1], sitename, hostname):
        return " - ".join(parts[:-1]) if len(parts) > 2 else parts[0]
    if len(parts) > 1 and _is_site_name(parts[0], sitename, hostname):
        return title[title.index(parts[1]) :]
    return title


def _overlap(left: str, right: str) -> float:
    a, b = set(_WORDS.findall(left.lower())), set(_WORDS.findall(right.lower()))
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def _extends(longer: str, shorter: str) -> bool:
    """Whether ``longer`` is ``shorter`` with words only before or after it (a kicker or a subtitle)."""
    outer, inner = _WORDS.findall(longer.lower()), _WORDS.findall(shorter.lower())
    return bool(inner) and (outer[: len(inner)] == inner or outer[-len(inner) :] == inner)


def headline(title: str | None, tree: Any, sitename: str | None, hostname: str | None) -> str | None:
    """The page's headline: trafilatura's title without the site name, or the ``<h1>`` that restates it.

    Publishers' ``og:title`` and ``<title>`` often differ from the visible headline (SEO variants, site-name
    suffixes); an ``<h1>`` that shares most words with them, or that the ``<title>`` contains, is the
    headline readers saw.
    """
    stripped = _strip_site_name(title, sitename, hostname) if title else None
    page_title = _squash(" ".join(tree.xpath("//title//text()")))
    best: tuple[float, str] | None = None
    for element in tree.iter("h1"):
        text = clean_text(" ".join(element.itertext()))
        if not text or not 3 <= len(text.split()) <= 40:
            continue
        if stripped and _extends(text, stripped):
            return stripped
        score = max(
            _overlap(text, stripped) if stripped else 0.0, 1.0 if _squash(text) in page_title else 0.0
        )
        if score >= 0.5 and (best is None or score > best[0]):
            best = (score, text)
    return best[1] if best else stripped


_PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "article.published",
    "publish-date",
    "publish_date",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
)
"""``<meta>`` names, properties and itemprops (lower case) whose content is the publication time."""
_ARTICLE_TYPE = re.compile(r"Article|Posting|Report|LiveBlog", re.I)
_JANUARY_FIRST = re.compile(
    r"\d{4}-01-01|\b0?1[./-]0?1[./-]\d{2,4}|\bJan(?:uary|\.)?\s+0?1(?:st)?\b|\b0?1(?:st|er|\.)?\s+(?:of\s+)?"
    r"(?:Jan(?:uary|vier)?|janvier|Januar|enero|gennaio|janeiro)\b",
    re.I,
)


def _json_ld_nodes(tree: Any) -> Iterator[dict[str, Any]]:
    for script in tree.xpath('//script[contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]'):
        try:
            data = json.loads(script.text or "")
        except (ValueError, TypeError):
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(reversed(node))
            elif isinstance(node, dict):
                yield node
                stack.extend(value for value in node.values() if isinstance(value, list | dict))


def declared_published_time(tree: Any) -> datetime | None:
    """The publication time the page declares for machines, to the second and in UTC.

    Looked for in schema.org JSON-LD (``datePublished`` of an article-like node first, then of any node),
    then in ``<meta>`` tags (``article:published_time`` and the like), then in ``<time>`` elements marked
    ``itemprop="datePublished"`` or ``pubdate``. htmldate, which trafilatura asks, returns the day alone.
    """
    nodes = list(_json_ld_nodes(tree))
    article_like = [n for n in nodes if _ARTICLE_TYPE.search(json.dumps(n.get("@type", "")))]
    for node in (*article_like, *nodes):
        published = parse_datetime(node.get("datePublished") or node.get("dateCreated"))
        if published is not None:
            return published
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        if key in _PUBLISHED_META:
            published = parse_datetime(meta.get("content"))
            if published is not None:
                return published
    for element in tree.xpath('//time[@datetime][@itemprop="datePublished" or @pubdate]'):
        published = parse_datetime(element.get("datetime"))
        if published is not None:
            return published
    return None


def _person_names(author: Any) -> str | None:
    if isinstance(author, str):
        return clean_text(author)
    if isinstance(author, dict):
        return _person_names(author.get("name"))
    if isinstance(author, list):
        names = [name for name in (_person_names(item) for item in author) if name]
        return "; ".join(dict.fromkeys(names)) or None
    return None


def json_ld_article(tree: Any) -> tuple[str | None, list[str], str | None]:
    """The headline, body paragraphs and authors of the page's schema.org article, read from its JSON-LD.

    Pages rendered by scripts carry their text only there (``articleBody``), where trafilatura finds nothing
    to extract. No paragraphs when no article-like node has a text ``articleBody``.
    """
    for node in _json_ld_nodes(tree):
        body = node.get("articleBody")
        if not isinstance(body, str) or not _ARTICLE_TYPE.search(json.dumps(node.get("@type", ""))):
            continue
        paragraphs = [p for p in (clean_text(line) for line in body_paragraphs(body)) if p]
        if paragraphs:
            title = node.get("headline") or node.get("name")
            return (
                clean_text(title if isinstance(title, str) else None),
                paragraphs,
                _person_names(node.get("author")),
            )
    return None, [], None


_BYLINE_START = re.compile(r"^\s*(?:By|BY|Par|PAR|Von|VON|Por|POR)\s")
_MAX_BYLINE_CHARS = 120


def byline_line(tree: Any) -> str | None:
    """The names of the page's first "By ..." line (also ``Par``, ``Von``, ``Por``), for pages whose
    metadata names no author: ``<div class="signature">Par Julien Moreau</div>``."""
    for element in tree.iter("div", "span", "p", "address", "font", "li", "small", "strong", "em", "b"):
        if not _BYLINE_START.match(element.text or ""):
            continue
        line = clean_text(" ".join(element.itertext()))
        if line and len(line) <= _MAX_BYLINE_CHARS:
            names = pl.select(byline_names(pl.lit(line))).item()
            if names:
                return str(names)
    return None


_CAPTION_PATHS = (
    "//article//figure//figcaption",
    "//main//figure//figcaption",
    '//figure[contains(@class, "lead") or contains(@class, "hero") or contains(@class, "main")'
    ' or contains(@class, "top")]//figcaption',
)
_MAX_CAPTION_CHARS = 600


def figure_caption(tree: Any) -> str | None:
    """The caption of the story's first figure (inside ``<article>`` or ``<main>``, or a lead figure), with
    its credit; None when the page has none. trafilatura leaves figures out of the body."""
    for path in _CAPTION_PATHS:
        for element in tree.xpath(path):
            caption = clean_text(" ".join(element.itertext()))
            if caption and len(caption) <= _MAX_CAPTION_CHARS:
                return caption
    return None


_MONTH_DAY_YEAR = re.compile(
    r"\b(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?"
    r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?\s+(\d{1,2}),\s+((?:19|20)\d\d)\b"
)


def _unless_year_only(found: datetime | None, text: str) -> datetime | None:
    """htmldate's date, unless it is a 1 January that the page never writes: a year alone (``© 2025``).

    In that case the page's first written date of that year (``Feb. 28, 2024``, AP's style, which htmldate
    reads as the year alone) is taken instead, if it has one.
    """
    if found is None or (found.month, found.day) != (1, 1) or _JANUARY_FIRST.search(text):
        return found
    for month, day, year in _MONTH_DAY_YEAR.findall(text):
        written = parse_datetime(f"{day} {month[:3]} {year}") if int(year) == found.year else None
        if written is not None:
            return written
    return None


def _published(declared: datetime | None, day: datetime | None) -> datetime | None:
    """The declared time when it falls on htmldate's day (or htmldate found none), else htmldate's day.

    htmldate weighs every date on the page, and its day agrees with the editors' more often than a
    ``datePublished`` does (which may be the first version's, or fall on the next day in UTC); the declared
    time adds the time of day.
    """
    if declared is None or (day is not None and declared.date() != day.date()):
        return day
    return declared


def _load_tree(text: str) -> Any:
    text = _XML_DECLARATION.sub("", text, count=1)
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return None


_DOMAIN_NAME = re.compile(
    r"\w[\w-]*(?:[ .](?:com|org|net|info|io|co|uk|de|fr|es|it|at|ch|nl|be|cl|ar|mx|br|au|ca|ru|pl|pt|se"
    r"|dk|fi|jp|news|tv))+",
    re.IGNORECASE,
)
_NOT_AN_AUTHOR = re.compile(
    r"\b(?:log(?:ged)? ?in|logged|sign(?:ed)? ?in|account|subscribe|newsletter)\b"
    r"|^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?$",
    re.IGNORECASE,
)
_AUTHOR_WEEKDAY = re.compile(r"\s+(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day$")
_AUTHOR_LEAD = re.compile(
    r"^(?:(?:analysis|opinion|commentary|review|text|words|reporting)\s+)?(?:by|par|von|por)\s+(?=\w)",
    re.IGNORECASE,
)


def _is_outlet(name: str, sitename: str | None, hostname: str | None) -> bool:
    """Whether an author entry names the site, except a person whose site bears their surname."""
    if not _is_site_name(name, sitename, hostname):
        return False
    words = name.split()
    personal = (
        len(words) >= 2
        and all(word[:1].isupper() and not word.isupper() for word in words)
        and _squash(words[-1]) == _host_label(hostname)
    )
    return not personal


def page_authors(author: str | None, sitename: str | None, hostname: str | None) -> str | None:
    """The page's authors without the outlet some sites list among them ("DER SPIEGEL; Jonas Berthold").

    A lead-in ("By", "Analysis by", "Par") and a trailing weekday go, and so do entries that are domain
    names ("Facebook Com"), page chrome ("Account You're logged in") or a month; the outlet goes unless it
    is the only name left, as agencies sign their own pages.
    """
    names = [
        _AUTHOR_WEEKDAY.sub("", _AUTHOR_LEAD.sub("", name.strip())) for name in (author or "").split(";")
    ]
    names = [
        name
        for name in names
        if name and not _DOMAIN_NAME.fullmatch(name) and not _NOT_AN_AUTHOR.search(name)
    ]
    people = [name for name in names if not _is_outlet(name, sitename, hostname)]
    return "; ".join(people or names) or None


def html_records(blob: Blob) -> list[Record]:
    """One record for an HTML page, or one quarantined record when it holds no extractable article."""
    text, _ = decode_html(blob.raw)
    tree = _load_tree(text)
    if tree is None or len(tree) == 0:
        return [quarantined(blob, "html", "HTML page could not be parsed")]
    language = _page_language(tree)
    canonical = _canonical(tree)
    declared = declared_published_time(tree)
    caption = figure_caption(tree)
    written_byline = byline_line(tree)
    try:
        document = bare_extraction(
            tree,
            url=canonical,
            include_comments=False,
            favor_precision=True,
            with_metadata=True,
        )
    except (ValueError, TypeError, etree.LxmlError) as error:
        return [quarantined(blob, "html", f"HTML extraction failed: {error}")]
    if document is None or isinstance(document, dict):
        return _json_ld_record(blob, tree, language, canonical, declared, caption) or [
            quarantined(blob, "html", "no extractable article in HTML page")
        ]
    paragraphs = [p for p in (clean_text(line) for line in (document.text or "").split("\n")) if p]
    title = headline(clean_text(document.title), tree, document.sitename, document.hostname)
    while paragraphs and title and _squash(paragraphs[0]) == _squash(title):
        paragraphs.pop(0)
    words = sum(len(p.split()) for p in paragraphs)
    if words < MIN_BODY_WORDS:
        from_json_ld = _json_ld_record(blob, tree, language, canonical, declared, caption)
        if from_json_ld:
            return from_json_ld
        reason = "no extractable article in HTML page"
        return [
            quarantined(
                blob,
                "html",
                reason if not words else f"{reason} (only {words} word{'s' if words > 1 else ''} of text)",
                title=title,
            )
        ]
    published = _published(declared, _unless_year_only(parse_datetime(document.date), text))
    return [
        new_record(
            blob,
            "html",
            title=title,
            paragraphs=paragraphs,
            byline=page_authors(clean_text(document.author), document.sitename, document.hostname)
            or written_byline,
            caption=caption,
            published_at=published,
            published_at_source="html" if published else None,
            description=clean_text(document.description),
            canonical_url=canonical or (document.url if (document.url or "").startswith("http") else None),
            language_hint=language,
            source_hint=clean_text(document.sitename),
        )
    ]


def _json_ld_record(
    blob: Blob,
    tree: Any,
    language: str | None,
    canonical: str | None,
    declared: datetime | None,
    caption: str | None,
) -> list[Record]:
    """The page's record from its JSON-LD article (:func:`json_ld_article`), or none when that has too
    few words."""
    title, paragraphs, authors = json_ld_article(tree)
    if sum(len(p.split()) for p in paragraphs) < MIN_BODY_WORDS:
        return []
    return [
        new_record(
            blob,
            "html",
            title=title or headline(clean_text(tree.findtext(".//title")), tree, None, None),
            paragraphs=paragraphs,
            byline=authors,
            caption=caption,
            published_at=declared,
            published_at_source="html" if declared else None,
            canonical_url=canonical,
            language_hint=language,
        )
    ]
