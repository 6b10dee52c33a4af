"""Regenerate policies_kb/char_readings.tsv: the toneless pinyin readings of the 6763 GB2312 characters.

    .venv/bin/python -m scripts.make_char_readings

The table lets policies_kb.normalise recognise pinyin-input typos (质压 for 质押) without importing
pypinyin at run time (it holds about 60 MB of dictionaries); readings come from pypinyin, most common first.
"""

from __future__ import annotations

import logging

from policies_kb.paths import READINGS_FILE

logger = logging.getLogger(__name__)


def gb2312_characters() -> list[str]:
    """The GB2312 hanzi, in code order."""
    chars = []
    for high in range(0xB0, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def readings_table() -> str:
    """``char<TAB>reading,reading`` lines, toneless, most common reading first."""
    from pypinyin import Style, pinyin

    lines = []
    for char in gb2312_characters():
        readings = [r for r in dict.fromkeys(pinyin(char, style=Style.NORMAL, heteronym=True)[0])
                    if r.isascii() and r.isalpha()]
        if readings:
            lines.append(f"{char}\t{','.join(readings)}")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Write the table."""
    READINGS_FILE.write_text(readings_table(), encoding="utf-8")
    logger.warning("wrote %s", READINGS_FILE)


if __name__ == "__main__":
    main()
