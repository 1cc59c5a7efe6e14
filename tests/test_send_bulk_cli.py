"""`timelines-async send-bulk` through `main([...])`, against the fake served over HTTP."""

from __future__ import annotations

import csv
import json
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from timelines_async.campaign import CampaignProgress
from timelines_async.cli import main
from timelines_async.cli.send_bulk import _doing, _time_left
from timelines_async.testing import FakeTimelines, Faults, serve_http

TOKEN = "campaign-token-4321"
TEMPLATE = "Hi {name}, your order {order} shipped"
FAST = ["--send-interval", "0.01", "--settle", "0", "--requests-per-second", "0"]


def phones(count: int) -> list[str]:
    return [f"+1415555{index:04d}" for index in range(count)]


def write_csv(path: Path, rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["phone", "name", "order"])
        writer.writerows(rows)
    return path


def customers_csv(tmp_path: Path, count: int) -> Path:
    rows = [[phone, f"Customer {i}", f"A-{i}"] for i, phone in enumerate(phones(count))]
    return write_csv(tmp_path / "customers.csv", rows)


def expected_texts(count: int) -> list[str]:
    return [f"Hi Customer {i}, your order A-{i} shipped" for i in range(count)]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("TIMELINES_API_TOKEN", TOKEN)
    monkeypatch.delenv("TIMELINES_BASE_URL", raising=False)
    return monkeypatch


def new_fake(**options: Any) -> FakeTimelines:
    return FakeTimelines(seed=0, chats=5, token=TOKEN, **options)


def test_a_campaign_sends_everyone_once_in_order_and_writes_the_report(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = customers_csv(tmp_path, 4)
    report = tmp_path / "report.json"
    fake = new_fake()
    with serve_http(fake) as base_url:
        code = main(
            ["send-bulk", str(path), "--text", TEMPLATE, "--base-url", base_url,
             "--report", str(report), *FAST]
        )  # fmt: skip
        printed = capsys.readouterr()
        again = main(["send-bulk", str(path), "--text", TEMPLATE, "--base-url", base_url, *FAST])

    assert code == 0
    assert again == 0
    assert [m.text for m in fake.sent] == expected_texts(4)
    assert "Done: 4 sent." in printed.out
    assert f"Journal: {path}.journal.sqlite" in printed.out
    assert printed.err == ""
    outcomes = json.loads(report.read_text(encoding="utf-8"))["results"]
    assert [(r["line"], r["outcome"]) for r in outcomes] == [(n, "sent") for n in (2, 3, 4, 5)]
    assert TOKEN not in printed.out + report.read_text(encoding="utf-8")


def test_lost_answers_over_http_are_reconciled_and_nobody_is_messaged_twice(
    tmp_path: Path,
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = new_fake(faults=Faults(lost_answer=0.4, seed=3))
    path = customers_csv(tmp_path, 12)
    with serve_http(fake) as base_url:
        code = main(["send-bulk", str(path), "--text", TEMPLATE, "--base-url", base_url, *FAST])

    assert code == 0
    assert fake.faults_injected["lost_answer"] > 0
    assert Counter(m.recipient_phone for m in fake.sent) == Counter(phones(12))
    printed = capsys.readouterr()
    assert "Done: 12 sent." in printed.out
    # Reconciled outcomes are the report's business: nothing at warning level, which
    # Python would print on the terminal of a CLI that configures no logging.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING
            and r.name.startswith("timelines_async")] == []  # fmt: skip


@pytest.mark.parametrize("with_token", [True, False], ids=["quota-checked", "no-token"])
def test_a_dry_run_checks_renders_and_sends_nothing(
    tmp_path: Path,
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    with_token: bool,
) -> None:
    if not with_token:
        env.delenv("TIMELINES_API_TOKEN")
    path = customers_csv(tmp_path, 3)
    fake = new_fake(credits=100)
    with serve_http(fake) as base_url:
        code = main(
            ["send-bulk", str(path), "--text", TEMPLATE, "--dry-run", "--base-url", base_url]
        )

    out = capsys.readouterr().out
    assert code == 0
    assert fake.sent == []
    assert [r.method for r in fake.requests] == (["GET"] if with_token else [])
    assert not (tmp_path / "customers.csv.journal.sqlite").exists()
    assert "Dry run: 3 recipients; nothing was sent." in out
    assert "line 2 -> +14155550000: 'Hi Customer 0, your order A-0 shipped'" in out
    quota = "3 messages to send, 100 left: enough" if with_token else "not checked"
    assert quota in out


def test_invalid_rows_are_listed_with_their_lines_and_nothing_is_sent(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [["+14155550001", "Ann", "A-1"], ["415-555", "Bob", "A-2"], ["+14155550003", "", "A-3"]]
    path = write_csv(tmp_path / "c.csv", rows)
    fake = new_fake()
    with serve_http(fake) as base_url:
        code = main(["send-bulk", str(path), "--text", TEMPLATE, "--base-url", base_url])

    err = capsys.readouterr().err
    assert code == 1
    assert fake.requests == []
    assert (
        err.splitlines()[0] == f"timelines-async: error: {path}: 2 invalid rows, nothing was sent:"
    )
    assert err.splitlines()[1].startswith("  line 3: phone '415-555' is not an international")
    assert err.splitlines()[2] == "  line 4: missing template variable {name} (empty)"


def test_a_campaign_over_the_quota_is_refused_unless_told_to_send_what_fits(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = customers_csv(tmp_path, 5)
    fake = new_fake(credits=3)
    with serve_http(fake) as base_url:
        refused = main(["send-bulk", str(path), "--text", TEMPLATE, "--base-url", base_url, *FAST])
        refusal = capsys.readouterr().err
        partial = main(
            ["send-bulk", str(path), "--text", TEMPLATE, "--base-url", base_url,
             "--send-what-fits", *FAST]
        )  # fmt: skip

    assert refused == 1
    assert refusal.count("\n") == 1
    assert "the campaign needs 5 messages but the workspace's messaging quota has 3 left" in refusal
    assert partial == 1
    assert [m.text for m in fake.sent] == expected_texts(3)
    assert "Done: 3 sent, 2 skipped_quota." in capsys.readouterr().out


def test_a_changed_csv_is_refused_on_resume_with_one_line(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = customers_csv(tmp_path, 2)
    fake = new_fake()
    with serve_http(fake) as base_url:
        assert (
            main(["send-bulk", str(path), "--text", TEMPLATE, "--base-url", base_url, *FAST]) == 0
        )
        capsys.readouterr()
        code = main(
            ["send-bulk", str(path), "--text", "Other {name}", "--base-url", base_url, *FAST]
        )

    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert "belongs to another campaign" in err
    assert len(fake.sent) == 2


def quota_runs_out_after(fake: FakeTimelines, accepted: int) -> Any:
    """The fake, but sends beyond the first `accepted` are refused with quota_exceeded."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and len(fake.sent) >= accepted:
            body = {
                "status": "error",
                "message": "Message quota exceeded",
                "error_code": "quota_exceeded",
            }
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"application/json")]})  # fmt: skip
            await send({"type": "http.response.body", "body": json.dumps(body).encode()})
            return
        await fake(scope, receive, send)

    return app


def test_a_run_that_stops_early_exits_3_and_the_next_run_finishes(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = customers_csv(tmp_path, 4)
    fake = new_fake()
    argv = ["send-bulk", str(path), "--text", TEMPLATE, *FAST]
    with serve_http(quota_runs_out_after(fake, 2)) as base_url:
        stopped = main([*argv, "--base-url", base_url])
    first = capsys.readouterr().out
    with serve_http(fake) as base_url:
        finished = main([*argv, "--base-url", base_url])

    assert stopped == 3
    assert "Done: 2 sent, 2 pending (stopped: QuotaExceededError" in first
    assert finished == 0
    assert [m.text for m in fake.sent] == expected_texts(4)


def test_the_progress_bar_shows_on_a_terminal_without_the_token(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("TTY_COMPATIBLE", "1")  # rich treats the captured output as a terminal
    env.setenv("TTY_INTERACTIVE", "0")
    path = customers_csv(tmp_path, 3)
    with serve_http(new_fake()) as base_url:
        code = main(["send-bulk", str(path), "--text", TEMPLATE, "--base-url", base_url, *FAST])

    printed = capsys.readouterr()
    assert code == 0
    assert "3/3" in printed.err
    assert TOKEN not in printed.err + printed.out


@pytest.mark.parametrize(
    ("token", "expected"),
    [(None, "no API token"), ("wrong-token-9876", "the API refused the token (401)")],
    ids=["missing", "rejected"],
)
def test_token_problems_are_one_line_errors_that_never_show_the_token(
    tmp_path: Path,
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    token: str | None,
    expected: str,
) -> None:
    if token is None:
        env.delenv("TIMELINES_API_TOKEN")
    else:
        env.setenv("TIMELINES_API_TOKEN", token)
    fake = new_fake()
    with serve_http(fake) as base_url:
        code = main(["send-bulk", str(customers_csv(tmp_path, 2)), "--text", TEMPLATE,
                     "--base-url", base_url])  # fmt: skip

    err = capsys.readouterr().err
    assert code == 1
    assert expected in err
    assert err.count("\n") == 1
    assert fake.sent == []
    assert token is None or token not in err


def test_the_template_can_come_from_a_file(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "message.txt"
    template.write_text("Hello {name},\nyour order {order} shipped.\n", encoding="utf-8")
    fake = new_fake()
    with serve_http(fake) as base_url:
        code = main(["send-bulk", str(customers_csv(tmp_path, 1)), "--text-file", str(template),
                     "--base-url", base_url, *FAST])  # fmt: skip

    assert code == 0
    assert [m.text for m in fake.sent] == ["Hello Customer 0,\nyour order A-0 shipped."]


def test_label_file_and_sending_number_reach_every_message(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = new_fake()
    other = next(a for a in fake.workspace.accounts if a != fake.workspace.default_account())
    pdf = tmp_path / "catalogue.pdf"
    pdf.write_bytes(b"%PDF-1.4 catalogue")
    path = customers_csv(tmp_path, 3)
    with serve_http(fake) as base_url:
        code = main(
            ["send-bulk", str(path), "--text", TEMPLATE, "--base-url", base_url, *FAST,
             "--label", "spring", "--file", str(pdf), "--from", other.phone]
        )  # fmt: skip

    printed = capsys.readouterr().out
    assert code == 0
    assert [m.sender_phone for m in fake.sent] == [other.phone] * 3
    assert len({m.file_uid for m in fake.sent}) == 1
    assert all(m.has_attachment for m in fake.sent)
    assert all("spring" in fake.chats[m.chat_id].labels for m in fake.sent)
    uploads = [r for r in fake.requests if r.path.endswith("/files_upload")]
    assert len(uploads) == 1
    assert printed.count("Quota: 6 credits (3 messages with a file) to send") == 1


def test_an_unknown_sending_number_is_one_line_and_nothing_is_sent(
    tmp_path: Path, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = new_fake()
    with serve_http(fake) as base_url:
        code = main(
            ["send-bulk", str(customers_csv(tmp_path, 2)), "--text", TEMPLATE,
             "--base-url", base_url, *FAST, "--from", "+15550001111"]
        )  # fmt: skip

    assert code == 1
    assert "not a WhatsApp number of this workspace" in capsys.readouterr().err
    assert fake.sent == []


def test_the_progress_says_what_it_waits_for_and_the_time_left_counts_the_settle_wait() -> None:
    waiting = CampaignProgress(done=3, total=5, last=None, in_doubt=2, waiting=48, checks_due_in=48)
    sending = CampaignProgress(done=0, total=5, last=None, in_doubt=1, checks_due_in=59.2)
    retrying = CampaignProgress(done=0, total=5, last=None, retrying=3, waiting=12)

    assert _doing(waiting) == "checking 2 sends in doubt in 48 s"
    assert _doing(retrying) == "retrying 3 in 12 s"
    assert _doing(sending) == "sending (1 to check)"
    assert _time_left(waiting, 2.0) == "0:48 left"
    assert _time_left(sending, 2.0) == "1:00 left"  # the settle wait, not 4 sends x 2 s
    assert _time_left(CampaignProgress(done=0, total=100, last=None), 2.0) == "3:20 left"
