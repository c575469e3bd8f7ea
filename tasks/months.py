"""Month names of the languages newsflow reads dates in, shared by feeds, datelines and dates."""

from __future__ import annotations

MONTH_ABBREVIATIONS = {
    "jan": "Jan", "janv": "Jan", "janeiro": "Jan", "enero": "Jan", "ene": "Jan", "januar": "Jan",
    "janvier": "Jan", "gen": "Jan", "gennaio": "Jan", "jän": "Jan", "jänner": "Jan",
    "feb": "Feb", "fev": "Feb", "fevereiro": "Feb", "febrero": "Feb", "februar": "Feb", "févr": "Feb",
    "fevr": "Feb", "février": "Feb", "fevrier": "Feb", "fév": "Feb", "febbraio": "Feb",
    "mar": "Mar", "mär": "Mar", "mrz": "Mar", "março": "Mar", "marco": "Mar", "marzo": "Mar",
    "märz": "Mar", "mars": "Mar",
    "abr": "Apr", "abril": "Apr", "avr": "Apr", "avril": "Apr", "apr": "Apr", "aprile": "Apr",
    "mai": "May", "maio": "May", "mayo": "May", "may": "May", "mag": "May", "maggio": "May",
    "jun": "Jun", "junho": "Jun", "junio": "Jun", "juni": "Jun", "juin": "Jun", "giu": "Jun", "giugno": "Jun",
    "jul": "Jul", "julho": "Jul", "julio": "Jul", "juli": "Jul", "juil": "Jul", "juillet": "Jul",
    "lug": "Jul", "luglio": "Jul",
    "ago": "Aug", "agosto": "Aug", "aug": "Aug", "august": "Aug", "août": "Aug", "aout": "Aug",
    "set": "Sep", "setembro": "Sep", "settembre": "Sep", "sep": "Sep", "sept": "Sep", "septiembre": "Sep",
    "setiembre": "Sep",
    "september": "Sep", "septembre": "Sep",
    "out": "Oct", "outubro": "Oct", "oct": "Oct", "octubre": "Oct", "okt": "Oct", "oktober": "Oct",
    "octobre": "Oct", "ott": "Oct", "ottobre": "Oct",
    "nov": "Nov", "novembro": "Nov", "noviembre": "Nov", "november": "Nov", "novembre": "Nov",
    "dez": "Dec", "dezembro": "Dec", "dic": "Dec", "diciembre": "Dec", "dezember": "Dec", "déc": "Dec",
    "dec": "Dec", "décembre": "Dec", "dicembre": "Dec",
}  # fmt: skip
"""Month names and abbreviations in English, French, Spanish, German, Italian and Portuguese (lower case),
each with the English abbreviation that dates parse with."""
