"""Crash-safe bulk campaigns: one text template, many recipients, nobody messaged twice.

```python
from timelines_async import TimelinesClient
from timelines_async import campaign

async with TimelinesClient() as tl:
    report = await campaign.run(tl, "customers.csv", text="Hi {name}, your order shipped")
    print(report.summary())            # "118 sent, 2 failed"
    report.write("report.csv")         # or .json: every recipient's outcome
```

**Input.** A CSV with a header row and a `phone` or a `chat_id` column (or a list
of mappings with those keys; then `journal=` is required). The template names
other columns as `{column}` (Python format fields; `{{`/`}}` for literal
braces). Cells are stripped of surrounding spaces; blank rows are ignored.
UTF-8 (a BOM is fine); `,`, `;` or tab separated.

**Checks first.** Every row is checked before anything else happens: a phone
that is not international, a chat id that is not a positive integer, a template
variable whose cell is empty, a text that is empty, contains NUL, or is longer
than 2000 characters once formatted, and a recipient listed twice. All the bad
rows are reported together, with their line numbers, in `InvalidRowsError`,
and nothing is sent; `skip_invalid=True` sends the valid rows and reports the
others as `invalid`.

**Quota.** Before sending, the workspace's messaging quota is read
(`tl.quotas.get()`: recurring `total - used` plus the pay-as-you-go balance).
A campaign needing more than is left raises `InsufficientQuotaError` with both
numbers; `send_what_fits=True` sends the first recipients that fit and reports
the rest as `skipped_quota` (they stay pending in the journal for a later run).

**Journal.** An SQLite file (by default `FILE.csv.journal.sqlite` beside the
CSV) with one row per recipient: its state (`pending`, `sending`, `sent` with
the message uid, `failed` with the reason, `unknown`), the exact text and the
attempt time. The `sending` state is committed to disk (`synchronous=FULL`)
*before* each request leaves, and the answer is recorded after it. The journal
is tied to the campaign (the CSV's sha256 and the template): resuming with a
changed CSV or template raises `JournalMismatchError` (unless no send was ever
attempted under the journal: then it is simply started afresh). Two runs cannot
use one journal at once (`JournalBusyError`; a lock released by the OS even on
SIGKILL; not enforced on Windows).

**What every message carries.** `label=` labels each chat as its message goes
out; `file=` (a path) is uploaded once, before the first send, and its uid goes
with every message (a message with text and a file costs two credits);
`whatsapp_account_phone=` sends from that number of the workspace (phone rows
only), checked against `tl.whatsapp_accounts.list()` before any send. The
journal records all three; a resume that changes one is a `JournalMismatchError`.

**Sending.** One sender, in CSV order, spaced by the client's `send_interval`.
A send is never retried once the API may have taken it. A recipient the API
refuses (400, 404, 409, 413) is `failed` and the campaign goes on. A transient
refusal, where provably nothing was sent (a 429 beyond the client's retries, a
connection that never carried the request, a 2xx `"status": "error"` that
refuses nobody in particular), is sent again later in the same run, after a
jittered wait growing from `retry_base_delay` to `retry_max_delay`; meanwhile
the others go on. A recipient gets at most `max_attempts` sends in one run. An
error that would fail every send (authentication, permission, quota) stops the
run, as do `BREAKER` failed sends in a row; the rest stays `pending`.

**Unknown outcomes and resuming.** A send whose outcome is unknown (timeout,
5xx, lost answer) is journaled as `unknown` and nothing more is sent to that
recipient until it is reconciled: the chat's outgoing messages since the
attempt are searched for the exact text: the journal rebuilds the attempt as a
`SendAttempt` and `tl.messages.reconcile` looks in every chat it may have gone
to. Found: the recipient is `sent` with that message's uid. Not found: it did
not go out, and it is sent again (within `max_attempts`). A run started after a
crash (even SIGKILL between the journal write and the request) finds rows left
in `sending` or `unknown` and reconciles them the same way before sending
anything else to those recipients; `sent` rows are skipped.

The API accepts a send at once and sends it later, so a message that did go
out may not be in the chat's history yet right after the attempt. "Not found"
is therefore trusted only once the attempt is `settle` seconds old (default
60): reconciliation of an in-doubt recipient waits until then. The other
recipients are not held up; the waiting ones are reconciled as they come due
and at the end. A message that shows up in the history only after `settle`
could still be sent twice: raise `settle` if your account's queue is long.

**Dry run.** `dry_run=True` checks and renders every row, reads an existing
journal (read-only), checks the quota when a client is given, and sends and
writes nothing; the report lists each recipient as it would go (`pending`,
`skipped_quota`, or already `sent`).

`progress` is called with a `CampaignProgress` (done, total, last result, the
quota check, recipients in doubt or waiting to be retried, and how long the run
waits) at the start, whenever a recipient's outcome changes, and before a wait. Interrupting the run
(cancellation, Ctrl-C) leaves the recipient being sent to as `unknown`: the
next run reconciles it.
"""

from ._errors import (
    CampaignError,
    InsufficientQuotaError,
    InvalidCampaignError,
    InvalidRowsError,
    JournalBusyError,
    JournalMismatchError,
    RowProblem,
)
from ._journal import default_journal_path
from ._report import CampaignProgress, CampaignReport, Outcome, QuotaCheck, RecipientResult
from ._runner import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETRY_BASE_DELAY,
    DEFAULT_RETRY_MAX_DELAY,
    DEFAULT_SETTLE,
    run,
)
from ._sender import BREAKER, ProgressCallback

__all__ = [
    "BREAKER",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_RETRY_BASE_DELAY",
    "DEFAULT_RETRY_MAX_DELAY",
    "DEFAULT_SETTLE",
    "CampaignError",
    "CampaignProgress",
    "CampaignReport",
    "InsufficientQuotaError",
    "InvalidCampaignError",
    "InvalidRowsError",
    "JournalBusyError",
    "JournalMismatchError",
    "Outcome",
    "ProgressCallback",
    "QuotaCheck",
    "RecipientResult",
    "RowProblem",
    "default_journal_path",
    "run",
]
