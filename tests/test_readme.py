"""The README's commands run, so they cannot rot (STYLE.md, habit 11).

A fenced shell block right below a line ``<!-- readme-test: NAME -->`` is a walk-through: its
commands run in order, in one scratch folder (with the repository's ``examples/`` beside them),
each must exit with code 0. Only the names in :data:`BLOCKS` run here; other names (``terrain``)
have their own tests. ``iadsim`` is this checkout's (run in this process, so the compiled kernels
are loaded once); replication counts are cut to :data:`REPLICATIONS` to keep this short. Lines
that cannot run in a test are listed in :data:`SKIP` with the reason.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

README = REPO / "README.md"
MARK = re.compile(r"^<!--\s*readme-test:\s*([A-Za-z0-9_-]+)\s*-->\s*$")
FENCE = re.compile(r"^```(bash|sh|shell|console)\s*$")
#: the walk-throughs this test runs, in README order
BLOCKS = ("outputs", "tour", "sweep-query")
#: replications of every `iadsim demo/run/sweep` (-n N is replaced, or added); 16: the README's
#: `report -r 12` shows replication 12
REPLICATIONS = "16"
#: commands not run here: prefix -> why
SKIP = {
    "source ": "activates the virtual environment: iadsim is this checkout's already",
    "$EDITOR": "interactive",
    "npm ": "the Cesium viewer needs npm and a browser: tests/test_browser.py",
    "python -m http.server": "serves until stopped",
    "iadsim validation run": "minutes of simulation: tests/test_validation.py runs the suite",
}
REDIRECT = (">", ">>")


def blocks(text: str, names=None) -> dict[str, list[str]]:
    """NAME -> the commands of the block under ``<!-- readme-test: NAME -->``, comments removed,
    continued lines (``\\``, an open quote, console ``$`` prompts) joined; only the blocks
    ``names`` when given (the others are other tests' business)."""
    lines = text.splitlines()
    found: dict[str, list[str]] = {}
    for i, line in enumerate(lines):
        m = MARK.match(line)
        if not m or (names is not None and m.group(1) not in names):
            continue
        name = m.group(1)
        assert name not in found, f"README: two blocks named {name!r}"
        assert i + 1 < len(lines) and FENCE.match(lines[i + 1]), \
            f"README line {i + 1}: the marker must be directly above a fenced shell block"
        console = FENCE.match(lines[i + 1]).group(1) == "console"
        body = []
        for ln in lines[i + 2:]:
            if ln.startswith("```"):
                break
            body.append(ln)
        else:
            raise AssertionError(f"README: block {name!r} is not closed")
        found[name] = _commands(body, console)
    return found


def _complete(cmd: str) -> bool:
    if cmd.rstrip().endswith("\\"):
        return False
    try:
        shlex.split(cmd, comments=True)
    except ValueError:   # an open quote: the command goes on
        return False
    return True


def _commands(body: list[str], console: bool) -> list[str]:
    cmds, cur = [], None
    for ln in body:
        if cur is None:
            if console:
                if not ln.startswith("$ "):
                    continue          # output shown in the README
                ln = ln[2:]
            if not ln.strip() or ln.lstrip().startswith("#"):
                continue
            cur = ln
        else:
            head = cur.rstrip()
            cur = (head.removesuffix("\\").rstrip() + " " if head.endswith("\\") else head + "\n") + ln.strip()
        if _complete(cur):
            cmds.append(cur)
            cur = None
    assert cur is None, f"README: unfinished command {cur!r}"
    return cmds


def _tokens(cmd: str) -> list[str]:
    lex = shlex.shlex(cmd, posix=True, punctuation_chars=";&|<>")
    lex.whitespace_split = True
    lex.commenters = "#"
    return list(lex)


def small(tokens: list[str]) -> list[str]:
    """The command with REPLICATIONS replications (iadsim demo, run and sweep)."""
    if tokens[:1] != ["iadsim"] or len(tokens) < 2 or tokens[1] not in ("demo", "run", "sweep"):
        return tokens
    out, i = [], 0
    while i < len(tokens):
        t = tokens[i]
        if t in ("-n", "--replications") and i + 1 < len(tokens):
            out += [t, REPLICATIONS]
            i += 2
            continue
        if t.startswith("--replications="):
            t = f"--replications={REPLICATIONS}"
        out.append(t)
        i += 1
    if not any(t in ("-n", "--replications") or t.startswith("--replications=") for t in out):
        out += ["-n", REPLICATIONS]
    return out


def skipped(cmd: str) -> str | None:
    return next((why for prefix, why in SKIP.items() if cmd.lstrip().startswith(prefix)), None)


def run_command(cmd: str, cwd: Path) -> tuple[int, str]:
    """Run one README command in ``cwd``: ``iadsim ...`` in this process (stdout redirected with
    ``>`` is written to its file), anything else with bash."""
    from iadsim.cli import main

    tokens = small(_tokens(cmd))
    ops = {"&&", "||", "|", ";", "<"}
    if tokens[:1] == ["iadsim"] and not ops & set(tokens):
        target = None
        if any(t in REDIRECT for t in tokens):
            k = next(i for i, t in enumerate(tokens) if t in REDIRECT)
            assert len(tokens) == k + 2, f"one redirection at the end: {cmd!r}"
            target, mode, tokens = cwd / tokens[k + 1], "a" if tokens[k] == ">>" else "w", tokens[:k]
        buf_out, buf_err = io.StringIO(), io.StringIO()
        old = Path.cwd()
        os.chdir(cwd)
        try:
            with contextlib.redirect_stdout(buf_out), contextlib.redirect_stderr(buf_err):
                rc = main(tokens[1:])
        finally:
            os.chdir(old)
        if target is not None:
            with open(target, mode, encoding="utf-8") as f:
                f.write(buf_out.getvalue())
        return rc, buf_out.getvalue() + buf_err.getvalue()
    p = subprocess.run(["bash", "-euo", "pipefail", "-c", cmd], cwd=cwd, capture_output=True, text=True,
                       timeout=300)
    return p.returncode, p.stdout + p.stderr


def test_readme_marks_the_blocks_this_test_runs():
    found = blocks(README.read_text(encoding="utf-8"), BLOCKS)
    assert set(BLOCKS) <= set(found), f"README lacks the blocks {sorted(set(BLOCKS) - set(found))}"
    for name in BLOCKS:
        assert [c for c in found[name] if not skipped(c)], f"block {name!r} runs nothing"


def test_block_parsing():
    text = "\n".join([
        "<!-- readme-test: a -->", "```bash", "source .venv/bin/activate", "iadsim run x.yaml -n 2000 --seed 7  # go",
        "iadsim sweep s.yaml --vary 'a=1,2' \\", "    --out o", "iadsim schema > s.json", "```",
        "<!-- readme-test: b -->", "```console", "$ iadsim query o 'select 1,", "    2'", "output line", "```",
        "<!-- readme-test: terrain -->", "```bash", "iadsim demo", "```"])
    found = blocks(text)
    assert found["a"] == ["source .venv/bin/activate", "iadsim run x.yaml -n 2000 --seed 7  # go",
                          "iadsim sweep s.yaml --vary 'a=1,2' --out o", "iadsim schema > s.json"]
    assert found["b"] == ["iadsim query o 'select 1,\n2'"]
    assert small(_tokens(found["a"][1])) == ["iadsim", "run", "x.yaml", "-n", REPLICATIONS, "--seed", "7"]
    assert small(_tokens(found["a"][2]))[-2:] == ["-n", REPLICATIONS]
    assert _tokens(found["a"][3]) == ["iadsim", "schema", ">", "s.json"]
    assert skipped(found["a"][0]) and not skipped(found["a"][1])
    assert "terrain" not in BLOCKS    # the Kabul terrain walk-through has its own test
    assert set(blocks(text, BLOCKS + ("a",))) == {"a"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("readme")
    (d / "examples").symlink_to(REPO / "examples", target_is_directory=True)
    return d


@pytest.mark.slow   # about 60 s of CPU in all: two demos, a report with PNGs, a run on two workers, a sweep
@pytest.mark.parametrize("name", BLOCKS)
def test_readme_block_runs(name, workspace):
    cmds = blocks(README.read_text(encoding="utf-8"), BLOCKS)[name]
    for cmd in cmds:
        if skipped(cmd):
            continue
        rc, said = run_command(cmd, workspace)
        assert rc == 0, f"README block {name!r}: `{cmd}` exited with {rc}:\n{said[-3000:]}"
