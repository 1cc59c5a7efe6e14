"""The `timelines-async` command line through its entry function `main([...])`."""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import attrs
import pytest
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
from rich.segment import Segment

from tests._net import free_port
from timelines_async import AuthenticationError, ServerError, TimelinesError, TransportError
from timelines_async.cli import main
from timelines_async.cli._common import ProgressBars, describe
from timelines_async.testing import FakeTimelines, serve_http

TOKEN = "fake-token"
PACKAGE = "timelines-async"


def without_last_message(fake: FakeTimelines) -> int:
    """Chats listed without `last_message_uid`: every run reads them again."""
    return sum(chat.last_message_uid is None for chat in fake.chats.values())


def count(path: Path, table: str) -> int:
    with closing(sqlite3.connect(path)) as db:
        value: int = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    return value


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("TIMELINES_API_TOKEN", raising=False)
    monkeypatch.delenv("TIMELINES_BASE_URL", raising=False)
    return monkeypatch


def test_demo_exports_the_seeded_workspace_and_prints_exact_counts(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo.sqlite"
    fake = FakeTimelines(seed=5, chats=30)  # the same seeded workspace the demo builds
    messages = sum(len(fake.messages_of(chat_id)) for chat_id in fake.chats)

    assert main(["demo", "--out", str(out), "--chats", "30", "--seed", "5"]) == 0

    printed = capsys.readouterr()
    assert printed.err == ""
    assert f"Exported 30 chats (30 read, 0 unchanged) and {messages:,} messages" in printed.out
    read = 3 + without_last_message(fake)
    assert f"Exported 30 chats ({read} read, {30 - read} unchanged) and 3 messages" in printed.out
    assert f"chats: 30 rows, messages: {messages + 3:,} rows, sync_state: 30 rows" in printed.out
    assert (count(out, "chats"), count(out, "messages")) == (30, messages + 3)


def test_demo_run_twice_replaces_its_own_database(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo.sqlite"
    assert main(["demo", "--out", str(out), "--chats", "10"]) == 0
    first = count(out, "messages")
    capsys.readouterr()

    assert main(["demo", "--out", str(out), "--chats", "10"]) == 0

    assert count(out, "messages") == first
    assert "Exported 10 chats (10 read, 0 unchanged)" in capsys.readouterr().out


def test_demo_refuses_to_overwrite_a_file_it_did_not_write(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "precious.sqlite"
    out.write_bytes(b"user data")

    assert main(["demo", "--out", str(out)]) == 1

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "is not a demo database" in err
    assert out.read_bytes() == b"user data"


def test_export_against_a_served_fake_then_incrementally(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeTimelines(seed=2, chats=25, token=TOKEN)
    messages = sum(len(fake.messages_of(chat_id)) for chat_id in fake.chats)
    out = tmp_path / "workspace.sqlite"
    env.setenv("TIMELINES_API_TOKEN", TOKEN)
    with serve_http(fake) as base_url:
        args = ["export", "--out", str(out), "--base-url", base_url, "--requests-per-second", "0"]
        assert main(args) == 0
        fake.receive_message(next(iter(fake.chats)), "hello again")
        assert main([*args, "--max-concurrency", "2"]) == 0

    printed = capsys.readouterr()
    assert printed.err == ""
    first, second = printed.out.splitlines()
    assert first.startswith(f"Exported 25 chats (25 read, 0 unchanged) and {messages:,} messages")
    read = 1 + without_last_message(fake)
    assert second.startswith(
        f"Exported 25 chats ({read} read, {25 - read} unchanged) and 1 message "
    )
    assert count(out, "messages") == messages + 1
    assert TOKEN not in printed.out


def test_export_to_jsonl(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeTimelines(seed=2, chats=8, token=TOKEN)
    out = tmp_path / "workspace.jsonl"
    env.setenv("TIMELINES_API_TOKEN", TOKEN)
    with serve_http(fake) as base_url:
        args = ["export", "--jsonl", str(out), "--base-url", base_url, "--requests-per-second", "0"]
        assert main(args) == 0

    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(line["chat"]["id"] for line in lines if "chat" in line) == sorted(fake.chats)
    assert capsys.readouterr().out.startswith("Exported 8 chats")


def test_progress_bars_only_on_a_terminal_and_never_the_token(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("TTY_COMPATIBLE", "1")  # rich treats the captured output as a terminal
    env.setenv("TTY_INTERACTIVE", "0")
    assert main(["demo", "--out", str(tmp_path / "demo.sqlite"), "--chats", "5"]) == 0

    out = capsys.readouterr().out
    assert "chats" in out
    assert "5/5" in out
    assert TOKEN not in out


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (None, "no API token"),
        ("wrong-token-1234", "the API refused the token (401)"),
    ],
    ids=["missing", "rejected"],
)
def test_export_token_problems_are_one_line_errors(
    tmp_path: Path,
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    token: str | None,
    expected: str,
) -> None:
    if token is not None:
        env.setenv("TIMELINES_API_TOKEN", token)
    fake = FakeTimelines(seed=0, chats=3, token=TOKEN)
    with serve_http(fake) as base_url:
        code = main(["export", "--out", str(tmp_path / "x.sqlite"), "--base-url", base_url])

    printed = capsys.readouterr()
    assert code == 1
    assert printed.out == ""
    assert printed.err.startswith("timelines-async: error: ")
    assert expected in printed.err
    assert printed.err.count("\n") == 1
    assert "Traceback" not in printed.err
    assert token is None or token not in printed.err


def test_unreachable_server_is_waited_for_then_a_one_line_exit_3(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("TIMELINES_API_TOKEN", "secret-token-5678")
    base_url = f"http://127.0.0.1:{free_port()}/integrations/api"

    code = main(
        [
            "export",
            "--out",
            str(tmp_path / "x.sqlite"),
            "--base-url",
            base_url,
            "--max-retries",
            "0",
            "--give-up-after",
            "0.5",
        ]
    )

    err = capsys.readouterr().err
    assert code == 3
    assert err.startswith("timelines-async: gave up: nothing succeeded for 0.5 s; last error: ")
    assert err.rstrip().endswith("run the same command again to resume")
    assert err.count("\n") == 1
    assert "secret-token-5678" not in err


@pytest.mark.parametrize("flag", ["--out", "--jsonl"])
def test_an_unusable_output_file_is_a_one_line_error(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    env.setenv("TIMELINES_API_TOKEN", TOKEN)
    base_url = f"http://127.0.0.1:{free_port()}/integrations/api"  # never reached

    code = main(["export", flag, str(tmp_path / "no-such-dir" / "x"), "--base-url", base_url])

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("timelines-async: error: cannot ")
    assert "no-such-dir" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationError("bad token tok-SECRET-9", status_code=401),
        ServerError("upstream said tok-SECRET-9", status_code=503, method="GET", path="/chats"),
        TransportError("tok-SECRET-9 in a proxy error", method="GET", path="/chats"),
    ],
    ids=["401", "5xx", "transport"],
)
def test_an_error_that_echoes_the_token_is_printed_without_it(
    error: TimelinesError, env: pytest.MonkeyPatch
) -> None:
    env.setenv("TIMELINES_API_TOKEN", "tok-SECRET-9")

    line = describe(error, argparse.Namespace(base_url="http://127.0.0.1:1"))

    assert "tok-SECRET-9" not in line
    assert "<token>" in line
    assert "\n" not in line


@pytest.mark.parametrize(
    "argv",
    [
        ["export"],
        ["export", "--out", "a.sqlite", "--jsonl", "a.jsonl"],
        ["export", "--out", "a.sqlite", "--max-concurrency", "0"],
        ["export", "--out", "a.sqlite", "--timeout", "0"],
        ["export", "--out", "a.sqlite", "--max-retries", "11"],
        ["fake-server", "--fault-5xx", "1.5"],
        ["demo", "--chats", "none"],
        ["no-such-command"],
    ],
)
def test_usage_errors_exit_2_before_doing_anything(
    argv: list[str], env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert "usage: timelines-async" in capsys.readouterr().err


@pytest.mark.parametrize(("missing", "command"), [("rich", "demo"), ("uvicorn", "fake-server")])
def test_without_the_cli_extra_main_says_what_to_install(
    missing: str, command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(sys.modules):
        if name.startswith("timelines_async.cli."):
            monkeypatch.delitem(sys.modules, name)
        elif name == missing or name.startswith(f"{missing}."):
            monkeypatch.setitem(sys.modules, name, None)

    assert main([command, "--port", "0"] if command == "fake-server" else [command]) == 2

    assert capsys.readouterr().err == (
        "timelines-async: error: this needs the cli extra: pip install 'timelines-async[cli]'\n"
    )


def test_every_command_is_listed_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("demo", "export", "fake-server"):
        assert command in out


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"timelines-async {importlib.metadata.version(PACKAGE)}\n"


def test_without_a_token_the_cli_says_which_variable_to_set(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--out", str(tmp_path / "x.sqlite")]) == 1

    err = capsys.readouterr().err
    assert err.startswith("timelines-async: error: no API token: set TIMELINES_API_TOKEN")
    assert "token=" not in err
    assert os.listdir(tmp_path) == []


def test_a_404_from_a_wrong_base_url_hints_at_the_base_url(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("TIMELINES_API_TOKEN", TOKEN)
    with serve_http(FakeTimelines(chats=2, token=TOKEN)) as base_url:
        wrong = base_url.removesuffix("/integrations/api") + "/api"
        code = main(["export", "--out", str(tmp_path / "x.sqlite"), "--base-url", wrong])

    err = capsys.readouterr().err
    assert code == 1
    assert "404" in err
    assert f"is the base URL right? It is {wrong} (--base-url, TIMELINES_BASE_URL)" in err
    assert err.count("\n") == 1
    assert os.listdir(tmp_path) == [], "a failed run leaves no empty database"


def test_a_database_of_another_workspace_is_refused_unless_force_merge(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "x.sqlite")
    with serve_http(FakeTimelines(chats=2, token=TOKEN)) as base_url:
        env.setenv("TIMELINES_API_TOKEN", TOKEN)
        assert main(["export", "--out", out, "--base-url", base_url]) == 0
    with serve_http(FakeTimelines(chats=3, token="other-token")) as base_url:
        env.setenv("TIMELINES_API_TOKEN", "other-token")
        capsys.readouterr()
        assert main(["export", "--out", out, "--base-url", base_url]) == 1
        err = capsys.readouterr().err
        assert main(["export", "--out", out, "--base-url", base_url, "--force-merge"]) == 0

    assert err.startswith(f"timelines-async: error: {out} holds the export of another workspace")
    assert "--force-merge" in err
    assert err.count("\n") == 1


def test_jsonl_dash_writes_the_lines_to_stdout_and_the_summary_to_stderr() -> None:
    fake = FakeTimelines(seed=2, chats=5, token=TOKEN)
    with serve_http(fake) as base_url:
        done = subprocess.run(
            [sys.executable, "-m", "timelines_async.cli", "export", "--jsonl", "-"],
            capture_output=True,
            env={**os.environ, "TIMELINES_API_TOKEN": TOKEN, "TIMELINES_BASE_URL": base_url},
            timeout=60,
            check=False,
        )

    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted(line["chat"]["id"] for line in lines if "chat" in line) == sorted(fake.chats)
    assert done.stderr.decode().startswith("Exported 5 chats")
    assert "into standard output" in done.stderr.decode()


def _default_sigint() -> None:
    """A shell's background job ignores SIGINT, and its children inherit that: undo it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX here")
def test_ctrl_c_prints_one_line_saying_how_to_resume(tmp_path: Path) -> None:
    out = tmp_path / "x.sqlite"
    command = [sys.executable, "-m", "timelines_async.cli", "export", "--out", str(out)]
    command += ["--requests-per-second", "5"]  # a few seconds: stopped at the first history
    fake = FakeTimelines(seed=2, chats=20, token=TOKEN)
    with serve_http(fake) as base_url:
        env = {**os.environ, "TIMELINES_API_TOKEN": TOKEN, "TIMELINES_BASE_URL": base_url}
        with subprocess.Popen(
            command, stderr=subprocess.PIPE, env=env, text=True, preexec_fn=_default_sigint
        ) as process:
            while not any(request.path.endswith("/messages") for request in fake.requests):
                time.sleep(0.05)
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=30)
        resumed = subprocess.run(command, env=env, capture_output=True, timeout=120, check=False)

    assert process.returncode == 130
    assert err == "timelines-async: interrupted; run the same command again to resume\n"
    assert resumed.returncode == 0, resumed.stderr
    assert count(out, "chats") == 20


@pytest.mark.parametrize("width", [60, 80])
def test_progress_bars_leave_room_for_the_echoed_ctrl_c(width: int) -> None:
    """A bar as wide as the terminal is printed twice when ^C wraps it."""
    console = Console(width=width, force_terminal=True, file=io.StringIO())
    bars = ProgressBars(
        TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), console=console
    )
    bars.add_task("messages", total=1_234_567, completed=1_234_566)

    lines = console.render_lines(bars.get_renderable(), console.options, pad=False)

    assert lines
    assert all(Segment.get_line_length(line) <= width - 3 for line in lines)


def test_a_send_bulk_run_refused_before_sending_leaves_no_journal_or_lock_file(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text("phone,name\n+14155550001,Ann\n", encoding="utf-8")
    env.setenv("TIMELINES_API_TOKEN", "wrong-token")
    with serve_http(FakeTimelines(chats=2, token=TOKEN)) as base_url:
        code = main(["send-bulk", str(csv), "--text", "Hi {name}", "--base-url", base_url])

    assert code == 1
    assert "401" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["c.csv"]


def test_a_finished_send_bulk_run_keeps_its_journal_and_removes_its_lock_file(
    tmp_path: Path, env: pytest.MonkeyPatch
) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text("phone,name\n+14155550001,Ann\n", encoding="utf-8")
    env.setenv("TIMELINES_API_TOKEN", TOKEN)
    with serve_http(FakeTimelines(chats=2, token=TOKEN)) as base_url:
        args = ["send-bulk", str(csv), "--text", "Hi {name}", "--base-url", base_url]
        assert main([*args, "--requests-per-second", "0"]) == 0

    assert sorted(os.listdir(tmp_path)) == ["c.csv", "c.csv.journal.sqlite"]


def test_the_waiting_line_says_what_failed_when_it_is_tried_again_and_how_many_wait() -> None:
    from timelines_async.cli._common import waiting_line
    from timelines_async.export import ExportProgress

    progress = ExportProgress(
        chats_listed=40, listing_done=True, chats_done=10, messages=500,
        chats_waiting=3, retry_in=11.2, problem="API unavailable (503)",
    )  # fmt: skip
    assert waiting_line(progress) == "API unavailable (503), retrying in 12 s, 3 chats waiting"
    assert waiting_line(attrs.evolve(progress, chats_waiting=0)) == (
        "API unavailable (503), retrying in 12 s"
    )
    assert waiting_line(attrs.evolve(progress, retry_in=None, problem=None)) == ""
