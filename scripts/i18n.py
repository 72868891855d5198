"""Refresh the message catalogue: extract every marked string from src/fapiao (Python
code, and the web pages' Jinja2 templates) into messages.pot and merge it into the zh_CN
catalogue (new entries stay untranslated until someone translates them; the test suite
fails while any are)."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "fapiao"
LOCALE = SOURCE / "locale"
KEYWORDS = {"N_": None, "_": None, "gettext": None}


def extract() -> Catalog:
    catalog = Catalog(project="fapiao", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(SOURCE),
        # Templates call _("...") like the Python code; Jinja2's own Babel extractor
        # reads them.
        method_map=[("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")],
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords=KEYWORDS,
        comment_tags=["Translators:"],
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def main() -> int:
    template = extract()
    with (LOCALE / "messages.pot").open("wb") as handle:
        write_po(handle, template, omit_header=True, sort_output=True, width=100)
    target = LOCALE / "zh_CN" / "LC_MESSAGES" / "messages.po"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        with target.open("rb") as handle:
            catalog = read_po(handle, locale="zh_CN")
    else:
        catalog = Catalog(locale="zh_CN", project="fapiao", charset="utf-8")
    catalog.update(template, no_fuzzy_matching=True)
    with target.open("wb") as handle:
        write_po(
            handle, catalog, omit_header=True, sort_output=True, ignore_obsolete=True, width=100
        )
    missing = [message.id for message in catalog if message.id and not message.string]
    print(f"{len(template)} messages, {len(missing)} without a zh_CN translation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
