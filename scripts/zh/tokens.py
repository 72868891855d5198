"""zh_CN translations of the API-token, browser-session and CSRF messages."""

ZH = {
    "A token lives 1 to {max} days.": "令牌有效期为 1 至 {max} 天。",
    "A token name has 1 to 64 characters.": "令牌名称为 1 至 64 个字符。",
    "API tokens may not do this; sign in as a person.": (
        "API 令牌不能执行此操作，请以用户身份登录。"
    ),
    "Give at least one scope.": "请至少指定一个权限范围。",
    "No API token {id} is yours to see.": "没有您可查看的 API 令牌 {id}。",
    "No user has this username.": "没有使用此用户名的用户。",
    "The CSRF token is missing or wrong; get it from GET /api/v1/auth/session.": (
        "CSRF 令牌缺失或错误，请通过 GET /api/v1/auth/session 获取。"
    ),
    "The request comes from another site and was refused.": "该请求来自其他站点，已被拒绝。",
    "This API token may not do this: it needs the scope {scope}.": (
        "此 API 令牌不能执行此操作：需要权限范围 {scope}。"
    ),
    "Token {id} expires {expires}. Store it now; it is not shown again:": (
        "令牌 {id} 将于 {expires} 过期。请立即保存，它不会再次显示："
    ),
    "Token {id} is revoked.": "令牌 {id} 已吊销。",
    "Unknown scope {scope}.": "未知的权限范围 {scope}。",
    "You may not give a token the scope {scope}.": "您不能为令牌授予权限范围 {scope}。",
    "Your session has ended; sign in again.": "您的会话已结束，请重新登录。",
}
