"""zh_CN translations for abuse limits and the generic error answer."""

ZH = {
    "Too many sign-in attempts; try again in {seconds} seconds.": (
        "登录尝试过于频繁，请在 {seconds} 秒后重试。"
    ),
    "Too many verification requests from your address; try again in {seconds} seconds.": (
        "您所在地址的查验请求过于频繁，请在 {seconds} 秒后重试。"
    ),
    (
        "Something went wrong on our side; nothing was saved. "
        "Quote reference {reference} when you report it."
    ): "服务端出现错误，未保存任何内容。反馈问题时请提供参考编号 {reference}。",
}
