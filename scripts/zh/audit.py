"""zh_CN translations of the audit log's messages."""

ZH = {
    "Audit entry {missing} is missing (the next one is {seq}).": (
        "审计记录 {missing} 缺失（下一条是 {seq}）。"
    ),
    "Audit entry {seq} does not link to the entry before it.": (
        "审计记录 {seq} 与前一条记录的链接不符。"
    ),
    "Audit entry {seq} has been changed: its hash does not match its fields.": (
        "审计记录 {seq} 已被改动：其哈希值与内容不符。"
    ),
    "Checking the audit log": "正在校验审计日志",
    "Give a date such as 2026-11-10 (Beijing time) or a time with its offset, "
    "such as 2026-11-10T08:00+08:00.": (
        "请填写日期（北京时间），如 2026-11-10，或带时区偏移的时间，如 2026-11-10T08:00+08:00。"
    ),
    "The audit head points at entry {head}, but the last entry is {seq}.": (
        "审计链头指向记录 {head}，但最后一条记录是 {seq}。"
    ),
    "The audit log is intact: {count} entries after {anchor}, head {seq} {hash}.": (
        "审计日志完整：锚点 {anchor} 之后共 {count} 条记录，链头 {seq} {hash}。"
    ),
    "{count} audit entries written to {path}.": "已将 {count} 条审计记录写入 {path}。",
}
