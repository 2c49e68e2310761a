"""A bad configuration file or environment value refuses to start: one line, ``error: KEY:
reason``, exit status 2, never a traceback. Through the real ``deskboard`` console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GOOD_ENV = {
    "CW_API_URL": "https://api-na.myconnectwise.net/v4_6_release/apis/3.0",
    "CW_COMPANY": "velocity",
    "CW_PUBLIC_KEY": "public",
    "CW_PRIVATE_KEY": "private",
    "CW_CLIENT_ID": "client",
}
CONTEST = '[[contests]]\nname = "Most resolved"\nmetric = "resolved"\nperiod = "monthly"\n'


def deskboard(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CW_", "DESKBOARD_"))}
    return subprocess.run(
        [str(Path(sys.executable).with_name("deskboard")), *args],
        cwd=tmp_path,
        env={**clean, "DESKBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def refused(result: subprocess.CompletedProcess[str], key: str) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {key}"), line
    return line


@pytest.mark.parametrize(
    ("config", "key", "why"),
    [
        ('[[scores]]\nname = "S"\nweights = { resolved = nan }\n', "deskboard.toml", "finite"),
        (CONTEST.replace('period = "monthly"', 'kind = "one_goal"\ngoal = inf\nperiod = "monthly"'),
         "deskboard.toml", "finite"),
        (CONTEST.replace('"Most resolved"', '""'), "deskboard.toml", "contests[0].name"),
        (CONTEST.replace('"Most resolved"', '"   "'), "deskboard.toml", "contests[0].name"),
        ("a = " + "[" * 5000 + "]" * 5000 + "\n", "deskboard.toml", "nested too deeply"),
    ],
)  # fmt: skip
def test_a_bad_configuration_file_is_refused_in_one_line(tmp_path, config, key, why):
    (tmp_path / "deskboard.toml").write_text(config)
    line = refused(deskboard(tmp_path, GOOD_ENV, "standings"), key)
    assert why in line


def test_a_configuration_that_is_a_directory_or_not_utf8_is_refused(tmp_path):
    (tmp_path / "folder.toml").mkdir()
    (tmp_path / "latin1.toml").write_bytes('name = "Müller"\n'.encode("latin-1"))
    assert "is a directory" in refused(
        deskboard(tmp_path, GOOD_ENV, "standings", "--config", "folder.toml"), "folder.toml"
    )
    assert "not UTF-8" in refused(
        deskboard(tmp_path, GOOD_ENV, "standings", "--config", "latin1.toml"), "latin1.toml"
    )


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("CW_API_URL", "not a url", "not an http(s) URL"),
        ("CW_API_URL", "ftp://api-na.myconnectwise.net/v4_6_release/apis/3.0", "http(s)"),
        ("CW_API_URL", "https://api-na.myconnectwise.net/v4_6_release", "/apis/3.0"),
        ("CW_API_URL", "https://api-na.myconnectwise.net:99999/apis/3.0", "not a URL"),
        ("DESKBOARD_DATABASE_URL", "mysql://deskboard@localhost/deskboard", "mysql"),
        ("DESKBOARD_DATABASE_URL", "not a database url", "not a database URL"),
    ],
)
def test_a_bad_environment_value_is_refused_in_one_line(tmp_path, name, value, why):
    (tmp_path / "deskboard.toml").write_text(CONTEST)
    for command in (["sync"], ["status"]):
        line = refused(deskboard(tmp_path, {**GOOD_ENV, name: value}, *command), name)
        assert why in line
