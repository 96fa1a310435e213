"""``python -m search`` runs the vnsearch command line."""

from search.cli import main_entry

main_entry()
