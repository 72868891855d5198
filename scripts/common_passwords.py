"""Writes src/fapiao/accounts/data/common-passwords.txt: passwords people choose most
often, and the patterns behind them, as far as the minimum length (8) lets them through.

The list is built from words and habits seen again and again in published analyses of
leaked passwords (English and Chinese sites alike): the word "password" and its spellings,
keyboard walks, runs and repeats of digits, birth dates, pinyin names and phrases such as
woaini1314, each with the endings people add to reach a length rule. Run it again after
changing a list below; the output is sorted, lower-case and one password a line."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import product
from pathlib import Path

OUT = Path(__file__).parent.parent / "src/fapiao/accounts/data/common-passwords.txt"
MIN, MAX = 8, 128

WORDS = """password passw0rd p@ssword p@ssw0rd pa55word pass pwd qwerty qwertyuiop admin
administrator root system sysadmin manager user guest test tester demo default welcome
letmein iloveyou loveyou monkey dragon football baseball basketball soccer sunshine
princess master shadow superman batman spiderman trustno1 abc abcd abcdef abcdefg login
changeme secret hello hello123 freedom whatever starwars michael jennifer charlie jordan
computer internet china beijing shanghai guangzhou shenzhen hangzhou nanjing wuhan chengdu
tianjin chongqing xian woaini aini nihao zhongguo fapiao caiwu kuaiji shuiwu gongsi
qq baidu taobao weixin wechat huawei xiaomi tencent alibaba sina office company finance
invoice tax account accounting summer winter spring autumn flower lovely angel baby
mother father family friend happy lucky money killer hunter ranger tiger lion eagle
apple orange banana cherry chocolate cookie pepper ginger silver golden diamond
purple yellow matrix mustang harley ferrari porsche mercedes jessica ashley michelle
daniel thomas robert william richard joseph andrew joshua george hannah thunder
cheese butter hockey tennis soccer1 pokemon naruto qazwsx asdfgh zxcvbn qwe asd zxc
abc123 a123456 aa123456 qq123456 love admin1 root1 test1 user1 linux windows ubuntu
oracle mysql postgres database server network service support office365 outlook
gmail hotmail yahoo google facebook twitter github secure security private
caonima wocao haha hehe xixi wangzhan mima wodemima zhanghao denglu guanli xitong
""".split()

SUFFIXES = [
    "",
    *""" 1 12 123 1234 12345 123456 1234567 12345678 ! !! @ # $ . 1! 123! @123 #123
123. 11 111 1111 00 000 0000 01 001 007 666 888 999 520 521 1314 5201314 2008 2010
2012 2015 2016 2017 2018 2019 2020 2021 2022 2023 2024 2025 2026 2027 88 99 66 01! 2024!
2025! 2026! abc qwe qaz @qq @163 .com""".split(),
]

SURNAMES = """zhang wang li liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin luo
gao zheng liang xie song tang han feng deng cao peng zeng xiao tian dong pan yuan cai
jiang yu du ye cheng wei su lv ding ren lu yao shen zhong cui tan fan jin shi jia""".split()

GIVEN = """wei fang na min jing li qiang lei jun yang yong yan jie tao ming chao xiu xia hua
ping gang hong bo hui ling dan fei bin yu hao peng ting xin yi qing long feng jian kai
lin""".split()

NAME_SUFFIXES = [
    "",
    "123",
    "888",
    "520",
    "1314",
    "1",
    "1234",
    "123456",
    "666",
    "521",
    "0",
    "12",
    "11",
    "88",
    "99",
    "2000",
    "1990",
    "2008",
]

PHRASES = """woaini1314 woaini520 woaini521 woaini123 woaini1234 woaini123456 iloveyou1314
5201314 1314520 13145200 52013145 5201314a a5201314 woshishui woainima woaiwojia
woaiwoma woaiwoba zhongguoren zhongguo123 beijing2008 aini1314 aini520 iloveu1314
woxihuanni wodebaobei baobei520 baobei1314 laopo520 laogong520 qinaide shengri kuaile
xingfu xingfu520 pingan pingan888 facai888 fa888888 ff888888 aa888888 zz888888 qq888888
wangwang abc888888 a888888888 hao123456 hao123 wo123456 ni123456 yanghang qwe123qwe
""".split()

WALKS = """qwertyui qwertyuiop qwertyuiop[] asdfghjk asdfghjkl asdfghjkl; zxcvbnm zxcvbnm,
zxcvbnm,./ 1qaz2wsx 1qaz2wsx3edc 1qaz2wsx3edc4rfv 1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y
q1w2e3r4 q1w2e3r4t5 qazwsxedc qazwsxedcrfv zaq12wsx zaq1xsw2 !qaz2wsx !qaz@wsx
1qazxsw2 2wsx3edc 3edc4rfv qweasdzxc qweasd123 zxcasdqwe asdf1234 qwer1234 zxcv1234
1234qwer 1234asdf 1234zxcv 123qweasd 123qweasdzxc qwe123456 qwe12345 asd123456
zxc123456 qweqweqwe asdasdasd zxczxczxc qwertyu1 qwerty12 qwerty123 qwerty1234
ytrewq123 poiuytrewq lkjhgfdsa mnbvcxz 1234qwerasdf qwerasdf qwerasdfzxcv 147258369
159753456 741852963 963852741 159357456 147852369 123698745 789456123 321654987
147896325 1472583690 qaz123456 wsx123456 a1b2c3d4 a1b2c3d4e5 abcd1234 abc12345
abcde12345 abcdefgh abcdefg1 abcd123456 aaa123456 aa112233 aabbccdd 11223344 112233445566
12341234 123123123 123321123 12344321 1234554321 123454321 12121212 13131313 13579246
1357924680 2468013579 13572468 24681357 135792468 qwertasdfg""".split()


def _digit_runs() -> set[str]:
    found: set[str] = set()
    up, down = "01234567890123456789", "98765432109876543210"
    for length in range(MIN, 13):
        for start in range(10):
            found.add(up[start : start + length])
            found.add(down[start : start + length])
        for digit in "0123456789":
            found.add(digit * length)
    for pair in product("0123456789", repeat=2):
        found.add("".join(pair) * 4)
    for triple in ("123", "321", "520", "147", "258", "369", "159", "357", "666", "888", "789"):
        found.add(triple * 3)
    return found


def _dates() -> set[str]:
    found: set[str] = set()
    day = date(1970, 1, 1)
    while day <= date(2005, 12, 31):
        found.add(day.strftime("%Y%m%d"))
        day += timedelta(days=1)
    return found


def build() -> list[str]:
    found = set(PHRASES) | set(WALKS) | _digit_runs() | _dates()
    for word, suffix in product(WORDS, SUFFIXES):
        found.add(word + suffix)
    for surname, given, suffix in product(SURNAMES, GIVEN, NAME_SUFFIXES[:6]):
        found.add(surname + given + suffix)
    for surname, suffix in product(SURNAMES, NAME_SUFFIXES):
        found.add(surname + suffix)
        found.add(surname + surname + suffix)
    for word in WORDS[:40]:
        found.add(word + word)
        found.add(word.capitalize() + "@123")
    return sorted(entry.lower() for entry in found if MIN <= len(entry) <= MAX)


def main() -> None:
    entries = build()
    OUT.write_text("\n".join(entries) + "\n", encoding="utf-8")
    print(f"{len(entries)} passwords written to {OUT}")


if __name__ == "__main__":
    main()
