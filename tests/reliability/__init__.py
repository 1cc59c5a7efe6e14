"""The reliability suite: the client, the export and the campaign against the fake under faults."""
