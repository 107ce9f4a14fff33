"""Local HTTP emulator of the TikTok Shop Open API (v202309), to test the tap offline."""

from tiktok_shop_emulator.config import EmulatorConfig
from tiktok_shop_emulator.server import Emulator

__all__ = ["Emulator", "EmulatorConfig"]
