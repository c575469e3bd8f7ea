"""newsflow: raw news article files to an analytics warehouse."""

__version__ = "0.1.0"
PIPELINE_VERSION = __version__
