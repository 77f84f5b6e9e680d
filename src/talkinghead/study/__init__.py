"""Perceptual studies: blinded A/B preference and MOS tests of two systems' videos.

``talkinghead study make`` (:mod:`.manifest`), ``study serve`` (:mod:`.server`, FastAPI),
``study report`` (:mod:`.report`, statistics in :mod:`.stats`). Importing this package
imports nothing heavy.
"""
