"""CKAN settings: where the URL, organisation and token come from, and what is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opengov.errors import ConfigError
from opengov.targets.ckan.settings import CkanSettings, check_url, ckan_settings

TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2VuLXZhbHVl.c2lnbmF0dXJlLXZhbHVl"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "CKAN_API_TOKEN",
        "OPENGOV_CKAN_URL",
        "OPENGOV_CKAN_ORG",
        "OPENGOV_CONFIG",
        "OPENGOV_CKAN_MAX_UPLOAD_MB",
    ):
        monkeypatch.delenv(name, raising=False)


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "opengov.toml"
    path.write_text(text, encoding="utf-8")
    return path


def token_file(tmp_path: Path, text: str = TOKEN + "\n") -> Path:
    path = tmp_path / "ckan-token"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def test_arguments_and_token_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CKAN_API_TOKEN", TOKEN)
    s = ckan_settings(url="https://data.example.se/", org="testkommun")
    assert s.url == "https://data.example.se"
    assert s.org == "testkommun"
    assert s.token == TOKEN
    assert s.token_source == "CKAN_API_TOKEN"


def test_environment_beats_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path,
        f'[ckan]\nurl = "https://config.example.se"\norg = "cfg-org"\n'
        f'token_file = "{token_file(tmp_path)}"\n',
    )
    monkeypatch.setenv("OPENGOV_CKAN_URL", "https://env.example.se")
    monkeypatch.setenv("OPENGOV_CKAN_ORG", "env-org")
    s = ckan_settings(config=cfg)
    assert (s.url, s.org) == ("https://env.example.se", "env-org")
    assert s.token == TOKEN


def test_arguments_beat_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CKAN_API_TOKEN", TOKEN)
    monkeypatch.setenv("OPENGOV_CKAN_URL", "https://env.example.se")
    monkeypatch.setenv("OPENGOV_CKAN_ORG", "env-org")
    s = ckan_settings(url="https://arg.example.se", org="arg-org")
    assert (s.url, s.org) == ("https://arg.example.se", "arg-org")


def test_config_file_with_relative_token_file(tmp_path: Path) -> None:
    token_file(tmp_path)
    cfg = write_config(
        tmp_path,
        '[ckan]\nurl = "https://data.example.se"\norg = "testkommun"\n'
        'token_file = "ckan-token"\nmax_upload_mb = 50\nretries = 2\n',
    )
    s = ckan_settings(config=cfg)
    assert s.token == TOKEN  # stripped of its newline
    assert s.token_source == str(tmp_path / "ckan-token")
    assert s.max_upload_mb == 50
    assert s.retries == 2


def test_top_level_keys_as_in_cli_help(tmp_path: Path) -> None:
    token_file(tmp_path)
    cfg = write_config(
        tmp_path,
        'ckan_url = "https://data.example.se"\norg = "testkommun"\ntoken_file = "ckan-token"\n',
    )
    s = ckan_settings(config=cfg)
    assert (s.url, s.org, s.token) == ("https://data.example.se", "testkommun", TOKEN)


def test_config_from_environment_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token_file(tmp_path)
    cfg = write_config(
        tmp_path, '[ckan]\nurl = "https://d.example.se"\norg = "o1"\ntoken_file = "ckan-token"\n'
    )
    monkeypatch.setenv("OPENGOV_CONFIG", str(cfg))
    assert ckan_settings().url == "https://d.example.se"


def test_token_never_in_repr_or_str(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CKAN_API_TOKEN", TOKEN)
    s = ckan_settings(url="https://data.example.se", org="testkommun")
    assert TOKEN not in repr(s)
    assert TOKEN not in str(s)
    assert TOKEN not in f"{s!r} {s}"
    assert "CKAN_API_TOKEN" in str(s)  # where it came from is fine to show


def test_settings_equal_regardless_of_token() -> None:
    # compare=False on the token: equality (and so assertion diffs) never involve it.
    a = CkanSettings(url="https://x.se", org="o1", token="aaa")
    b = CkanSettings(url="https://x.se", org="o1", token="bbb")
    assert a == b


@pytest.mark.parametrize(
    ("kwargs", "env", "fragment"),
    [
        ({"org": "testkommun"}, {"CKAN_API_TOKEN": TOKEN}, "no CKAN URL"),
        ({"url": "https://x.se"}, {"CKAN_API_TOKEN": TOKEN}, "no CKAN organisation"),
        ({"url": "https://x.se", "org": "testkommun"}, {}, "no CKAN API token"),
        ({"url": "ftp://x.se", "org": "testkommun"}, {"CKAN_API_TOKEN": TOKEN}, "http"),
        ({"url": "https://u:p@x.se", "org": "o1"}, {"CKAN_API_TOKEN": TOKEN}, "credentials"),
        ({"url": "https://x.se", "org": "Testkommun AB"}, {"CKAN_API_TOKEN": TOKEN}, "name"),
        ({"url": "https://x.se", "org": "o1"}, {"CKAN_API_TOKEN": "a b"}, "whitespace"),
    ],
)
def test_missing_or_bad_settings(
    monkeypatch: pytest.MonkeyPatch,
    kwargs: dict[str, str],
    env: dict[str, str],
    fragment: str,
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError) as info:
        ckan_settings(url=kwargs.get("url"), org=kwargs.get("org"))
    assert fragment in str(info.value)
    assert info.value.exit_code == 18
    assert TOKEN not in str(info.value)


def test_missing_token_message_names_both_sources() -> None:
    with pytest.raises(ConfigError) as info:
        ckan_settings(url="https://x.se", org="testkommun")
    message = str(info.value)
    assert "CKAN_API_TOKEN" in message and "token_file" in message
    assert "command-line" in message


def test_token_not_required_when_asked(tmp_path: Path) -> None:
    s = ckan_settings(url="https://x.se", org="testkommun", require_token=False)
    assert s.token is None and not s.has_token


def test_token_inside_config_is_refused(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, f'[ckan]\nurl = "https://x.se"\norg = "o1"\ntoken = "{TOKEN}"\n')
    with pytest.raises(ConfigError) as info:
        ckan_settings(config=cfg)
    assert "token_file" in str(info.value)
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[ckan\nurl=", "not valid TOML"),
        ("ckan = 3\n", "must be a table"),
        ('[ckan]\nurl = "https://x.se"\norg = "o1"\ntoken_file = "missing"\n', "not found"),
        ('[ckan]\nurl = "https://x.se"\norg = "o1"\ntoken_file = "empty"\n', "empty"),
        ('[ckan]\nurl = "https://x.se"\norg = "o1"\nretries = -1\n', "retries"),
        ('[ckan]\nurl = "https://x.se"\norg = "o1"\nmax_upload_mb = "lots"\n', "max_upload_mb"),
    ],
)
def test_bad_config_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str, fragment: str
) -> None:
    (tmp_path / "empty").write_text("\n")
    if "token_file" not in text:
        monkeypatch.setenv("CKAN_API_TOKEN", TOKEN)
    with pytest.raises(ConfigError) as info:
        ckan_settings(config=write_config(tmp_path, text))
    assert fragment in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        ckan_settings(config=tmp_path / "nope.toml")


def test_environment_token_beats_token_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    token_file(tmp_path, "from-file\n")
    cfg = write_config(
        tmp_path, '[ckan]\nurl = "https://x.se"\norg = "o1"\ntoken_file = "ckan-token"\n'
    )
    monkeypatch.setenv("CKAN_API_TOKEN", "from-env")
    assert ckan_settings(config=cfg).token == "from-env"


def test_world_readable_token_file_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = token_file(tmp_path)
    os.chmod(path, 0o644)
    cfg = write_config(
        tmp_path, '[ckan]\nurl = "https://x.se"\norg = "o1"\ntoken_file = "ckan-token"\n'
    )
    with caplog.at_level("WARNING", logger="opengov"):
        ckan_settings(config=cfg)
    assert "chmod 600" in caplog.text
    assert TOKEN not in caplog.text


def test_plain_http_to_a_remote_host_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CKAN_API_TOKEN", TOKEN)
    with caplog.at_level("WARNING", logger="opengov"):
        ckan_settings(url="http://data.example.se", org="o1")
    assert "unencrypted" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="opengov"):
        ckan_settings(url="http://127.0.0.1:5000", org="o1")
    assert "unencrypted" not in caplog.text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:99999",  # port out of range
        "http://127.0.0.1:80a",  # port not a number
        "http://[::1",  # unclosed IPv6 bracket
        "http://127.0.0.1:0",
        "http://data.example.se/a b",
        "http://data.example.se/\x1b[2J",
    ],
)
def test_malformed_url_is_a_config_error(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("CKAN_API_TOKEN", TOKEN)
    with pytest.raises(ConfigError) as info:
        ckan_settings(url=url, org="o1")
    assert "--ckan-url" in str(info.value)
    monkeypatch.setenv("OPENGOV_CKAN_URL", url)
    with pytest.raises(ConfigError) as info:
        ckan_settings(org="o1")
    assert "OPENGOV_CKAN_URL" in str(info.value)


def test_check_url_is_public_and_normalises() -> None:
    assert check_url(" https://data.example.se/ckan/ ", "x") == "https://data.example.se/ckan"
    assert check_url("http://[::1]:5000/") == "http://[::1]:5000"
    with pytest.raises(ConfigError, match="CKAN URL from somewhere"):
        check_url("http://[::1", "somewhere")


def test_token_file_with_a_bom_is_read_without_it(tmp_path: Path) -> None:
    token_file(tmp_path, "\ufeff" + TOKEN + "\r\n")
    cfg = write_config(
        tmp_path, '[ckan]\nurl = "https://x.se"\norg = "o1"\ntoken_file = "ckan-token"\n'
    )
    assert ckan_settings(config=cfg).token == TOKEN


def test_environment_token_with_a_bom_is_read_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CKAN_API_TOKEN", "\ufeff" + TOKEN)
    assert ckan_settings(url="https://x.se", org="o1").token == TOKEN


@pytest.mark.parametrize(
    "bad",
    [TOKEN + "\u2019", "\u00e9" + TOKEN, TOKEN + "\x01", "\ufeff\ufeff" + TOKEN, TOKEN + "\x7f"],
    ids=["quote", "accent", "control", "two-boms", "del"],
)
def test_non_ascii_token_is_refused_naming_only_its_source(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bad: str
) -> None:
    path = token_file(tmp_path, bad + "\n")
    cfg = write_config(
        tmp_path, '[ckan]\nurl = "https://x.se"\norg = "o1"\ntoken_file = "ckan-token"\n'
    )
    with pytest.raises(ConfigError) as info:
        ckan_settings(config=cfg)
    assert str(path) in str(info.value) and "ASCII" in str(info.value)
    assert TOKEN not in str(info.value) and bad not in str(info.value)
    monkeypatch.setenv("CKAN_API_TOKEN", bad)
    with pytest.raises(ConfigError) as info:
        ckan_settings(config=cfg)
    assert "CKAN_API_TOKEN" in str(info.value) and "ASCII" in str(info.value)
    assert TOKEN not in str(info.value) and bad not in str(info.value)


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("timeout = 0", "timeout"),
        ("timeout = -1", "timeout"),
        ("timeout = nan", "timeout"),
        ("timeout = inf", "timeout"),
        ("timeout = 1e300", "timeout"),
        ('timeout = "60"', "timeout"),
        ("timeout = true", "timeout"),
        ("retries = inf", "retries"),
        ("retries = nan", "retries"),
        ("retries = 2.5", "retries"),
        ("retries = 21", "retries"),
        ("retries = true", "retries"),
        ("backoff = nan", "backoff"),
        ("backoff = -0.5", "backoff"),
        ("max_upload_mb = nan", "max_upload_mb"),
        ("max_upload_mb = inf", "max_upload_mb"),
        ("max_upload_mb = 0", "max_upload_mb"),
        ("max_upload_mb = -5", "max_upload_mb"),
        ("max_upload_mb = true", "max_upload_mb"),
    ],
)
def test_bad_numbers_in_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, line: str, fragment: str
) -> None:
    monkeypatch.setenv("CKAN_API_TOKEN", TOKEN)
    cfg = write_config(tmp_path, f'[ckan]\nurl = "https://x.se"\norg = "o1"\n{line}\n')
    with pytest.raises(ConfigError) as info:
        ckan_settings(config=cfg)
    assert fragment in str(info.value)
    assert str(cfg) in str(info.value)
    assert info.value.exit_code == 18


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "lots"])
def test_bad_max_upload_in_environment(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CKAN_API_TOKEN", TOKEN)
    monkeypatch.setenv("OPENGOV_CKAN_MAX_UPLOAD_MB", value)
    with pytest.raises(ConfigError, match="OPENGOV_CKAN_MAX_UPLOAD_MB"):
        ckan_settings(url="https://x.se", org="o1")


def test_good_numbers_in_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CKAN_API_TOKEN", TOKEN)
    cfg = write_config(
        tmp_path,
        '[ckan]\nurl = "https://x.se"\norg = "o1"\ntimeout = 0.5\nretries = 0\nbackoff = 0\n'
        "max_upload_mb = 0.5\n",
    )
    s = ckan_settings(config=cfg)
    assert (s.timeout, s.retries, s.backoff, s.max_upload_mb) == (0.5, 0, 0.0, 0.5)
