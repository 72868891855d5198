"""zh_CN translations of the read-replica messages (apply with scripts/translate.py)."""

ZH = {
    "Invoice {number} is issued, but read replica {replica}, which may serve your reads, has not "
    "caught up with it yet: it is {seconds} s ({bytes} bytes) behind.": (
        "发票 {number} 已开具，但可能为您提供查询的只读副本 {replica} 尚未同步到该发票："
        "目前落后 {seconds} 秒（{bytes} 字节）。"
    ),
    "Reads that send the X-Fapiao-Consistency header of the write that issued or changed it "
    "always see it; others see it once the replica catches up.": (
        "查询时带上开具或变更该发票的写请求所返回的 X-Fapiao-Consistency 头，即可立即看到；"
        "不带该头的查询在副本追上后即可看到。"
    ),
    "Send back the X-Fapiao-Consistency header of a write unchanged.": (
        "请原样回传写请求返回的 X-Fapiao-Consistency 头。"
    ),
    "The X-Fapiao-Consistency header is not a consistency token.": (
        "X-Fapiao-Consistency 头不是有效的一致性令牌。"
    ),
}
