"""简体中文 (Simplified Chinese): the same keys as en.py, written for a Chinese reader rather
than word for word. Model names, file formats, commands and API paths stay as they are."""

STRINGS: dict[str, str] = {
    # -- 页面与各页共用 -------------------------------------------------------------------------------
    "studio.header": "**多模态工作室** · 语音转写与翻译、情感分析、以文搜图与图片描述、视频内搜索、文生图，"
                     "全部在本机运行。",
    "studio.how_it_works": "工作原理",
    "studio.english_translation": "英文译文",
    "error.disk_full": "服务器磁盘已满，本次内容没有保存（之前保存的内容完好无损）。"
                       "请删除不再需要的图片或分类头，或请管理员腾出空间。",
    "error.unexpected": "服务器出了点问题（{kind}: {detail}），详情见服务器日志。",
    "error.provide": "请提供{what}。",
    "error.file_gone": "服务器上找不到该{what}（{name}），请重新上传。",
    "error.shared_gallery": "“{name}”是共享图库，在这里只读：输入其他名称即可新建你自己的图库。",
    "error.no_gallery": "没有名为“{name}”的图库：请先往里添加图片（或选择示例图库）。",
    "upload.audio": "录音或音频文件",
    "upload.mic_chunk": "麦克风音频片段",
    "upload.file": "文件",
    "seen.heading": "分类器有把握的内容",
    "seen.sure": "✓ 确定",
    "seen.kind": "~ 确定大类",
    "seen.guess": "? 猜测",
    "seen.unclear": "– 看不清",
    "seen.nothing": "无法命名的东西",
    "seen.main": "主体",
    "seen.also": "另有",
    "seen.columns": "| 物体 | 把握程度 | 概率 | 可能是 | 位置 |",

    # -- 语音 ---------------------------------------------------------------------------------------
    "speech.title": "语音",
    "speech.intro": "录一段音或上传音频：Whisper 会写下说了什么，并译成英文。",
    "speech.notice.no_whisper": "⚠️ 本机没有 Whisper 的权重，此页暂时无法使用：[如何获取](#speech-how)。",
    "speech.audio": "音频",
    "speech.run": "转写并翻译",
    "speech.task": "任务",
    "speech.task.translate": "译成英文",
    "speech.task.transcribe": "按原语言转写",
    "speech.task.both": "两者都要",
    "speech.language": "说话语言",
    "speech.auto": "自动识别",
    "speech.beam": "束搜索宽度",
    "speech.beam_info": "1 最快（贪心解码）；5 是 Whisper 的默认值",
    "speech.target": "再把英文译成",
    "speech.target_none": "不翻译",
    "speech.target_info": "Whisper 之后可选的 NLLB-200 翻译步骤",
    "speech.target_info_missing": "需要 NLLB-200 模型，本机没有（见“工作原理”）",
    "speech.transcript": "转写文本（原语言）",
    "speech.target_text": "文本译文",
    "speech.target_label": "{language}译文",
    "speech.timeline": "时间轴：响度随时间的变化，阴影为识别出的片段（编号与下表一致）",
    "speech.segments": "分段",
    "speech.col.start": "开始（秒）",
    "speech.col.end": "结束（秒）",
    "speech.col.text": "文本",
    "speech.subtitles": "字幕（SRT、VTT）",
    "speech.examples": "示例（点一个，再点运行）",
    "speech.summary": "**语言**：{language}（`{code}`，p = {p}）· **时长**：{duration} 秒 · "
                      "**处理用时**：{total} 秒 · **实时率**：{rtf} · **模型**：{model}",
    "speech.how": "{model}（`{key}`，后端 `{backend}`）识别音频的语言，写下说了什么并译成英文，"
                  "附带时间分段和 SRT/VTT 字幕。支持 wav、mp3、flac、ogg、m4a、webm，最长 {minutes} 分钟。"
                  "**任务**决定输出哪种文本：英文译文、原语言的转写，或两者都要。**束搜索宽度**越大越准，但也越慢。"
                  "**实时字幕**直接读取麦克风：灰色的词是 Whisper 当前的猜测，连续两次解码一致后变黑；"
                  "其他语言会逐句给出英文译文；本机同一时间只能进行一场实时字幕。JSON 接口：`/speech_translate`。",
    "speech.how.no_translator": "把英文再译成其他语言需要可选的 `{key}` 模型（NLLB-200），本机没有：{how}",
    "live.title": "麦克风实时字幕",
    "live.intro": "点**录制**后开始说话：文字会随着你说话出现，点“停止并保存字幕”即可存成字幕文件。",
    "live.mic": "实时麦克风",
    "live.stop": "停止并保存字幕",
    "live.files": "实时字幕文件（SRT、VTT）",
    "live.idle": "点<b>录制</b>后开始说话，文字会随即出现在这里。",
    "live.transcript": "转写",
    "live.english": "英文",
    "live.final": "已结束",
    "live.listening": "正在聆听",
    "live.heard": "已听到 {seconds} 秒",
    "live.last_decode": "上次解码 {seconds} 秒",
    "live.silence": "跳过了 {seconds} 秒静音",
    "live.loading": "正在加载 Whisper",

    # -- 情感分析 -------------------------------------------------------------------------------------
    "sentiment.title": "情感分析",

    # -- 训练分类头 ----------------------------------------------------------------------------------
    "training.title": "训练分类头",

    # -- 图库搜索 -------------------------------------------------------------------------------------
    "search.title": "图库搜索",

    # -- 图片描述 -------------------------------------------------------------------------------------
    "captioning.title": "图片描述",

    # -- 视频 ---------------------------------------------------------------------------------------
    "videos.title": "视频",

    # -- 文生图 -------------------------------------------------------------------------------------
    "imagine.title": "文生图",

    # -- 系统 ---------------------------------------------------------------------------------------
    "system.title": "系统",
}

# Whisper 支持的语言（“语音”页的下拉菜单和结果摘要），按代码：STRINGS["lang.<code>"]。
LANGUAGES: dict[str, str] = {
    "en": "英语", "zh": "中文", "de": "德语", "es": "西班牙语", "ru": "俄语", "ko": "韩语", "fr": "法语", "ja": "日语",
    "pt": "葡萄牙语", "tr": "土耳其语", "pl": "波兰语", "ca": "加泰罗尼亚语", "nl": "荷兰语", "ar": "阿拉伯语",
    "sv": "瑞典语", "it": "意大利语", "id": "印尼语", "hi": "印地语", "fi": "芬兰语", "vi": "越南语", "he": "希伯来语",
    "uk": "乌克兰语", "el": "希腊语", "ms": "马来语", "cs": "捷克语", "ro": "罗马尼亚语", "da": "丹麦语",
    "hu": "匈牙利语", "ta": "泰米尔语", "no": "挪威语", "th": "泰语", "ur": "乌尔都语", "hr": "克罗地亚语",
    "bg": "保加利亚语", "lt": "立陶宛语", "la": "拉丁语", "mi": "毛利语", "ml": "马拉雅拉姆语", "cy": "威尔士语",
    "sk": "斯洛伐克语", "te": "泰卢固语", "fa": "波斯语", "lv": "拉脱维亚语", "bn": "孟加拉语", "sr": "塞尔维亚语",
    "az": "阿塞拜疆语", "sl": "斯洛文尼亚语", "kn": "卡纳达语", "et": "爱沙尼亚语", "mk": "马其顿语",
    "br": "布列塔尼语", "eu": "巴斯克语", "is": "冰岛语", "hy": "亚美尼亚语", "ne": "尼泊尔语", "mn": "蒙古语",
    "bs": "波斯尼亚语", "kk": "哈萨克语", "sq": "阿尔巴尼亚语", "sw": "斯瓦希里语", "gl": "加利西亚语",
    "mr": "马拉地语", "pa": "旁遮普语", "si": "僧伽罗语", "km": "高棉语", "sn": "绍纳语", "yo": "约鲁巴语",
    "so": "索马里语", "af": "南非荷兰语", "oc": "奥克语", "ka": "格鲁吉亚语", "be": "白俄罗斯语", "tg": "塔吉克语",
    "sd": "信德语", "gu": "古吉拉特语", "am": "阿姆哈拉语", "yi": "意第绪语", "lo": "老挝语", "uz": "乌兹别克语",
    "fo": "法罗语", "ht": "海地克里奥尔语", "ps": "普什图语", "tk": "土库曼语", "nn": "新挪威语", "mt": "马耳他语",
    "sa": "梵语", "lb": "卢森堡语", "my": "缅甸语", "bo": "藏语", "tl": "他加禄语", "mg": "马达加斯加语",
    "as": "阿萨姆语", "tt": "鞑靼语", "haw": "夏威夷语", "ln": "林加拉语", "ha": "豪萨语", "ba": "巴什基尔语",
    "jw": "爪哇语", "su": "巽他语", "yue": "粤语",
}
STRINGS.update({f"lang.{code}": name for code, name in LANGUAGES.items()})
