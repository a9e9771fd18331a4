"""``orderdesk-mcp audit tail|verify``: read and check the hash-chained audit log."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from orderdesk_mcp.adapters.jsonl_audit_log import VerifyReport, tail, verify
from orderdesk_mcp.entrypoints.paths import default_data_dir

__all__ = ["register"]


def _path(args: argparse.Namespace) -> Path:
    return Path(args.path) if args.path else default_data_dir() / "audit.jsonl"


def _tail(args: argparse.Namespace) -> int:
    for record in tail(_path(args), args.n):
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


def _unfinished(report: VerifyReport) -> str:
    count = len(report.unfinished)
    if not count:
        return ""
    lines = ", ".join(str(n) for n in report.unfinished)
    what = "1 attempt with no outcome (line" if count == 1 else f"{count} attempts with no outcome (lines"
    return f"; {what} {lines}): the write may or may not have reached OrderDesk, check the order there"


def _cut_off(report: VerifyReport) -> str:
    if not report.cut_off:
        return ""
    lines = ", ".join(str(n) for n in report.cut_off)
    what = "line" if len(report.cut_off) == 1 else "lines"
    return f"; {what} {lines} cut off (the process stopped while writing; that record is lost)"


def _verify(args: argparse.Namespace) -> int:
    path = _path(args)
    report = verify(path)
    if report.ok:
        found = f"{report.records} records, chain intact{_unfinished(report)}{_cut_off(report)}"
        sys.stdout.write(f"audit log {path}: {found}\n")
        return 0
    sys.stdout.write(f"audit log {path}: TAMPERED at line {report.bad_line}: {report.reason}\n")
    return 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``audit tail [-n N] [--path P]`` and ``audit verify [--path P]``; handlers return exit codes."""
    audit = subparsers.add_parser("audit", help="read and verify the audit log")
    sub = audit.add_subparsers(dest="audit_command", required=True)
    tail_cmd = sub.add_parser(
        "tail",
        help='print the last records as JSON lines ("values" says what each keeps of the data; '
        'an attempt with no outcome carries "note": "attempt with no outcome")',
    )
    tail_cmd.add_argument("-n", type=int, default=20)
    tail_cmd.add_argument("--path", help="audit log file (default: the data directory's audit.jsonl)")
    tail_cmd.set_defaults(handler=_tail)
    verify_cmd = sub.add_parser("verify", help="check the hash chain; exit 1 if tampered")
    verify_cmd.add_argument("--path", help="audit log file (default: the data directory's audit.jsonl)")
    verify_cmd.set_defaults(handler=_verify)
