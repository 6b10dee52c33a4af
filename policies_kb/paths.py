"""Where the KB's files live, found relative to this package."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"
SOURCES_DIR = PACKAGE_DIR / "sources"
READINGS_FILE = PACKAGE_DIR / "char_readings.tsv"  # toneless pinyin of the GB2312 characters (normalise.py)
