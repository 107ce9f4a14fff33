"""Checks on values the tap did not make: base URLs, secrets and tokens, names for a terminal.

One rule per kind of value, shared by the tap and ``tap-tiktok-shop-auth``, so both refuse the
same input with the same words:

- a base URL carries credentials (token calls put the app secret and the refresh token in
  the query string, API calls the access token in a header), so plain ``http://`` is allowed
  only for this machine (127.0.0.0/8, ::1, ``localhost``: the emulator, tests);
- a secret or token goes into an HTTP header, a query string and maybe a ``.env`` line, so it
  must be a plain run of URL-safe characters; a value with whitespace, quotes or control
  characters would break the header (and the traceback would quote it) or inject ``.env``
  lines. Errors name the setting, never the value;
- a name from the API (shop, seller) printed to a terminal could hold escape sequences that
  rewrite the screen, so non-printable characters are shown escaped.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from tap_tiktok_shop.errors import ConfigurationError

#: What a secret or token may look like (TikTok's are hex or base64url-like, well under 1 KB).
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9._~+/=-]{1,1024}")
#: Settings whose value is a secret: never quoted in a message.
SECRET_SETTINGS = ("app_secret", "refresh_token", "access_token")
_LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a URL's host, brackets removed) names this machine."""
    host = host.lower().rstrip(".")
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(setting: str, value: object) -> str:
    """Return ``value`` if it is an ``https://`` URL, or ``http://`` on a loopback host.

    Raises:
        ConfigurationError: one line naming ``setting`` (the value is not a secret).
    """
    text = value.strip() if isinstance(value, str) else ""
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        parts, host = urlsplit(""), ""
    if parts.scheme not in {"http", "https"} or not host:
        msg = f"{setting}: must be an https:// URL"
        raise ConfigurationError(msg)
    if parts.scheme == "http" and not is_loopback_host(host):
        msg = f"{setting}: must be https:// (http:// only for 127.0.0.1/localhost)"
        raise ConfigurationError(msg)
    return text


def is_token_like(value: object) -> bool:
    """Whether ``value`` is a string a secret or token may be (see ``TOKEN_PATTERN``)."""
    return isinstance(value, str) and TOKEN_PATTERN.fullmatch(value) is not None


def secret_problem(name: str) -> str:
    """The one line for a malformed secret or token: what is allowed, never the value."""
    return (
        f"{name}: malformed (expected up to 1024 letters, digits or . _ ~ + / = -; it holds "
        "whitespace, quotes, control or other characters); the value is not shown"
    )


def check_secret(name: str, value: object) -> None:
    """Refuse a secret that could not travel safely in a header, a query or a ``.env`` line.

    Raises:
        ConfigurationError: naming the setting, never quoting the value.
    """
    if not is_token_like(value):
        raise ConfigurationError(secret_problem(name))


def printable(text: str) -> str:
    """``text`` with every non-printable character (ESC, CR, bidi controls...) escaped."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


#: Settings whose value holds secrets among other things (quoted by validation messages).
_SECRET_LISTS = {
    "authorizations": (
        "must be a list of objects, each with a non-empty string refresh_token and optional "
        "name and shop_ids (the value is not shown)"
    ),
}
_SECRET_ERROR = re.compile(
    r" in config\['(" + "|".join((*SECRET_SETTINGS, *_SECRET_LISTS)) + r")'\].*\Z", re.DOTALL
)


def redacted_validation_errors(errors: list[str]) -> list[str]:
    """The SDK's config validation messages, minus the value of any secret setting.

    The SDK words a type error as ``12345 is not of type 'string' in config['app_secret']``:
    the message quotes the value. For a secret setting only the setting and the rule are kept.
    """
    redacted = []
    for error in errors:
        secret = _SECRET_ERROR.search(error)
        redacted.append(
            f"{secret[1]}: "
            + _SECRET_LISTS.get(secret[1], "must be a non-empty string (the value is not shown)")
            if secret
            else error
        )
    return redacted
