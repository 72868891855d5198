"""zh_CN translations of the password policy and user and taxpayer management messages."""

ZH = {
    "A password has at least {min} characters.": "密码至少 {min} 个字符。",
    "A password has at most {max} characters.": "密码最多 {max} 个字符。",
    "A password must not contain the taxpayer's tax ID.": "密码不得包含纳税人识别号。",
    "A password must not contain the username.": "密码不得包含用户名。",
    "A password needs characters of at least {classes} of these kinds: lower-case letters, "
    "upper-case letters, digits, other characters.": (
        "密码须至少包含以下 {classes} 类字符：小写字母、大写字母、数字、其他字符。"
    ),
    "At most {max} characters.": "最多 {max} 个字符。",
    "Name the user, or send the request with a bearer token.": (
        "请填写用户名，或携带 Bearer 访问令牌发送请求。"
    ),
    "No user has this username.": "没有使用此用户名的用户。",
    "No user of your taxpayer has this username.": "本纳税人没有使用此用户名的用户。",
    "Officers reset the passwords of admins; admins reset their users'.": (
        "税务人员只能重置管理员的密码；其他用户的密码由管理员重置。"
    ),
    "The current password is wrong.": "当前密码不正确。",
    "The new password must differ from the current one.": "新密码不能与当前密码相同。",
    "The password was changed at the same time; sign in and try again.": (
        "密码已同时被修改，请重新登录后再试。"
    ),
    "This is the taxpayer's last active admin; make another admin first.": (
        "这是该纳税人最后一个有效的管理员，请先指定另一名管理员。"
    ),
    "This password is among the most common ones; choose another.": (
        "此密码属于最常用的密码，请另选一个。"
    ),
    "Your password is older than {days} days: choose a new one with POST /api/v1/me/password "
    "(username, current_password, new_password), then sign in.": (
        "您的密码已超过 {days} 天：请通过 POST /api/v1/me/password"
        "（username、current_password、new_password）设置新密码，然后登录。"
    ),
    "Your password was reset: choose a new one with POST /api/v1/me/password (username, "
    "current_password, new_password), then sign in.": (
        "您的密码已被重置：请通过 POST /api/v1/me/password"
        "（username、current_password、new_password）设置新密码，然后登录。"
    ),
    "Your taxpayer is suspended on the platform; ask the tax office.": (
        "您所属的纳税人已在平台上被停用，请联系税务机关。"
    ),
}
