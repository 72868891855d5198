"""The translation catalogue is complete and current: every marked string in the source
has a zh-CN translation with the same placeholders (run `make i18n` to refresh)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import i18n  # noqa: E402

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def catalogue() -> dict[str, str]:
    path = ROOT / "src/fapiao/locale/zh_CN/LC_MESSAGES/messages.po"
    with path.open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle) if m.id}


def test_every_source_message_is_translated() -> None:
    source = {str(message.id) for message in i18n.extract() if message.id}
    translated = catalogue()
    missing = sorted(source - {k for k, v in translated.items() if v})
    assert not missing, f"untranslated or stale catalogue (run make i18n): {missing}"
    stale = sorted(set(translated) - source)
    assert not stale, f"catalogue has messages no longer in the source (run make i18n): {stale}"


def test_translations_keep_their_placeholders() -> None:
    for message, translation in catalogue().items():
        assert set(PLACEHOLDER.findall(message)) == set(PLACEHOLDER.findall(translation)), message


def test_negotiation() -> None:
    from fapiao.kit.i18n import negotiate, translate

    assert negotiate(None) == "zh-CN"
    assert negotiate("en-GB,en;q=0.8") == "en"
    assert negotiate("fr-FR, en;q=0.5, zh;q=0.9") == "zh-CN"
    assert negotiate("de") == "zh-CN"
    assert (
        translate("Invoice {number} was not found.", "en", number="1") == "Invoice 1 was not found."
    )
    assert translate("Invoice {number} was not found.", "zh-CN", number="1") == "未找到发票 1。"


def test_translation_files_agree_on_every_message() -> None:
    """The zh_CN translations come from several files (scripts/zh/); a message translated
    two ways would depend on which file is applied last."""
    import runpy

    root = Path(__file__).resolve().parents[2] / "scripts" / "zh"
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for path in sorted(root.glob("*.py")):
        for message, translation in runpy.run_path(str(path))["ZH"].items():
            if message in seen and seen[message][1] != translation:
                clashes.append((message, seen[message], (path.name, translation)))
            seen[message] = (path.name, translation)
    assert not clashes
