"""Runs last (file order): after every SDK has talked to it, the server is
still healthy and its log shows no panic and no ERROR line."""

import re
from pathlib import Path

import httpx

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_server_still_healthy_and_log_clean(server, artifacts_dir):
    r = httpx.get(f"{server.base_url}/api/public/health", timeout=5)
    assert r.status_code == 200, f"GET /api/public/health after the suites: {r.status_code} {r.text[:300]}"
    assert server.proc is not None and server.proc.poll() is None, "the server process is gone"
    bad = []
    for log in sorted(Path(artifacts_dir).glob("server-*.log")):
        for line in log.read_text(errors="replace").splitlines():
            plain = ANSI.sub("", line)
            if "panicked" in plain or re.search(r"\bERROR\b", plain):
                bad.append(f"{log.name}: {plain[:500]}")
    assert not bad, f"{len(bad)} panic/ERROR line(s) in the server log:\n" + "\n".join(bad[:20])
