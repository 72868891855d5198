"""zh_CN translations of the red-letter, certification and public verification pages."""

ZH = {
    "1 Non-taxable use": "1 用于非应税项目",
    "2 Exempt use": "2 用于免税项目",
    "3 Staff welfare or personal consumption": "3 用于集体福利或者个人消费",
    "4 Abnormal loss": "4 遭受非正常损失",
    "5 Other (write why)": "5 其他（请填写原因）",
    "20 digits.": "20 位数字。",
    "Action": "操作",
    "Agree": "同意",
    "Amount": "金额",
    "Amount to reverse": "冲红金额",
    "Amount to reverse on line {line_no}": "第 {line_no} 行的冲红金额",
    "Amounts are before tax; the tax is worked out for you. If the buyer has certified the "
    "invoice, the buyer must agree within 72 hours; otherwise the red invoice is issued at "
    "once.": (
        "金额为不含税金额，税额自动计算。购买方已勾选认证的发票需购买方在 72 小时内确认；"
        "否则红字发票立即开具。"
    ),
    "An invoice with this number exists, but the issue date or the total with tax does not "
    "match.": "存在该号码的发票，但开票日期或价税合计不一致。",
    "Answer by": "确认期限",
    "Anyone can check that an invoice was issued on the platform, without signing in.": (
        "任何人无需登录即可查验发票是否在本平台开具。"
    ),
    "Back to red-letter forms": "返回红字确认单",
    "Blue invoice": "蓝字发票",
    "Cancel": "取消",
    "Certification for {period}": "{period} 所属期勾选认证",
    "Checks of this invoice today: {count} of {limit}.": "该发票今日查验次数：{count}/{limit}。",
    "Choose a reason.": "请选择冲红原因。",
    "Choose agree, disagree or withdraw.": "请选择同意、不同意或撤销。",
    "Confirm and sign period {period}? Its ticks can no longer be withdrawn afterwards.": (
        "确认并签名 {period} 所属期？确认后勾选不可再撤销。"
    ),
    "Confirm period": "确认所属期",
    "Confirm the period": "确认所属期",
    "Confirmed by both parties": "双方已确认",
    "Continue": "继续",
    "Deduct": "抵扣",
    "Disagree": "不同意",
    "Do not deduct": "不抵扣",
    "Enter the amount to reverse on at least one line.": "请至少填写一行的冲红金额。",
    "Everything still reversible": "全额冲红（全部可冲红金额）",
    "File the form": "提交确认单",
    "Filed at": "录入时间",
    "Filed by": "录入方",
    "Filed by the buyer, waiting for the seller": "购方录入，待销方确认",
    "Filed by the seller, waiting for the buyer": "销方录入，待购方确认",
    "Form": "确认单",
    "Form {id}": "确认单 {id}",
    "Goods returned": "销货退回",
    "Initiated by me": "我发起的",
    "Invoice": "发票",
    "Invoices to tick": "待勾选发票",
    "Issued in error": "开票有误",
    "Item": "项目",
    "Line": "行",
    "Lines of the blue invoice": "蓝字发票明细",
    "Lines reversed": "冲红明细",
    "New red-letter form": "新建红字确认单",
    "No confirmation needed": "无需确认",
    "No confirmation was needed: the red invoice was issued at once.": (
        "无需对方确认：红字发票已立即开具。"
    ),
    "No form is waiting for your answer.": "没有待您确认的确认单。",
    "No received special invoice is waiting to be ticked.": "没有待勾选的取得专用发票。",
    "None (deducting)": "无（抵扣）",
    "Nothing is ticked for this period.": "本所属期尚未勾选发票。",
    "Nothing was ticked: correct the rows marked below.": "未勾选任何发票：请更正下方标出的行。",
    "Number of the blue invoice to reverse": "要冲红的蓝字发票号码",
    "Ordinary VAT invoice": "增值税普通发票",
    "Part: the amounts entered below": "部分冲红：按下方填写的金额",
    "Reason": "冲红原因",
    "Reason for not deducting": "不抵扣原因",
    "Reason text (for 5)": "原因说明（选 5 时填写）",
    "Red invoice": "红字发票",
    "Red-letter form {id}": "红字确认单 {id}",
    "Reverses": "冲销的蓝字发票",
    "Sales allowance": "销售折让",
    "Service stopped": "服务中止",
    "Special VAT invoice": "增值税专用发票",
    "Start a red-letter form": "发起红字确认单",
    "Still reversible": "可冲红金额",
    "Tax period (YYYYMM)": "所属期（YYYYMM）",
    "The 20-digit number of an invoice you issued or received.": (
        "您开具或取得的发票的 20 位号码。"
    ),
    "The total including tax, e.g. 226.00.": "含税总额，例如 226.00。",
    "This period is confirmed and signed; its ticks can no longer change.": (
        "本所属期已确认签名，勾选不可再更改。"
    ),
    "Tick at least one invoice.": "请至少勾选一张发票。",
    "Tick the chosen invoices": "勾选所选发票",
    "Ticked for this period": "本所属期已勾选",
    "Time is up": "已到期",
    "Time left": "剩余时间",
    "Total with tax (价税合计)": "价税合计",
    "Void: abnormal voucher": "作废（异常凭证）",
    "Void: not answered within 72 hours": "作废（72 小时内未确认）",
    "Void: taxpayer blocked": "作废（纳税人被阻断）",
    "Void: the buyer disagreed": "作废（购方不同意）",
    "Void: the seller disagreed": "作废（销方不同意）",
    "Void: withdrawn after confirmation": "作废（确认后撤销）",
    "Void: withdrawn by the initiator": "作废（录入方撤销）",
    "Waiting for my answer": "待我确认",
    "What to reverse": "冲红范围",
    "Withdraw the tick of {number}": "撤销 {number} 的勾选",
    "Write an amount like 100.00.": "请填写金额，例如 100.00。",
    "Write the date as YYYY-MM-DD.": "请按 YYYY-MM-DD 格式填写日期。",
    "Write the total with tax like 226.00.": "请填写价税合计，例如 226.00。",
    "Yes, confirm and sign": "确认并签名",
    "You have not filed any red-letter form.": "您尚未发起红字确认单。",
    "the buyer": "购买方",
    "the seller": "销售方",
    "{count} invoices ticked; {deduct} to deduct: ¥{amount} amount, ¥{tax} tax.": (
        "已勾选 {count} 张；其中抵扣 {deduct} 张：金额 ¥{amount}，税额 ¥{tax}。"
    ),
    "{hours} h {minutes} min left": "剩余 {hours} 小时 {minutes} 分钟",
    "{limit} checks per invoice per day used up, try tomorrow (Beijing time).": (
        "该发票今日 {limit} 次查验已用完，请明天（北京时间）再试。"
    ),
}
