from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import polars as pl
import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from newsflow.settings import DEFAULT_LANGUAGES
from tasks.formats import explode_records
from tasks.language import PREFIX_CHARS, classify_texts, detect_languages, most_likely_language
from tasks.schema import RAW_SCHEMA

LANGUAGES = list(DEFAULT_LANGUAGES)

SAMPLES = {
    "en": "The city council voted on Tuesday to expand the bus network after months of complaints.",
    "de": "Der Stadtrat hat am Dienstag beschlossen, das Busnetz nach monatelangen Beschwerden auszubauen.",
    "fr": "Le conseil municipal a voté mardi l'extension du réseau de bus après des mois de plaintes.",
    "es": "El ayuntamiento votó el martes ampliar la red de autobuses tras meses de quejas de los vecinos.",
    "it": "Il consiglio comunale ha votato martedì per ampliare la rete degli autobus dopo mesi di proteste.",
    "pt": "A câmara municipal votou na terça-feira a ampliação da rede de ônibus após meses de reclamações.",
    "ru": "Городской совет во вторник проголосовал за расширение автобусной сети после месяцев жалоб.",
    "el": "Το δημοτικό συμβούλιο ψήφισε την Τρίτη την επέκταση του δικτύου λεωφορείων μετά από μήνες.",
    "zh": "市议会周二投票决定扩大公交网络，此前居民抱怨了好几个月。",
    "ar": "صوّت مجلس المدينة يوم الثلاثاء على توسيع شبكة الحافلات بعد أشهر من الشكاوى.",
    "ja": "市議会は火曜日、数カ月にわたる苦情を受けてバス路線網の拡大を決議した。",
}


def test_detects_each_language_and_keeps_the_frame() -> None:
    frame = pl.DataFrame(
        {"article_id": list(SAMPLES), "title": [None] * len(SAMPLES), "body": list(SAMPLES.values())}
    )
    result = detect_languages(frame, LANGUAGES)
    assert result.columns == ["article_id", "title", "body", "language"]
    assert result["language"].to_list() == list(SAMPLES)


def test_answers_stay_within_the_configured_languages() -> None:
    frame = pl.DataFrame({"title": ["Un pont ouvre"], "body": [SAMPLES["fr"]]})
    assert detect_languages(frame, ["en", "de"])["language"].to_list()[0] in ("en", "de")
    assert detect_languages(frame, ["fr", "en"])["language"].to_list() == ["fr"]
    with pytest.raises(ValueError, match="does not know: xx"):
        detect_languages(frame, ["en", "xx"])
    with pytest.raises(ValueError, match="no languages"):
        detect_languages(frame, [])


def test_no_text_gives_null_and_missing_columns_are_tolerated() -> None:
    frame = pl.DataFrame({"title": [None, "", "12345 678"], "body": [None, "   ", None]})
    assert detect_languages(frame, LANGUAGES)["language"].to_list()[:2] == [None, None]
    titles_only = pl.DataFrame({"title": [SAMPLES["de"]]})
    assert detect_languages(titles_only, LANGUAGES)["language"].to_list() == ["de"]
    empty = detect_languages(pl.DataFrame(schema={"title": pl.String, "body": pl.String}), LANGUAGES)
    assert empty.schema["language"] == pl.String and empty.height == 0


def test_batch_answers_equal_py3langid() -> None:
    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
    reference.set_languages(LANGUAGES)
    texts = [
        *SAMPLES.values(),
        "ALL CAPS HEADLINE ABOUT THE ECONOMY",
        "Ünïcödé " * 120,
        SAMPLES["en"] * 20,
    ]
    expected = [reference.classify(text[:PREFIX_CHARS])[0] for text in texts]
    assert classify_texts(texts, LANGUAGES) == expected


def test_most_likely_language_among_all_equals_py3langid() -> None:
    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
    texts = [*SAMPLES.values(), "Ünïcödé " * 120, "Жёлтый дом на углу", "", "1234 !!"]
    assert [most_likely_language(text) for text in texts] == [reference.classify(text)[0] for text in texts]


EVAL_DEV_LANGUAGE = {
    "latimes.com.bloomberg.html": "en",
    "cbsnews.com.carolina.html": "en",
    "phys.org.tool.html": "en",
    "bbc.com.52241221.html": "en",
    "pcgamer.com.darkest.html": "en",
    "corkbeo.ie.level.html": "en",
    "economictimes.indiatimes.com.slideshow.html": "en",
    "observer.com-LVMH.html": "en",
    "publishedreporter.com-Hottest.html": "en",
    "reporternewspapers.net-Brookhaven.html": "en",
    "madame.lefigaro.fr.dintestin.html": "fr",
    "aoc.media.archaisme.html": "fr",
    "vegolosi.it.climate.html": "it",
    "ukbdnews.com.23646.html": "bn",
    "correio24horas.com.br-PMS.html": "pt",
    "cooperativa.cl-presidente.html": "es",
}
"""trafilatura_eval_dev pages not in German, labelled by hand from headline and body; the rest are German."""


def _files(paths: list[Path]) -> pl.DataFrame:
    rows = []
    for path in paths:
        raw = path.read_bytes()
        rows.append(
            {"uri": f"file://{path}", "path": str(path), "size_bytes": len(raw), "mtime_ns": 0, "raw": raw,
             "sha256": hashlib.sha256(raw).hexdigest(), "quarantine_reason": None}
        )  # fmt: skip
    return pl.DataFrame(rows, schema=RAW_SCHEMA)


@pytest.mark.corpus
def test_accuracy_where_gold_gives_the_language(corpus_dir: Path) -> None:
    gold: dict[str, tuple[str, str]] = {}
    for path in sorted((corpus_dir / "trafilatura_eval_dev" / "html").glob("*.html")):
        gold[f"file://{path}"] = ("trafilatura_eval_dev", EVAL_DEV_LANGUAGE.get(path.name, "de"))
    for path in sorted((corpus_dir / "goose3_fixtures").glob("*/*.json")):
        document = json.loads(path.read_text())
        language = document.get("target_language") or document["expected"].get("meta_lang")
        if language:
            gold[f"file://{path.with_suffix('.html')}"] = ("goose3", language)
    feeds = corpus_dir / "news_feeds" / "chardet_encodings"
    for row in csv.DictReader((feeds / "manifest.csv").open()):
        gold[f"file://{feeds / row['file']}"] = ("chardet feeds", row["language"])

    records = explode_records(_files([Path(uri.removeprefix("file://")) for uri in gold]))
    articles = records.filter(pl.col("quarantine_reason").is_null()).with_columns(
        pl.col("paragraphs").list.join("\n\n").alias("body"),
        pl.col("file_uri").replace_strict({uri: s for uri, (s, _) in gold.items()}).alias("corpus"),
        pl.col("file_uri").replace_strict({uri: lang for uri, (_, lang) in gold.items()}).alias("gold"),
    )
    detected = detect_languages(articles, LANGUAGES).with_columns(
        (pl.col("language") == pl.col("gold")).alias("right"),
        (pl.coalesce("language_hint", "language") == pl.col("gold")).alias("hint_right"),
    )
    per_corpus = detected.group_by("corpus").agg(
        pl.len(), pl.col("right").mean(), pl.col("hint_right").mean()
    )
    accuracy = detected["right"].mean()
    print(per_corpus.sort("corpus"))
    print(
        f"language accuracy {accuracy:.4f} on {detected.height} articles;"
        f" hint-first {detected['hint_right'].mean():.4f}"
    )
    assert detected.height >= 200
    assert accuracy is not None and accuracy >= 0.98
    assert per_corpus["right"].min() >= 0.95  # type: ignore[operator]
