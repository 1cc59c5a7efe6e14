"""R6: the export and the campaign, run as `timelines-async` processes, SIGKILLed and resumed.

The fake is served over HTTP from the test process (it outlives every killed
process, and its `requests` and `sent` are the ground truth). Each command is
killed with SIGKILL at seeded points measured in the fake's own progress
(a number of requests answered, or, for the campaign, right after the fake
accepted a send, when the answer may not have reached the process yet), then
run again, until it completes. Afterwards: nothing lost (every chat and message
stored, every recipient messaged) and nothing twice.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from timelines_async.testing import FakeTimelines, serve_http

from ._checks import assert_export_matches
from ._figures import record
from ._profile import pick

KILLS = pick(3, 10)
RUN_TIMEOUT = 120.0


def run_cli(
    argv: list[str], *, cwd: Path, token: str, kill_when: Callable[[], bool] | None
) -> int | None:
    """Run `timelines-async ARGV`; SIGKILL it once `kill_when()` holds. Its exit status, or None."""
    env = {**os.environ, "TIMELINES_API_TOKEN": token, "PYTHONUNBUFFERED": "1"}
    env.pop("TIMELINES_BASE_URL", None)
    with (cwd / "output.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "timelines_async.cli", *argv],
            cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + RUN_TIMEOUT
        try:
            while process.poll() is None:
                if kill_when is not None and kill_when():
                    process.send_signal(signal.SIGKILL)
                    process.wait()
                    return None
                if time.monotonic() > deadline:
                    raise AssertionError(f"timelines-async {argv[0]} did not end in time")
                time.sleep(0.0005)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    return process.returncode


def test_export_killed_and_resumed_stores_everything_once(tmp_path: Path) -> None:
    seed = 61
    fake = FakeTimelines(seed=seed, chats=pick(80, 200), latency=0.0005)
    rng = random.Random(seed)
    db = tmp_path / "export.sqlite"
    kills = runs = 0
    with serve_http(fake) as url:
        argv = ["export", "--out", str(db), "--base-url", url, "--requests-per-second", "0"]
        while True:
            runs += 1
            assert runs <= KILLS + 5, "the export does not complete"
            kill_when = None
            if kills < KILLS:
                target = len(fake.requests) + rng.randint(2, 30)

                def kill_when(target: int = target) -> bool:
                    return len(fake.requests) >= target

            code = run_cli(argv, cwd=tmp_path, token=fake.token, kill_when=kill_when)
            if code is None:
                kills += 1
                continue
            assert code == 0, (tmp_path / "output.log").read_text()
            break
    assert kills == KILLS, f"the export completed after {kills} kills; make it bigger"
    messages = assert_export_matches(fake, db)
    record(
        "R6 export killed and resumed",
        chats=len(fake.chats),
        messages=messages,
        kills=kills,
        runs=runs,
        duplicates=0,
    )


def test_campaign_killed_and_resumed_messages_everyone_once(tmp_path: Path) -> None:
    seed = 62
    recipients = pick(40, 150)
    fake = FakeTimelines(seed=seed, chats=60, send_interval=0.01, latency=0.0005)
    known = sorted({c.phone for c in fake.chats.values() if c.phone and not c.is_group})
    phones = known[: recipients // 2]
    phones += [f"+1555{seed:03d}{n:04d}" for n in range(recipients - len(phones))]
    csv_path = tmp_path / "customers.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["phone", "n"])
        writer.writerows([phone, str(n)] for n, phone in enumerate(phones))
    rng = random.Random(seed)
    kills = runs = 0
    kinds: Counter[str] = Counter()
    with serve_http(fake) as url:
        argv = [
            "send-bulk", str(csv_path), "--text", "R6 message {n}",
            "--journal", str(tmp_path / "campaign.journal.sqlite"),
            "--base-url", url, "--requests-per-second", "0",
            "--send-interval", "0.011", "--settle", "0.05", "--max-attempts", "5",
        ]  # fmt: skip
        while True:
            runs += 1
            assert runs <= KILLS + 10, "the campaign does not complete"
            kill_when = None
            if kills < KILLS:
                if kills % 2 == 0:
                    # Right after the fake accepted a send: its answer may still be on the way.
                    sent_target = len(fake.sent) + rng.randint(1, 6)

                    def kill_when(target: int = sent_target) -> bool:
                        return len(fake.sent) >= target
                else:
                    request_target = len(fake.requests) + rng.randint(1, 20)

                    def kill_when(target: int = request_target) -> bool:
                        return len(fake.requests) >= target

            code = run_cli(argv, cwd=tmp_path, token=fake.token, kill_when=kill_when)
            if code is None:
                kinds["after a send was accepted" if kills % 2 == 0 else "at a request"] += 1
                kills += 1
                continue
            output = (tmp_path / "output.log").read_text()
            assert code in (0, 3), output  # 3: stopped early, run again to resume
            if code == 0:
                break

    texts = Counter(message.text for message in fake.sent)
    duplicates = {text: count for text, count in texts.items() if count > 1}
    assert duplicates == {}, f"messaged twice: {duplicates}"
    assert set(texts) == {f"R6 message {n}" for n in range(recipients)}, "someone was missed"
    assert kills == KILLS, f"the campaign completed after {kills} kills; make it bigger"
    uid_of = {message.text: message.uid for message in fake.sent}
    with closing(sqlite3.connect(tmp_path / "campaign.journal.sqlite")) as journal:
        rows = list(journal.execute("SELECT text, state, message_uid, reconciled FROM recipients"))
    assert len(rows) == recipients
    assert [(text, state) for text, state, _, _ in rows if state != "sent"] == []
    assert all(uid == uid_of[text] for text, _, uid, _ in rows), "a journaled uid is wrong"
    reconciled = sum(flag for _, _, _, flag in rows)
    record(
        "R6 campaign killed and resumed",
        recipients=recipients,
        sent=len(fake.sent),
        kills=kills,
        kill_points=kinds,
        reconciled_after_kill=reconciled,
        runs=runs,
        duplicates=len(duplicates),
    )
