"""The command line, in-process (typer's runner) over the real index."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rag.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_ask_prints_answer_passages_and_footnotes(settings):
    out = run("ask", "How many children did Tajikistan bring back from Iraq?", "-k", "3")
    assert out.exit_code == 0
    assert "Answer" in out.output and "84 children" in out.output and "[70] Raychev." in out.output


def test_ask_prints_each_part_of_an_answer_with_its_footnotes(settings):
    out = run("ask", "How many children did Tajikistan bring back in April 2019, and how many did Kyrgyzstan bring back in March 2021?")
    assert out.exit_code == 0 and "from passages " in out.output
    answer = out.output.split("#1 ")[0]
    assert answer.index("84 children") < answer.index("[70] Raychev.") < answer.index("79 children") < answer.index("[80] ")


def test_ask_names_the_source_an_answers_ibid_stands_for(settings):
    out = run("ask", "What does footnote 47 say?", "-k", "1")
    assert out.exit_code == 0
    answer = out.output.split("#1 ")[0]
    assert "[47] *ibid.*" in answer and "→ Yavor Raychev; 'Operations for Repatriation" in answer


def test_ask_says_when_the_answer_is_a_look_up(settings):
    looked_up, searched = run("ask", "Who is Olga Ryl?", "-k", "1").output, run("ask", "How many children did Tajikistan bring back from Iraq?", "-k", "1").output
    assert "Answer (name look-up, from passage 1):" in looked_up and "Olga Ryl, Director of NGO Pravo" in looked_up
    assert "Answer (confidence " in searched


def test_ask_a_source_look_up_lists_only_the_sources_footnotes(settings):
    """A marked sentence also carries [212], another source's note: not listed under the answer."""
    out = run("ask", "Which passages cite Kramer?", "-k", "3")
    assert out.exit_code == 0, out.output
    answer = out.output.split("#1 ")[0]
    footnote_lines = [line.strip() for line in answer.splitlines() if line.startswith("      [")]
    assert any(line.startswith("[213] ") for line in footnote_lines)
    assert not any(line.startswith("[212] ") for line in footnote_lines) and "[212]" in answer


def test_ask_json_is_the_api_shape(settings):
    body = json.loads(run("ask", "What was Operation Mehr?", "--json", "-k", "2").output)
    assert set(body) >= {"question", "passages", "answer", "timing_ms"} and len(body["passages"]) == 2


def test_ask_with_a_bad_question_exits_2_with_a_message(settings):
    out = run("ask", "   ")
    assert out.exit_code == 2 and "empty" in out.output


def test_footnote_47(settings):
    out = run("footnote", "47")
    assert out.exit_code == 0
    assert "47 → 46 → 45 → 44" in out.output and "Yavor Raychev" in out.output


@pytest.mark.parametrize("number", ["999", "0", "-1"])  # -1 is a number, not an unknown option
def test_unknown_footnote_exits_2(settings, number):
    out = run("footnote", number)
    assert out.exit_code == 2 and "numbered 1–242" in out.output


def test_sources_by_author(settings):
    out = run("sources", "--author", "Ilmuratova")
    assert out.exit_code == 0 and "Oliya Ilmuradova" in out.output and "1 source(s)" in out.output


def test_build_is_a_noop_when_current(settings):
    out = run("build")
    assert out.exit_code == 0 and "up to date" in out.output


def test_an_unusable_setting_is_a_one_line_error_not_a_traceback(tmp_path):
    import os
    import subprocess
    import sys

    for name, value, says in [("RAG_CHUNK_TARGET_TOKENS", "abc", "not a valid int"), ("RAG_ANSWER_NO_ANSWER_WEIGHTS", "1,2", "needs 8 numbers")]:
        done = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "What was Operation Mehr?"], capture_output=True, text=True,
                              env={**os.environ, name: value}, timeout=120)
        assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr
