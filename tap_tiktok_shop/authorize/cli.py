"""The ``tap-tiktok-shop-auth`` command line: url, login, exchange, refresh, shops and check.

Every failure the user can fix ends with one ``Error:`` line on stderr and a non-zero exit
(2 for a wrong command line, 1 otherwise), never a traceback. Results go to stdout, progress
and warnings to stderr. Token values are printed only with ``--show-secrets``; secret inputs
need not be on the command line (``secret_input``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import typing as t
import webbrowser
from dataclasses import dataclass
from pathlib import Path

import click
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from typing_extensions import override

from tap_tiktok_shop.authorize import api, report, sellers, shop_listing
from tap_tiktok_shop.authorize.check import check
from tap_tiktok_shop.authorize.consent import (
    LoopbackListener,
    Redirect,
    authorization_url,
    check_state,
    loopback_target,
    new_state,
    parse_redirect,
)
from tap_tiktok_shop.authorize.outputs import Destinations, tap_settings
from tap_tiktok_shop.authorize.secret_input import (
    app_secret_option,
    code_options,
    code_or_redirect,
    credential_options,
    prompt_missing_app_secret,
)
from tap_tiktok_shop.authorize.sources import Settings, gather
from tap_tiktok_shop.errors import AuthorizationError, ConfigurationError
from tap_tiktok_shop.shops import ShopDirectory

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_tiktok_shop.tokens import TokenSet

#: Errors that end a command with their own one-line message.
ONE_LINE_ERRORS = (AuthorizationError, ConfigurationError, FatalAPIError, RetriableAPIError)
USAGE_EXIT_CODE = 2


class _UsageLine(click.ClickException):
    """A wrong command line, told in one line (click would print the usage block too)."""

    exit_code = USAGE_EXIT_CODE


def _one_line_usage(exc: click.UsageError) -> click.ClickException:
    where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
    return _UsageLine(exc.format_message() + where)


class _OneLineErrors(click.Group):
    """Turns usage errors and the tap's known failures into one ``Error:`` line."""

    @override
    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: t.Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise _one_line_usage(exc) from None

    @override
    def invoke(self, ctx: click.Context) -> t.Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _one_line_usage(exc) from None
        except ONE_LINE_ERRORS as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:  # a file the helper reads or writes, never a token call
            raise click.ClickException(f"{exc.filename or ''}: {exc.strerror or exc}") from None


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Authorize TikTok Shop shops for tap-tiktok-shop and keep the tokens working.

    Start with `login`: it sends the seller to TikTok's consent page, receives the redirect,
    trades the code for tokens, lists the authorized shops and writes the tap's config.
    """


# --- options shared by several commands ----------------------------------------------------

_PATH = click.Path(dir_okay=False, path_type=Path)


def _output_options(command: Callable[..., None]) -> Callable[..., None]:
    options = [
        click.option(
            "--write-config",
            type=_PATH,
            help="Merge app_key, app_secret, refresh_token (and shop_ids) into this "
            "tap config JSON, mode 0600.",
        ),
        click.option(
            "--write-env",
            type=_PATH,
            help="Merge the TAP_TIKTOK_SHOP_* lines into this .env file, mode 0600.",
        ),
        click.option("--show-secrets", is_flag=True, help="Also print the token values."),
    ]
    return functools.reduce(lambda decorated, option: option(decorated), reversed(options), command)


def _format_option(command: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="Output format.",
    )(command)


def _shop_id_option(command: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--shop-id",
        "shop_ids",
        multiple=True,
        help="Sync only this shop (repeatable; default: every authorized "
        "shop). Written as shop_ids.",
    )(command)


def _add_options(command: Callable[..., None]) -> Callable[..., None]:
    options = [
        click.option(
            "--add",
            is_flag=True,
            help="Add this seller to the authorizations list of the files written "
            "(replacing the same seller's entry), keeping the others, instead "
            "of setting refresh_token. For agencies with several sellers.",
        ),
        click.option(
            "--name",
            help="With --add: the authorization's name in the tap's logs "
            "(default: the seller's name).",
        ),
    ]
    return functools.reduce(lambda decorated, option: option(decorated), reversed(options), command)


def _consent_options(command: Callable[..., None]) -> Callable[..., None]:
    options = [
        click.option("--service-id", help="Your app's service id (Partner Center, app page)."),
        click.option(
            "--region",
            help="Two-letter market of the shops: US uses the US "
            "authorization page, other markets the global one.",
        ),
        click.option(
            "--authorize-base-url",
            help="Another authorization host, or the "
            "authorization link copied from Partner Center.",
        ),
    ]
    return functools.reduce(lambda decorated, option: option(decorated), reversed(options), command)


def _settings(common: dict[str, t.Any]) -> Settings:
    options = {key: common.pop(key) for key in ("app_key", "auth_base_url", "api_base_url")}
    options["app_secret"] = app_secret_option(common)
    settings = gather(
        options,
        config_path=common.pop("config_path"),
        env_file=common.pop("env_file"),
        environ=os.environ,
    )
    return prompt_missing_app_secret(settings)


@dataclass(frozen=True)
class _Output:
    """Where a command puts the tokens it obtains, and how it reports."""

    files: Destinations
    show_secrets: bool
    json: bool

    @classmethod
    def of(cls, common: dict[str, t.Any], command: str) -> _Output:
        """Take the output options; fail before any token call if the tokens would be lost."""
        files = Destinations(common.pop("write_config"), common.pop("write_env"))
        output = cls(files, common.pop("show_secrets"), common.pop("output_format") == "json")
        if not (files.paths() or output.show_secrets):
            msg = (
                f"{command}: nothing would keep the tokens; give --write-config PATH, "
                "--write-env PATH or --show-secrets"
            )
            raise click.UsageError(msg)
        files.check()
        return output

    def add(self, settings: Settings, entry: dict[str, t.Any]) -> list[str]:
        """Add the seller's entry to the authorizations list of each file asked for."""
        credentials = {
            "app_key": settings.require("app_key"),
            "app_secret": settings.require("app_secret"),
        }
        return self.files.add_authorization(credentials, entry)

    def save(self, settings: Settings, refresh_token: str, shop_ids: list[str] | None) -> list[str]:
        """Write the files asked for; return one line per file written."""
        return self.files.save(
            tap_settings(
                app_key=settings.require("app_key"),
                app_secret=settings.require("app_secret"),
                refresh_token=refresh_token,
                shop_ids=shop_ids,
            )
        )


def _emit(lines: list[str], facts: dict[str, t.Any], *, as_json: bool) -> None:
    click.echo(report.as_json(facts) if as_json else "\n".join(lines))


def _warn(text: str) -> None:
    click.echo(text, err=True)


# --- commands ------------------------------------------------------------------------------


@cli.command()
@_consent_options
@click.option("--state", help="Use this state instead of a random one.")
def url(
    *, service_id: str | None, region: str | None, authorize_base_url: str | None, state: str | None
) -> None:
    """Print the seller authorization URL (with a random state)."""
    state = state.strip() if state and state.strip() else new_state()
    click.echo(
        authorization_url(
            service_id=service_id, state=state, region=region, base_url=authorize_base_url
        )
    )
    _warn(
        f"state: {state} (the redirect must carry it: "
        f"`exchange --redirect-url URL --expect-state {state}` checks it)"
    )


@cli.command()
@_consent_options
@click.option(
    "--redirect-uri",
    help="Your app's redirect URL as registered in Partner Center. "
    "On http://127.0.0.1:PORT/... or http://localhost:PORT/... "
    "the helper receives the redirect itself.",
)
@click.option(
    "--paste",
    is_flag=True,
    help="Read the redirect URL from the terminal, even when the redirect URL is on loopback.",
)
@click.option("--no-browser", is_flag=True, help="Do not try to open the URL in a browser.")
@click.option(
    "--wait",
    type=click.FloatRange(min=0.1),
    default=600.0,
    show_default=True,
    help="Seconds to wait for the redirect on loopback.",
)
@_shop_id_option
@_add_options
@credential_options
@_output_options
@_format_option
def login(
    *,
    service_id: str | None,
    region: str | None,
    authorize_base_url: str | None,
    redirect_uri: str | None,
    paste: bool,
    no_browser: bool,
    wait: float,
    shop_ids: tuple[str, ...],
    add: bool,
    name: str | None,
    **common: t.Any,
) -> None:
    """Authorize interactively: consent page, redirect, tokens, shops, config."""
    settings = _settings(common)
    output = _Output.of(common, "login")
    settings.require("app_key")
    settings.require("app_secret")
    state = new_state()
    link = authorization_url(
        service_id=service_id, state=state, region=region, base_url=authorize_base_url
    )
    if not paste and loopback_target(redirect_uri) is not None:
        assert redirect_uri is not None
        with LoopbackListener(redirect_uri, state) as listener:
            _show_link(link, no_browser)
            _warn(f"Waiting for the redirect to {redirect_uri} ...")
            redirect = listener.wait(wait)
    else:
        _show_link(link, no_browser)
        _warn(
            "After accepting, the browser goes to your redirect URL: copy that whole URL "
            "from the address bar and paste it here (or just the code), then press Enter:"
        )
        redirect = parse_redirect(sys.stdin.readline())
        _check_pasted(redirect, state)
    _finish(settings, output, redirect.code, list(shop_ids), _Adding.of(add, name))


@cli.command()
@code_options
@click.option("--expect-state", help="The state `url` printed; the redirect URL must carry it.")
@_shop_id_option
@_add_options
@credential_options
@_output_options
@_format_option
def exchange(
    *,
    code: str | None,
    redirect_url: str | None,
    expect_state: str | None,
    shop_ids: tuple[str, ...],
    add: bool,
    name: str | None,
    **common: t.Any,
) -> None:
    """Trade an authorization code for tokens, non-interactively (for scripts)."""
    code, redirect_url = code_or_redirect(code, redirect_url)
    if expect_state and not redirect_url:
        msg = "--expect-state needs --redirect-url (a bare code carries no state)"
        raise click.UsageError(msg)
    settings = _settings(common)
    output = _Output.of(common, "exchange")
    if redirect_url:
        redirect = parse_redirect(redirect_url)
        if expect_state:
            check_state(redirect, expect_state)
        else:
            _warn("Note: the redirect's state was not checked (no --expect-state)")
    else:
        redirect = Redirect(code=str(code).strip(), state=None, from_url=False)
    _finish(settings, output, redirect.code, list(shop_ids), _Adding.of(add, name))


@cli.command()
@credential_options
@_output_options
@_format_option
def refresh(**common: t.Any) -> None:
    """Trade the refresh token for a new access token; show when each token expires."""
    settings = _settings(common)
    output = _Output.of(common, "refresh")
    old = settings.require("refresh_token")
    tokens = api.token_client(settings).refresh(old)
    current = tokens.refresh_token or old
    saved = output.save(settings, current, None)
    rotated = current != old
    lines = report.token_lines(tokens, show_secrets=output.show_secrets)
    lines.append(
        "TikTok issued a new refresh token; the old one may stop working."
        if rotated
        else "The refresh token is unchanged."
    )
    facts = {
        **report.token_facts(tokens, show_secrets=output.show_secrets),
        "refresh_token_rotated": rotated,
        "saved": [str(p) for p in output.files.paths()],
    }
    _emit(lines + saved, facts, as_json=output.json)


@cli.command()
@credential_options
@_format_option
def shops(output_format: str, **common: t.Any) -> None:
    """List the shops each authorization covers (id, name, region, seller type, cipher)."""
    lines, facts = shop_listing.every_authorization(_settings(common), _warn)
    _emit(lines, facts, as_json=output_format == "json")


cli.add_command(check)


# --- steps shared by login and exchange ----------------------------------------------------


def _show_link(link: str, no_browser: bool) -> None:
    _warn("Open this URL, logged in as the shop's main account, and accept:")
    _warn(f"  {link}")
    if not no_browser and sys.stdin.isatty():
        with contextlib.suppress(webbrowser.Error):
            webbrowser.open(link)


def _check_pasted(redirect: Redirect, state: str) -> None:
    if redirect.from_url:
        check_state(redirect, state)
    else:
        _warn("Note: a bare code carries no state, so it could not be checked")


@dataclass(frozen=True)
class _Adding:
    """``--add`` and ``--name``: add the seller to the authorizations list, under a name."""

    add: bool
    name: str | None

    @classmethod
    def of(cls, add: bool, name: str | None) -> _Adding:
        """Check the options together (a name only means something with --add)."""
        if name is not None and not add:
            msg = "--name needs --add"
            raise click.UsageError(msg)
        return cls(add, name)


def _finish(
    settings: Settings, output: _Output, code: str, shop_ids: list[str], adding: _Adding
) -> None:
    """Exchange the code, list and narrow the shops, save and report."""
    client = api.token_client(settings)
    tokens = client.exchange(code)
    if not tokens.refresh_token:
        msg = "the token answer has no refresh_token"
        raise AuthorizationError(msg)
    found = api.authorized_shops(
        settings.require("api_base_url"), api.signer_for(settings, client, tokens)
    )
    wanted: list[str] | None = list(dict.fromkeys(shop_ids)) or None
    unknown: ConfigurationError | None = None
    try:
        directory = ShopDirectory(wanted)
        directory.select(found)
        directory.check_wanted()
    except ConfigurationError as exc:
        unknown, wanted = exc, None
    if adding.add:
        entry = sellers.new_entry(tokens, tokens.refresh_token, name=adding.name, shop_ids=wanted)
        saved = output.add(settings, entry)
    else:
        saved = output.save(settings, tokens.refresh_token, wanted)
    warning = report.scope_warning(tokens)
    if warning:
        _warn(warning)
    _report_authorization(tokens, found, wanted, saved, output)
    if unknown is not None:
        msg = f"{unknown}; saved the other settings without shop_ids"
        raise ConfigurationError(msg)


def _report_authorization(
    tokens: TokenSet,
    found: list[dict[str, t.Any]],
    wanted: list[str] | None,
    saved: list[str],
    output: _Output,
) -> None:
    lines = report.token_lines(tokens, show_secrets=output.show_secrets)
    lines.append(f"Authorized shops ({len(found)}):")
    lines.append(report.shops_table(found, api.SHOP_FIELDS))
    if wanted:
        lines.append(f"The tap will sync only: {', '.join(wanted)}")
    facts = {
        **report.token_facts(tokens, show_secrets=output.show_secrets),
        "shops": report.shop_rows(found, api.SHOP_FIELDS),
        "shop_ids": wanted,
        "saved": [str(path) for path in output.files.paths()],
    }
    _emit(lines + saved, facts, as_json=output.json)
