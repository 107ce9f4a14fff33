"""Singer tap for the TikTok Shop Open API."""
