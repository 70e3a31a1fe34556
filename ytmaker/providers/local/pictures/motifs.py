"""Which picture a segment gets: a table of motifs and the words (zh-TW and English) that name them.

A segment's description reads "title — words" (the offline writer) or is a prompt in English (an
LLM writer). The motif named most often in the words wins (the title's motif, the video's
topic, counts less there), the one named first breaks a tie; the title decides alone only when
the words name nothing; with no motif named at all the seed picks a landscape. A longer keyword
takes its text first: "bubble tea" is the drink, not the tea garden, and "夜市" is a night
market, not a market.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from ytmaker.providers.local.pictures import nature, places, things
from ytmaker.providers.local.pictures.canvas import Canvas

OUTDOOR = ("day", "day", "dawn", "dusk")  # listed twice: drawn twice as often
AFTER_DARK = ("night", "night", "dusk")
INDOOR = ("day",)
ANY = ("day", "day", "dawn", "dusk", "night")


@dataclass(frozen=True)
class Motif:
    name: str  # English, shown on the contact sheet and in logs
    zh_name: str
    draw: Callable[[Canvas], None]
    zh: tuple[str, ...]  # zh-TW keywords: found anywhere in the text
    en: tuple[str, ...]  # English keywords: whole words, plural -s/-es allowed, any case
    lights: tuple[str, ...] = OUTDOOR  # the times of day it is drawn in
    mirror: bool = True  # may be flipped left-right for variety (not a chart that rises)


# fmt: off
MOTIFS: tuple[Motif, ...] = (
    Motif(
        "night market", "夜市", places.night_market,
        zh=("夜市", "攤販", "攤位", "人潮", "夜晚", "逛街", "夜生活"),
        en=("night market", "stall", "vendor", "hawker", "crowd", "nightlife"),
        lights=AFTER_DARK,
    ),
    Motif(
        "street food", "小吃", things.street_food,
        zh=("小吃", "香腸", "鹽酥雞", "臭豆腐", "雞排", "蚵仔煎", "胡椒餅", "大腸包小腸", "炸物",
            "燒烤", "烤肉", "炭火", "美食", "料理", "食物", "吃", "口味", "滷味", "串燒"),
        en=("street food", "food", "snack", "grill", "grilled", "barbecue", "fried", "sausage",
            "skewer", "chicken", "tofu", "dish", "eat", "taste", "flavour", "flavor"),
        lights=AFTER_DARK,
    ),
    Motif(
        "bubble tea", "珍珠奶茶", things.bubble_tea,
        zh=("珍珠奶茶", "奶茶", "珍珠", "粉圓", "手搖飲", "飲料", "果汁", "波霸", "吸管"),
        en=("bubble tea", "boba", "milk tea", "pearl", "tapioca", "drink", "cup", "straw",
            "milk", "sugar", "juice", "beverage"),
        lights=INDOOR,
    ),
    Motif(
        "tea garden", "茶園", nature.tea_garden,
        zh=("茶", "茶園", "茶葉", "烏龍", "高山茶", "泡茶", "茶壺", "採茶", "茶農"),
        en=("tea", "tea garden", "tea leaves", "tea plantation", "plantation", "oolong", "teapot",
            "tea picker", "brewed"),
    ),
    Motif(
        "mountains", "高山", nature.mountains,
        zh=("山", "高山", "山脈", "阿里山", "玉山", "合歡山", "登山", "爬山", "山頂", "日出",
            "雲海", "山峰"),
        en=("mountain", "peak", "summit", "hike", "hiking", "alishan", "ridge", "sunrise",
            "sea of clouds", "highland"),
    ),
    Motif(
        "sea", "海邊", nature.sea,
        zh=("海", "海邊", "海灘", "沙灘", "海浪", "海岸", "海洋", "島", "漁港", "衝浪", "浮潛"),
        en=("sea", "ocean", "beach", "coast", "wave", "island", "harbour", "harbor", "surf",
            "shore", "seaside"),
    ),
    Motif(
        "river", "河流", nature.river,
        zh=("河", "溪", "河流", "溪流", "河岸", "河濱", "橋", "淡水"),
        en=("river", "stream", "creek", "bridge", "riverside", "canal", "valley"),
    ),
    Motif(
        "lake", "湖", nature.lake,
        zh=("湖", "潭", "日月潭", "湖泊", "水庫", "湖畔"),
        en=("lake", "pond", "reservoir", "sun moon lake", "lakeside"),
    ),
    Motif(
        "forest", "森林", nature.forest,
        zh=("森林", "樹", "樹林", "神木", "林道", "步道", "原始林", "檜木"),
        en=("forest", "tree", "woods", "woodland", "jungle", "trail", "cypress"),
    ),
    Motif(
        "rain", "雨天", nature.rain,
        zh=("雨", "下雨", "雨天", "颱風", "梅雨", "雨傘", "雷雨", "午後雷陣雨"),
        en=("rain", "rainy", "storm", "typhoon", "umbrella", "monsoon", "drizzle", "thunder"),
        lights=("grey", "grey", "night"),
    ),
    Motif(
        "flowers", "花", nature.blossoms,
        zh=("花", "櫻花", "花園", "花海", "春天", "開花", "賞花", "桐花"),
        en=("flower", "blossom", "cherry", "garden", "bloom", "petal"),
        lights=("day", "day", "dawn"),
    ),
    Motif(
        "rice fields", "稻田", nature.rice_field,
        zh=("農", "稻田", "田", "稻米", "農夫", "農民", "種植", "收成", "收穫", "農場", "鄉村",
            "米"),
        en=("farm", "farmer", "field", "rice", "harvest", "crop", "village", "countryside",
            "paddy"),
        lights=("day", "day", "dawn", "dusk"),
    ),
    Motif(
        "city", "城市", places.city,
        zh=("城市", "都市", "台北", "臺北", "高雄", "台中", "臺中", "台南", "臺南", "大樓", "街道",
            "市區", "101", "城"),
        en=("city", "cities", "skyline", "downtown", "urban", "building", "skyscraper", "taipei",
            "kaohsiung", "taichung", "tainan", "street", "town"),
        lights=ANY,
    ),
    Motif(
        "temple", "廟宇", places.temple,
        zh=("廟", "寺", "宮", "廟口", "廟宇", "拜拜", "香火", "媽祖", "祈福", "神明", "廟會"),
        en=("temple", "shrine", "worship", "pray", "prayer", "incense", "buddhist", "taoist",
            "mazu"),
        lights=ANY,
    ),
    Motif(
        "festival", "節慶", places.festival,
        zh=("節慶", "慶典", "燈會", "天燈", "煙火", "元宵", "過年", "春節", "中秋", "熱鬧", "慶祝",
            "燈籠", "跨年"),
        en=("festival", "lantern", "firework", "celebration", "celebrate", "new year", "parade",
            "carnival"),
        lights=("night",),
    ),
    Motif(
        "train", "火車", places.train,
        zh=("火車", "列車", "鐵路", "鐵道", "高鐵", "捷運", "車站", "台鐵", "小火車", "月台",
            "交通"),
        en=("train", "railway", "railroad", "rail", "station", "metro", "subway", "locomotive",
            "transport"),
        lights=ANY,
    ),
    Motif(
        "school", "學校", places.school,
        zh=("學校", "學生", "老師", "教室", "上課", "放學", "讀書", "校園", "同學", "教育", "學習",
            "孩子", "小孩", "畢業"),
        en=("school", "student", "teacher", "classroom", "class", "campus", "learn", "education",
            "kid", "children", "pupil"),
        lights=("day", "day", "dawn"),
    ),
    Motif(
        "market", "市場", places.market,
        zh=("市場", "市集", "菜市場", "傳統市場", "買", "賣", "新鮮", "食材", "蔬菜", "水果"),
        en=("market", "marketplace", "grocer", "produce", "vegetable", "fruit", "fresh", "buy",
            "sell", "ingredient"),
        lights=("day", "day", "dawn"),
    ),
    Motif(
        "shop", "小店", places.shop,
        zh=("店", "商店", "店家", "老店", "門市", "開店", "老闆", "店員", "招牌", "點餐", "排隊"),
        en=("shop", "store", "tea shop", "tea house", "teahouse", "tea stand", "staff", "owner",
            "cafe", "café", "counter", "order", "ordering", "customer"),
        lights=ANY,
    ),
    Motif(
        "travel", "旅行", places.travel,
        zh=("旅行", "旅遊", "旅客", "旅程", "觀光", "遊客", "外國", "出國", "國外", "海外", "飛機",
            "機場", "行李", "飯店", "旅館", "世界", "移民"),
        en=("travel", "traveller", "traveler", "tourist", "trip", "journey", "visit", "visitor",
            "abroad", "airport", "plane", "flight", "suitcase", "hotel", "overseas", "world",
            "moved"),
    ),
    Motif(
        "phone", "手機", things.phone,
        zh=("手機", "社群", "網路", "照片", "拍照", "科技", "上網", "直播", "打卡", "影片"),
        en=("phone", "smartphone", "social media", "photo", "photograph", "camera", "app",
            "online", "internet", "selfie", "video"),
        lights=INDOOR,
    ),
    Motif(
        "business", "商業", things.business,
        zh=("生意", "商業", "經濟", "價格", "錢", "零錢", "支付", "行動支付", "結帳", "品牌",
            "出口", "企業", "產業", "便宜", "賺", "成本", "商機"),
        en=("business", "economy", "price", "money", "pay", "payment", "brand", "export",
            "company", "profit", "sales", "coin", "cash", "cheap", "product", "industry",
            "market share", "global"),
        lights=INDOOR,
        mirror=False,
    ),
    Motif(
        "family and friends", "家人朋友", things.gathering,
        zh=("家人", "朋友", "相聚", "家族", "家庭", "父母", "聚會", "團圓", "一起", "聊天",
            "分著吃", "親友", "人情味"),
        en=("family", "families", "friend", "together", "gather", "gathering", "share", "dinner",
            "parent", "community", "chat"),
        lights=INDOOR,
    ),
    Motif(
        "games", "遊戲", things.games,
        zh=("遊戲", "射氣球", "撈金魚", "套圈圈", "玩", "彈珠", "夾娃娃", "氣球", "金魚", "童年"),
        en=("game", "play", "playing", "balloon", "goldfish", "toy", "prize", "fun"),
        lights=("night",),
    ),
    Motif(
        "cooking", "烹飪", things.cooking,
        zh=("煮", "炒", "廚房", "手藝", "鍋", "湯", "烹飪", "廚師", "做菜", "熬", "火候", "食譜",
            "蒸"),
        en=("cook", "cooking", "cooked", "kitchen", "chef", "boil", "boiled", "soup", "pot", "wok",
            "recipe", "stove", "temperature"),
        lights=INDOOR,
    ),
    Motif(
        "dessert", "甜點", things.dessert,
        zh=("冰", "刨冰", "剉冰", "愛玉", "冰淇淋", "甜點", "芒果冰", "豆花", "甜", "消暑", "夏天",
            "夏夜", "點心"),
        en=("dessert", "ice cream", "shaved ice", "sweet", "pudding", "jelly", "mango", "summer",
            "cake"),
        lights=INDOOR,
    ),
    Motif(
        "recycling", "環保", things.recycling,
        zh=("垃圾", "回收", "環境", "環保", "減塑", "永續", "分類", "衛生", "污染", "餐具", "塑膠"),
        en=("recycle", "recycling", "waste", "trash", "garbage", "environment", "plastic",
            "pollution", "sustainable", "litter"),
        lights=("day", "day", "dawn"),
    ),
)
# fmt: on
SCENERY = tuple(m for m in MOTIFS if m.name in ("mountains", "sea", "lake", "forest", "river"))
BY_NAME = {m.name: m for m in MOTIFS}
TOPIC_WEIGHT = 0.75


@lru_cache(maxsize=1)
def _keywords() -> list[tuple[re.Pattern[str], Motif]]:
    """Every keyword as a pattern, longest first (so it takes its text before a shorter one)."""
    pairs = [(word, m) for m in MOTIFS for word in m.zh] + [
        (word.lower(), m) for m in MOTIFS for word in m.en
    ]
    pairs.sort(key=lambda pair: -len(pair[0]))
    return [(_pattern(word), motif) for word, motif in pairs]


def _pattern(word: str) -> re.Pattern[str]:
    if word.isascii():
        return re.compile(rf"(?<![a-z]){re.escape(word)}(?:s|es)?(?![a-z])")
    return re.compile(re.escape(word))


def named(text: str) -> list[tuple[int, Motif]]:
    """(position, motif) for every keyword in `text`; a character counts for one keyword."""
    lowered, taken = text.lower(), bytearray(len(text))
    found = []
    for pattern, motif in _keywords():
        for match in pattern.finditer(lowered):
            if not any(taken[match.start() : match.end()]):
                taken[match.start() : match.end()] = b"\x01" * (match.end() - match.start())
                found.append((match.start(), motif))
    return found


def _best(found: list[tuple[int, Motif]], topic: frozenset[str] = frozenset()) -> Motif | None:
    """The motif named most often (the video's own topic, named in its title, counting less:
    a segment's particular subject says more); of equals, the one named first."""
    score: dict[str, tuple[float, int]] = {}
    for position, motif in found:
        count, first = score.get(motif.name, (0.0, position))
        weight = TOPIC_WEIGHT if motif.name in topic else 1.0
        score[motif.name] = (count + weight, min(first, position))
    if not score:
        return None
    name = max(score, key=lambda n: (score[n][0], -score[n][1]))
    return BY_NAME[name]


def split_description(description: str) -> tuple[str, str]:
    """(title, words) of "title — words"; a description without the dash is all words."""
    title, dash, words = description.partition(" — ")
    return (title, words) if dash else ("", description)


def choose(description: str, seed: int) -> Motif:
    title, words = split_description(description)
    in_title = named(title)
    topic = frozenset(motif.name for _, motif in in_title)
    motif = _best(named(words), topic) or _best(in_title)
    return motif or SCENERY[seed % len(SCENERY)]
