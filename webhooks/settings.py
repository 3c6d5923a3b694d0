"""crossdept's settings, read once from CROSSDEPT_* environment variables and checked before start-up."""

from __future__ import annotations

import difflib
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from plugin.spine.errors import SettingsError

PREFIX = "CROSSDEPT_"
# Reserved for the test suite (e.g. CROSSDEPT_TEST_DATABASE_URL); never read as a setting.
TEST_PREFIX = "CROSSDEPT_TEST_"
ROBOT_PREFIX = "CROSSDEPT_ROBOT_"  # the group robots' addresses and secrets, named in the rules
# prometheus_client's own variable: set it (`serve` does) to share metrics between processes.
MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# Jira Cloud refuses to send bodies over 25 MB, so a lower limit could refuse a genuine delivery.
# https://developer.atlassian.com/cloud/jira/platform/webhooks/
DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_CLOUD_HOSTS = (".atlassian.net", ".jira.com")


# The login settings of Jira and of Confluence, each prefixed by its product.
LOGIN_FIELDS = ("email", "api_token", "pat", "username", "password")

# A webhook secret or shared token shorter than this is refused: guessable, and too short to
# scrub from logs without touching ordinary words.
MIN_SECRET_LENGTH = 16
DEFAULT_MAX_DELIVERY_AGE = 24 * 3600  # seconds; 0 turns the check off


class Settings(BaseSettings):
    """Everything crossdept reads from the environment; secrets are SecretStr so reprs hide them."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="forbid", frozen=True)

    jira_url: str | None = None
    jira_email: str | None = None
    jira_api_token: SecretStr | None = None
    jira_pat: SecretStr | None = None
    # Jira Server / Data Center before 8.14 (no personal access tokens): basic auth.
    jira_username: str | None = None
    jira_password: SecretStr | None = None
    jira_account_id: str | None = None
    # Seals crossdept's marks in Jira (plugin.atlassian.seals); Jira never holds it.
    mark_key: SecretStr | None = None
    confluence_url: str | None = None
    # The group robots' addresses and secrets, CROSSDEPT_ROBOT_* by the names the rules file uses.
    robots: dict[str, SecretStr] = Field(default_factory=dict)
    confluence_email: str | None = None
    confluence_api_token: SecretStr | None = None
    confluence_pat: SecretStr | None = None
    confluence_username: str | None = None
    confluence_password: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    allow_unsigned: bool = False
    shared_token: SecretStr | None = None
    board_token: SecretStr | None = None  # the goal board at /board is off without it
    # The address Jira reaches crossdept at (doctor finds its webhook by it; setup registers it).
    public_url: str | None = None
    # Addresses of the reverse proxy in front: only its X-Forwarded-* headers are believed.
    trusted_proxies: frozenset[str] = frozenset()
    jira_max_rps: float | None = Field(default=None, gt=0)  # all workers together, per Jira site
    rules: Path = Path("config/rules.yaml")
    data_dir: Path = Path("data")
    # URLs may hold a password (postgresql://user:pw@host/db), so they stay out of reprs.
    database_url: str = Field(default="", repr=False)
    queue_url: str = Field(default="", repr=False)
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, gt=0)
    # A delivery whose own timestamp is older is a replay (Jira Cloud retries for about an hour).
    max_delivery_age: int = Field(default=DEFAULT_MAX_DELIVERY_AGE, ge=0)
    log_level: str = "INFO"
    prometheus_multiproc_dir: Path | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Take values only from `load_settings`, which reads the mapping it is given."""
        return (init_settings,)

    @field_validator("jira_url", "confluence_url", "public_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("it must be an http(s) URL such as https://example.atlassian.net")
        return value.strip().rstrip("/")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_addresses(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        addresses = frozenset(part.strip() for part in value.split(",") if part.strip())
        for address in addresses:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ValueError(
                    f"{address!r} is not an IP address; list the proxy's addresses, "
                    "comma-separated, e.g. 127.0.0.1,::1"
                ) from None
        return addresses

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in _LOG_LEVELS:
            raise ValueError(f"it must be one of {', '.join(_LOG_LEVELS)}")
        return level

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, values: Any) -> Any:
        """Derive the store and queue URLs from the data dir, and Confluence's login from Jira's."""
        if not isinstance(values, dict):
            return values
        data_dir = Path(values.get("data_dir") or "data")
        values.setdefault("database_url", f"sqlite:///{data_dir / 'crossdept.db'}")
        values.setdefault("queue_url", f"sqlite:///{data_dir / 'queue.db'}")
        if not any(values.get(f"confluence_{name}") for name in LOGIN_FIELDS):
            for name in LOGIN_FIELDS:
                if values.get(f"jira_{name}") is not None:
                    values[f"confluence_{name}"] = values[f"jira_{name}"]
        return values

    @property
    def jira_is_cloud(self) -> bool:
        """Say whether Jira is Cloud (accountId users, email + API token) rather than Data Center."""
        host = urlsplit(self.jira_url or "").hostname or ""
        return host.endswith(_CLOUD_HOSTS)

    def secret_values(self) -> list[str]:
        """Return every secret's plain value, so log output can be scrubbed of them."""
        found = [
            secret.get_secret_value()
            for secret in (
                self.jira_api_token,
                self.jira_pat,
                self.jira_password,
                self.confluence_api_token,
                self.confluence_pat,
                self.confluence_password,
                self.webhook_secret,
                self.mark_key,
                self.shared_token,
                self.board_token,
            )
            if secret is not None and secret.get_secret_value()
        ]
        for url in (self.database_url, self.queue_url):
            password = urlsplit(url).password
            if password:
                found.append(password)
        for robot in self.robots.values():
            found += [robot.get_secret_value(), *robot_keys(robot.get_secret_value())]
        return found

    def _login(self, product: str) -> Login:
        """The login settings of `jira` or `confluence`, in LOGIN_FIELDS order."""
        return Login(*(getattr(self, f"{product}_{name}") for name in LOGIN_FIELDS))

    def login_names(self, product: str) -> str:
        """The variables that hold the login in use for `jira` or `confluence`, for errors."""
        login, upper = self._login(product), f"{PREFIX}{product.upper()}"
        if login.pat is not None:
            names = f"{upper}_PAT"
        elif login.username is not None:
            names = f"{upper}_USERNAME and {upper}_PASSWORD"
        else:
            names = f"{upper}_EMAIL and {upper}_API_TOKEN"
        if product == "confluence":
            names += f" (which default to the {PREFIX}JIRA_* ones)"
        return names

    def jira_problems(self) -> list[str]:
        """Every sentence saying what is wrong with the Jira login (none: it is complete)."""
        problems = []
        if self.jira_url is None:
            problems.append(
                f"{PREFIX}JIRA_URL is not set: set it to your Jira's base URL, "
                "e.g. https://example.atlassian.net"
            )
        if self.mark_key is None:
            problems.append(
                f"{PREFIX}MARK_KEY is not set: set it to at least {MIN_SECRET_LENGTH} random "
                "characters that Jira never sees (e.g. the output of `python3 -c 'import "
                "secrets; print(secrets.token_urlsafe(32))'`); crossdept seals its marks in Jira "
                "with it, so keep it with the other secrets and never change it"
            )
        short = _too_short("MARK_KEY", self.mark_key, set_in_jira=False)
        if short:
            problems.append(short)
        login = self._login("jira")
        # Which logins fit depends on the address (Cloud or Data Center): without one, only a
        # login missing altogether can be told.
        if self.jira_url is not None or login == Login(None, None, None, None, None):
            credentials = _credentials_problem("JIRA", login, is_cloud=self.jira_is_cloud)
            if credentials:
                problems.append(credentials)
        return problems

    def confluence_problem(self) -> str | None:
        """Return the one sentence saying what is wrong with the Confluence login, or None."""
        if self.confluence_url is None:
            return None
        host = urlsplit(self.confluence_url).hostname or ""
        return _credentials_problem(
            "CONFLUENCE",
            self._login("confluence"),
            is_cloud=host.endswith(_CLOUD_HOSTS),
        )

    def webhook_problem(self) -> str | None:
        """Return the first sentence saying why webhooks could not be authenticated, or None."""
        problems = self.webhook_problems()
        return problems[0] if problems else None

    def webhook_problems(self) -> list[str]:
        """Every sentence saying why webhooks could not be authenticated."""
        problems = []
        if self.shared_token is not None and not self.allow_unsigned:
            problems.append(
                f"{PREFIX}SHARED_TOKEN is set but {PREFIX}ALLOW_UNSIGNED is not true: set "
                f"{PREFIX}ALLOW_UNSIGNED=true to accept Jira Automation requests or Jira Server "
                f"webhooks carrying the token, or unset {PREFIX}SHARED_TOKEN"
            )
        if self.allow_unsigned and self.shared_token is None:
            problems.append(
                f"{PREFIX}ALLOW_UNSIGNED is true but {PREFIX}SHARED_TOKEN is not set: anyone "
                f"could send crossdept deliveries; set {PREFIX}SHARED_TOKEN to at least "
                f"{MIN_SECRET_LENGTH} random characters and carry it in X-Crossdept-Token or "
                f"the webhook URL's ?token=, or unset {PREFIX}ALLOW_UNSIGNED"
            )
        if self.webhook_secret is None and not self.allow_unsigned:
            problems.append(
                f"{PREFIX}WEBHOOK_SECRET is not set: set it to the secret of the Jira webhook, "
                f"or set {PREFIX}ALLOW_UNSIGNED=true and {PREFIX}SHARED_TOKEN for Jira Automation "
                "or a Jira Server whose webhooks cannot be signed (/webhooks/jira?token=...)"
            )
        for name, secret in (
            ("WEBHOOK_SECRET", self.webhook_secret),
            ("SHARED_TOKEN", self.shared_token),
            ("BOARD_TOKEN", self.board_token),
        ):
            short = _too_short(name, secret, set_in_jira=name != "BOARD_TOKEN")
            if short:
                problems.append(short)
        return problems


def _too_short(name: str, secret: SecretStr | None, *, set_in_jira: bool) -> str | None:
    """The sentence refusing a secret shorter than MIN_SECRET_LENGTH, or None (unset: None)."""
    length = len(secret.get_secret_value()) if secret is not None else MIN_SECRET_LENGTH
    if length >= MIN_SECRET_LENGTH:
        return None
    return (
        f"{PREFIX}{name} is {length} characters long, too short to resist guessing: "
        f"use at least {MIN_SECRET_LENGTH} random characters (e.g. the output of "
        "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        + (" and set the same value in Jira" if set_in_jira else "")
    )


@dataclass(frozen=True)
class Login:
    """The three ways to log in, of which exactly one is set: Cloud's email + API token, Data
    Center's personal access token (Jira 8.14+), or a username + password (older servers)."""

    email: str | None
    api_token: SecretStr | None
    pat: SecretStr | None
    username: str | None
    password: SecretStr | None


def _credentials_problem(product: str, login: Login, *, is_cloud: bool) -> str | None:
    name = product.capitalize()
    email_var, token_var, pat_var, user_var, password_var = (
        f"{PREFIX}{product}_{x}" for x in ("EMAIL", "API_TOKEN", "PAT", "USERNAME", "PASSWORD")
    )
    choices = (
        f"set {email_var} and {token_var} for {name} Cloud, or {pat_var} for {name} Data Center "
        f"(8.14 and later), or {user_var} and {password_var} for an older {name} Server"
    )
    chosen = [
        label
        for label, present in (
            (f"{email_var}/{token_var}", login.email is not None or login.api_token is not None),
            (pat_var, login.pat is not None),
            (
                f"{user_var}/{password_var}",
                login.username is not None or login.password is not None,
            ),
        )
        if present
    ]
    if len(chosen) > 1:
        many = "both" if len(chosen) == 2 else "all"
        return f"{' and '.join(chosen)} are {many} set: choose one login: {choices}"
    if login.pat is not None:
        if is_cloud:
            return (
                f"{pat_var} is set but {name} Cloud does not take personal access tokens: "
                f"set {email_var} and {token_var} (an Atlassian API token) instead"
            )
        return None
    if login.username is not None or login.password is not None:
        if is_cloud:
            return (
                f"{user_var} is set but {name} Cloud does not take passwords: "
                f"set {email_var} and {token_var} (an Atlassian API token) instead"
            )
        if login.username is None:
            return f"{user_var} is not set: set it to the account whose password is {password_var}"
        if login.password is None:
            return f"{password_var} is not set: set it to the password of {login.username}"
        return None
    if login.email is None and login.api_token is None:
        return f"{token_var} is not set: {choices}"
    if login.email is None:
        return f"{email_var} is not set: set it to the account that owns {token_var}"
    if login.api_token is None:
        return f"{token_var} is not set: create an API token for {login.email} and set it here"
    return None


def robot_keys(value: str) -> list[str]:
    """The key or token inside a group robot's address (`?key=`, `?access_token=`, or the
    Feishu hook's last path part), which is what a request log would show of it."""
    parts = urlsplit(value)
    if not parts.scheme:
        return []
    query = dict(parse_qsl(parts.query))
    found = [query[name] for name in ("key", "access_token") if query.get(name)]
    if "/hook/" in parts.path:
        found.append(parts.path.rsplit("/", 1)[-1])
    return [key for key in found if key]


def variable_name(field: str) -> str:
    """Return the environment variable that sets `field`."""
    if field == "prometheus_multiproc_dir":
        return MULTIPROC_VARIABLE
    if field == "robots":
        return ROBOT_PREFIX + "*"  # a family named in the rules file, never one variable
    return PREFIX + field.upper()


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    require_jira: bool = True,
    require_webhook: bool = True,
    require_confluence: bool = False,
) -> Settings:
    """Read and check the settings; raise SettingsError with one sentence naming the variable.

    `require_jira=False` suits commands that can run without Jira (a local demo, a dry run);
    `require_webhook=False` suits processes that receive no webhooks (worker, jobs).
    """
    source = os.environ if environ is None else environ
    known = {variable_name(field): field for field in Settings.model_fields}
    values: dict[str, str] = {}
    robots: dict[str, SecretStr] = {}
    problems: list[str] = []  # every one, so an admin fixes them all in one round
    for variable, value in source.items():
        upper = variable.upper()
        if upper in known:
            if value.strip() != "":  # `CROSSDEPT_X=` in a compose file means unset
                values[known[upper]] = value
        elif upper.startswith(ROBOT_PREFIX):
            if value.strip():
                robots[upper] = SecretStr(value.strip())
        elif upper.startswith(PREFIX) and not upper.startswith(TEST_PREFIX):
            close = difflib.get_close_matches(upper, known, n=1)
            hint = f"did you mean {close[0]}?" if close else "remove it or check its spelling"
            problems.append(f"{variable} is not a crossdept setting: {hint}")
    settings = None
    refused: set[str] = set()  # the variables whose values were refused
    while settings is None:
        try:
            settings = Settings(**values)  # type: ignore[arg-type]
        except ValidationError as error:
            fields = set()
            for detail in error.errors():
                field = str(detail["loc"][0]) if detail["loc"] else ""
                message = detail["msg"].removeprefix("Value error, ")
                problems.append(f"{variable_name(field)} is not valid: {message}")
                fields.add(field)
            if not fields & set(values):  # nothing left to set aside: say what is known
                raise SettingsError("\n".join(dict.fromkeys(problems))) from None
            for field in fields:  # the rest is still checked, below
                values.pop(field, None)
            refused |= {variable_name(field) for field in fields}
    if robots:
        settings = settings.model_copy(update={"robots": robots})
    if require_jira or settings.jira_url:
        problems += settings.jira_problems()
    if require_confluence or settings.confluence_url:
        problem = settings.confluence_problem()
        problems += [problem] if problem else []
    if require_webhook:
        problems += settings.webhook_problems()
    if require_confluence and settings.confluence_url is None:
        problems.append(
            f"{PREFIX}CONFLUENCE_URL is not set: set it to your Confluence's base URL, "
            "e.g. https://example.atlassian.net/wiki"
        )
    # A value refused above is not also "not set".
    problems = [
        line for line in problems if not any(line.startswith(f"{v} is not set") for v in refused)
    ]
    if problems:
        raise SettingsError("\n".join(dict.fromkeys(problems)))
    return settings
