"""Singer tap for the TikTok Shop Open API.

``__version__`` is the version's one source of truth: the build reads it (hatch's dynamic
version, pyproject.toml) and ``--about`` reports it, so a wheel and its tap always agree.
"""

__version__ = "0.1.0"
