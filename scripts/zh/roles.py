"""zh_CN translations of the role messages."""

ZH = {
    "Officers and auditors belong to no taxpayer.": "税务人员和审计员不属于任何纳税人。",
}
