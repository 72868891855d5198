"""zh_CN translations of the enterprise-list reconciliation (apply with
`python scripts/translate.py scripts/zh/recon.py`)."""

ZH = {
    "Add a column headed {english} or {chinese}.": "请添加列名为 {english} 或 {chinese} 的列。",
    "An invoice number has 20 digits.": "发票号码为 20 位数字。",
    "Buyer tax ID": "购买方纳税人识别号",
    "Code": "代码",
    "Comparing with the platform": "正在与平台比对",
    "Differences": "差异",
    "Differences found.": "发现差异。",
    "Each sheet lists at most {limit} rows; the counts above are complete.": (
        "每个工作表最多列出 {limit} 行；以上计数是完整的。"
    ),
    "Field": "字段",
    "File": "文件",
    "From": "起始日期",
    "Fully reversed": "全额红冲",
    "Give FILE and --taxpayer, or --internal.": "请提供 FILE 和 --taxpayer，或使用 --internal。",
    "In the list": "清单中",
    "Invoice number": "发票号码",
    "Invoices in both": "双方均有的发票",
    "Invoices on the platform": "平台上的发票",
    "Invoices with differences": "存在差异的发票",
    "Issue date": "开票日期",
    "Missing in list": "清单缺少",
    "Missing in the list": "清单缺少",
    "Missing on platform": "平台缺少",
    "Missing on the platform": "平台缺少",
    "No such file: {path}": "文件不存在：{path}",
    "Normal": "正常",
    "Not a valid taxpayer identification number.": "不是有效的纳税人识别号。",
    "On the platform": "平台上",
    "Only CSV and XLSX files can be reconciled; save the list as one of them.": (
        "只能对账 CSV 或 XLSX 文件；请将清单另存为其中一种格式。"
    ),
    "Partially reversed": "部分红冲",
    "Platform status": "平台状态",
    "Problem": "问题",
    "Reading the list": "正在读取清单",
    "Reconciliation {id} was not found.": "未找到对账 {id}。",
    "Report written to {path}": "报告已写入 {path}",
    "Result": "结果",
    "Row": "行号",
    "Row errors": "错误行",
    "Rows in the list": "清单行数",
    "Rows read": "已读取行数",
    "Rows with errors": "有错误的行数",
    "Seller": "销售方",
    "Summary": "汇总",
    "The amount is too large.": "金额过大。",
    "The file cannot be read: {reason}": "无法读取文件：{reason}",
    "The file has no rows.": "文件没有任何行。",
    "The file is empty.": "文件为空。",
    "The file is neither UTF-8 nor GB18030 text; save it as CSV UTF-8.": (
        "文件既不是 UTF-8 也不是 GB18030 文本；请另存为 CSV UTF-8。"
    ),
    "The file lacks required columns: {columns}.": "文件缺少必需的列：{columns}。",
    "The list and the platform agree.": "清单与平台一致。",
    "The number already appears in row {first}.": "该号码已在第 {first} 行出现。",
    "The number was stored as a number and lost digits; format the column as text.": (
        "发票号码被存为数值而丢失了位数；请将该列设置为文本格式。"
    ),
    "To": "截止日期",
    "Total with tax": "价税合计",
    "Value": "值",
    "Voided": "已作废",
}
