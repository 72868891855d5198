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
}
