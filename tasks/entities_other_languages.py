"""People, companies and quote speakers in German, French, Spanish, Italian and Portuguese articles.

English articles get the full analysis of ``tasks.entities``; its capitalisation rules do not carry over
(German capitalises every noun). Here a person is a name of capitalised tokens in one of two telling
places, as a news writer puts them: after a role or honorific ("Bundeskanzler Olaf Scholz", "le président
Emmanuel Macron", "el presidente Pedro Sánchez", "Frau Baerbock"), or next to a speech verb ("sagte Olaf
Scholz", "Emmanuel Macron a déclaré", "según Pedro Sánchez"). A name found beside a speech verb must have
two tokens or more and open with a known given name; after a role one token will do. A surname alone,
later in the article, counts as a mention of the full name that carries it, and a lone surname takes the
full name when the article has one. The same names, written with a speech verb next to a quote, name its
speaker; a company is a name written with its legal form ("Volkswagen AG", "Sanofi SA").
"""

from __future__ import annotations

import functools

import polars as pl

from tasks.data_files import ENTITY_DATA

LANGUAGES = ("de", "fr", "es", "it", "pt")

_TOKEN = r"\p{Lu}[\p{Ll}'’]+(?:-\p{Lu}[\p{Ll}'’]+)?"
_PARTICLE = r"(?:de|da|di|do|dos|das|del|della|van|von|der|zu|la|le)"
NAME = rf"{_TOKEN}(?: (?:{_PARTICLE} )?{_TOKEN}){{0,3}}"
"""One to four capitalised tokens, "von"/"de"/"da" particles between them."""

_ADJECTIVES = r"(?: [\p{Ll}-]+){0,2}"
"""Up to two lowercase words after a role: "le président français Emmanuel Macron"."""


def _roles(articles: str, words: tuple[str, ...], honorifics: str = "") -> str:
    role = rf"(?i:{articles}) (?:{'|'.join(words)}){_ADJECTIVES}"
    return f"{role}|{honorifics}" if honorifics else role


ROLES = {
    "de": (
        r"(?:Bundes|Vize|Ex-|Ministerpräsident|Regierungs|Ober|Landes|Partei|Fraktions|Polizei|Presse|"
        r"Außen|Innen|Finanz|Wirtschafts|Verteidigungs|Gesundheits|Justiz|Umwelt|Verkehrs|Arbeits|Bildungs)?"
        r"(?:[Kk]anzler|[Pp]räsident|[Mm]inister|[Bb]ürgermeister|[Cc]hef|[Ss]precher|[Vv]orsitzende|"
        r"[Tt]rainer|[Dd]irektor|[Gg]eschäftsführer|[Aa]bgeordnete|[Ss]enator|[Ss]taatssekretär|[Ll]eiter)"
        r"(?:in|innen|r|n)?|Herr|Frau|Dr\.|Prof\.|Professor(?:in)?|Papst|König(?:in)?|Prinz(?:essin)?"
    ),
    "fr": _roles(
        r"le|la|l['’]|du|de la|au|à la",
        (
            "(?:ancien(?:ne)? |nouveau |nouvelle |futur(?:e)? )?(?:président(?:e)?|Premier ministre",
            "première ministre|ministre|chancelier|chancelière|maire|porte-parole|secrétaire général(?:e)?",
            "directeur|directrice|patron(?:ne)?|député(?:e)?|sénateur|sénatrice|juge|procureur|entraîneur",
            "pape|roi|reine|prince|princesse|général)",
        ),
        r"M\.|Mme|Mgr",
    ),
    "es": _roles(
        r"el|la|del|al",
        (
            "(?:ex |ex-|nuevo |nueva )?(?:presidente|presidenta|primer ministro|primera ministra|ministro",
            "ministra|alcalde|alcaldesa|portavoz|secretario general|secretaria general|director|directora",
            "jefe|jefa|diputado|diputada|senador|senadora|juez|jueza|fiscal|entrenador|papa|rey|reina",
            "príncipe|princesa|general|canciller|mandatario|mandataria)",
        ),
        r"[Ss]eñor|[Ss]eñora|Sr\.|Sra\.|Don|Doña",
    ),
    "it": _roles(
        r"il|la|l['’]|del|della|dal|dalla",
        (
            "(?:ex |nuovo |nuova )?(?:presidente|premier|ministro|ministra|sindaco|sindaca|portavoce",
            "segretario|segretaria|direttore|direttrice|leader|capo|deputato|deputata|senatore|senatrice",
            "giudice|procuratore|allenatore|papa|re|regina|principe|principessa|generale|cancelliere)",
        ),
    ),
    "pt": _roles(
        r"o|a|do|da|ao|à",
        (
            "(?:ex-|novo |nova )?(?:presidente|primeiro-ministro|primeira-ministra|ministro|ministra",
            "prefeito|prefeita|porta-voz|secretário-geral|secretária-geral|diretor|diretora|chefe|deputado",
            "deputada|senador|senadora|juiz|juíza|procurador|técnico|treinador|papa|rei|rainha|príncipe",
            "princesa|general|chanceler)",
        ),
    ),
}
"""Roles and honorifics that come right before a name, by language."""

VERBS_BEFORE = {
    "de": r"sagte|sagt|erklärte|erklärt|betonte|betont|meinte|kritisierte|warnte|ergänzte|fügte hinzu|laut",
    "fr": r"a déclaré|a dit|a affirmé|a expliqué|a souligné|a indiqué|a ajouté|a estimé|a assuré|a précisé"
    r"|déclare|affirme|explique|souligne|indique|ajoute|estime|assure|précise|selon|d['’]après",
    "es": r"dijo|afirmó|explicó|señaló|aseguró|declaró|añadió|indicó|destacó|subrayó|sostuvo|advirtió|según",
    "it": r"ha detto|ha dichiarato|ha spiegato|ha affermato|ha aggiunto|ha sottolineato|dice|spiega|afferma"
    r"|sottolinea|secondo",
    "pt": r"disse|afirmou|explicou|declarou|acrescentou|destacou|sublinhou|garantiu|segundo|conforme",
}
"""Speech verbs (and "according to") that a name follows: "sagte Olaf Scholz"."""

VERBS_AFTER = {
    "de": r"sagte|sagt|erklärte|erklärt|betonte|betont|meinte|kritisierte|warnte|teilte|sprach|forderte",
    "fr": r"a déclaré|a dit|a affirmé|a expliqué|a souligné|a indiqué|a ajouté|a estimé|a assuré|a annoncé"
    r"|déclare|affirme|explique|souligne|indique|estime|assure|annonce",
    "es": r"dijo|afirmó|explicó|señaló|aseguró|declaró|añadió|indicó|destacó|anunció|advirtió|sostuvo",
    "it": r"ha detto|ha dichiarato|ha spiegato|ha affermato|ha aggiunto|ha annunciato|dice|spiega|afferma",
    "pt": r"disse|afirmou|explicou|declarou|acrescentou|destacou|anunciou|garantiu|defendeu",
}
"""Speech verbs that follow a name: "Emmanuel Macron a déclaré"."""

NOT_A_NAME = (
    r"Der|Die|Das|Den|Dem|Des|Ein|Eine|Einen|Einem|Er|Sie|Es|Wir|Ihr|Man|Doch|Aber|Und|Auch|Dann|Nun"
    r"|Le|La|Les|Un|Une|Il|Elle|Ils|Elles|On|Nous|Vous|Mais|Et|Ce|Cette|Ces"
    r"|El|Los|Las|Una|Unos|Unas|Él|Ella|Ellos|Pero|Este|Esta|Ese|Esa"
    r"|Lo|Gli|Lui|Lei|Loro|Ma|Questo|Questa"
    r"|O|A|Os|As|Um|Uma|Ele|Ela|Eles|Elas|Mas|Esse|Essa"
)
"""Articles, pronouns and conjunctions that start sentences in capitals; no name holds one of them."""

HONORIFIC = r"Herr|Frau|Dr\.|Prof\.|Professor|Professorin|M\.|Mme|Mgr|Sr\.|Sra\.|Don|Doña|Señor|Señora"

ROLE_WORD = (
    r"\p{Lu}\p{Ll}*(?:sprecher|sprecherin|minister|ministerin|präsident|präsidentin|chef|chefin|leiter"
    r"|leiterin|vorsitzende|vorsitzender|direktor|direktorin|trainer|trainerin|kanzler|kanzlerin|meister"
    r"|meisterin|experte|expertin|vorstand|gründer|gründerin|abgeordnete|abgeordneter|senator|senatorin"
    r"|sekretär|sekretärin|papst|könig|königin|prinz|prinzessin)"
)
"""A German role, alone or in a compound ("Polizeisprecher", "Landwirtschaftsministerin")."""

_LEADING = rf"^(?:(?:{NOT_A_NAME}|{HONORIFIC}|{ROLE_WORD}) )+"
_ANYWHERE = rf"(?:^| )(?:{NOT_A_NAME}|{ROLE_WORD})(?: |$)"

_SCHEMA = {"article_id": pl.String(), "entity": pl.String(), "mentions": pl.Int32()}


def _written_in(articles: pl.DataFrame) -> pl.DataFrame:
    """``article_id, code, body`` of the articles written in :data:`LANGUAGES` (``code``: ``de``, ``fr``)."""
    if articles.height == 0 or "language" not in articles.columns:
        return pl.DataFrame(schema={"article_id": pl.String(), "code": pl.String(), "body": pl.String()})
    return articles.select(
        "article_id",
        code=pl.col("language").str.to_lowercase().str.slice(0, 2),
        body=pl.col("body").fill_null(""),
    ).filter(pl.col("code").is_in(LANGUAGES))


def _surname(name: pl.Expr) -> pl.Expr:
    return name.str.extract(r"(\S+)$", 1)


@functools.cache
def given_names() -> frozenset[str]:
    """Given names that open a person's name: the English list and one for the other languages."""
    words: set[str] = set()
    for name in ("given_names.txt", "given_names_other_languages.txt"):
        words.update((ENTITY_DATA / name).read_text(encoding="utf-8").split())
    return frozenset(words)


_FUNCTION_WORD_BEFORE = (
    r"(?:^|\s)(?:de|du|des|d['’]|la|le|les|l['’]|del|della|dello|dei|degli|delle|do|da|dos|das|von|vom|der"
    r"|el|los|las|lo|il|gli|o|os|as|a|al|au|aux|für|im|am|beim|zum|zur"
    r"|à|en|dans|sur|chez|pour|avec|par|vers|in|nach|aus|bei|mit|auf|an|con|para|por|per|su|em|no|na|nos"
    r"|nas|com|et|und|y|e|est|ist|es|è|é|sont|sind|son|sono|são|était|war|fue|era|foi)\s*$"
)
"""A role followed by a preposition, article, conjunction or copula names an office or a place, not its
holder ("le président de la République", "le président est à Paris")."""


def _candidates(articles: pl.DataFrame, language: str) -> pl.DataFrame:
    """``article_id, name, by_role, honorific`` for every name in a telling place of ``language`` articles."""
    role, before, after = ROLES[language], VERBS_BEFORE[language], VERBS_AFTER[language]
    patterns = {
        rf"(?:^|[^\p{{L}}])(?:{role}) ({NAME})": True,
        rf"(?:^|[^\p{{L}}])(?i:{before}),? ({NAME})": False,
        rf"({NAME}),? (?i:{after})(?:[^\p{{L}}]|$)": False,
    }
    found = pl.concat(
        articles.select("article_id", match=pl.col("body").str.extract_all(pattern), by_role=pl.lit(by_role))
        .explode("match")
        .drop_nulls("match")
        .with_columns(name=pl.col("match").str.extract(pattern, 1))
        for pattern, by_role in patterns.items()
    )
    lead = pl.col("match").str.strip_suffix(pl.col("name"))
    return found.filter(~(pl.col("by_role") & lead.str.contains(_FUNCTION_WORD_BEFORE))).select(
        "article_id", "name", "by_role", honorific=lead.str.contains(rf"(?:{HONORIFIC})\s*$")
    )


def _tidy(candidates: pl.DataFrame) -> pl.DataFrame:
    """Names without a leading article, honorific or role; those found by a speech verb must have two
    tokens or more and open with a known given name."""
    name = pl.col("name").str.replace(_LEADING, "")
    return (
        candidates.with_columns(name=name)
        .filter(pl.col("name") != "", ~pl.col("name").str.contains(_ANYWHERE))
        .with_columns(
            n=pl.col("name").str.count_matches(" ") + 1, first=pl.col("name").str.extract(r"^(\S+)", 1)
        )
        .filter(pl.col("by_role") | ((pl.col("n") >= 2) & pl.col("first").is_in(list(given_names()))))
        .select("article_id", "name", "n", "honorific")
    )


def people_in_other_languages(articles: pl.DataFrame) -> pl.DataFrame:
    """People named in the articles written in :data:`LANGUAGES`, with how often each is mentioned.

    Args:
        articles: cleaned articles with ``article_id``, ``body`` and ``language``.

    Returns:
        ``article_id, entity, mentions`` (Int32): one row per person per article. A lone surname found
        after a role becomes the full name the article gives it elsewhere, and is kept alone only after an
        honorific or when it is mentioned twice; mentions count the occurrences of the surname as a word.
    """
    written = _written_in(articles)
    if written.height == 0:
        return pl.DataFrame(schema=_SCHEMA)
    parts = [
        _tidy(_candidates(rows, str(code)))
        for (code,), rows in written.partition_by("code", as_dict=True, maintain_order=True).items()
    ]
    names = (
        pl.concat(parts)
        .group_by("article_id", "name", maintain_order=True)
        .agg(pl.col("n").first(), pl.col("honorific").any())
    )
    full = names.filter(pl.col("n") >= 2).with_columns(surname=_surname(pl.col("name")))
    lone = (
        names.filter(pl.col("n") == 1)
        .join(full, left_on=["article_id", "name"], right_on=["article_id", "surname"], how="anti")
        .with_columns(surname=pl.col("name"))
    )
    people = (
        pl.concat([full, lone])
        .sort("article_id", "surname", "n", descending=[False, False, True])
        .unique(["article_id", "surname"], keep="first", maintain_order=True)
    )
    word = pl.lit(r"(?:^|[^\p{L}])") + pl.col("surname").str.replace_all(r"[.^$*+?()\[\]{}|\\]", r"\$0")
    counted = people.join(written.select("article_id", "body"), on="article_id").with_columns(
        mentions=pl.col("body").str.count_matches(word + pl.lit(r"(?:[^\p{L}]|$)"))
    )
    return counted.filter((pl.col("n") >= 2) | pl.col("honorific") | (pl.col("mentions") >= 2)).select(
        "article_id", entity="name", mentions=pl.max_horizontal("mentions", pl.lit(1)).cast(pl.Int32)
    )


def speakers_in_other_languages(
    quotes: pl.DataFrame, articles: pl.DataFrame, people: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Speakers of the quotes in :data:`LANGUAGES` articles that the English patterns left unnamed.

    A name right after the quote with a speech verb ("„…“, sagte Olaf Scholz", "« … », a déclaré Macron",
    "…», dijo el presidente Pedro Sánchez") or before it ("Scholz sagte: „…“", "Selon Macron, « … »")
    names the speaker; a surname becomes the full name the article gives (:func:`people_in_other_languages`).

    Args:
        quotes: the quote pass's rows: ``sid``, ``article_id``, ``before``, ``after``, ``quote``,
            ``speaker``, ``attributed``, ``pronoun``.
        articles: the batch, with ``article_id``, ``body`` and ``language``.
        people: :func:`people_in_other_languages` of ``articles``, when the caller has it already.

    Returns:
        ``quotes`` with ``speaker`` and ``attributed`` filled where a name was found.
    """
    if quotes.height == 0:
        return quotes
    open_rows = (
        quotes.filter(pl.col("speaker").is_null())
        .join(_written_in(articles).select("article_id", "code"), on="article_id")
        .select("sid", "article_id", "code", "quote", "before", "after")
    )
    if open_rows.height == 0:
        return quotes
    found = []
    ends_sentence = pl.col("quote").str.strip_chars_end().str.contains(r"[.!?][’'“”»«]?$")
    tail = pl.col("before").fill_null("").str.replace(r"(?s)^.*[.!?]\s+", "")
    for code in LANGUAGES:
        rows = open_rows.filter(pl.col("code") == code)
        if rows.height == 0:
            continue
        role, before, after = ROLES[code], VERBS_BEFORE[code], VERBS_AFTER[code]
        named = pl.coalesce(
            pl.when(~ends_sentence).then(
                pl.coalesce(
                    pl.col("after").str.extract(
                        rf"^[\s,]*(?i:{after}|{before})\s+(?:(?:{role})\s+)?({NAME})", 1
                    ),
                    pl.col("after").str.extract(rf"^[\s,]*({NAME}),?\s+(?i:{after})(?:[^\p{{L}}]|$)", 1),
                )
            ),
            tail.str.extract(rf"({NAME}),?\s+(?i:{after})[^.!?„“”«»]{{0,40}}$", 1),
            tail.str.extract(rf"(?:^|[^\p{{L}}])(?i:{before})\s+(?:(?:{role})\s+)?({NAME})[\s,:]*$", 1),
        )
        found.append(rows.select("sid", "article_id", name=named.str.replace(_LEADING, "")))
    names = pl.concat(found).filter(
        pl.col("name").is_not_null() & (pl.col("name") != "") & ~pl.col("name").str.contains(_ANYWHERE)
    )
    if names.height == 0:
        return quotes
    if people is None:
        people = people_in_other_languages(
            articles.join(names.select("article_id").unique(), on="article_id")
        )
    surnames = people.select("article_id", surname=_surname(pl.col("entity")), person="entity")
    canonical = (
        names.with_columns(surname=_surname(pl.col("name")))
        .join(
            surnames.unique(["article_id", "surname"], keep="first"), on=["article_id", "surname"], how="left"
        )
        .select("sid", found=pl.coalesce("person", "name"))
    )
    return (
        quotes.join(canonical, on="sid", how="left")
        .with_columns(
            speaker=pl.coalesce("speaker", "found"),
            attributed=pl.col("attributed") | pl.col("found").is_not_null(),
        )
        .drop("found")
    )


LEGAL_FORM = (
    r"GmbH(?: & Co\. KG)?|AG|KGaA|S\.A\.|SA|SAS|SARL|S\.p\.A\.|SpA|S\.r\.l\.|Srl|Ltda\.?|S\.L\.|N\.V\.|B\.V\."
)
"""Company forms written after a name in the five languages ("Volkswagen AG", "Sanofi SA", "Eni SpA")."""

_COMPANY_NAME = rf"{_TOKEN}(?:(?: | & |-){_TOKEN}){{0,3}}"
_COMPANY = rf"(?:^|[^\p{{L}}])({_COMPANY_NAME}) (?:{LEGAL_FORM})(?:[^\p{{L}}.]|\.(?:\s|$)|$)"


def organisations_in_other_languages(articles: pl.DataFrame) -> pl.DataFrame:
    """Companies named with their legal form in the articles written in :data:`LANGUAGES`.

    Args:
        articles: cleaned articles with ``article_id``, ``body`` and ``language``.

    Returns:
        ``article_id, entity, mentions`` (Int32): the name with its form ("Volkswagen AG") and how often
        the article writes it so.
    """
    written = _written_in(articles)
    if written.height == 0:
        return pl.DataFrame(schema=_SCHEMA)
    found = (
        written.select("article_id", match=pl.col("body").str.extract_all(_COMPANY))
        .explode("match")
        .drop_nulls("match")
        .with_columns(
            name=pl.col("match").str.extract(_COMPANY, 1).str.replace(_LEADING, ""),
            form=pl.col("match").str.extract(rf" ({LEGAL_FORM})(?:[^\p{{L}}.]|\.(?:\s|$)|$)", 1),
        )
        .filter(pl.col("name") != "", ~pl.col("name").str.contains(_ANYWHERE))
        .unique(["article_id", "name"], keep="first", maintain_order=True)
    )
    return (
        found.with_columns(entity=pl.concat_str("name", pl.lit(" "), "form"))
        .join(written.select("article_id", "body"), on="article_id")
        .select(
            "article_id",
            "entity",
            mentions=pl.max_horizontal(
                pl.col("body").str.count_matches(pl.col("entity"), literal=True), 1
            ).cast(pl.Int32),
        )
    )
