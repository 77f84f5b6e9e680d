"""The GRID clips the study tests use."""

CLIPS = ("bbaf2n", "bbaf3s", "bbaf4p", "bbaf5a")
