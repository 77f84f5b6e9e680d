"""Small internal helpers: atomic writes, progress bars."""
