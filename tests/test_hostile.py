"""A corpus of hostile files: a rebuild indexes the good ones and reports every bad one.

The static files live in ``tests/fixtures/hostile/``; what cannot sensibly be committed is
made at test time by :func:`make_hostile`: a 50 MB file, a very long line, binary and NUL
bytes, UTF-16, symlinks (outside the corpus, a loop, a folder loop, a broken one), a FIFO,
an unreadable file and folder, and the "mojibake" sample from ``../shared`` when present.

We run as root in CI, where ``chmod 000`` stops nothing: there the refusal is simulated
(:func:`refuse_unreadable`); as another user the real permission bits do the work.
"""

from __future__ import annotations

import builtins
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, SHARED_CORPUS, engine_for

from searchapp import documents
from searchapp.backends.base import Stored
from searchapp.backends.whoosh import store
from searchapp.cli import cli
from searchapp.documents import loader

HOSTILE = ROOT / "tests" / "fixtures" / "hostile"
SOGOU = (
    SHARED_CORPUS / "encodings" / "sogou" / "news_sohusite_xml.smarty.MOJIBAKE_utf8-read-as-gbk.dat"
)
IS_ROOT = os.geteuid() == 0
BIG_BYTES = 50 * 1024 * 1024
LONG_LINE = "超长的一行" + "数据中心，算力网络，云计算平台。" * 25_000 + "末尾的关键词是星辰大海"

#: Files of the fixture folder that are indexed, and files made by make_hostile that are.
GOOD_STATIC = {
    "control-chars.txt",
    "crlf.txt",
    "dates/chinese.md",
    "dates/epoch.md",
    "dates/feb-30.md",
    "dates/invalid.md",
    "dates/iso-offset.md",
    "dates/plain-impossible.txt",
    "dates/slashes.md",
    "dates/words.md",
    "encodings/big5.txt",
    "encodings/gb18030.md",
    "encodings/gbk.txt",
    "encodings/utf8-bom.md",
    "good/hugo.md",
    "good/plain.txt",
    "names/a#b?c=d&e%20f.txt",
    "names/with space.txt",
    "names/中文 名字 😀.md",
    "only-front-matter.md",
    "title/from-name.md",
    "title/missing.md",
    "title/number.md",
    "yaml/billion-laughs.md",
    "yaml/broken.md",
    "yaml/deep-nesting.md",
    "yaml/empty-block.md",
    "yaml/list.md",
    "yaml/odd-types.md",
    "yaml/scalar.md",
    "yaml/unclosed.md",
}
GOOD_GENERATED = {"gen/long-line.txt", "gen/link-inside.md"}

SKIPPED = {
    "empty.md": "file is empty",
    "whitespace-only.txt": "file is empty (only whitespace)",
    "encodings/latin1.txt": "cannot decode text as UTF-8, GB18030 or Big5",
    "encodings/mojibake.txt": (
        "text is mojibake (UTF-8 that was once read as GBK or Big5); not indexed"
    ),
    "gen/big.txt": "file is 50 MB, over the 5 MB limit",
    "gen/binary.md": "binary file (contains NUL bytes)",
    "gen/nul.txt": "binary file (contains NUL bytes)",
    "gen/utf16.txt": "UTF-16 text is not supported; save the file as UTF-8",
    "gen/link-outside.md": "symlink points outside the corpus folder",
    "gen/loop-a.md": "cannot resolve path: symlink loop",
    "gen/loop-b.md": "cannot resolve path: symlink loop",
    "gen/link-dir": "symlinked folder not followed",
    "gen/broken-link.md": "cannot resolve path: broken symlink (its target does not exist)",
    "gen/fifo.txt": "not a regular file",
    "gen/unreadable.txt": "cannot read file: permission denied",
    "gen/locked": "cannot list folder: permission denied",
}

WARNINGS = {
    ("dates/epoch.md", "date ignored: 1741219200 is not a date"),
    ("dates/feb-30.md", "date ignored: cannot read '2025-02-30'"),
    ("dates/invalid.md", "date ignored: cannot read '2025-13-45'"),
    (
        "dates/plain-impossible.txt",
        "date ignored: cannot read '来源:测试社 2025年13月45日 25时61分'",
    ),
    ("dates/words.md", "date ignored: cannot read 'yesterday'"),
    ("yaml/broken.md", "front matter is not valid YAML; read as plain text"),
    ("yaml/deep-nesting.md", "title ignored: it is not text"),
    ("yaml/list.md", "front matter is a YAML list, not a mapping; read as plain text"),
    ("yaml/odd-types.md", "thumbnail ignored: '3.5' is not an http(s) URL"),
    ("yaml/scalar.md", "front matter is a YAML str, not a mapping; read as plain text"),
    ("yaml/unclosed.md", "front matter is not closed by a --- line; read as plain text"),
}

#: What the article ended up as: id -> (title, date as written by isoformat or None).
TITLES_AND_DATES = {
    "good/plain.txt": ("城市地铁新线路开通", "2025-03-08T09:30:00"),
    "good/hugo.md": ("光伏产业迎来新一轮增长", "2025-03-09T10:00:00"),
    "yaml/broken.md": ("断掉的前置信息", None),
    "yaml/list.md": ("第一项", None),
    "yaml/scalar.md": ("只是一个字符串", None),
    "yaml/unclosed.md": ("title: 没有结束的前置信息", None),
    "yaml/empty-block.md": ("空的前置信息块之后的第一行", None),
    "yaml/odd-types.md": ("列表标题", None),
    "yaml/billion-laughs.md": ("十亿笑声", None),
    "yaml/deep-nesting.md": ("嵌套很深的前置信息，正文讲述深层元数据。", None),
    "title/number.md": ("42", "2025-03-02T00:00:00"),
    "title/missing.md": ("这一行会成为标题", "2025-03-03T00:00:00"),
    "title/from-name.md": ("from name", None),
    "dates/invalid.md": ("不存在的日期", None),
    "dates/feb-30.md": ("二月三十日", None),
    "dates/chinese.md": ("中文日期", "2025-03-04T08:05:00"),
    "dates/slashes.md": ("斜线日期", "2025-03-05T18:30:00"),
    "dates/iso-offset.md": ("带时区的日期", "2025-03-06T07:08:09"),
    "dates/epoch.md": ("数字日期", None),
    "dates/words.md": ("文字日期", None),
    "dates/plain-impossible.txt": ("不可能的来源日期", None),
    "encodings/gbk.txt": ("国家统计局发布数据", "2025-03-10T10:00:00"),
    "encodings/big5.txt": ("臺灣科技產業發展", "2025-03-11T11:00:00"),
    "encodings/gb18030.md": ("编码测试文章", "2025-03-12T00:00:00"),
    "encodings/utf8-bom.md": ("带字节序标记的文章", "2025-03-13T00:00:00"),
    "names/中文 名字 😀.md": ("文件名有中文空格和表情", None),
    "names/with space.txt": ("文件名有空格", None),
    "names/a#b?c=d&e%20f.txt": ("文件名有网址字符", None),
    "crlf.txt": ("换行符测试", None),
    "control-chars.txt": ("控制字符测试", None),
    "only-front-matter.md": ("只有标题没有正文", "2025-03-14T00:00:00"),
    "gen/link-inside.md": ("城市地铁新线路开通", "2025-03-08T09:30:00"),
    "gen/long-line.txt": ("超长的一行数据中心，算力网络，云计算平台", None),  # cut at 。
}


def has_sogou() -> bool:
    return SOGOU.is_file()


def make_hostile(dest: Path) -> Path:
    """Copy the static hostile files to ``dest`` and add the generated ones under gen/."""
    shutil.copytree(HOSTILE, dest)
    gen = dest / "gen"
    gen.mkdir()
    with open(gen / "big.txt", "wb") as fh:  # real text, not a sparse file
        block = ("大文件里的一行文字。" * 100 + "\n").encode("utf-8")
        written = 0
        while written + len(block) <= BIG_BYTES:
            fh.write(block)
            written += len(block)
        fh.write(b"x" * (BIG_BYTES - written))
    (gen / "long-line.txt").write_text(LONG_LINE, encoding="utf-8")  # one line, no newline
    (gen / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (gen / "nul.txt").write_bytes("标题\n正文里有一个\x00空字节。\n".encode())
    (gen / "utf16.txt").write_bytes("标题\n正文是 UTF-16 编码。\n".encode("utf-16"))
    outside = dest.parent / f"{dest.name}-outside.txt"
    outside.write_text("外部文件\n暗号是橘子汽水。\n", encoding="utf-8")
    (gen / "link-outside.md").symlink_to(outside)
    (gen / "loop-a.md").symlink_to("loop-b.md")
    (gen / "loop-b.md").symlink_to("loop-a.md")
    (gen / "link-dir").symlink_to(dest, target_is_directory=True)
    (gen / "link-inside.md").symlink_to(Path("..", "good", "plain.txt"))
    (gen / "broken-link.md").symlink_to("missing.md")
    os.mkfifo(gen / "fifo.txt")
    (gen / "unreadable.txt").write_text("锁住的文件\n正文。\n", encoding="utf-8")
    (gen / "unreadable.txt").chmod(0)
    (gen / "locked").mkdir()
    (gen / "locked" / "inside.txt").write_text("锁住的文件夹\n正文。\n", encoding="utf-8")
    (gen / "locked").chmod(0)
    if has_sogou():
        shutil.copyfile(SOGOU, gen / "sogou-sohusite.txt")
    return dest


def unlock(dest: Path) -> None:
    """Give back the permissions make_hostile took, so tmp_path can be removed."""
    for path in (dest / "gen" / "unreadable.txt", dest / "gen" / "locked"):
        if path.exists():
            path.chmod(0o755)


@pytest.fixture
def hostile(tmp_path: Path):
    dest = make_hostile(tmp_path / "hostile")
    yield dest
    unlock(dest)


@pytest.fixture
def refuse_unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    """As root, make the chmod-000 file and folder refuse like they would for a user."""
    if not IS_ROOT:
        return
    real_open, real_scandir = builtins.open, os.scandir

    def guarded_open(file, *args, **kwargs):
        if str(file).endswith("unreadable.txt"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    def guarded_scandir(path="."):
        if str(path).endswith(os.sep + "locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(loader, "open", guarded_open, raising=False)
    monkeypatch.setattr(os, "scandir", guarded_scandir)


def expected_good(root_can_read: bool = False) -> set[str]:
    good = GOOD_STATIC | GOOD_GENERATED
    if has_sogou():
        good.add("gen/sogou-sohusite.txt")
    if root_can_read:
        good |= {"gen/unreadable.txt", "gen/locked/inside.txt"}
    return good


def expected_skipped(root_can_read: bool = False) -> dict[str, str]:
    skipped = dict(SKIPPED)
    if root_can_read:
        del skipped["gen/unreadable.txt"], skipped["gen/locked"]
    return skipped


def indexed_ids(index: Path) -> set[str]:
    with store.open_index(index).searcher() as searcher:
        return {fields["id"] for fields in searcher.all_stored_fields()}


def stored(index: Path) -> dict[str, Stored]:
    """id -> what the index stores of every live document (the text from the sidecars)."""
    engine = engine_for(index, index)
    with engine.pinned():
        view = engine.view()
        return {s.id: s for s in view.stored(list(view.reader.all_doc_ids()))}


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# -- the loader on its own -----------------------------------------------------------------


def test_load_corpus_never_raises_and_sorts_every_file(hostile: Path, refuse_unreadable) -> None:
    items = list(documents.load_corpus(hostile))
    skipped = {i.id: i.reason for i in items if isinstance(i, documents.Skipped)}
    loaded = {i.id: i for i in items if isinstance(i, documents.Document)}
    assert skipped == expected_skipped()
    assert set(loaded) == expected_good()
    assert {(d.id, w) for d in loaded.values() for w in d.warnings} == WARNINGS
    assert [i.id for i in items] == sorted(i.id for i in items)
    for doc_id, (title, when) in TITLES_AND_DATES.items():
        doc = loaded[doc_id]
        assert (doc.title, doc.date.isoformat() if doc.date else None) == (title, when), doc_id


def test_odd_front_matter_values_are_kept_as_text_or_dropped(hostile: Path) -> None:
    docs = {d.id: d for d in documents.load_corpus(hostile) if isinstance(d, documents.Document)}
    odd = docs["yaml/odd-types.md"]
    # title: [a, b] -> a; tags: {mapping} -> nothing; categories: 2025 -> "2025";
    # lang: 12 -> "12"; thumbnail: 3.5 -> dropped with a warning; summary: null -> "".
    assert (odd.title, odd.tags, odd.categories, odd.lang, odd.thumbnail, odd.summary) == (
        "列表标题",
        (),
        ("2025",),
        "12",
        "",
        "",
    )
    bomb = docs["yaml/billion-laughs.md"]
    # Aliases nested nine deep would be 9**9 items as text: only the plain tag is kept.
    assert (bomb.tags, bomb.categories, bomb.summary) == (("真标签",), (), "")
    assert docs["encodings/gbk.txt"].encoding == "gb18030"
    assert docs["encodings/big5.txt"].encoding == "big5"
    assert docs["encodings/utf8-bom.md"].encoding == "utf-8-sig"
    assert docs["gen/long-line.txt"].body == LONG_LINE  # kept whole, title cut
    assert "\x07" not in docs["control-chars.txt"].body
    assert "\x1b" not in docs["control-chars.txt"].body
    assert docs["crlf.txt"].body == "第一段讲述回车换行。\n第二段只有回车。"
    assert docs["only-front-matter.md"].body == ""


def test_the_sogou_mojibake_sample_is_clean_utf8(tmp_path: Path) -> None:
    """The shared sample named MOJIBAKE is really clean UTF-8: it loads, and is not
    mojibake. Without ../shared the same bytes are not available; the committed
    encodings/mojibake.txt (real mojibake) covers the rejection either way."""
    corpus = make_hostile(tmp_path / "hostile")
    try:
        docs = {d.id: d for d in documents.load_corpus(corpus) if isinstance(d, documents.Document)}
    finally:
        unlock(corpus)
    if not has_sogou():
        assert "gen/sogou-sohusite.txt" not in docs
        return
    doc = docs["gen/sogou-sohusite.txt"]
    assert doc.encoding == "utf-8"
    assert doc.warnings == ()
    assert "深圳地铁将设立ＶＩＰ头等车厢" in doc.body
    assert doc.title == "<doc>"  # an XML dump, read as plain text: its first line


# -- rebuild through the command line ---------------------------------------------------------


def test_cli_rebuild_indexes_the_good_and_reports_the_bad(
    hostile: Path, tmp_path: Path, refuse_unreadable
) -> None:
    index = tmp_path / "ix"
    result = invoke("rebuild", "--corpus", str(hostile), "--index", str(index))
    assert result.exit_code == 0, result.output
    good, skipped = expected_good(), expected_skipped()
    assert result.stdout.splitlines()[-1].startswith(
        f"rebuild: {len(good)} indexed, {len(skipped)} skipped; {len(good)} documents in the index"
    )
    err = result.stderr.splitlines()
    assert {line for line in err if line.startswith("skipped ")} == {
        f"skipped {doc_id}: {reason}" for doc_id, reason in skipped.items()
    }
    assert {line for line in err if line.startswith("warning ")} == {
        f"warning {doc_id}: {w}" for doc_id, w in WARNINGS
    }
    assert len(err) == len(skipped) + len(WARNINGS)  # nothing else: no traceback
    assert indexed_ids(index) == good
    fields = stored(index)
    for doc_id, (title, _when) in TITLES_AND_DATES.items():
        assert fields[doc_id].title == title, doc_id

    # The index answers for what it holds, odd names included.
    engine = engine_for(hostile, index)
    for query, doc_id in [
        ("破损元数据", "yaml/broken.md"),
        ("无效日期", "dates/invalid.md"),
        ("晶片出口", "encodings/big5.txt"),
        ("居民消费价格指数", "encodings/gbk.txt"),
        ("奇特文件名", "names/中文 名字 😀.md"),
        ("星辰大海", "gen/long-line.txt"),
        ("别名元数据", "yaml/billion-laughs.md"),
    ]:
        assert doc_id in [h.id for h in engine.search(query, pagelen=50).hits], query
    assert engine.search("橘子汽水").total == 0  # the file behind the outside symlink
    engine.close()


def test_cli_rebuild_json_lists_the_same(hostile: Path, tmp_path: Path, refuse_unreadable) -> None:
    result = invoke("rebuild", "--corpus", str(hostile), "--index", str(tmp_path / "ix"), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert {s["id"]: s["reason"] for s in data["skipped"]} == expected_skipped()
    assert {(w["id"], w["warning"]) for w in data["warnings"]} == WARNINGS
    assert (data["indexed"], data["total"]) == (len(expected_good()),) * 2


def test_cli_rebuild_strict_fails_but_names_every_file(
    hostile: Path, tmp_path: Path, refuse_unreadable
) -> None:
    index = tmp_path / "ix"
    result = invoke("rebuild", "--corpus", str(hostile), "--index", str(index), "--strict")
    assert result.exit_code == 1
    skipped = expected_skipped()
    err = result.stderr.splitlines()
    assert err[-1] == f"Error: {len(skipped)} files skipped (--strict)"
    assert {line for line in err if line.startswith("skipped ")} == {
        f"skipped {doc_id}: {reason}" for doc_id, reason in skipped.items()
    }
    # The good files are indexed all the same: --strict is about the exit status.
    assert indexed_ids(index) == expected_good()


def test_cli_update_over_hostile_files(hostile: Path, tmp_path: Path, refuse_unreadable) -> None:
    index = tmp_path / "ix"
    assert invoke("rebuild", "--corpus", str(hostile), "--index", str(index)).exit_code == 0
    result = invoke("update", "--corpus", str(hostile), "--index", str(index), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    # update only looks at files it can stat and that are not indexed yet: the bad files
    # are read (and reported) again; the links it cannot follow, the FIFO's siblings and
    # the unlistable folder are left to the next rebuild.
    assert data["indexed"] == 0 and data["deleted"] == 0
    assert data["unchanged"] == len(expected_good())
    assert {s["id"]: s["reason"] for s in data["skipped"]} == {
        k: v
        for k, v in expected_skipped().items()
        if k
        not in {
            "gen/loop-a.md",
            "gen/loop-b.md",
            "gen/link-dir",
            "gen/broken-link.md",
            "gen/locked",
        }
    }
    assert indexed_ids(index) == expected_good()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_python_dash_m_rebuild_over_hostile_files(hostile: Path, tmp_path: Path) -> None:
    """The real command in a real process (no monkeypatching: as root the chmod-000 file
    and folder are readable, and are indexed)."""
    index = tmp_path / "ix"
    proc = subprocess.run(
        [sys.executable, "-m", "searchapp", "rebuild", "--corpus", str(hostile)]
        + ["--index", str(index)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=170,
    )
    good, skipped = expected_good(IS_ROOT), expected_skipped(IS_ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(
        f"rebuild: {len(good)} indexed, {len(skipped)} skipped; {len(good)} documents"
    )
    assert set(proc.stderr.splitlines()) == {
        f"skipped {doc_id}: {reason}" for doc_id, reason in skipped.items()
    } | {f"warning {doc_id}: {w}" for doc_id, w in WARNINGS}
    assert indexed_ids(index) == good
    strict = subprocess.run(
        [sys.executable, "-m", "searchapp", "rebuild", "--strict", "--corpus", str(hostile)]
        + ["--index", str(index)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=170,
    )
    assert strict.returncode == 1
    assert strict.stderr.splitlines()[-1] == f"Error: {len(skipped)} files skipped (--strict)"
    assert "Traceback" not in strict.stderr


# -- configuration errors ----------------------------------------------------------------------


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("标题\n正文。\n", encoding="utf-8")
    return corpus


@pytest.mark.parametrize("command", ["rebuild", "update", "serve"])
def test_config_errors_are_one_line(command: str, small_corpus: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("", encoding="utf-8")
    cases = [
        (
            ["--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "ix")],
            f"Error: corpus folder not found: {tmp_path / 'nope'}",
        ),
        (
            ["--corpus", str(a_file), "--index", str(tmp_path / "ix")],
            f"Error: corpus folder is a file, not a folder: {a_file}",
        ),
        (
            ["--corpus", str(small_corpus), "--index", str(a_file)],
            f"Error: index folder is a file, not a folder: {a_file}",
        ),
        (
            ["--corpus", str(small_corpus), "--index", str(a_file / "ix")],
            f"Error: cannot create the index folder {a_file / 'ix'}: {a_file} is a file",
        ),
    ]
    for args, message in cases:
        result = CliRunner().invoke(cli, [command, *args])
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr == message + "\n", args
        assert result.stdout == ""  # nothing started, nothing announced
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "ix").exists()


@pytest.mark.parametrize("command", ["rebuild", "update", "serve"])
def test_unwritable_index_folder_is_one_line(
    command: str, small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if IS_ROOT:  # root may write anywhere: simulate what os.access says to a user
        real_access = os.access

        def access(path, mode, *args, **kwargs):
            if Path(path) == locked and mode & os.W_OK:
                return False
            return real_access(path, mode, *args, **kwargs)

        monkeypatch.setattr(os, "access", access)
    try:
        for index, message in [
            (locked, f"Error: index folder is not writable: {locked}"),
            (
                locked / "ix",
                f"Error: cannot create the index folder {locked / 'ix'}: {locked} is not writable",
            ),
        ]:
            result = CliRunner().invoke(
                cli, [command, "--corpus", str(small_corpus), "--index", str(index)]
            )
            assert result.exit_code == 1
            assert result.stderr == message + "\n"
    finally:
        locked.chmod(0o755)


def test_config_errors_from_a_real_process(small_corpus: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("", encoding="utf-8")
    for command in ("rebuild", "update", "serve", "stats", "search"):
        args = [command, "--corpus", str(small_corpus), "--index", str(a_file)]
        if command == "search":
            args.append("标题")
        proc = subprocess.run(
            [sys.executable, "-m", "searchapp", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
        assert proc.returncode == 1, command
        assert proc.stderr == f"Error: index folder is a file, not a folder: {a_file}\n"
        assert proc.stdout == ""


@pytest.mark.timeout(60)
def test_gunicorn_stops_at_start_with_one_line_for_a_missing_corpus(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(SEARCHAPP_CORPUS_DIR=str(tmp_path / "nope"), SEARCHAPP_INDEX_DIR=str(tmp_path))
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("gunicorn")), "-w", "2", "-b", "127.0.0.1:0"]
        + ["wsgi:app"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=50,
    )
    assert proc.returncode == 1  # gunicorn.conf.py checks in the master: no worker started
    ours = [line for line in proc.stderr.splitlines() if not line.startswith("[")]
    assert set(ours) == {f"Error: corpus folder not found: {tmp_path / 'nope'}"}
    assert "Traceback" not in proc.stderr
