"""Tests of the staff side: accounts, protections, the editor, servers and tags."""
