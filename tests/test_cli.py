"""The command line: output shapes, plain text when piped, errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, REPO, SEED_IDS

HIT_KEYS = {"id", "path", "title", "date", "author", "source", "score", "snippets"}


def test_search_json_shape(cli, seed_index) -> None:
    result = cli("search", "quan uy ba dinh", "--json", "--index", seed_index)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert {"query", "total", "page", "limit", "took_ms", "hits"} <= set(data)
    assert data["query"] == "quan uy ba dinh" and data["total"] == 4
    assert data["missing_one"] == 2  # the last two lack one of the words
    assert data["page"] == 1 and data["limit"] == 10 and data["took_ms"] >= 0
    for hit in data["hits"]:
        assert HIT_KEYS <= set(hit)
        assert 1 <= len(hit["snippets"]) <= 3
        for snip in hit["snippets"]:
            assert set(snip) >= {"text", "matches", "html"}
            for start, end in snip["matches"]:
                assert snip["text"][start:end].strip()
            assert "<mark>" in snip["html"] or not snip["matches"]
    marked = {s["text"][a:b] for h in data["hits"] for s in h["snippets"] for a, b in s["matches"]}
    assert "Đình" in marked


def test_search_plain_output_has_no_escape_codes_when_piped(cli, seed_index) -> None:
    result = cli("search", "dang vien", "--limit", "2", "--index", seed_index)
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout
    assert "5 result(s)" in result.stdout and "--page 2" in result.stdout
    assert "đảng viên" in result.stdout.lower()


def test_search_sort_and_paging_options(cli, seed_index) -> None:
    data = json.loads(cli("search", "dang", "--sort", "date", "-n", "2", "-p", "2", "--json",
                          "--index", seed_index).stdout)
    assert data["page"] == 2 and data["limit"] == 2 and len(data["hits"]) == 2


def test_bad_query_is_one_line_and_exit_2(cli, seed_index) -> None:
    result = cli("search", "!!!", "--index", seed_index)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1 and "error:" in result.stderr


def test_bad_options_exit_2(cli, seed_index) -> None:
    assert cli("search", "dang", "--sort", "oldest", "--index", seed_index).exit_code == 2
    assert cli("search", "dang", "--limit", "0", "--index", seed_index).exit_code == 2
    assert cli("search", "dang", "--limit", "1000", "--index", seed_index).exit_code == 2


def test_missing_index_says_how_to_build_it(cli, tmp_path: Path) -> None:
    result = cli("search", "dang", "--index", tmp_path / "nothing")
    assert result.exit_code == 1
    assert "vnsearch index" in result.stderr and "Traceback" not in result.output


def test_index_env_variable(cli, seed_index) -> None:
    result = cli("stats", "--json", env={"VNSEARCH_INDEX": str(seed_index)})
    assert result.exit_code == 0 and json.loads(result.stdout)["documents"] == 5


def test_index_command_summary_and_failures(cli, tmp_path: Path, corpus_copy: Path) -> None:
    (corpus_copy / "bad.txt").write_bytes(b"\x00\x01binary")
    result = cli("index", corpus_copy, "--index", tmp_path / "ix", "--json")
    assert result.exit_code == 1  # one file failed, the rest is indexed
    data = json.loads(result.stdout)
    assert data["added"] == 5 and data["documents"] == 5
    assert data["failed"] == [{"path": "bad.txt", "reason": data["failed"][0]["reason"]}]
    assert "binary" in data["failed"][0]["reason"]

    (corpus_copy / "bad.txt").unlink()
    again = cli("index", "--index", tmp_path / "ix")  # no PATH: the roots indexed before
    assert again.exit_code == 0
    assert "0 added" in again.stdout and "5 unchanged" in again.stdout


def test_index_missing_path_is_a_usage_error(cli, tmp_path: Path) -> None:
    result = cli("index", tmp_path / "nope", "--index", tmp_path / "ix")
    assert result.exit_code == 2 and "no such file" in result.stderr
    assert not (tmp_path / "ix").exists()


def test_show_by_id_and_prefix(cli, seed_index) -> None:
    data = json.loads(cli("show", SEED_IDS[1], "--json", "--index", seed_index).stdout)
    assert data["id"] == SEED_IDS[1]
    assert data["title"].startswith("Quận Ba Đình phát động")
    assert "Ba Đình" in data["body"]
    text = cli("show", SEED_IDS[1].removesuffix(".txt"), "--index", seed_index)
    assert text.exit_code == 0 and "Quận Ba Đình phát động" in text.stdout
    missing = cli("show", "no-such-id", "--index", seed_index)
    assert missing.exit_code == 1 and "no article" in missing.stderr


def test_stats(cli, seed_index) -> None:
    data = json.loads(cli("stats", "--json", "--index", seed_index).stdout)
    assert data["documents"] == 5 and data["size_bytes"] > 0
    assert data["last_indexed"] and {"title", "body", "title_f", "text_f"} <= set(data["fields"])
    assert data["roots"] == [str(CORPUS)]
    plain = cli("stats", "--index", seed_index).stdout
    assert "articles:     5" in plain


def test_help_teaches_the_query_syntax(cli) -> None:
    text = cli("search", "--help").stdout
    assert "quan uy ba dinh" in text and "--sort" in text and "author:" in text
    assert "vnsearch index" in cli("--help").stdout


def test_python_dash_m_entry_point(seed_index) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "search", "search", "go vap", "--json", "--index", str(seed_index)],
        capture_output=True, text=True, cwd=REPO, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["hits"][0]["id"] == "004_752ea5e39524a483.txt"


def test_search_filters_and_facets_through_the_cli(cli, seed_index) -> None:
    result = cli("search", "thi dua", "--place", "ba dinh", "--facets", "--json", "--index", seed_index)
    data = json.loads(result.stdout)
    assert {h["id"] for h in data["hits"]} == {"001_f4567b4d3bda134d.txt", "003_0abad921df26c789.txt"}
    assert data["facets"]["place"]["Ba Đình"] == 2
    plain = cli("search", "", "--since", "2023", "--facets", "--index", seed_index).stdout
    assert "2 result(s)" in plain and "year: 2023 2" in plain and "place:" in plain
    assert cli("search", "x", "--since", "someday", "--index", seed_index).exit_code == 2
    assert cli("search", "", "--index", seed_index).exit_code == 2  # no words, no filters


def test_show_json_has_every_field(cli, seed_index) -> None:
    data = json.loads(cli("show", "002_7f5c0ff51dbfc99e.txt", "--json", "--index", seed_index).stdout)
    for key in ("title", "date", "author", "source", "places", "provinces_2025", "people",
                "summary", "word_count", "body", "has_time"):
        assert key in data
    assert data["date"] == "2023-05-18T21:04:00" and data["author"] == "Trần Hòa"


def test_extract_command(cli) -> None:
    data = json.loads(cli("extract", CORPUS / "000_79b2625c10f6956a.txt", "--json").stdout)
    assert data["author"] == "Trần Thảo" and data["date"] == "2023-01-12T00:00:00"
    assert data["places"] == ["Bắc Từ Liêm", "Hà Nội"] and data["source"] == "Kinhtedothi"
    plain = cli("extract", CORPUS / "004_752ea5e39524a483.txt").stdout
    assert "Gò Vấp, TP.HCM" in plain and "An Nhiên" in plain


def test_extract_command_on_bad_files(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01")
    result = cli("extract", bad)
    assert result.exit_code == 1 and "binary" in result.stderr
    as_json = cli("extract", bad, "--json")
    assert as_json.exit_code == 1 and "binary" in json.loads(as_json.stdout)["error"]["message"]
    assert cli("extract", tmp_path / "missing.txt").exit_code == 2


def test_search_prints_did_you_mean(cli, seed_index) -> None:
    result = cli("search", "quan uy ba dinh", "--index", seed_index)
    assert result.stdout.splitlines()[0] == "Có phải bạn muốn tìm: Quận ủy Ba Đình"
    data = json.loads(cli("search", "quan uy ba dinh", "--json", "--index", seed_index).stdout)
    assert data["suggestion"] == "Quận ủy Ba Đình" and data["corrected"] is False


def test_search_shows_corrected_results_and_exact_turns_it_off(cli, seed_index) -> None:
    result = cli("search", "quaanj uyr", "--index", seed_index)
    assert "No results for 'quaanj uyr'; showing results for: Quận ủy" in result.stdout
    assert "5 result(s)" in result.stdout
    data = json.loads(cli("search", "quaanj uyr", "--exact", "--json", "--index", seed_index).stdout)
    assert data["corrected"] is False and data["total"] == 0


def test_search_typo_notice(cli, seed_index) -> None:
    # "thuong" is in three articles; "trường", one edit away, in two more
    result = cli("search", "thuong", "--limit", "1", "--index", seed_index)
    assert "2 of these match a word one typo away." in result.stdout


def test_suggest_command(cli, seed_index) -> None:
    result = cli("suggest", "ba d", "--index", seed_index)
    assert result.exit_code == 0 and "place  Ba Đình (2 articles)" in result.stdout
    data = json.loads(cli("suggest", "tran", "--json", "--index", seed_index).stdout)
    assert data["prefix"] == "tran"
    assert {"text": "Trần Đức Hoạt", "kind": "person", "count": 1, "id": None} in data["suggestions"]
    assert "No completions" in cli("suggest", "xyzzyq", "--index", seed_index).stdout
    assert cli("suggest", "ba", "--limit", "0", "--index", seed_index).exit_code == 2


@pytest.mark.parametrize(
    ("args", "code", "param", "says"),
    [
        (["search", "(+)"], 2, "q", "no searchable words"),
        (["search", "(+)title: quận"], 2, "q", "cannot parse query"),
        (["search", "x", "--sort", "size"], 2, "sort", "--sort must be"),
        (["search", "x", "--since", "yesterday"], 2, "since", "bad date"),
        (["search", "x", "--place", "%%%"], 2, "place", "bad place"),
        (["show", "no-such-article"], 1, "id", "no article with id"),
    ],
)
def test_json_errors_are_one_object_on_stdout(cli, seed_index, args, code, param, says) -> None:
    result = cli(*args, "--json", "--index", seed_index)
    assert result.exit_code == code
    error = json.loads(result.stdout)["error"]
    assert error["param"] == param and (says is None or says in error["message"])
    assert result.stderr == ""
    # The same error without --json: one line on stderr, same exit code.
    plain = cli(*args, "--index", seed_index)
    assert plain.exit_code == code and plain.stdout == ""
    assert plain.stderr.startswith("error: ") and plain.stderr.count("\n") == 1


def test_json_error_when_there_is_no_index(cli, tmp_path: Path) -> None:
    for command in (["search", "x"], ["stats"], ["suggest", "ba"], ["show", "x"]):
        result = cli(*command, "--json", "--index", tmp_path / "none")
        assert result.exit_code == 1
        assert "no index at" in json.loads(result.stdout)["error"]["message"]


def test_usage_errors_are_json_too(tmp_path: Path) -> None:
    """Errors click finds before the command runs (a bad number, an unknown option)
    go through the program's entry point, JSON under --json, usage text otherwise."""
    def vnsearch(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "search", *args], capture_output=True,
                              text=True, cwd=tmp_path, timeout=60)

    bad = vnsearch("search", "x", "--limit", "abc", "--json")
    assert bad.returncode == 2 and json.loads(bad.stdout)["error"]["param"] == "limit"
    unknown = vnsearch("search", "x", "--bogus", "--json")
    assert unknown.returncode == 2 and "--bogus" in json.loads(unknown.stdout)["error"]["message"]
    plain = vnsearch("search", "x", "--limit", "abc")
    assert plain.returncode == 2 and "Usage: vnsearch search" in plain.stderr
    assert plain.stdout == ""


def test_error_messages_name_no_internal_fields(cli, tmp_path: Path) -> None:
    """A pattern that expands too far is named as typed (``zz*``), not ``text_f:zz*``."""
    archive = tmp_path / "many-words.txt"
    words = " ".join(f"zz{n:04d}" for n in range(1200))
    archive.write_text(f"Nhiều từ\n\n{words}\n", encoding="utf-8")
    cli("index", archive, "--index", tmp_path / "ix", "--quiet")
    result = cli("search", "zz*", "--json", "--index", tmp_path / "ix")
    assert result.exit_code == 2
    message = json.loads(result.stdout)["error"]["message"]
    assert message.startswith("'zz*' matches more than 1000") and "text_f" not in message
    ranged = json.loads(cli("search", "{a TO b}", "--json", "--index", tmp_path / "ix").stdout)
    assert ranged["error"]["message"] == "unsupported query syntax: {a TO b}"
