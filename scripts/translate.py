"""Fill zh_CN translations from a Python file defining ZH = {msgid: translation}.
Usage: python scripts/translate.py FILE"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

TARGET = Path(__file__).resolve().parent.parent / "src/fapiao/locale/zh_CN/LC_MESSAGES/messages.po"


def main(source: str) -> int:
    table = runpy.run_path(source)["ZH"]
    with TARGET.open("rb") as handle:
        catalog = read_po(handle, locale="zh_CN")
    filled = 0
    for message in catalog:
        if message.id and message.id in table:
            message.string = table[message.id]
            filled += 1
    with TARGET.open("wb") as handle:
        write_po(handle, catalog, omit_header=True, sort_output=True, width=100)
    print(f"filled {filled}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
