"""zh_CN translations of the buyer's e-mail notice and of the e-mail address check."""

ZH = {
    "Invoice {number} from {seller}": "{seller}开具的发票 {number}",
    "Dear {buyer},": "{buyer}：",
    "An electronic invoice has been issued to you.": "您有一张新开具的电子发票。",
    "Invoice number: {number}": "发票号码：{number}",
    "Issue date: {date}": "开票日期：{date}",
    "Seller: {seller}": "销售方：{seller}",
    "Seller's taxpayer ID: {seller_tax_id}": "销售方纳税人识别号：{seller_tax_id}",
    "Total with tax: CNY {total}": "价税合计：￥{total}",
    (
        "Anyone can verify it publicly, without an account, through the platform's invoice "
        "verification (查验, POST /api/v1/verify) with the invoice number, the issue date and "
        "the total with tax."
    ): (
        "任何人无需登录即可通过本平台的发票查验（POST /api/v1/verify）核对此发票，"
        "需提供发票号码、开票日期和价税合计。"
    ),
    "This notice was sent automatically; please do not reply.": "本通知由系统自动发送，请勿回复。",
    "{value} is not an e-mail address such as name@example.com.": (
        "{value} 不是有效的电子邮箱地址，应形如 name@example.com。"
    ),
}
