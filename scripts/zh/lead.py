"""zh_CN translations of messages added while merging the account and role work."""

ZH = {
    "Only users of a taxpayer can do this; officers manage a taxpayer's admins.": (
        "只有纳税人的用户才能执行此操作；税务人员请管理纳税人的管理员。"
    ),
}
