"""The API's error answers, worded exactly as TikTok documents them.

Quoted from the partner docs' "Common errors" page (developer-guide/tiktok-shop-api-concepts/
common-errors), the product search reference (12052700) and the authorization guide (105001),
so a client tested here meets the wordings the real API sends. Where the docs give no wording
(an expired ``page_token`` of the order and finance searches), the emulator's own is marked.
"""

from __future__ import annotations

TOO_MANY = "Too many requests. You've made too many requests in a short period of time."
INTERNAL = (
    "Internal error. Please try again. If the issue persists after multiple attempts, please "
    "contact platform support."
)
INVALID_APP_KEY = "Invalid credentials. Invalid `app_key` query parameter."
MISSING_SIGN = (
    "Missing credentials. The request does not include a required signature in the query."
)
INVALID_SIGN = "Invalid credentials. The `sign` query parameter is invalid."
INVALID_ACCESS_TOKEN = "Invalid credentials. The `x-tts-access-token` header is invalid."  # noqa: S105
EXPIRED_ACCESS_TOKEN = (
    "Expired credentials. The `access_token` or `x-tts-access-token` header has expired."  # noqa: S105
)
TOKEN_DEAUTHORIZED = "access token is invalid; detail:your token has been deauthorized"  # noqa: S105
TIMESTAMP_NEGATIVE = (
    "Invalid timestamp. The value of the `timestamp` query parameter must not be lesser than 0."
)
TIMESTAMP_TOO_OLD = (
    "Invalid timestamp. The value of the `timestamp` query parameter must not be earlier than 5 "
    "minutes before the current time."
)
TIMESTAMP_IN_FUTURE = (
    "Invalid timestamp. The value of the `timestamp` query parameter must not exceed the current "
    "time by more than 30 seconds."
)
UNEXPECTED_CIPHER = (
    "Unexpected identifier. The `shop_cipher` query parameter is not required for this request."
)
MISSING_CIPHER = (
    "Missing identifier. The `shop_cipher` query parameter is required to identify the target shop."
)
SHOP_NOT_AUTHORIZED = (
    "Invalid query or header. The `category_asset_cipher` query parameter or `x-tts-access-token` "
    "header is invalid."
)
#: Observed in practice (the docs' own 105005 wording is longer and names no package either).
SCOPE_MISSING = "you should apply auth pkg for this api"
SELLER_INACTIVE = "The seller is inactive."
RESULT_CAP = "The total number of search results can not exceed 10000."
#: Not documented for these searches: the emulator's wording for a refused page token.
INVALID_PAGE_TOKEN = "Invalid page_token"  # noqa: S105 - a message
