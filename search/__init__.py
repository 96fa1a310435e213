"""vnsearch: full-text search over archives of Vietnamese news articles.

The package is one core library (``normalize``, ``extract``, ``schema``, ``indexer``,
``query``, ``highlight``) with thin front ends (``cli``, ``http``) that call it.
"""

__version__ = "0.1.0"
