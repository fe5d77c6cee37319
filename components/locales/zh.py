"""简体中文 (Simplified Chinese): the same keys as en.py, written for a Chinese reader rather
than word for word. Model names, file formats, commands and API paths stay as they are."""

STRINGS: dict[str, str] = {
    # -- 页面与各页共用 -------------------------------------------------------------------------------
    "studio.header": "**多模态工作室** · 语音转写与翻译、情感分析、以文搜图与图片描述、视频内搜索、文生图，"
                     "全部在本机运行。",
    "studio.how_it_works": "工作原理",
    "studio.list_separator": "、",
    "studio.english_translation": "英文译文",
    "studio.images_read_by": "本机由 {reader} 读取图片。",
    "error.disk_full": "服务器磁盘已满，本次内容没有保存（之前保存的内容完好无损）。"
                       "请删除不再需要的图片或分类头，或请管理员腾出空间。",
    "error.unexpected": "服务器出了点问题（{kind}: {detail}），详情见服务器日志。",
    "error.provide": "请提供{what}。",
    "error.file_gone": "服务器上找不到该{what}（{name}），请重新上传。",
    "error.shared_gallery": "“{name}”是共享图库，在这里只读：输入其他名称即可新建你自己的图库。",
    "error.no_gallery": "没有名为“{name}”的图库：请先往里添加图片（或选择示例图库）。",
    "upload.audio": "录音或音频文件",
    "upload.image": "图片",
    "upload.voice": "语音片段",
    "upload.csv": "CSV 文件",
    "upload.dataset": "数据集（CSV、JSONL、Parquet 或 zip）",
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
    "sentiment.intro": "输入一句话（也可以附上图片或语音），看看它的情感倾向。",
    "sentiment.notice.no_heads": "⚠️ 缺少随应用提供的分类头，暂时无法预测：[如何修复](#sentiment-how)。",
    "sentiment.notice.partial": "⚠️ 本机有部分输入或分类头不可用：[查看详情](#sentiment-how)。",
    "sentiment.text": "文本",
    "sentiment.text_placeholder": "输入一句话，比如一条影评",
    "sentiment.image": "图片（可选）",
    "sentiment.audio": "语音（可选）",
    "sentiment.head": "分类头",
    "sentiment.head_info": "default：更准确；fast：快约十倍；你训练的分类头也会出现在这里",
    "sentiment.run": "分析情感",
    "sentiment.scores": "情感",
    "sentiment.strength": "强度",
    "sentiment.words": "支持（红）与反对（紫）该结论的词",
    "sentiment.leaned": "判断主要依据",
    "sentiment.input": "输入",
    "sentiment.share": "占比",
    "sentiment.examples": "试一句（最后两个示例带有图片或语音）",
    "sentiment.batch": "批量模式：上传 CSV，返回带预测结果的同一份 CSV",
    "sentiment.csv": "CSV 文件",
    "sentiment.column": "文本所在列",
    "sentiment.run_batch": "逐行预测",
    "sentiment.predictions": "预测结果（CSV）",
    "sentiment.first_rows": "前几行",
    "sentiment.predicting": "预测中",
    "sentiment.explanation": "根据{modalities}判断为 **{label}**（分类头 `{head}`）；主要依据是**{top}**。",
    "sentiment.no_intensity": "这个分类头训练时没有评分数据，因此没有强度输出。",
    "sentiment.scale_hint": "人工平均评分，范围 -4 到 +4",
    "sentiment.very_negative": "-4 非常负面",
    "sentiment.very_positive": "非常正面 +4",
    "sentiment.intensity": "<b>强度 {value}</b>（-4 到 +4）：{feeling}",
    "sentiment.barely_positive": "几乎中性，略偏正面",
    "sentiment.mildly_positive": "略偏正面",
    "sentiment.clearly_positive": "明显正面",
    "sentiment.strongly_positive": "非常正面",
    "sentiment.barely_negative": "几乎中性，略偏负面",
    "sentiment.mildly_negative": "略偏负面",
    "sentiment.clearly_negative": "明显负面",
    "sentiment.strongly_negative": "非常负面",
    "sentiment.label.positive": "正面",
    "sentiment.label.negative": "负面",
    "sentiment.label.neutral": "中性",
    "sentiment.modality.text": "文本",
    "sentiment.modality.image": "图片",
    "sentiment.modality.audio": "语音",
    "sentiment.modality.lexicon": "情感词典",
    "sentiment.csv_unreadable": "无法把“{name}”当作 CSV 读取：{error}",
    "sentiment.csv_no_column": "“{name}”中没有“{column}”列（现有列：{columns}）。",
    "sentiment.csv_no_rows": "“{name}”里没有数据行。",
    "sentiment.csv_too_long": "“{name}”有 {rows} 行；批量模式最多处理 {most} 行。",
    "sentiment.how": "情感由预训练编码器之上的一个小型融合分类头判断：句子编码器（文本）加上 VADER 情感词典得分、"
                     "图像引擎（CLIP，离线时为标签桥）以及 Whisper 转写（语音）。"
                     "红色的词把结果推向该标签，紫色的词则相反；"
                     "条形图显示判断主要依据哪种输入；强度采用人工平均评分的 -4 到 +4 刻度。"
                     "可以在“训练分类头”页用自己的数据重新训练；分类头只用训练时的图像引擎读取图片。"
                     "**批量模式**可一次处理整份 CSV。JSON 接口：`/sentiment`、`/heads`。",
    "sentiment.how.head": "分类头 {summary}。",
    "sentiment.how.head_problem": "⚠️ 分类头 `{name}` 在本机不可用：{problem}",
    "sentiment.how.no_heads": "⚠️ {folder} 中缺少随应用提供的分类头；运行 "
                              "`python -m scripts.train_default_head` 即可重新生成。",
    "sentiment.how.no_modality": "⚠️ 本机无法使用{modality}输入，预测时会略过它：{reason}",

    # -- 训练分类头 ----------------------------------------------------------------------------------
    "training.title": "训练分类头",
    "training.intro": "上传一份带标签的样本表，用它训练你自己的分类头。",
    "training.dataset": "数据集",
    "training.example": "示例数据集",
    "training.name": "分类头名称",
    "training.name_placeholder": "默认：文件名加时间戳",
    "training.labels": "预期标签（可选）",
    "training.labels_placeholder": "例如 negative, positive",
    "training.labels_info": "出现其他标签的行会被报告出来（便于发现拼写错误）",
    "training.fusion": "融合方式",
    "training.fusion_info": "早期融合：拼接后接 MLP · 晚期融合：各模态分别分类 · 门控融合：GMU · "
                            "注意力融合：在各模态 token 上运行 Transformer",
    "training.fusion.early": "早期融合",
    "training.fusion.late": "晚期融合",
    "training.fusion.gated": "门控融合",
    "training.fusion.attention": "注意力融合",
    "training.epochs": "最大训练轮数（早停可能提前结束）",
    "training.lr": "学习率",
    "training.hidden": "隐藏层大小",
    "training.batch_size": "批大小",
    "training.seed": "随机种子",
    "training.run": "开始训练",
    "training.loss": "损失",
    "training.validation": "验证集表现",
    "training.mse_plot": "强度：验证集 MSE（评分的平方）",
    "training.epoch": "轮次",
    "training.value": "数值",
    "training.curve": "曲线",
    "training.train_loss": "训练损失",
    "training.val_loss": "验证损失",
    "training.val_f1": "验证宏 F1",
    "training.val_accuracy": "验证准确率",
    "training.val_mse": "验证强度 MSE",
    "training.confusion": "混淆矩阵（测试集；行为真实标签，列为预测标签）",
    "training.done": "✅ 训练完成。",
    "training.no_result": "训练结束了，但没有得到结果。",
    "training.saved": "已保存分类头 **`{head}`**（最佳轮次 {best}/{epochs}，用时 {seconds} 秒；训练/验证/测试 = "
                      "{train}/{val}/{test} 行）。现在可以在“情感分析”页的分类头列表中找到它。",
    "training.test_scores": "测试集：准确率 **{accuracy}** · 宏精确率 **{precision}** · "
                            "宏召回率 **{recall}** · 宏 F1 **{f1}**{auc}",
    "training.auc": " · ROC-AUC **{auc}**",
    "training.per_class": "| 类别 | 精确率 | 召回率 | F1 | 样本数 |",
    "training.intensity": "强度（`score` 列，-4 到 +4），测试集：MSE **{mse}** · MAE **{mae}** · "
                          "Pearson r **{pearson}**，基于 {n} 行有评分的数据。",
    "training.n_a": "无",
    "training.how": "表格需要一列 `label`，以及 `text`、`image`、`audio` 中的任意几列（CSV、JSONL 或 Parquet；"
                    "图片和音频与表格一起打包成 zip，路径相对于表格）。可选的数值列 `score`（情感有多强烈，"
                    "即 -4 到 +4 的人工平均评分；允许留空）会增加一个强度输出，用 MSE、MAE 和 Pearson r 评估。"
                    "编码器保持冻结：文本由 MiniLM + VADER 读取，图片在有权重时由 CLIP 读取，否则离线由标签桥读取"
                    "（分类头会记下所用引擎，之后只用它读图），语音由 Whisper 读取。按 70/15/15 分层划分数据，"
                    "使用 AdamW、类别权重，并按验证集宏 F1 早停。分类头与你的其他内容一起保存，"
                    "随即出现在“情感分析”页。JSON 接口：`/train_head`。",

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
