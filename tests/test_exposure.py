"""What the service exposes: loopback by default, no CORS unless asked, no file access by path, short logs."""

from __future__ import annotations

import logging
from dataclasses import replace

from fastapi.testclient import TestClient

from rag.api import create_app
from rag.config import Settings


def test_binds_loopback_by_default():
    assert Settings().host == "127.0.0.1"


def test_cli_serve_has_a_host_flag():
    from typer.testing import CliRunner

    from rag.cli import app

    out = CliRunner().invoke(app, ["serve", "--help"]).output
    assert "--host" in out and "127.0.0.1" in out


def test_cors_is_off_unless_configured(settings, service):
    origin = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    with TestClient(create_app(settings, service)) as c:
        r = c.options("/query", headers=origin)
        assert "access-control-allow-origin" not in r.headers
    allowed = replace(settings, cors_origins="http://tools.example")
    with TestClient(create_app(allowed, service)) as c:
        r = c.options("/query", headers={**origin, "Origin": "http://tools.example"})
        assert r.headers.get("access-control-allow-origin") == "http://tools.example"
        r = c.options("/query", headers=origin)
        assert "access-control-allow-origin" not in r.headers


def test_no_endpoint_reads_files_by_a_user_supplied_path(settings, service):
    with TestClient(create_app(settings, service)) as c:
        for path in ["/static/../../../../etc/passwd", "/static/%2e%2e/%2e%2e/config.py", "/static/../api.py", "/../pyproject.toml"]:
            r = c.get(path)
            assert r.status_code == 404 and "root:" not in r.text and "import" not in r.text
        paths = c.get("/openapi.json").json()["paths"]
        params = [p["name"] for ops in paths.values() for op in ops.values() for p in op.get("parameters", [])]
        assert not any("path" in name.lower() or "file" in name.lower() for name in params)


def test_logs_hold_the_question_and_timing_only(settings, service, caplog):
    with TestClient(create_app(settings, service)) as c, caplog.at_level(logging.INFO, logger="rag.api"):
        c.post("/query", json={"question": "What was Operation Mehr?", "k": 2}, headers={"Authorization": "secret-token", "X-Forwarded-For": "10.0.0.9"})
    lines = [r.getMessage() for r in caplog.records if r.name == "rag.api"]
    assert lines and all("secret-token" not in line and "10.0.0.9" not in line for line in lines)
    assert any("What was Operation Mehr?" in line and "ms" in line for line in lines)
