"""The commands that list the registries: agencies, platforms."""

from __future__ import annotations

import argparse
import logging

from .common import EXIT_OK, load_checked, print_json
from .layout import table

logger = logging.getLogger(__name__)

KIND_LABELS = {"platform": "平台", "organisation": "机构", "programme": "工程/活动"}


def cmd_agencies(args: argparse.Namespace) -> int:
    """Every agency with its names and the number of measures naming it."""
    kb = load_checked(args)
    records = []
    for agency in kb.agencies.values():
        measures = kb.measures_naming_agency(agency.id)
        records.append({
            "id": agency.id, "name": agency.name, "region": agency.region,
            "aliases": list(agency.aliases), "user_aliases": list(agency.user_aliases),
            "measure_count": len(measures), "measures": [m.id for m in measures],
            "stated_count": sum(1 for m in measures for r in m.agencies if r.agency_id == agency.id and not r.inferred),
        })
    if args.json:
        print_json(records)
        return EXIT_OK
    rows = [(r["id"], r["region"], str(r["measure_count"]), r["name"],
             "、".join(dict.fromkeys(a for a in r["aliases"] + r["user_aliases"] if a != r["name"])) or "—")
            for r in records]
    print("\n".join(table(("编号", "地区", "措施数", "名称", "别称（文件用语与常见说法）"), rows)))
    print(f"\n共 {len(records)} 个机构。措施数含推定的责任单位。")
    return EXIT_OK


def cmd_platforms(args: argparse.Namespace) -> int:
    """Every platform with its names and the number of measures naming it."""
    kb = load_checked(args)
    records = []
    for platform in kb.platforms.values():
        measures = kb.measures_naming_platform(platform.id)
        records.append({
            "id": platform.id, "name": platform.name, "region": platform.region, "kind": platform.kind,
            "aliases": list(platform.aliases), "user_aliases": list(platform.user_aliases),
            "purpose": platform.purpose, "measure_count": len(measures), "measures": [m.id for m in measures],
        })
    if args.json:
        print_json(records)
        return EXIT_OK
    rows = [(r["region"], KIND_LABELS.get(r["kind"], r["kind"]), str(r["measure_count"]), r["name"],
             "、".join(r["measures"]) or "—") for r in records]
    print("\n".join(table(("地区", "类型", "措施数", "名称", "提及的措施"), rows)))
    print(f"\n共 {len(records)} 个平台、机构或工程。")
    return EXIT_OK
