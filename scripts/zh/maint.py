"""zh_CN translations of the maintenance-window and idempotency-key trace messages."""

ZH = {
    "A maintenance window lasts at most 31 days.": "维护窗口最长 31 天。",
    "A registered buyer must be named exactly as registered for its tax ID (the refusal "
    "gives the name). Correct the buyer's name and send the request again with the same key.": (
        "已登记的购买方名称必须与其税号登记的名称完全一致（拒绝信息中给出了该名称）。"
        "请更正购买方名称，并用同一个键重新发送请求。"
    ),
    "Check the key your system sent and the seller it was sent for. Refusals are kept for 30 "
    "days; a request refused before its body was read (malformed JSON, wrong field types) is "
    "not recorded.": (
        "请核对您的系统发送的键及其所属的销售方。拒绝记录保留 30 天；"
        "在读取请求内容之前就被拒绝的请求（JSON 格式错误、字段类型错误）不会被记录。"
    ),
    "Correct what the latest refusal names and send the request again with the same key: a "
    "refused request used no invoice number and no credit.": (
        "请更正最近一次拒绝所指出的问题，并用同一个键重新发送请求：被拒绝的请求没有占用发票号码，也没有占用授信额度。"
    ),
    "Give either number or idempotency_key, not both.": (
        "请提供 number 或 idempotency_key 其中之一，不能同时提供。"
    ),
    "In maintenance until {until} (Beijing time), {seconds} s from now; set by {who}.": (
        "平台维护中，至 {until}（北京时间）结束，还有 {seconds} 秒；设置人：{who}。"
    ),
    "Maintenance ended.": "维护已结束。",
    "Must be a date and time such as 2026-12-01T06:00+08:00.": (
        "必须是日期和时间，例如 2026-12-01T06:00+08:00。"
    ),
    "No invoice was issued with Idempotency-Key {key}, and no refusal of it is known.": (
        "没有以幂等键 {key} 开具的发票，也没有该键被拒绝的记录。"
    ),
    "No invoice was issued with Idempotency-Key {key}: the platform refused it {count} "
    "time(s), most recently with {code}.": (
        "没有以幂等键 {key} 开具的发票：平台拒绝了该请求 {count} 次，最近一次的原因是 {code}。"
    ),
    "Not in maintenance.": "平台未处于维护中。",
    "Officers name the seller: taxpayer=TAX_ID.": "税务人员须指明销售方：taxpayer=税号。",
    "Requests to issue are refused with 503 during maintenance; send them again after "
    "{until}. Reading and verification keep working.": (
        "维护期间开票请求会以 503 拒绝；请在 {until} 之后重新发送。查询和查验不受影响。"
    ),
    "The end of maintenance ({until}) must be in the future.": (
        "维护结束时间（{until}）必须晚于当前时间。"
    ),
    "The platform is in maintenance until {until} (Beijing time): changes are paused, "
    "reading and verification keep working. Try again after that.": (
        "平台维护中，至 {until}（北京时间）结束：暂停一切变更操作，"
        "查询和查验不受影响。请在此之后重试。"
    ),
    "The platform is in maintenance until {until} (Beijing time) and issues no invoice until "
    "then; none was issued with Idempotency-Key {key}.": (
        "平台维护中，至 {until}（北京时间）结束，在此之前不开具发票；"
        "没有以幂等键 {key} 开具的发票。"
    ),
    "The platform is in maintenance until {until} (Beijing time) and issues no invoice until "
    "then; invoice {number} has not been issued.": (
        "平台维护中，至 {until}（北京时间）结束，在此之前不开具发票；发票 {number} 尚未开具。"
    ),
    "The request with Idempotency-Key {key} was issued as invoice {number}.": (
        "幂等键为 {key} 的请求已开具为发票 {number}。"
    ),
    "The user who sent it may not issue invoices: a clerk or an administrator of the seller "
    "must send it.": "发送该请求的用户无权开具发票：须由销售方的开票员或管理员发送。",
    "This month's credit limit is used up. Ask the tax bureau to raise it, or issue when next "
    "month's credit starts; then send the request again with the same key.": (
        "本月授信额度已用完。请向税务机关申请调整额度，或在下月额度生效后开具；"
        "然后用同一个键重新发送请求。"
    ),
    "Trace invoice {number} to see where it is now.": "请追踪发票 {number}，查看其当前状态。",
}
