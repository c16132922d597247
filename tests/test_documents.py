"""Tests for searchapp.documents: parsing, decoding, rejection and corpus walking."""

from __future__ import annotations

import hashlib
import os
import sys
from datetime import datetime
from pathlib import Path

import pytest

from searchapp.documents import (
    DEFAULT_MAX_BYTES,
    Document,
    DocumentError,
    Skipped,
    corpus_fingerprint,
    iter_corpus_files,
    load_corpus,
    load_document,
    loader,
    parse_document,
)

REPO = Path(__file__).resolve().parents[1]
SEED_CORPUS = REPO / "corpus"
SHARED_CORPUS = REPO.parent / "shared" / "corpus"

needs_shared = pytest.mark.skipif(
    not SHARED_CORPUS.is_dir(), reason=f"shared corpus not found at {SHARED_CORPUS}"
)


def parse(text: str, doc_id: str = "a.md", encoding: str = "utf-8") -> Document:
    return parse_document(doc_id, text.encode(encoding))


def rejected(data: bytes, doc_id: str = "x.txt") -> str:
    with pytest.raises(DocumentError) as info:
        parse_document(doc_id, data)
    assert info.value.path == doc_id
    assert str(info.value) == f"{doc_id}: {info.value.reason}"
    assert "\n" not in str(info.value)
    return info.value.reason


HUGO = """---
title: "测试标题"
date: "2025-02-11 07:03:08"
summary: "摘要"
categories:
  - "qq"
lang:
  - "zh-CN"
tags:
  - "qq"
thumbnail: "https://example.com/a.jpg"
---

第一段。

[qq](https://new.qq.com/rain/a/1)
"""


# ------------------------------------------------------------------------ seed articles


def load_seed(name: str) -> Document:
    return load_document(SEED_CORPUS / "2025-02" / name, SEED_CORPUS)


def test_seed_003_hugo_in_txt():
    doc = load_seed("zhao-minghao-beyond-winning-and-losing.txt")
    assert doc.id == "2025-02/zhao-minghao-beyond-winning-and-losing.txt"
    assert doc.title == "赵明昊：摆脱“输赢视角”，共促AI发展"
    assert doc.date == datetime(2025, 2, 11, 7, 3, 8)
    assert doc.source_name == "qq"
    assert doc.source_url == "https://new.qq.com/rain/a/20250211A013J400"
    assert doc.categories == ("qq",)
    assert doc.tags == ("qq",)
    assert doc.lang == "zh-CN"
    assert doc.script == "hans"
    assert doc.thumbnail == ""
    assert doc.summary.startswith("近期，中国人工智能企业DeepSeek")
    assert doc.body.startswith("近期，中国人工智能企业DeepSeek以较低算力成本")
    assert doc.body.endswith("（作者是复旦大学美国研究中心副主任、教授）")
    assert "new.qq.com" not in doc.body and "title:" not in doc.body
    assert "\n\n" not in doc.body
    assert doc.encoding == "utf-8"
    assert doc.warnings == ()
    raw = (SEED_CORPUS / doc.id).read_bytes()
    assert doc.size == len(raw) == 5792
    assert doc.checksum == hashlib.sha1(raw).hexdigest()
    assert doc.mtime == (SEED_CORPUS / doc.id).stat().st_mtime


def test_seed_002_hugo_with_thumbnail():
    doc = load_seed("paris-ai-summit-china-success.txt")
    assert doc.title == "中方派出高级别代表团，DeepSeek让同行看到新希望，巴黎AI峰会热议“中国成功”"
    assert doc.date == datetime(2025, 2, 12, 7, 2, 11)
    assert doc.source_name == "qq"
    assert doc.source_url == "https://new.qq.com/rain/a/20250212A0199J00"
    assert doc.thumbnail.startswith("https://inews.gtimg.com/om_ls/")
    assert doc.lang == "zh-CN"


def test_seed_001_plain_text_with_source_line():
    doc = load_seed("deepseek-wins-china-ai-voice.txt")
    assert doc.title == "DeepSeek 为中国在国际市场争取到 AI 话语权"
    assert doc.source_name == "中国金融网"
    assert doc.source_url == ""
    assert doc.date == datetime(2025, 2, 6, 6, 41)
    assert doc.lang == "zh-Hans"
    assert doc.script == "hans"
    assert doc.categories == () and doc.tags == ()
    assert doc.body.startswith("中国金融网首席金融观察员 金科\n在全球人工智能(AI)技术")
    assert "来源" not in doc.body


def test_seed_000_leading_blank_lines_no_source():
    doc = load_seed("deepseek-reshapes-global-ai.txt")
    assert doc.title == (
        "DeepSeek横空出世是对全球人工智能发展格局的一次重塑 中国用行动证明开放创新的浪潮无法阻挡"
    )
    assert doc.date is None
    assert doc.source_name == ""
    assert doc.lang == "zh-Hans"
    assert doc.body.startswith("□ 本报记者 吴琼\n在科技发展日新月异的当下")
    assert doc.warnings == ()


def test_seed_corpus_walk_skips_config_files():
    ids = [path.relative_to(SEED_CORPUS).as_posix() for path in iter_corpus_files(SEED_CORPUS)]
    assert ids == [
        "2025-02/deepseek-reshapes-global-ai.txt",
        "2025-02/deepseek-wins-china-ai-voice.txt",
        "2025-02/paris-ai-summit-china-success.txt",
        "2025-02/zhao-minghao-beyond-winning-and-losing.txt",
    ]
    loaded = list(load_corpus(SEED_CORPUS))
    assert all(isinstance(doc, Document) for doc in loaded)
    assert set(corpus_fingerprint(SEED_CORPUS)) == set(ids)


def test_seed_config_files_have_the_documented_format():
    for line in (SEED_CORPUS / "userdict.txt").read_text(encoding="utf-8").splitlines():
        word, freq, tag = line.split(" ")
        assert word and freq.isdigit() and tag
    groups = [
        [term.strip() for term in line.split(",")]
        for line in (SEED_CORPUS / "synonyms.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ["DeepSeek", "深度求索"] in groups


# ------------------------------------------------------------------------ front matter


def test_front_matter_fields():
    doc = parse(HUGO, "x/a.md")
    assert doc.title == "测试标题"
    assert doc.summary == "摘要"
    assert doc.thumbnail == "https://example.com/a.jpg"
    assert doc.body == "第一段。"
    assert (doc.source_name, doc.source_url) == ("qq", "https://new.qq.com/rain/a/1")


def test_front_matter_detected_by_content_whatever_the_extension():
    assert parse(HUGO, "a.txt").title == "测试标题"
    assert parse("\n\n" + HUGO, "a.txt").title == "测试标题"


@pytest.mark.parametrize(
    "value, expected",
    [
        ('"2025-02-11 07:03:08"', datetime(2025, 2, 11, 7, 3, 8)),
        ('"2025-02-11"', datetime(2025, 2, 11)),
        ('"2025-02-11T07:03:08+08:00"', datetime(2025, 2, 11, 7, 3, 8)),
        ('"2025/02/11"', datetime(2025, 2, 11)),
        ("2025-02-11", datetime(2025, 2, 11)),
        ("2025-02-11 07:03:08", datetime(2025, 2, 11, 7, 3, 8)),
        ("2025-02-11T07:03:08+08:00", datetime(2025, 2, 11, 7, 3, 8)),
        ('"2025年2月11日"', datetime(2025, 2, 11)),
    ],
)
def test_front_matter_dates(value, expected):
    doc = parse(f"---\ntitle: t\ndate: {value}\n---\nbody\n")
    assert doc.date == expected
    assert doc.date.tzinfo is None
    assert doc.warnings == ()


@pytest.mark.parametrize("value", ['"2025-13-45"', "20250211", '"yesterday"', "true"])
def test_front_matter_bad_dates_are_ignored_with_a_warning(value):
    doc = parse(f"---\ntitle: t\ndate: {value}\n---\nbody\n")
    assert doc.date is None
    assert doc.title == "t"
    assert len(doc.warnings) == 1 and doc.warnings[0].startswith("date ignored")


def test_front_matter_tags_as_string_and_lang_as_string():
    doc = parse(
        "---\ntitle: t\ntags: AI, 芯片、英伟达，AI\ncategories: 科技\nlang: zh-HK\n---\nb\n"
    )
    assert doc.tags == ("AI", "芯片", "英伟达")
    assert doc.categories == ("科技",)
    assert doc.lang == "zh-HK"


def test_numeric_title_becomes_string():
    assert parse("---\ntitle: 2025\n---\nbody\n").title == "2025"
    assert parse("---\ntitle: 3.5\n---\nbody\n").title == "3.5"


def test_missing_title_comes_from_body_then_file_name():
    assert parse("---\ndate: 2025-01-01\n---\n# 大标题\n\n正文\n").title == "大标题"
    doc = parse_document("2025-02/2025-02-11-open_source-models.md", b"---\ntitle: ''\n---\n")
    assert doc.title == "open source models"
    assert doc.body == ""


def test_javascript_thumbnail_is_dropped_with_a_warning():
    doc = parse("---\ntitle: t\nthumbnail: 'javascript:alert(1)'\n---\nbody\n")
    assert doc.thumbnail == ""
    assert "thumbnail ignored" in doc.warnings[0]


def test_broken_yaml_is_indexed_as_text_without_the_block():
    doc = parse('---\ntitle: "好标题"\ntags: [a, b\n---\n正文第一段\n', "a.md")
    assert doc.warnings == ("front matter is not valid YAML; read as plain text",)
    assert doc.title == "好标题"
    assert doc.body == "正文第一段"
    assert "tags" not in doc.body


@pytest.mark.parametrize("block", ["- a\n- b", "just a string"])
def test_non_mapping_front_matter_is_plain_text(block):
    doc = parse(f"---\n{block}\n---\n正文\n", "a.txt")
    assert "not a mapping" in doc.warnings[0]
    assert "正文" in doc.body


def test_unclosed_front_matter_is_plain_text():
    doc = parse("---\n标题在这里\n正文\n", "a.txt")
    assert doc.title == "标题在这里"
    assert doc.body == "正文"
    assert "not closed" in doc.warnings[0]


# ------------------------------------------------------------------------ markdown


def test_markdown_reduction():
    text = """---
title: t
---
## 第一节 ##

> 引用的**重点**内容

- 列表项 *强调*
* 第二项 `代码`

![图片说明](https://img.example.com/a.png)
请看[这篇报道](https://example.com/x "标题")和[参考][1]，以及<https://example.com/y>。
<p>段落<br/>文字</p>

```python
print("代码保留")
```

---
__粗体__结尾 \\*星号\\* 和 &amp; 实体 &lt;b&gt;



[1]: https://example.com/ref
[来源](https://example.com/src)
"""
    doc = parse(text)
    assert doc.body.split("\n") == [
        "第一节",
        "引用的重点内容",
        "列表项 强调",
        "第二项 代码",
        "请看这篇报道和参考，以及https://example.com/y。",
        "段落文字",
        'print("代码保留")',
        "粗体结尾 *星号* 和 &amp; 实体 &lt;b&gt;",
    ]
    assert (doc.source_name, doc.source_url) == ("来源", "https://example.com/src")


def test_tail_link_must_be_the_whole_last_line():
    doc = parse("---\ntitle: t\n---\n正文 [qq](https://qq.com/a)\n\n更多正文\n")
    assert doc.source_name == "" and doc.source_url == ""
    doc = parse("---\ntitle: t\n---\n正文\n[x](javascript:alert(1))\n")
    assert doc.source_url == ""
    assert doc.body == "正文\nx"


def test_markdown_without_front_matter():
    doc = parse("# 标题\n\n正文**加粗**\n\n[新浪](https://sina.com.cn/a)\n", "a.md")
    assert doc.title == "标题"
    assert doc.body == "正文加粗"
    assert doc.source_name == "新浪"


# ------------------------------------------------------------------------ plain text


def test_traditional_source_line_with_shi():
    text = "中國年輕球員加盟法甲\n來源:香港電台 2025年11月23日 15時49分\n\n法甲球會歐塞爾宣布。\n"
    doc = parse(text, "rthk/a.txt")
    assert doc.title == "中國年輕球員加盟法甲"
    assert doc.source_name == "香港電台"
    assert doc.date == datetime(2025, 11, 23, 15, 49)
    assert doc.body == "法甲球會歐塞爾宣布。"
    assert doc.lang == "zh-Hant" and doc.script == "hant"


def test_source_line_full_width_colon_without_time():
    doc = parse("标题\n\n来源： 新华社 2025年2月3日\n正文\n", "a.txt")
    assert (doc.source_name, doc.date, doc.body) == ("新华社", datetime(2025, 2, 3), "正文")


def test_source_line_with_impossible_date():
    doc = parse("标题\n来源:某报 2025年13月45日\n正文\n", "a.txt")
    assert doc.date is None and doc.source_name == "某报"
    assert doc.warnings[0].startswith("date ignored")


def test_long_first_line_is_cut_and_kept_in_body():
    line = "这是第一句话。" + "后" * 300
    doc = parse(line + "\n第二段\n", "a.txt")
    assert doc.title == "这是第一句话"
    assert doc.body == line + "\n第二段"
    doc = parse("字" * 250 + "\n", "a.txt")
    assert doc.title == "字" * 80


def test_plain_text_without_chinese_and_without_title_line():
    doc = parse("Hello world\r\nsecond\tline\x07\r\n", "notes/2025-02-11_my-notes.txt")
    assert (doc.title, doc.body, doc.lang, doc.script) == ("Hello world", "second\tline", "", "")
    doc = parse("---\n...\n", "notes/2025-02-11_my-notes.txt")
    assert doc.title == "my notes"


def test_control_characters_and_crlf():
    doc = parse("标题\r\n第一\x0b段\x1f\r\n\r\n\r\n第二段\x7f\u0085\n", "a.txt")
    assert doc.title == "标题"
    assert doc.body == "第一段\n第二段"


# ------------------------------------------------------------------------ encodings


def test_bom_does_not_hide_front_matter():
    doc = parse_document("a.txt", b"\xef\xbb\xbf" + HUGO.encode("utf-8"))
    assert doc.title == "测试标题"
    assert doc.encoding == "utf-8-sig"
    assert doc.warnings == ()


TRADITIONAL = "台灣半導體產業持續擴張，晶片出口創下歷史新高。經濟部表示，人工智慧需求強勁。"
SIMPLIFIED = "中国人工智能企业深度求索发布的开源模型，在国际上引起广泛关注。专家表示前景广阔。"


@pytest.mark.parametrize(
    "text, codec, expected",
    [
        (SIMPLIFIED, "gbk", "gb18030"),
        (SIMPLIFIED + "𠀀", "gb18030", "gb18030"),
        (TRADITIONAL, "big5", "big5"),
        (TRADITIONAL, "gb18030", "gb18030"),
    ],
)
def test_legacy_encodings_round_trip(text, codec, expected):
    doc = parse_document("a.txt", f"新聞標題\n{text}\n".encode(codec))
    assert doc.encoding == expected
    assert doc.title == "新聞標題"
    assert doc.body == text


def test_big5_front_matter():
    doc = parse_document("a.md", f'---\ntitle: "臺灣新聞"\n---\n{TRADITIONAL}\n'.encode("big5"))
    assert (doc.encoding, doc.title, doc.body) == ("big5", "臺灣新聞", TRADITIONAL)


def test_mojibake_is_rejected():
    garbled = (SIMPLIFIED * 3).encode("utf-8").decode("gbk", errors="replace")
    assert garbled.startswith("涓")
    reason = rejected(garbled.encode("utf-8"))
    assert "mojibake" in reason
    short = "关于我们的新闻".encode().decode("gbk", errors="replace")  # 鍏充簬鎴戜滑...
    assert "mojibake" in rejected(short.encode("utf-8"))
    big5_garbled = (TRADITIONAL * 2).encode("utf-8").decode("big5", errors="replace")
    assert "mojibake" in rejected(big5_garbled.encode("utf-8"))


def test_undecodable_bytes_are_rejected():
    assert "cannot decode" in rejected(b"caf\xe9 \x80\x80 \xff " * 20)
    assert "cannot decode" in rejected(b"\xef\xbb\xbf\xff\xff")


# ------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n  ", b"\xef\xbb\xbf\n\n"])
def test_empty_files_are_rejected(data):
    assert "empty" in rejected(data)


def test_binary_files_are_rejected():
    assert "binary" in rejected(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "binary" in rejected(bytes(range(1, 32)) * 50)
    assert "UTF-16" in rejected("标题".encode("utf-16"))


def test_too_big_file(tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.truncate(int(52.4 * 1024 * 1024))
    with pytest.raises(DocumentError) as info:
        load_document(big, tmp_path)
    assert info.value.reason == "file is 52.4 MB, over the 5 MB limit"
    assert DEFAULT_MAX_BYTES == 5 * 1024 * 1024
    small = tmp_path / "small.txt"
    small.write_text("标题\n" + "字" * 1000, encoding="utf-8")
    with pytest.raises(DocumentError, match="over the 1 KB limit"):
        load_document(small, tmp_path, max_bytes=1024)


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "secret.txt"
    path.write_text("标题\n正文\n", encoding="utf-8")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):  # running as root: simulate the refusal

            def refuse(*args, **kwargs):
                raise PermissionError(13, "Permission denied")

            monkeypatch.setattr(loader, "open", refuse, raising=False)
        with pytest.raises(DocumentError, match="cannot read file: permission denied"):
            load_document(path, tmp_path)
        assert list(load_corpus(tmp_path)) == [
            Skipped("secret.txt", "cannot read file: permission denied")
        ]
    finally:
        path.chmod(0o644)


def test_path_outside_root(tmp_path):
    (tmp_path / "corpus").mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("标题\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="outside the corpus"):
        load_document(outside, tmp_path / "corpus")


# ------------------------------------------------------------------------ corpus walk


def write(path: Path, text: str = "标题\n正文\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_iter_corpus_files_filters_and_sorts(tmp_path):
    for name in [
        "b.md",
        "a-c.txt",
        "a/b.txt",
        "a/z.MARKDOWN",
        "UserDict.txt",
        "synonyms.txt",
        "README.md",
        "sub/userdict.txt",
        ".hidden.md",
        ".git/x.md",
        "notes.rst",
        "image.png",
        "中文 目录/新闻 😀.txt",
    ]:
        write(tmp_path / name)
    ids = [p.relative_to(tmp_path).as_posix() for p in iter_corpus_files(tmp_path)]
    assert ids == [
        "a-c.txt",
        "a/b.txt",
        "a/z.MARKDOWN",
        "b.md",
        "sub/userdict.txt",
        "中文 目录/新闻 😀.txt",
    ]
    docs = list(load_corpus(tmp_path))
    assert [d.id for d in docs] == ids
    assert docs[-1].title == "标题"
    fingerprint = corpus_fingerprint(tmp_path)
    assert list(fingerprint) == ids
    path = tmp_path / "中文 目录/新闻 😀.txt"
    assert fingerprint["中文 目录/新闻 😀.txt"] == (path.stat().st_mtime, path.stat().st_size)


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlinks_loops_and_bad_files_never_crash_load_corpus(tmp_path):
    root = tmp_path / "corpus"
    write(root / "good.txt")
    write(root / "empty.txt", "")
    (root / "binary.md").write_bytes(b"\x00\x01\x02")
    outside = write(tmp_path / "outside.txt")
    (root / "escape.txt").symlink_to(outside)
    (root / "inside-link.txt").symlink_to(root / "good.txt")
    (root / "broken.txt").symlink_to(root / "missing.txt")
    (root / "sub").mkdir()
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    os.mkfifo(root / "fifo.txt")
    results = {item.id: item for item in load_corpus(root)}
    assert isinstance(results["good.txt"], Document)
    assert isinstance(results["inside-link.txt"], Document)
    assert results["inside-link.txt"].body == "正文"
    assert results["empty.txt"] == Skipped("empty.txt", "file is empty")
    assert results["binary.md"] == Skipped("binary.md", "binary file (contains NUL bytes)")
    assert results["escape.txt"] == Skipped(
        "escape.txt", "symlink points outside the corpus folder"
    )
    assert results["broken.txt"].reason.startswith("cannot resolve path")
    assert results["fifo.txt"] == Skipped("fifo.txt", "not a regular file")
    assert results["sub/loop"] == Skipped("sub/loop", "symlinked folder not followed")
    assert len(results) == 8
    # escape.txt is yielded by the walk; only load_document rejects it.
    assert "escape.txt" in [p.name for p in iter_corpus_files(root)]


def test_missing_corpus_folder(tmp_path):
    assert list(iter_corpus_files(tmp_path / "nope")) == []
    assert corpus_fingerprint(tmp_path / "nope") == {}
    assert [s.id for s in load_corpus(tmp_path / "nope")] == ["."]


def test_document_is_frozen():
    doc = parse(HUGO)
    with pytest.raises(AttributeError):
        doc.title = "x"  # type: ignore[misc]


# ------------------------------------------------------------------------ shared corpus


@pytest.mark.corpus
@needs_shared
def test_all_shared_news_files_load():
    failures: list[str] = []
    count = 0
    for folder in ("news-hugo", "news-txt"):
        for item in load_corpus(SHARED_CORPUS / folder):
            count += 1
            if isinstance(item, Skipped):
                failures.append(f"{folder}/{item.id}: {item.reason}")
            elif not item.title.strip() or not item.body.strip():
                failures.append(f"{folder}/{item.id}: empty title or body")
            elif item.date is None:
                failures.append(f"{folder}/{item.id}: no date")
    assert failures == []
    assert count == 13_796


@pytest.mark.corpus
@needs_shared
def test_reencoded_files_match_their_utf8_originals():
    originals = {
        path.name: path
        for folder in ("news-txt", "news-hugo")
        for path in (SHARED_CORPUS / folder).rglob("*")
        if path.is_file()
    }
    expected = {
        "gbk_txt_from_agora_aj": "gb18030",
        "gb18030_md_from_genkin_qq": "gb18030",
        "big5_txt_from_agora_cna": "big5",
    }
    checked = 0
    for folder, encoding in expected.items():
        for path in sorted((SHARED_CORPUS / "encodings" / "reencoded" / folder).iterdir()):
            doc = parse_document(path.name, path.read_bytes())
            original = parse_document(path.name, originals[path.name].read_bytes())
            assert doc.encoding == encoding, path.name
            assert (doc.title, doc.body, doc.date) == (
                original.title,
                original.body,
                original.date,
            ), path.name
            text, _ = loader._decode(path.name, path.read_bytes())
            assert text == originals[path.name].read_text(encoding="utf-8"), path.name
            checked += 1
    assert checked == 300


@pytest.mark.corpus
@needs_shared
def test_sogou_samples():
    sogou = SHARED_CORPUS / "encodings" / "sogou"
    doc = load_document(sogou / "news_tensite_xml.smarty.dat", sogou)
    assert doc.encoding == "gb18030"
    assert "公安机关销毁１０余万非法枪支" in doc.body
    # Despite its name, this file is clean UTF-8 Chinese (99.7% common characters); the
    # mojibake appears only when its bytes are read as GBK, which the loader never does.
    # Real mojibake (the text after such a misreading) is covered by
    # test_mojibake_is_rejected.
    doc = load_document(sogou / "news_sohusite_xml.smarty.MOJIBAKE_utf8-read-as-gbk.dat", sogou)
    assert doc.encoding == "utf-8"
    assert "深圳地铁将设立ＶＩＰ头等车厢" in doc.body
    data = (sogou / "news_sohusite_xml.smarty.MOJIBAKE_utf8-read-as-gbk.dat").read_bytes()
    misread = data.decode("gbk", errors="replace")
    assert "mojibake" in rejected(misread.encode("utf-8"))
