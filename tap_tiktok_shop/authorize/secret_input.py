"""Where the helper's secret inputs come from, so that none has to be typed on a command line.

A command line is visible to every user of the machine (``ps``, ``/proc``) and lands in shell
history. So the app secret can also come from the environment, a ``.env`` or config file, a
file of its own (``--app-secret-file``) or a hidden prompt on a terminal; the authorization
code and the redirect URL from the environment, stdin (``--code -``, ``--redirect-url -``) or
a hidden prompt. The flags that take the value itself keep working, and their ``--help`` says
who can see them.
"""

from __future__ import annotations

import functools
import sys
import typing as t
from pathlib import Path

import click

from tap_tiktok_shop.authorize.sources import env_name
from tap_tiktok_shop.errors import ConfigurationError
from tap_tiktok_shop.untrusted import check_secret

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_tiktok_shop.authorize.sources import Settings

#: Environment variables for the one-time inputs of `exchange`.
CODE_ENV = "TAP_TIKTOK_SHOP_AUTH_CODE"
REDIRECT_URL_ENV = "TAP_TIKTOK_SHOP_AUTH_REDIRECT_URL"
#: A value of ``-`` means: read it from stdin.
STDIN = "-"
_VISIBLE = "visible to other users of this machine (ps) and kept in shell history"
_PATH = click.Path(dir_okay=False, path_type=Path)


def credential_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options naming where the app credentials and hosts come from."""
    options = [
        click.option(
            "--config", "config_path", type=_PATH, help="Read settings from this tap config JSON."
        ),
        click.option(
            "--env-file", type=_PATH, help="Read TAP_TIKTOK_SHOP_* settings from this .env file."
        ),
        click.option("--app-key", help=f"App key (default: {env_name('app_key')})."),
        click.option(
            "--app-secret",
            help=(
                f"App secret. A command line is {_VISIBLE}: prefer {env_name('app_secret')}, "
                "--app-secret-file, --env-file/--config, or the hidden prompt on a terminal."
            ),
        ),
        click.option(
            "--app-secret-file",
            type=_PATH,
            help="Read the app secret from this file (its first line).",
        ),
        click.option("--auth-base-url", help="Token host (default: the tap's auth_base_url)."),
        click.option("--api-base-url", help="API host (default: the tap's api_base_url)."),
    ]
    return functools.reduce(lambda decorated, option: option(decorated), reversed(options), command)


def code_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--code`` and ``--redirect-url`` of `exchange`, with their safer sources."""
    options = [
        click.option(
            "--code",
            envvar=CODE_ENV,
            help=(
                f"The authorization code from the redirect; `-` reads it from stdin (default: "
                f"{CODE_ENV}). Given as a value it is {_VISIBLE}."
            ),
        ),
        click.option(
            "--redirect-url",
            envvar=REDIRECT_URL_ENV,
            help=(
                f"The whole URL the browser was redirected to; `-` reads it from stdin (default: "
                f"{REDIRECT_URL_ENV}). Given as a value it is {_VISIBLE}."
            ),
        ),
    ]
    return functools.reduce(lambda decorated, option: option(decorated), reversed(options), command)


def app_secret_option(options: dict[str, t.Any]) -> str | None:
    """The app secret the command line gives: ``--app-secret`` or ``--app-secret-file``.

    Pops both keys from ``options``.

    Raises:
        click.UsageError: if both are given.
        ConfigurationError: if the file cannot be read or is empty.
    """
    value, path = options.pop("app_secret", None), options.pop("app_secret_file", None)
    if path is None:
        return t.cast("str | None", value)
    if value:
        msg = "give either --app-secret or --app-secret-file"
        raise click.UsageError(msg)
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        msg = f"--app-secret-file: cannot read {path} ({reason or type(exc).__name__})"
        raise ConfigurationError(msg) from None
    secret = lines[0].strip() if lines else ""
    if not secret:
        msg = f"--app-secret-file: {path} is empty"
        raise ConfigurationError(msg)
    return secret


def prompt_missing_app_secret(settings: Settings) -> Settings:
    """Ask for the app secret, without echo, when no source had it and a person is there.

    Without a terminal nothing is asked: the command's own check then names the sources.
    """
    if settings.get("app_secret") or not _interactive():
        return settings
    secret = click.prompt("App secret (not shown)", hide_input=True, err=True).strip()
    check_secret("app_secret", secret)
    return type(settings)({**settings.values, "app_secret": secret})


def code_or_redirect(code: str | None, redirect_url: str | None) -> tuple[str | None, str | None]:
    """Resolve ``-`` (stdin) in ``--code`` / ``--redirect-url``; prompt if neither is given.

    Raises:
        click.UsageError: if both or (without a terminal) neither are given.
    """
    if bool(code) == bool(redirect_url):
        if code or not _interactive():
            msg = "give either --code or --redirect-url"
            raise click.UsageError(msg)
        text = click.prompt("Redirect URL or code (not shown)", hide_input=True, err=True)
        return (None, text) if "=" in text else (text, None)
    if code == STDIN:
        code = _stdin_line("--code")
    if redirect_url == STDIN:
        redirect_url = _stdin_line("--redirect-url")
    return code, redirect_url


def _stdin_line(option: str) -> str:
    line = sys.stdin.readline().strip()
    if not line:
        msg = f"{option} -: stdin held no value"
        raise click.UsageError(msg)
    return line


def _interactive() -> bool:
    return sys.stdin.isatty()
