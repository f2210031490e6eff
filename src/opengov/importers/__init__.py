"""Importers: what a municipality holds (social-media exports, databases) as packages."""
