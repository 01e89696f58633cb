"""The RUM ingest keys the local stack writes into its data dir, by file name: the stack
writes both for the demo app, the RUM backend client reads the read key."""

RUM_API_KEY_FILE = "rum-api-key"
"""The ingest key: send only (the demo page embeds it)."""
RUM_READ_KEY_FILE = "rum-read-key"
"""The read key: analytics and sessions only, never in a page."""
