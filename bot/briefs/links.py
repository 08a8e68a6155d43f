"""A story's link as a dedupe key: the form the feeds and the brief index both compare.

The index stores each brief's source link in this form, so "was this story published
already?" is one lookup, not a walk over every brief (issue 13).
"""

from __future__ import annotations

import re
import urllib.parse

MAX_KEY = 2000  # longer GUIDs and links are cut: they are keys, not content
TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|ocid|cmpid|smid)$", re.IGNORECASE)


def canonical_url(link: str) -> str | None:
    """The link as a dedupe key: scheme and host lowercased, default port, fragment and
    tracking parameters dropped, the rest of the query sorted; None if not http(s)."""
    try:
        parts = urllib.parse.urlsplit(link.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname.lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        return None
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    # http and https name the same story: the key ignores which one a feed used.
    query = sorted(
        (k, v)
        for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING.match(k)
    )
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    key = f"{host}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    return key[:MAX_KEY]
