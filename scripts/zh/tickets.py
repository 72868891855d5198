"""zh_CN translations of the support-ticket messages."""

ZH = {
    "A file is larger than {max} bytes.": "有文件超过 {max} 字节。",
    "A file may have at most {max} bytes.": "单个文件最多 {max} 字节。",
    "At most {max} files per message.": "每条消息最多 {max} 个文件。",
    "Attachment {id} was not found.": "未找到附件 {id}。",
    "Linked invoice {number}: {status}": "关联发票 {number}：{status}",
    "Only PNG and JPEG pictures can be attached.": "只能上传 PNG 或 JPEG 图片。",
    "Only officers set the status of a reply.": "只有税务人员可以设置回复的状态。",
    "Reply to your support ticket {number}": "您的工单 {number} 有新回复",
    "Sign in to the platform to read the reply and answer it.": "请登录平台查看并答复。",
    "Status {status}, category {category}, taxpayer {taxpayer}, by {author}.": (
        "状态 {status}，类别 {category}，纳税人 {taxpayer}，提交人 {author}。"
    ),
    "Subject: {subject}": "主题：{subject}",
    "The file of attachment {id} is missing on the server.": "服务器上缺少附件 {id} 的文件。",
    "The tax bureau has replied to your support ticket.": "税务机关已回复您的工单。",
    "Ticket {number} is closed; the user may reopen it by replying.": (
        "工单 {number} 已关闭；用户回复即可重新打开。"
    ),
    "Ticket {number} was not found.": "未找到工单 {number}。",
    "Ticket: {number}": "工单：{number}",
    "Write a message or attach a file.": "请填写消息或上传附件。",
    "author": "提交人",
    "category": "类别",
    "number": "编号",
    "officer": "税务人员",
    "status": "状态",
    "subject": "主题",
    "taxpayer": "纳税人",
    "updated": "更新时间",
}
