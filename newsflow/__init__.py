"""newsflow: raw news article files to an analytics warehouse."""

from newsflow.allocator import limit_malloc_arenas

__version__ = "0.1.0"
PIPELINE_VERSION = __version__

limit_malloc_arenas()
