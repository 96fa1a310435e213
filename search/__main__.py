"""``python -m search`` runs the vnsearch command line."""

from search.cli import app

app(prog_name="vnsearch")
