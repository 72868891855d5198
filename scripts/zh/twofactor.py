"""zh_CN translations of the sign-in lock and two-factor (TOTP) messages."""

ZH = {
    "A TOTP secret is base32 (letters A–Z and digits 2–7) of at least 112 bits (23 characters).": (
        "TOTP 密钥须为 base32 编码（字母 A–Z 和数字 2–7），至少 112 位（23 个字符）。"
    ),
    "Enter the one-time code of your authenticator app (field totp).": (
        "请输入身份验证器应用显示的一次性验证码（字段 totp）。"
    ),
    "Give either your current code or your password.": "请提供当前验证码或密码，二者选其一。",
    "No such user.": "用户不存在。",
    "Start enrolment first: POST /api/v1/me/totp.": "请先开始绑定：POST /api/v1/me/totp。",
    "The code or password is wrong.": "验证码或密码错误。",
    "The one-time code is wrong or expired.": "一次性验证码错误或已过期。",
    "The one-time code is wrong, expired or already used.": "一次性验证码错误、已过期或已被使用。",
    "Two-factor sign-in is already on; remove it before enrolling again.": (
        "双因素登录已开启；如需重新绑定，请先解除。"
    ),
    "Two-factor sign-in is not on.": "双因素登录未开启。",
    "Your role ({role}) must sign in with a one-time code.": (
        "您的角色（{role}）必须使用一次性验证码登录。"
    ),
    "Your role signs in with a one-time code: enrol an authenticator app first "
    "(POST /api/v1/me/totp), then sign in again with its code.": (
        "您的角色须使用一次性验证码登录：请先绑定身份验证器应用（POST /api/v1/me/totp），"
        "再使用其验证码重新登录。"
    ),
}
