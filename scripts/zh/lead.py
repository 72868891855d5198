"""zh_CN translations of messages added while merging the account and role work."""

ZH = {
    "Only users of a taxpayer can do this; officers manage a taxpayer's admins.": (
        "只有纳税人的用户才能执行此操作；税务人员请管理纳税人的管理员。"
    ),
    "Servers may still encrypt under data key {id} for {seconds} s; run fapiao keys rotate "
    "again after that, then retire it.": (
        "服务器在 {seconds} 秒内仍可能使用数据密钥 {id} 加密；请在此之后再次运行 "
        "fapiao keys rotate，然后再停用该密钥。"
    ),
    "Amount before tax": "金额",
    "Buyer": "购买方",
    "Certified for period": "勾选所属期",
    "Kind": "种类",
    "Medium": "载体",
    "More than {max} invoices match; choose a shorter date range.": (
        "符合条件的发票超过 {max} 张；请缩短日期范围。"
    ),
    "Reverses invoice": "冲销的蓝字发票",
    "Seller tax ID": "销售方纳税人识别号",
    "Status": "状态",
    "Tax": "税额",
    "electronic": "电子",
    "fully reversed": "全额红冲",
    "normal": "正常",
    "ordinary": "普通发票",
    "paper": "纸质",
    "partially reversed": "部分红冲",
    "special": "专用发票",
    "voided": "已作废",
}
