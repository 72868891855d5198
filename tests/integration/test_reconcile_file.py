"""Reconciling an enterprise's own invoice list (CSV or XLSX) with the platform: over the
API and with `fapiao reconcile FILE --taxpayer ID`. SQLite and PostgreSQL."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import BUYER_ID, OTHER_ID, SELLER_ID, World, invoice_body
from fapiao.app import create_app
from fapiao.cli.context import CliState
from fapiao.cli.main import app

EN = ["number", "issue_date", "buyer_tax_id", "total_with_tax"]
ZH = ["发票号码", "开票日期", "购买方纳税人识别号", "价税合计"]
NOWHERE = "26111000000099999999"  # a well-formed number the platform never issued


def issue(world: World, **overrides: Any) -> list[str]:
    """Issue an invoice through the API; its row as the enterprise would list it."""
    response = world.client.post(
        "/api/v1/invoices", json=invoice_body(**overrides), headers=world.as_("seller")
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return [body["number"], body["issue_date"], body["buyer"]["tax_id"], body["total_with_tax"]]


def next_day(world: World) -> None:
    world.platform.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]


def csv_bytes(header: list[str], rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def upload(
    world: World,
    content: bytes,
    filename: str = "list.csv",
    who: str = "seller",
    **form: str,
) -> Any:
    return world.client.post(
        "/api/v1/reconciliations",
        files={"file": (filename, content)},
        data=form,
        headers=world.as_(who, **{"Accept-Language": "en"}),
    )


def report(world: World, reconciliation_id: int, lang: str = "en") -> openpyxl.Workbook:
    response = world.client.get(
        f"/api/v1/reconciliations/{reconciliation_id}/report.xlsx",
        headers=world.as_("seller", **{"Accept-Language": lang}),
    )
    assert response.status_code == 200, response.text
    return openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)


def sheet_rows(book: openpyxl.Workbook, index: int) -> list[tuple[Any, ...]]:
    return list(book.worksheets[index].iter_rows(values_only=True))


def cli(world: World, *args: str) -> Any:
    state = CliState()
    state._platform = world.platform
    return CliRunner().invoke(app, ["--lang", "en", *args], obj=state)


def test_a_matching_english_csv_is_clean(world: World) -> None:
    rows = [issue(world), issue(world)]
    next_day(world)
    rows.append(issue(world))
    response = upload(world, csv_bytes(EN, rows))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["clean"] is True
    assert (body["date_from"], body["date_to"]) == ("2026-11-10", "2026-11-11")
    assert body["counts"]["matched"] == 3 and body["counts"]["platform_invoices"] == 3
    assert response.headers["Location"] == f"/api/v1/reconciliations/{body['id']}"
    again = world.client.get(f"/api/v1/reconciliations/{body['id']}", headers=world.as_("seller"))
    assert again.status_code == 200 and again.json()["counts"] == body["counts"]
    summary = sheet_rows(report(world, body["id"]), 0)
    assert ("Invoices in both", 3) in summary
    assert ("Result", "The list and the platform agree.") in summary


def test_every_kind_of_difference_chinese_headers_with_bom(world: World) -> None:
    moved = issue(world)  # day 1: listed on day 3, outside the platform pass
    next_day(world)
    good = issue(world)
    dearer = issue(world)
    other_buyer = issue(world)
    unlisted = issue(world)
    unreadable = issue(world)
    paper = issue(world, medium="paper")
    voided = world.client.post(f"/api/v1/invoices/{paper[0]}/void", headers=world.as_("seller"))
    assert voided.status_code == 200, voided.text
    blue = issue(world)
    red_form = world.client.post(
        "/api/v1/red-letter-forms",
        json={"blue_number": blue[0], "reason": "01"},
        headers=world.as_("seller"),
    )
    assert red_form.status_code == 201, red_form.text
    red_number = red_form.json()["red_invoice_number"]
    red = world.client.get(f"/api/v1/invoices/{red_number}", headers=world.as_("seller")).json()
    next_day(world)
    day3 = "2026-11-12"
    listed = [
        ["remark", *ZH[::-1]],  # any order, extra columns ignored
        ["ok", good[3], good[2], good[1], good[0]],
        ["dear", "999.99", dearer[2], dearer[1], dearer[0]],
        ["buyer", other_buyer[3], OTHER_ID, other_buyer[1], other_buyer[0]],
        ["moved", moved[3], moved[2], day3, moved[0]],
        ["paper", paper[3], paper[2], paper[1], paper[0]],
        ["blue", blue[3], blue[2], blue[1], blue[0]],
        ["red", red["total_with_tax"], BUYER_ID, red["issue_date"], red_number],
        ["ghost", "10.00", BUYER_ID, day3, NOWHERE],
        ["bad amount", "12.345", unreadable[2], unreadable[1], unreadable[0]],
        ["bad number", "1.00", BUYER_ID, day3, "12345"],
        ["bad date", "1.00", BUYER_ID, "2026-13-01", "26111000000099999998"],
        ["bad tax id", "1.00", "91110108551385082X", day3, "26111000000099999997"],
        ["duplicate", good[3], good[2], good[1], good[0]],
    ]
    out = io.StringIO()
    csv.writer(out).writerows(listed)
    content = codecs.BOM_UTF8 + out.getvalue().encode()
    response = upload(world, content, "清单.csv")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["clean"] is False
    assert (body["date_from"], body["date_to"]) == ("2026-11-11", day3)
    assert body["counts"] == {
        "rows": 13,
        "valid_rows": 8,
        "row_errors": 5,
        "platform_invoices": 9,  # 8 over the dates, 1 found by number outside them
        "matched": 7,
        "missing_on_platform": 1,
        "missing_in_list": 1,
        "with_differences": 5,
        "differences": 5,
    }
    assert [(e["row"], e["field"], e["code"]) for e in body["row_errors"]] == [
        (10, "total_with_tax", "TOO_MANY_DECIMALS"),
        (11, "number", "NUMBER_INVALID"),
        (12, "issue_date", "DATE_INVALID"),
        (13, "buyer_tax_id", "TAX_ID_INVALID"),
        (14, "number", "DUPLICATE_NUMBER"),
    ]
    assert body["row_errors"][4]["message"] == "The number already appears in row 2."

    book = report(world, body["id"])
    assert book.sheetnames == [
        "Summary",
        "Missing on platform",
        "Missing in list",
        "Differences",
        "Row errors",
    ]
    assert sheet_rows(book, 1)[1:] == [(9, NOWHERE, day3, BUYER_ID, "10.00")]
    missing = sheet_rows(book, 2)
    assert missing[0] == ("Invoice number", "Issue date", "Buyer tax ID", "Total with tax",
                          "Platform status")  # fmt: skip
    assert missing[1:] == [(*unlisted, "Normal")]
    assert sorted(sheet_rows(book, 3)[1:]) == [
        (3, dearer[0], "Total with tax", "999.99", dearer[3], "Normal"),
        (4, other_buyer[0], "Buyer tax ID", OTHER_ID, BUYER_ID, "Normal"),
        (5, moved[0], "Issue date", day3, moved[1], "Normal"),
        (6, paper[0], "Platform status", None, "Voided", "Voided"),
        (7, blue[0], "Platform status", None, "Fully reversed", "Fully reversed"),
    ]
    errors = sheet_rows(book, 4)
    assert errors[1] == (
        10,
        "Total with tax",
        "TOO_MANY_DECIMALS",
        "At most 2 decimal places.",
        "12.345",
    )
    chinese = report(world, body["id"], lang="zh-CN")
    assert chinese.sheetnames[0] == "汇总"
    assert sheet_rows(chinese, 3)[0][1] == "发票号码"


def test_gb18030_csv_from_chinese_excel(world: World) -> None:
    rows = [issue(world), issue(world)]
    header = [*ZH, "购买方名称"]
    content = csv_bytes(header, [[*row, "北京样例贸易有限公司"] for row in rows], "gb18030")
    content.decode("gb18030")
    try:
        content.decode("utf-8")
        raise AssertionError("the sample must not be UTF-8")
    except UnicodeDecodeError:
        pass
    response = upload(world, content)
    assert response.status_code == 201, response.text
    assert response.json()["clean"] is True
    assert response.json()["counts"]["matched"] == 2


def test_xlsx_with_a_title_row_and_excel_cell_types(world: World) -> None:
    first, second = issue(world), issue(world)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["北京示例科技有限公司 发票清单"])
    sheet.append(ZH)
    sheet.append([first[0], datetime(2026, 11, 10), first[2], float(first[3])])
    sheet.append(["'" + second[0], date(2026, 11, 10), second[2], second[3]])
    sheet.append([2.6111e19, date(2026, 11, 10), BUYER_ID, 1.5])
    sheet.append([None, None, None, None])
    out = io.BytesIO()
    book.save(out)
    response = upload(world, out.getvalue(), "清单.xlsx")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["counts"]["matched"] == 2 and body["counts"]["rows"] == 3
    assert [(e["row"], e["field"], e["code"]) for e in body["row_errors"]] == [
        (5, "number", "NUMBER_LOST_DIGITS")
    ]


def test_unusable_files_get_a_clear_problem(world: World) -> None:
    missing = upload(world, csv_bytes(["发票号码", "开票日期", "buyer_tax_id"], []))
    assert missing.status_code == 422
    problem = missing.json()
    assert problem["code"] == "COLUMNS_MISSING"
    assert problem["detail"] == "The file lacks required columns: total_with_tax (价税合计)."
    assert problem["errors"] == [
        {
            "field": "total_with_tax",
            "code": "COLUMN_MISSING",
            "message": "Add a column headed total_with_tax or 价税合计.",
        }
    ]
    pdf = upload(world, b"%PDF-1.7\n\0\0binary", "list.pdf")
    assert pdf.status_code == 415 and pdf.json()["code"] == "UNSUPPORTED_FILE_TYPE"
    old_excel = upload(world, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0", "list.xls")
    assert old_excel.status_code == 415
    broken = upload(world, b"PK\x03\x04 not really a workbook", "list.xlsx")
    assert broken.status_code == 422 and broken.json()["code"] == "FILE_UNREADABLE"
    empty = upload(world, b"", "list.csv")
    assert empty.status_code == 422 and empty.json()["code"] == "FILE_EMPTY"
    header_only = upload(world, csv_bytes(EN, [["", "", "", ""]]), "list.csv")
    assert header_only.status_code == 422, header_only.text  # not "clean"
    assert header_only.json()["code"] == "LIST_EMPTY"
    assert header_only.json()["detail"] == "The list has no invoices under its header row."
    zh = world.client.post(
        "/api/v1/reconciliations",
        files={"file": ("list.csv", csv_bytes(["number"], []))},
        headers=world.as_("seller"),
    )
    assert "价税合计" in zh.json()["detail"] and "缺少" in zh.json()["detail"]


def test_who_may_reconcile_and_see_it(world: World) -> None:
    content = csv_bytes(EN, [issue(world)])
    assert upload(world, content, who="seller_viewer").status_code == 403
    assert upload(world, content, who="seller", taxpayer=OTHER_ID).status_code == 404
    assert upload(world, content, who="officer").status_code == 422
    created = upload(world, content, who="seller_admin")
    assert created.status_code == 201
    ident = created.json()["id"]
    for who in ("other", "buyer"):
        assert world.client.get(
            f"/api/v1/reconciliations/{ident}", headers=world.as_(who)
        ).json()["code"] == "RECONCILIATION_NOT_FOUND"  # fmt: skip
        report_of_other = world.client.get(
            f"/api/v1/reconciliations/{ident}/report.xlsx", headers=world.as_(who)
        )
        assert report_of_other.status_code == 404
    assert world.client.get(f"/api/v1/reconciliations/{ident}").status_code == 401
    viewer = world.client.get(
        f"/api/v1/reconciliations/{ident}", headers=world.as_("seller_viewer")
    )
    assert viewer.status_code == 200
    officer = upload(world, content, who="officer", taxpayer=SELLER_ID)
    assert officer.status_code == 201 and officer.json()["clean"] is True
    assert officer.json()["taxpayer"] == SELLER_ID
    # The other taxpayer's own reconciliation of the same list: none of theirs match.
    theirs = upload(world, content, who="other").json()
    assert theirs["counts"]["missing_on_platform"] == 1 and theirs["counts"]["matched"] == 0


def test_uploads_have_their_own_size_limit(world: World) -> None:
    # Over the 2 MiB limit of other requests: rows without invoice fields are skipped.
    rows = [[*issue(world), ""], *[["", "", "", "", "x" * 100]] * 30_000]
    big = upload(world, csv_bytes([*EN, "note"], rows))
    assert big.status_code == 201, big.text
    assert big.json()["clean"] is True
    world.platform.settings.max_upload_bytes = 4096
    with TestClient(create_app(platform=world.platform)) as small:
        response = small.post(
            "/api/v1/reconciliations",
            files={"file": ("list.csv", b"number\n" + b"1" * 8000)},
            headers=world.as_("seller", **{"Accept-Language": "en"}),
        )
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert response.json()["detail"] == "The request body is larger than 4096 bytes."


def test_cli_exit_codes_and_report(world: World, tmp_path: Path) -> None:
    rows = [issue(world), issue(world)]
    clean_file = tmp_path / "list.csv"
    clean_file.write_bytes(csv_bytes(EN, rows))
    clean = cli(world, "reconcile", str(clean_file), "--taxpayer", SELLER_ID)
    assert clean.exit_code == 0, clean.output
    assert "Invoices in both: 2" in clean.output
    written = tmp_path / "list-reconciliation.xlsx"
    assert sheet_rows(openpyxl.load_workbook(written, read_only=True), 0)[0] == (
        "Seller",
        SELLER_ID,
    )

    differing = tmp_path / "清单.csv"
    differing.write_bytes(csv_bytes(ZH, [rows[0], [NOWHERE, rows[0][1], BUYER_ID, "1.00"]]))
    output = tmp_path / "out" / "report.xlsx"
    output.parent.mkdir()
    found = cli(
        world, "reconcile", str(differing), "--taxpayer", SELLER_ID, "--output", str(output)
    )
    assert found.exit_code == 1, found.output
    assert "Missing on the platform: 1" in found.output
    assert "Missing in the list: 1" in found.output
    book = openpyxl.load_workbook(output, read_only=True)
    assert sheet_rows(book, 1)[1] == (3, NOWHERE, rows[0][1], BUYER_ID, "1.00")

    chinese = cli(world, "reconcile", str(differing), "--taxpayer", SELLER_ID, "--lang", "zh-CN")
    assert chinese.exit_code == 1 and "平台缺少: 1" in chinese.output

    broken = tmp_path / "broken.csv"
    broken.write_bytes(csv_bytes(["number", "issue_date"], rows))
    unusable = cli(world, "reconcile", str(broken), "--taxpayer", SELLER_ID)
    assert unusable.exit_code == 2 and "COLUMNS_MISSING" in unusable.output
    assert cli(world, "reconcile", str(clean_file), "--taxpayer", OTHER_ID[:-1]).exit_code == 2
    assert (
        cli(world, "reconcile", str(tmp_path / "none.csv"), "--taxpayer", SELLER_ID).exit_code == 2
    )
    assert cli(world, "reconcile", "--internal").exit_code == 0


def test_uploaded_formulas_stay_text_and_damaged_workbooks_are_refused(world: World) -> None:
    """Found in review: a cell such as =HYPERLINK(…) in the list came back as a live
    formula in the report; a workbook damaged inside its zip answered 500."""
    row = issue(world)
    formula = '=HYPERLINK("http://example.invalid","x")'
    content = csv_bytes(EN, [row, [formula, row[1], row[2], row[3]]])
    answer = upload(world, content, "=evil.csv")
    assert answer.status_code == 201, answer.text
    book = report(world, answer.json()["id"])
    cells = [cell for sheet in book.worksheets for r in sheet.iter_rows() for cell in r]
    assert not any(cell.data_type == "f" for cell in cells)
    texts = [str(cell.value) for cell in cells if isinstance(cell.value, str)]
    assert "'" + formula in texts and "'=evil.csv" in texts

    good = io.BytesIO()
    made = openpyxl.Workbook()
    made.active.append(EN)
    made.active.append(row)
    made.save(good)
    damaged = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(good.getvalue())) as source,
        zipfile.ZipFile(damaged, "w") as target,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data[: len(data) // 2]  # cut off in the middle of the XML
            target.writestr(item, data)
    refused = upload(world, damaged.getvalue(), "list.xlsx")
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "FILE_UNREADABLE"
