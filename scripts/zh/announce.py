"""zh_CN translations of the announcement messages (banners, feeds, validation, CLI)."""

ZH = {
    "A maintenance notice needs the start and the end of its window.": (
        "维护公告须填写维护窗口的开始时间和结束时间。"
    ),
    "An announcement needs a title in both languages.": "公告须同时填写中文标题和英文标题。",
    "Announcement {id} published: {title}": "公告 {id} 已发布：{title}",
    "Announcement {id} withdrawn: {title}": "公告 {id} 已撤回：{title}",
    "Announcement {id} written: {title}": "公告 {id} 已保存：{title}",
    "Announcements of the electronic invoice platform": "电子发票服务平台公告",
    "Changes are paused then; reading and verification keep working.": (
        "届时暂停办理变更业务，查询和查验不受影响。"
    ),
    "Maintenance windows, release notes and notices.": "系统维护、版本说明和通知。",
    "Only a maintenance notice can pause changes.": "只有维护公告可以暂停变更业务。",
    "The end ({ends}) must be after the start ({starts}).": (
        "结束时间（{ends}）必须晚于开始时间（{starts}）。"
    ),
    "There is no announcement {id}.": "公告 {id} 不存在。",
    "Window: {starts} to {ends} (Beijing time).": "维护时间：{starts} 至 {ends}（北京时间）。",
    "{title}: {starts} to {ends} (Beijing time)": "{title}：{starts} 至 {ends}（北京时间）",
    "{title}: {starts} to {ends} (Beijing time). Changes are paused then; "
    "reading and verification keep working.": (
        "{title}：{starts} 至 {ends}（北京时间）。届时暂停办理变更业务，查询和查验不受影响。"
    ),
}
ZH["Must be a time between the years 2000 and 2999."] = "时间须在 2000 年至 2999 年之间。"
