"""zh_CN translations of the web pages' strings."""

ZH = {
    "API documentation": "API 文档",
    "At least {count} characters; not your username or a common password.": (
        "至少 {count} 个字符；不能是用户名或常见密码。"
    ),
    "Audit log": "审计日志",
    "Back to the dashboard": "返回工作台",
    "Back to the start page": "返回首页",
    "Certification": "勾选认证",
    "Change password": "修改密码",
    "Choose what to do in the menu above.": "请在上方菜单中选择要办理的事项。",
    "Credit used": "已用授信额度",
    "Current password": "当前密码",
    "Dashboard": "工作台",
    "Help": "帮助",
    "Invoices": "发票",
    "Invoices issued": "已开发票",
    "Issue": "开具发票",
    "Issued": "开具",
    "Main menu": "主菜单",
    "Maintenance": "系统维护",
    "New password": "新密码",
    "New password again": "再次输入新密码",
    "One-time code": "动态验证码",
    "Password": "密码",
    "Received": "取得",
    "Red-letter": "红字发票",
    "Red-letter forms waiting": "待处理的红字确认单",
    "Refused": "无法办理",
    "See issued invoices": "查看开具的发票",
    "See received invoices": "查看取得的发票",
    "Sign in": "登录",
    "Sign out": "退出",
    "Signing in as {username}.": "正在以 {username} 登录。",
    "Skip to the content": "跳到正文",
    "Start again": "重新开始",
    "Support": "工单",
    "Taxpayers": "纳税人",
    "The platform is under maintenance until {until} (Beijing time).": (
        "平台正在维护，预计 {until}（北京时间）结束。"
    ),
    "The platform this month ({month})": "全平台本月情况（{month}）",
    "The six digits your authenticator app shows now, or a recovery code.": (
        "身份验证器应用当前显示的 6 位数字，或一个恢复码。"
    ),
    "The two new passwords are not the same.": "两次输入的新密码不一致。",
    "This could not be done": "无法办理",
    "This page does not exist.": "页面不存在。",
    "This request cannot be answered.": "无法处理此请求。",
    "This month ({month})": "本月（{month}）",
    "Unknown language {locale}.": "不支持的语言 {locale}。",
    "Username": "用户名",
    "Users": "用户",
    "Verify": "发票查验",
    "Verify an invoice": "查验发票",
    "Verify an invoice without signing in": "无需登录即可查验发票",
    "For the user {username}.": "用户：{username}。",
    "Your password must be changed before you can sign in: choose a new one.": (
        "登录前必须修改密码：请设置新密码。"
    ),
    "Your password was changed. Other devices signed in as you were signed out.": (
        "密码已修改。您在其他设备上的登录已退出。"
    ),
    "e-invoice platform": "电子发票服务平台",
    "fapiao e-invoice platform": "fapiao 电子发票服务平台",
    "fapiao: issue, receive, certify, verify, void and reverse VAT e-invoices.": (
        "fapiao：开具、取得、勾选、查验、作废和红冲增值税电子发票。"
    ),
    "of ¥{limit} this month": "本月额度 ¥{limit}",
    "¥{used} of ¥{limit} used this month": "本月已用 ¥{used}，额度 ¥{limit}",
    "{count} invoices": "{count} 张发票",
    "{percent}% of the credit limit used": "已使用授信额度的 {percent}%",
}
