"""Translation. Source strings are English; the zh_CN catalogue translates them, and zh-CN
is the default language. Catalogues are read from the .po files at first use, so running
the product needs no compile step."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from babel.messages.pofile import read_po

DEFAULT_LOCALE = "zh-CN"
LOCALES = ("zh-CN", "en")
_CATALOGUE_DIRS = {"zh-CN": "zh_CN"}


@functools.cache
def _catalogue(locale: str) -> dict[str, str]:
    folder = _CATALOGUE_DIRS.get(locale)
    if folder is None:
        return {}
    path = resources.files("fapiao") / "locale" / folder / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }


def translate(message: str, locale: str = DEFAULT_LOCALE, **params: Any) -> str:
    """The message in `locale` with named placeholders filled in."""
    text = _catalogue(locale).get(message, message)
    return text.format(**params) if params else text


def negotiate(accept_language: str | None, preferred: str | None = None) -> str:
    """Pick zh-CN or en from an explicit preference or an Accept-Language header."""
    if preferred in LOCALES:
        return preferred
    if not accept_language:
        return DEFAULT_LOCALE
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for parameter in pieces[1:]:
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranked.append((-quality, index, tag))
    for _, _, tag in sorted(ranked):
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return "zh-CN"
    return DEFAULT_LOCALE
