"""Settings come from CROSSDEPT_* variables; a bad one stops start-up with one clear sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugin.spine.errors import SettingsError
from webhooks.settings import DEFAULT_MAX_BODY_BYTES, Settings, load_settings

DC = {
    "CROSSDEPT_JIRA_URL": "https://jira.example.com/jira/",
    "CROSSDEPT_MARK_KEY": "test-mark-key-not-in-jira",
    "CROSSDEPT_JIRA_PAT": "dc-personal-access-token",
    "CROSSDEPT_WEBHOOK_SECRET": "dc-webhook-secret-value",
}


def refusals(environ: dict[str, str], **kwargs: bool) -> list[str]:
    """Every problem start-up reports, one per line."""
    with pytest.raises(SettingsError) as raised:
        load_settings(environ, **kwargs)
    return str(raised.value).splitlines()


def refusal(environ: dict[str, str], **kwargs: bool) -> str:
    """The one problem start-up reports."""
    [message] = refusals(environ, **kwargs)
    return message


def test_a_cloud_environment_loads_with_defaults(environ: dict[str, str], tmp_path: Path) -> None:
    settings = load_settings(environ)
    assert settings.jira_url == "https://example.atlassian.net"
    assert settings.jira_is_cloud
    assert settings.jira_api_token is not None
    assert settings.jira_api_token.get_secret_value() == "test-jira-api-token"
    assert settings.database_url == f"sqlite:///{tmp_path}/data/crossdept.db"
    assert settings.queue_url == f"sqlite:///{tmp_path}/data/queue.db"
    assert settings.rules == Path("config/rules.yaml")
    assert settings.max_body_bytes == DEFAULT_MAX_BODY_BYTES
    assert (settings.allow_unsigned, settings.log_level) == (False, "INFO")


def test_defaults_without_a_data_dir() -> None:
    settings = load_settings(DC)
    assert settings.data_dir == Path("data")
    assert settings.database_url == "sqlite:///data/crossdept.db"


def test_a_data_center_environment_loads_and_trims_the_url() -> None:
    settings = load_settings(DC)
    assert settings.jira_url == "https://jira.example.com/jira"
    assert not settings.jira_is_cloud


def test_every_field_reads_its_variable(tmp_path: Path) -> None:
    settings = load_settings(
        {
            **DC,
            "crossdept_jira_account_id": "svc-crossdept",  # names are case-insensitive
            "CROSSDEPT_CONFLUENCE_URL": "https://wiki.example.com",
            "CROSSDEPT_ALLOW_UNSIGNED": "true",
            "CROSSDEPT_SHARED_TOKEN": "automation-token",
            "CROSSDEPT_RULES": "/etc/crossdept/rules.yaml",
            "CROSSDEPT_DATABASE_URL": "postgresql+psycopg://crossdept:pw@db/crossdept",
            "CROSSDEPT_QUEUE_URL": "redis://queue:6379/0",
            "CROSSDEPT_MAX_BODY_BYTES": "65536",
            "CROSSDEPT_LOG_LEVEL": "debug",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        }
    )
    assert settings.jira_account_id == "svc-crossdept"
    assert settings.confluence_url == "https://wiki.example.com"
    assert settings.allow_unsigned is True
    assert settings.rules == Path("/etc/crossdept/rules.yaml")
    assert settings.database_url.endswith("@db/crossdept")
    assert settings.queue_url == "redis://queue:6379/0"
    assert (settings.max_body_bytes, settings.log_level) == (65536, "DEBUG")
    assert settings.prometheus_multiproc_dir == tmp_path


def test_confluence_credentials_default_to_jiras(environ: dict[str, str]) -> None:
    settings = load_settings(environ)
    assert settings.confluence_email == "crossdept@example.com"
    assert settings.confluence_api_token is not None
    assert settings.confluence_api_token.get_secret_value() == "test-jira-api-token"
    dc = load_settings(DC)
    assert dc.confluence_pat is not None
    assert dc.confluence_pat.get_secret_value() == "dc-personal-access-token"


def test_confluence_credentials_of_its_own_replace_jiras(environ: dict[str, str]) -> None:
    settings = load_settings({**environ, "CROSSDEPT_CONFLUENCE_PAT": "wiki-pat"})
    assert settings.confluence_email is None and settings.confluence_api_token is None
    assert settings.confluence_pat is not None


def test_an_empty_variable_counts_as_unset(environ: dict[str, str]) -> None:
    settings = load_settings(
        {**environ, "CROSSDEPT_JIRA_ACCOUNT_ID": "", "CROSSDEPT_LOG_LEVEL": " "}
    )
    assert (settings.jira_account_id, settings.log_level) == (None, "INFO")


def test_a_missing_webhook_secret_names_the_variable_and_both_ways_out(
    environ: dict[str, str],
) -> None:
    del environ["CROSSDEPT_WEBHOOK_SECRET"]
    assert refusal(environ) == (
        "CROSSDEPT_WEBHOOK_SECRET is not set: set it to the secret of the Jira webhook, or set "
        "CROSSDEPT_ALLOW_UNSIGNED=true and CROSSDEPT_SHARED_TOKEN for Jira Automation or a Jira "
        "Server whose webhooks cannot be signed (/webhooks/jira?token=...)"
    )


def test_unsigned_delivery_can_be_allowed_with_a_token(environ: dict[str, str]) -> None:
    del environ["CROSSDEPT_WEBHOOK_SECRET"]
    environ |= {
        "CROSSDEPT_ALLOW_UNSIGNED": "true",
        "CROSSDEPT_SHARED_TOKEN": "automation-shared-token",
    }
    settings = load_settings(environ)
    assert settings.webhook_secret is None and settings.shared_token is not None


def test_unsigned_delivery_without_a_token_refuses_to_start(environ: dict[str, str]) -> None:
    del environ["CROSSDEPT_WEBHOOK_SECRET"]
    environ["CROSSDEPT_ALLOW_UNSIGNED"] = "1"
    assert refusal(environ).startswith(
        "CROSSDEPT_ALLOW_UNSIGNED is true but CROSSDEPT_SHARED_TOKEN is not set: anyone could"
    )


def test_a_token_without_allowing_unsigned_delivery_is_contradictory(
    environ: dict[str, str],
) -> None:
    environ["CROSSDEPT_SHARED_TOKEN"] = "automation-shared-token"
    assert refusal(environ).startswith(
        "CROSSDEPT_SHARED_TOKEN is set but CROSSDEPT_ALLOW_UNSIGNED is not true"
    )


def test_processes_without_webhooks_need_no_secret(environ: dict[str, str]) -> None:
    del environ["CROSSDEPT_WEBHOOK_SECRET"]
    assert load_settings(environ, require_webhook=False).webhook_secret is None


def test_jira_url_is_required_unless_the_caller_says_otherwise(environ: dict[str, str]) -> None:
    for name in ("CROSSDEPT_JIRA_URL", "CROSSDEPT_JIRA_EMAIL", "CROSSDEPT_JIRA_API_TOKEN"):
        del environ[name]
    url, login = refusals(environ)  # both missing settings in one run, not one per run
    assert url.startswith("CROSSDEPT_JIRA_URL is not set: set it to your Jira")
    assert login.startswith("CROSSDEPT_JIRA_API_TOKEN is not set: set CROSSDEPT_JIRA_EMAIL")
    assert load_settings(environ, require_jira=False).jira_url is None


def test_every_missing_or_wrong_setting_is_reported_in_one_run(environ: dict[str, str]) -> None:
    for name in ("CROSSDEPT_JIRA_URL", "CROSSDEPT_MARK_KEY", "CROSSDEPT_WEBHOOK_SECRET"):
        del environ[name]
    environ["CROSSDEPT_LOG_LEVEL"] = "loud"
    environ["CROSSDEPT_WEBHOOK_SECERT"] = "x"
    named = [line.split(" ", 1)[0] for line in refusals(environ)]
    assert sorted(named) == [
        "CROSSDEPT_JIRA_URL",
        "CROSSDEPT_LOG_LEVEL",
        "CROSSDEPT_MARK_KEY",
        "CROSSDEPT_WEBHOOK_SECERT",
        "CROSSDEPT_WEBHOOK_SECRET",
    ]


def test_a_jira_url_without_credentials_is_refused_even_when_jira_is_optional(
    environ: dict[str, str],
) -> None:
    del environ["CROSSDEPT_JIRA_EMAIL"], environ["CROSSDEPT_JIRA_API_TOKEN"]
    assert refusal(environ, require_jira=False) == (
        "CROSSDEPT_JIRA_API_TOKEN is not set: set CROSSDEPT_JIRA_EMAIL and "
        "CROSSDEPT_JIRA_API_TOKEN for Jira Cloud, or CROSSDEPT_JIRA_PAT for Jira Data Center "
        "(8.14 and later), or CROSSDEPT_JIRA_USERNAME and CROSSDEPT_JIRA_PASSWORD for an older "
        "Jira Server"
    )


def test_an_older_server_logs_in_with_username_and_password() -> None:
    environ = {k: v for k, v in DC.items() if k != "CROSSDEPT_JIRA_PAT"}
    environ |= {
        "CROSSDEPT_JIRA_USERNAME": "crossdept",
        "CROSSDEPT_JIRA_PASSWORD": "pw-must-not-leak",
    }
    settings = load_settings(environ)
    assert settings.jira_username == "crossdept"
    assert "pw-must-not-leak" in settings.secret_values()
    assert "pw-must-not-leak" not in repr(settings)
    # Confluence logs in the same way unless told otherwise.
    assert settings.confluence_username == "crossdept"
    without = {k: v for k, v in environ.items() if k != "CROSSDEPT_JIRA_PASSWORD"}
    assert refusal(without).startswith(
        "CROSSDEPT_JIRA_PASSWORD is not set: set it to the password of crossdept"
    )
    assert refusal({**environ, "CROSSDEPT_JIRA_PAT": "pat"}).startswith(
        "CROSSDEPT_JIRA_PAT and CROSSDEPT_JIRA_USERNAME/CROSSDEPT_JIRA_PASSWORD are both set: "
        "choose one login"
    )
    cloud = {**environ, "CROSSDEPT_JIRA_URL": "https://acme.atlassian.net"}
    assert refusal(cloud).startswith(
        "CROSSDEPT_JIRA_USERNAME is set but Jira Cloud does not take passwords"
    )


def test_cloud_needs_both_email_and_token(environ: dict[str, str]) -> None:
    assert refusal({**environ, "CROSSDEPT_JIRA_EMAIL": ""}).startswith(
        "CROSSDEPT_JIRA_EMAIL is not set"
    )
    token_missing = dict(environ)
    del token_missing["CROSSDEPT_JIRA_API_TOKEN"]
    assert refusal(token_missing).startswith("CROSSDEPT_JIRA_API_TOKEN is not set")


def test_a_pat_and_an_api_token_together_are_contradictory(environ: dict[str, str]) -> None:
    assert refusal({**environ, "CROSSDEPT_JIRA_PAT": "pat"}).startswith(
        "CROSSDEPT_JIRA_EMAIL/CROSSDEPT_JIRA_API_TOKEN and CROSSDEPT_JIRA_PAT are both set"
    )


def test_a_pat_for_a_cloud_site_is_refused() -> None:
    assert refusal({**DC, "CROSSDEPT_JIRA_URL": "https://acme.atlassian.net"}).startswith(
        "CROSSDEPT_JIRA_PAT is set but Jira Cloud does not take personal access tokens"
    )


def test_confluence_is_checked_when_set_or_required(environ: dict[str, str]) -> None:
    assert refusal(environ, require_confluence=True).startswith(
        "CROSSDEPT_CONFLUENCE_URL is not set"
    )
    both = {
        **environ,
        "CROSSDEPT_CONFLUENCE_URL": "https://x.atlassian.net/wiki",
        "CROSSDEPT_CONFLUENCE_PAT": "p",
        "CROSSDEPT_CONFLUENCE_EMAIL": "a@b.c",
    }
    assert refusal(both).startswith(
        "CROSSDEPT_CONFLUENCE_EMAIL/CROSSDEPT_CONFLUENCE_API_TOKEN and CROSSDEPT_CONFLUENCE_PAT"
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "CROSSDEPT_MAX_BODY_BYTES",
            "lots",
            "CROSSDEPT_MAX_BODY_BYTES is not valid: Input should be a valid integer",
        ),
        (
            "CROSSDEPT_MAX_BODY_BYTES",
            "0",
            "CROSSDEPT_MAX_BODY_BYTES is not valid: Input should be greater than 0",
        ),
        (
            "CROSSDEPT_ALLOW_UNSIGNED",
            "perhaps",
            "CROSSDEPT_ALLOW_UNSIGNED is not valid: Input should be a valid boolean",
        ),
        (
            "CROSSDEPT_LOG_LEVEL",
            "loud",
            "CROSSDEPT_LOG_LEVEL is not valid: it must be one of DEBUG",
        ),
        (
            "CROSSDEPT_JIRA_URL",
            "example.atlassian.net",
            "CROSSDEPT_JIRA_URL is not valid: it must be an http(s) URL",
        ),
    ],
)
def test_a_malformed_value_names_its_variable(
    environ: dict[str, str], name: str, value: str, message: str
) -> None:
    assert refusal({**environ, name: value}).startswith(message)


def test_a_misspelt_variable_is_refused_with_a_suggestion(environ: dict[str, str]) -> None:
    assert refusal({**environ, "CROSSDEPT_WEBHOOK_SECERT": "x"}) == (
        "CROSSDEPT_WEBHOOK_SECERT is not a crossdept setting: did you mean CROSSDEPT_WEBHOOK_SECRET?"
    )


def test_other_variables_are_ignored(environ: dict[str, str]) -> None:
    load_settings({**environ, "PATH": "/usr/bin", "HOME": "/root", "JIRA_URL": "nonsense"})


def test_the_test_suites_own_variables_are_not_settings(environ: dict[str, str]) -> None:
    load_settings({**environ, "CROSSDEPT_TEST_DATABASE_URL": "postgresql://localhost/test"})


def test_secrets_never_appear_in_reprs_or_errors(environ: dict[str, str]) -> None:
    environ |= {
        "CROSSDEPT_DATABASE_URL": "postgresql://crossdept:db-password@db/crossdept",
        "CROSSDEPT_ALLOW_UNSIGNED": "true",
        "CROSSDEPT_SHARED_TOKEN": "automation-token",
    }
    settings = load_settings(environ)
    shown = repr(settings) + str(settings)
    for secret in (
        "test-webhook-secret",
        "test-jira-api-token",
        "automation-token",
        "db-password",
        "test-mark-key-not-in-jira",
    ):
        assert secret not in shown
    assert sorted(settings.secret_values()) == sorted(
        [
            "test-mark-key-not-in-jira",
            "test-jira-api-token",
            "test-jira-api-token",
            "test-webhook-secret",
            "automation-token",
            "db-password",
        ]
    )
    bad = refusal({**environ, "CROSSDEPT_JIRA_PAT": "pat-that-must-not-leak"})
    assert "pat-that-must-not-leak" not in bad


def test_settings_are_frozen(settings: Settings) -> None:
    with pytest.raises(ValueError):
        settings.allow_unsigned = True  # type: ignore[misc]


def test_the_process_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in DC.items():
        monkeypatch.setenv(name, value)
    assert load_settings().jira_url == "https://jira.example.com/jira"


def test_settings_need_no_environment_at_all_when_nothing_is_required() -> None:
    settings = load_settings({}, require_jira=False, require_webhook=False)
    assert settings.jira_url is None


@pytest.mark.parametrize("variable", ["CROSSDEPT_WEBHOOK_SECRET", "CROSSDEPT_SHARED_TOKEN"])
def test_a_short_webhook_secret_or_token_is_refused_saying_why(
    environ: dict[str, str], variable: str
) -> None:
    short = {
        **environ,
        "CROSSDEPT_ALLOW_UNSIGNED": "true",
        "CROSSDEPT_SHARED_TOKEN": "a-shared-token-long-enough",
        variable: "fifteen-chars!!",
    }
    message = refusal(short)
    assert message.startswith(f"{variable} is 15 characters long")
    assert "at least 16" in message
    assert "fifteen-chars!!" not in message

    load_settings({**short, variable: "sixteen-chars!!!"})  # 16 is enough


def test_crossdept_needs_a_key_to_seal_its_marks_with(environ: dict[str, str]) -> None:
    del environ["CROSSDEPT_MARK_KEY"]
    assert refusal(environ).startswith("CROSSDEPT_MARK_KEY is not set: set it to at least 16")
    short = refusal({**environ, "CROSSDEPT_MARK_KEY": "short"})
    assert short.startswith("CROSSDEPT_MARK_KEY is 5 characters long, too short")


def test_trusted_proxies_are_addresses(environ: dict[str, str]) -> None:
    settings = load_settings({**environ, "CROSSDEPT_TRUSTED_PROXIES": "127.0.0.1, ::1"})
    assert settings.trusted_proxies == frozenset({"127.0.0.1", "::1"})
    assert refusal({**environ, "CROSSDEPT_TRUSTED_PROXIES": "proxy.internal"}).startswith(
        "CROSSDEPT_TRUSTED_PROXIES is not valid: 'proxy.internal' is not an IP address"
    )


def test_group_robots_addresses_are_read_by_their_names_and_kept_secret(
    environ: dict[str, str],
) -> None:
    address = "https://oapi.dingtalk.com/robot/send?access_token=tok-123"
    settings = load_settings(
        {**environ, "CROSSDEPT_ROBOT_TECH_URL": address, "CROSSDEPT_ROBOT_TECH_SECRET": "SECx"}
    )

    assert settings.robots["CROSSDEPT_ROBOT_TECH_URL"].get_secret_value() == address
    assert "tok-123" not in repr(settings) and "SECx" not in repr(settings)
    # Scrubbed from logs: the address, its token (a request log shows it alone), the secret.
    assert {address, "tok-123", "SECx"} <= set(settings.secret_values())
