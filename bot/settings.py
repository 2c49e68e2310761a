"""Secrets and process settings from the environment (pydantic-settings).

Secrets are ``SecretStr``: their repr is ``'**********'``, so a logged settings object or a
traceback never shows them. ``.get_secret_value()`` is called only where a secret is used.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

API_SUFFIX = "/apis/3.0"
DATABASES = ("sqlite", "postgresql")


class SettingsError(Exception):
    """The environment is missing a setting or holds a bad one; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: SecretStr = Field(
        default=SecretStr("sqlite:///deskboard.db"), alias="DESKBOARD_DATABASE_URL"
    )
    # Several `deskboard run` on one PostgreSQL: how often a standby tries to take over the
    # scheduler and the leader checks its lock (bot.core.leader).
    leader_poll_seconds: float = Field(
        default=15.0, gt=0, le=60, alias="DESKBOARD_LEADER_POLL_SECONDS"
    )
    config_path: Path = Field(default=Path("deskboard.toml"), alias="DESKBOARD_CONFIG")
    cw_api_url: str | None = Field(default=None, alias="CW_API_URL")
    cw_company: str | None = Field(default=None, alias="CW_COMPANY")
    cw_public_key: SecretStr | None = Field(default=None, alias="CW_PUBLIC_KEY")
    cw_private_key: SecretStr | None = Field(default=None, alias="CW_PRIVATE_KEY")
    cw_client_id: SecretStr | None = Field(default=None, alias="CW_CLIENT_ID")
    # Slack: Socket Mode when SLACK_APP_TOKEN is set, HTTP mode (signing secret, PORT)
    # otherwise; several workspaces through OAuth when SLACK_CLIENT_ID/SECRET are set.
    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_client_id: str | None = Field(default=None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(default=None, alias="SLACK_CLIENT_SECRET")
    slack_api_url: str | None = Field(default=None, alias="SLACK_API_URL")
    # Signs Deskboard's own CSAT rating links (bot.web.csat); links are served when it is set
    csat_link_secret: SecretStr | None = Field(default=None, alias="CSAT_LINK_SECRET")
    port: int = Field(default=3000, ge=1, le=65535, alias="PORT")
    teams_client_id: str | None = Field(default=None, alias="TEAMS_CLIENT_ID")
    teams_client_secret: SecretStr | None = Field(default=None, alias="TEAMS_CLIENT_SECRET")
    teams_tenant_id: str | None = Field(default=None, alias="TEAMS_TENANT_ID")
    teams_workflow_url: SecretStr | None = Field(default=None, alias="TEAMS_WORKFLOW_URL")

    @field_validator("cw_api_url")
    @classmethod
    def _api_base(cls, value: str | None) -> str | None:
        """ConnectWise's REST base: ``https://HOST/v4_6_release/apis/3.0`` (the codebase part
        varies by site); anything else would send every request to the wrong place."""
        if value is None or not value.strip():
            return None
        text = value.strip()
        example = "e.g. https://api-na.myconnectwise.net/v4_6_release/apis/3.0"
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 (a bad port raises here)
        except ValueError:
            raise ValueError(f"not a URL; {example}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL; {example}")
        if any(c.isspace() for c in text):
            raise ValueError(f"a URL holds no spaces; {example}")
        if not parts.path.rstrip("/").endswith(API_SUFFIX):
            raise ValueError(f"must be the REST API base ending in {API_SUFFIX}; {example}")
        return text

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: SecretStr) -> SecretStr:
        try:
            backend = make_url(value.get_secret_value()).get_backend_name()
        except ArgumentError:
            raise ValueError(
                "not a database URL (e.g. sqlite:///deskboard.db, postgresql://HOST/NAME)"
            ) from None
        if backend not in DATABASES:
            raise ValueError(f"{backend} is not supported: use sqlite or postgresql")
        return value

    def require_connectwise(self) -> None:
        """Refuse to talk to ConnectWise unless every CW_* variable is set."""
        names = {
            "CW_API_URL": self.cw_api_url,
            "CW_COMPANY": self.cw_company,
            "CW_PUBLIC_KEY": self.cw_public_key,
            "CW_PRIVATE_KEY": self.cw_private_key,
            "CW_CLIENT_ID": self.cw_client_id,
        }
        missing = [name for name, value in names.items() if not value]
        if missing:
            raise SettingsError(
                "ConnectWise is not configured: set "
                + ", ".join(missing)
                + " in the environment (see README, 'Connecting ConnectWise')"
            )


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise SettingsError(problems) from None
