"""Run the authorization helper as ``python -m tap_tiktok_shop.authorize``."""

from tap_tiktok_shop.authorize.cli import cli

cli(prog_name="tap-tiktok-shop-auth")
