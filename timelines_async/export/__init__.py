"""Export a whole workspace (every chat, every message) into SQLite or JSON Lines.

    from timelines_async import TimelinesClient
    from timelines_async.export import SQLiteStore, export_workspace

    async with TimelinesClient() as tl:
        summary = await export_workspace(tl, SQLiteStore("workspace.sqlite"))

Into SQLite a second run is incremental (only chats whose last message changed,
only their new messages) and an interrupted run resumes where it stopped. JSON
Lines is always a full export. An outage of the API does not end a run: chats
that fail are read again later, until nothing has succeeded for `give_up_after`
seconds (`GaveUpError`).
"""

from .._job_retry import GaveUpError
from ._jsonl import JSONLStore
from ._run import ExportProgress, ExportSummary, ProgressCallback, export_workspace
from ._sqlite import SQLiteStore, read_source
from ._store import ChatRows, ExportSource, MessageRows, Store, StoreError, SyncState, Write

__all__ = [
    "ChatRows",
    "ExportProgress",
    "ExportSource",
    "ExportSummary",
    "GaveUpError",
    "JSONLStore",
    "MessageRows",
    "ProgressCallback",
    "SQLiteStore",
    "Store",
    "StoreError",
    "SyncState",
    "Write",
    "export_workspace",
    "read_source",
]
