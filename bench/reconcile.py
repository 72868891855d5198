"""Benchmark of `fapiao reconcile FILE --taxpayer ID`: a seller with a million invoices
on the platform and the seller's own list of them with a few hundred planted differences.

Seeding is not timed: the schema comes from the product's migrations, then the invoices
go straight into SQLite through the driver. Timed, end to end, as a user runs it: the
`fapiao reconcile` process on the CSV (and on an XLSX of the first whole days up to
--xlsx-rows), including start-up, reading, comparing and writing the XLSX report. The
planted differences are checked against the summary the command prints.

    .venv/bin/python bench/reconcile.py [--rows 1000000] [--xlsx-rows 100000] [--lock FILE]
"""

from __future__ import annotations

import argparse
import csv
import fcntl
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import machine
from fapiao import migrate
from fapiao.db import Database
from fapiao.kit.taxid import uscc_check_char
from fapiao.settings import Settings
from fapiao.taxpayers import service as taxpayers

SELLER = "91110108551385082Q"
FIRST_DAY = date(2026, 1, 1)
DAYS = 365
BUYERS = 1000
FAPIAO = Path(sys.executable).with_name("fapiao")
# What the list gets wrong, each this many times (--each).
KINDS = ("unlisted", "amount", "buyer", "date", "voided", "ghost", "bad_row")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000, help="0 skips the XLSX run")
    parser.add_argument("--each", type=int, default=60, help="planted findings of each kind")
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    parser.add_argument("--lock", type=Path, help="hold an exclusive flock on this while timing")
    return parser.parse_args(argv)


def buyer_ids() -> list[str]:
    found = []
    for serial in range(BUYERS):
        body = f"91110105MA{serial:07d}"
        found.append(body + uscc_check_char(body))
    return found


def seed(data_dir: Path, rows: int) -> int:
    """Migrate a fresh database, add the seller, insert `rows` invoices; the seller's id."""
    settings = Settings(data_dir=data_dir, secret_key="bench-" + "x" * 40)
    database = Database(settings)
    migrate.upgrade(database)
    with database.transaction() as session:
        seller = taxpayers.add_taxpayer(
            session,
            tax_id=SELLER,
            name="北京示例科技有限公司",
            kind="general",
            credit_limit=Decimal("999999999999.00"),
            now=datetime.now(UTC),
        )
        seller_id = seller.id
    database.dispose()
    buyers = buyer_ids()
    columns = (
        "number kind medium is_red seller_id seller_tax_id seller_name seller_address "
        "seller_phone seller_bank seller_account buyer_tax_id buyer_name buyer_address "
        "buyer_phone buyer_bank buyer_account buyer_email buyer_natural_person issue_date "
        "issued_at total_amount total_tax total_with_tax total_in_words prices_include_tax "
        "remarks drawer status reversed_amount reversed_tax"
    ).split()

    def invoices() -> Iterator[tuple[Any, ...]]:
        for index in range(rows):
            day = FIRST_DAY + timedelta(days=index * DAYS // rows)
            amount = 10_000 + index % 9_973 * 100
            tax = amount * 13 // 100
            yield (
                f"26111{index + 1:015d}", "special", "electronic", 0, seller_id, SELLER,
                "北京示例科技有限公司", "", "", "", "", buyers[index % BUYERS], "北京样例贸易",
                "", "", "", "", "", 0, day.isoformat(), f"{day.isoformat()} 02:00:00.000000",
                amount, tax, amount + tax, "壹佰圆整", 0, "", "", "normal", 0, 0,
            )  # fmt: skip

    connection = sqlite3.connect(data_dir / "fapiao.db", isolation_level=None)
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("BEGIN")
    marks = ", ".join("?" * len(columns))
    connection.executemany(
        f"INSERT INTO invoices ({', '.join(columns)}) VALUES ({marks})", invoices()
    )
    connection.execute("COMMIT")
    connection.close()
    return seller_id


def plant(rows: int, each: int) -> dict[int, str]:
    """Which invoice (by index) the list gets wrong, and how."""
    # Keep the list's first and last row as they are: the platform side is its span.
    chosen = random.Random(7).sample(range(1, rows - 1), each * len(KINDS))
    return {index: KINDS[position // each] for position, index in enumerate(chosen)}


def platform_row(index: int, rows: int, buyers: list[str]) -> list[str]:
    day = FIRST_DAY + timedelta(days=index * DAYS // rows)
    amount = 10_000 + index % 9_973 * 100
    cents = amount + amount * 13 // 100
    return [f"26111{index + 1:015d}", day.isoformat(), buyers[index % BUYERS], _money(cents)]


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def write_csv(path: Path, rows: int, planted: dict[int, str]) -> dict[str, int]:
    buyers = buyer_ids()
    expected = dict.fromkeys(KINDS, 0)
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        out = csv.writer(handle)
        out.writerow(["发票号码", "开票日期", "购买方纳税人识别号", "价税合计"])
        for index in range(rows):
            row = platform_row(index, rows, buyers)
            kind = planted.get(index)
            if kind is not None:
                expected[kind] += 1
            if kind == "unlisted":
                continue
            if kind == "amount":
                row[3] = _money(int(row[3].replace(".", "")) + 1)
            elif kind == "buyer":
                row[2] = buyers[(index + 1) % BUYERS]
            elif kind == "date":
                row[1] = (date.fromisoformat(row[1]) + timedelta(days=1)).isoformat()
            elif kind == "ghost":
                row[0] = f"26112{index + 1:015d}"  # another channel: never issued
            elif kind == "bad_row":
                row[3] = "12.345"
            out.writerow(row)
    return expected


def write_xlsx(path: Path, rows: int, limit: int) -> int:
    """The first whole days of invoices, at most `limit` rows, with dates as dates. Built
    in openpyxl's normal mode, which writes what Excel writes and openpyxl's write-only
    mode leaves out: shared strings and the sheet's dimension (without it a reader parses
    the whole sheet once more just to size it)."""
    from openpyxl import Workbook

    buyers = buyer_ids()
    per_day = rows / DAYS
    days = max(1, int(limit / per_day) - 1)
    book = Workbook()
    sheet = book.active
    sheet.title = "发票"
    sheet.append(["number", "issue_date", "buyer_tax_id", "total_with_tax"])
    written = 0
    for index in range(rows):
        row = platform_row(index, rows, buyers)
        day = date.fromisoformat(row[1])
        if (day - FIRST_DAY).days >= days:
            break
        sheet.append([row[0], day, row[2], Decimal(row[3])])
        written += 1
    book.save(path)
    return written


@contextmanager
def exclusive(lock: Path | None) -> Iterator[None]:
    if lock is None:
        yield
        return
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def timed_reconcile(data_dir: Path, source: Path, lock: Path | None) -> dict[str, Any]:
    command = [str(FAPIAO), "--data-dir", str(data_dir), "--lang", "en", "reconcile"]
    command += [str(source), "--taxpayer", SELLER, "--output", str(source) + ".report.xlsx"]
    with exclusive(lock):
        began = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdout is not None and process.stderr is not None
        stdout, stderr = process.stdout.read(), process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    output = stdout.decode()
    counts = {
        label: int(value) for label, value in re.findall(r"^([A-Z][\w ]+): (\d+)$", output, re.M)
    }
    return {
        "seconds": round(seconds, 1),
        "exit": process.returncode,
        "max_rss_mib": round(usage.ru_maxrss / 1024),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "counts": counts,
        "stderr": stderr.decode()[-2000:],
    }


def check(result: dict[str, Any], expected: dict[str, int], rows: int) -> None:
    counts = result["counts"]
    wanted = {
        "Rows in the list": rows - expected["unlisted"],
        "Rows with errors": expected["bad_row"],
        "Missing on the platform": expected["ghost"],
        "Missing in the list": expected["unlisted"] + expected["ghost"],
        "Differences": sum(expected[kind] for kind in ("amount", "buyer", "date", "voided")),
    }
    wrong = {name: (counts.get(name), value) for name, value in wanted.items()}
    wrong = {name: pair for name, pair in wrong.items() if pair[0] != pair[1]}
    if wrong or result["exit"] != 1:
        raise SystemExit(f"unexpected result {wrong} exit {result['exit']}: {result}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = args.dir or Path(tempfile.mkdtemp(prefix="fapiao-reconcile-bench-"))
    data_dir = work / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    seed(data_dir, args.rows)
    print(f"seeded {args.rows} invoices in {time.perf_counter() - began:.1f}s", flush=True)
    planted = plant(args.rows, args.each)
    # The voided ones are voided on the platform and listed as they were issued.
    voided = [f"26111{index + 1:015d}" for index, kind in planted.items() if kind == "voided"]
    with sqlite3.connect(data_dir / "fapiao.db") as connection:
        connection.executemany(
            "UPDATE invoices SET status = 'voided' WHERE number = ?", [(n,) for n in voided]
        )
    source = work / "list.csv"
    expected = write_csv(source, args.rows, planted)
    size_mib = source.stat().st_size / 2**20
    print(f"wrote {source} ({size_mib:.0f} MiB), planted {expected}", flush=True)
    calibration = machine.calibration_ms()
    load = machine.load_average()
    result = timed_reconcile(data_dir, source, args.lock)
    check(result, expected, args.rows)
    print(f"CSV {args.rows} rows: {result}", flush=True)
    if args.xlsx_rows:
        workbook = work / "list.xlsx"
        written = write_xlsx(workbook, args.rows, args.xlsx_rows)
        xlsx = timed_reconcile(data_dir, workbook, args.lock)
        print(f"XLSX {written} rows: {xlsx}", flush=True)
    info = machine.describe(work)
    print(
        f"machine: {info['nproc']} x {info['cpu']}, {info['ram_gib']} GiB, {info['disk']}; "
        f"load {load} before; calibration {calibration} ms before, "
        f"{machine.calibration_ms()} ms after; python {sys.version.split()[0]}, "
        f"sqlite {sqlite3.sqlite_version}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
