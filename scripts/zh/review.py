"""Chinese for the messages added after review (2026-11-29)."""

ZH = {
    "Correct what the latest refusal names and send the request again with the same key: "
    "a refused request issued nothing and used no credit (the invoice number it had been "
    "given is left unused, so numbers can have gaps).": (
        "请更正最近一次拒绝所指出的问题，并用同一个键重新发送请求：被拒绝的请求没有开具发票，"
        "也没有占用授信额度（为它分配的发票号码不再使用，因此号码可能不连续）。"
    ),
    "No platform data in {path}: run beside the platform's data directory (--data-dir), "
    "or pass the published keys with --key.": (
        "{path} 中没有平台数据：请在平台的数据目录旁运行（--data-dir），"
        "或用 --key 提供已公布的公钥。"
    ),
    "The address must be reachable on the public internet: {host} is a private, loopback "
    "or unknown address.": (
        "地址必须能从公网访问：{host} 是内网地址、本机回环地址或无法解析的地址。"
    ),
    "The invoice's amount before tax is more than this month's remaining credit (the "
    "refusal says how much is left). Issue a smaller invoice, ask the tax bureau to raise "
    "the limit, or wait for next month's credit; then send the request again.": (
        "发票的不含税金额超过了本月剩余授信额度（拒绝信息中写明了剩余多少）。"
        "请开具金额较小的发票、向税务机关申请提高额度，或等待下月额度生效后再重新发送请求。"
    ),
}

ZH.update(
    {
        "The request body cannot be read: send UTF-8 JSON.": (
            "无法读取请求体：请发送 UTF-8 编码的 JSON。"
        ),
        "Invoice {number} is issued and you can see it.": "发票 {number} 已开具，您可以查看。",
    }
)

ZH["The list has no invoices under its header row."] = "清单的表头下面没有任何发票。"
