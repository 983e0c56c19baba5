"""Which PostgreSQL text-search configuration serves a locale.

A locale's language (``de`` of ``de-AT``) picks a built-in configuration with that
language's stemmer and stop words, so "Haus" finds "Häuser" in German documents.
Languages without one use ``simple`` (lowercased words, no stemming). The name is
resolved against ``pg_catalog`` in SQL (:data:`CONFIG_SQL`), so a server that lacks a
configuration falls back to ``simple`` instead of failing the write.
"""

from __future__ import annotations

FALLBACK = "simple"

LANGUAGE_CONFIGS: dict[str, str] = {
    "ar": "arabic",
    "ca": "catalan",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "eu": "basque",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "nn": "norwegian",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}


def config_name(locale: str) -> str:
    """The configuration for ``locale`` (``de-AT`` → ``german``; unknown → ``simple``)."""
    language = locale.replace("_", "-").split("-", 1)[0].lower()
    return LANGUAGE_CONFIGS.get(language, FALLBACK)


def config_sql(name_expression: str) -> str:
    """SQL turning a configuration name into a ``regconfig``, ``simple`` when the server lacks it."""
    return (
        "COALESCE((SELECT c.oid::regconfig FROM pg_catalog.pg_ts_config c "
        f"WHERE c.cfgname = {name_expression} AND c.cfgnamespace = 'pg_catalog'::regnamespace), "
        f"'{FALLBACK}'::regconfig)"
    )
