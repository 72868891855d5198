"""zh_CN translations of the encryption key messages (fapiao keys …)."""

ZH = {
    "A rotation to data key {id} is unfinished: run fapiao keys rotate.": (
        "轮换到数据密钥 {id} 尚未完成：请运行 fapiao keys rotate。"
    ),
    "Cipher": "算法",
    "Continuing the unfinished rotation to data key {id}.": "继续未完成的轮换，目标数据密钥 {id}。",
    "Created": "创建时间",
    "Data key {id} encrypts new values; rotate to a new key first.": (
        "数据密钥 {id} 正用于加密新数据；请先轮换到新密钥。"
    ),
    "Data key {id} is retired.": "数据密钥 {id} 已停用。",
    "Data key {id} still encrypts {count} values; run fapiao keys rotate first.": (
        "数据密钥 {id} 仍加密着 {count} 个值；请先运行 fapiao keys rotate。"
    ),
    "Done: {count} rows re-encrypted; every value is under data key {id}.": (
        "完成：已重新加密 {count} 行；所有值均由数据密钥 {id} 加密。"
    ),
    "Key": "密钥",
    "Keys in use still decrypt old values; unused ones can be retired.": (
        "使用中的密钥仍用于解密旧数据；未使用的密钥可以停用。"
    ),
    "Master key": "主密钥",
    "New data key {id} encrypts new values from now on.": (
        "从现在起，新数据由新数据密钥 {id} 加密。"
    ),
    "New master key {id}; every data key is wrapped with it.": (
        "新主密钥 {id}；所有数据密钥均已用它重新封装。"
    ),
    "Purpose": "用途",
    "Re-encrypting": "正在重新加密",
    "Some values changed while re-encrypting; run fapiao keys rotate again to finish.": (
        "重新加密期间有数据发生变化；请再次运行 fapiao keys rotate 以完成轮换。"
    ),
    "State": "状态",
    "There is no data key {id}.": "不存在数据密钥 {id}。",
    "Values": "值的数量",
    "blind index": "盲索引",
    "current": "当前",
    "in use": "使用中",
    "retired": "已停用",
    "unused": "未使用",
    "{count} values are not encrypted yet.": "还有 {count} 个值尚未加密。",
}
