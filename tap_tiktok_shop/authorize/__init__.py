"""``tap-tiktok-shop-auth``: from a seller's consent to a config the tap and Meltano can use.

The helper reuses the tap's token client, request signer and answer classifier; it only adds
what the one-time authorization needs: the consent URL and its redirect (``consent``), where
credentials come from (``sources``), the files it writes (``outputs``) and the command line.
"""
