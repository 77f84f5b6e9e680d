"""Training: prepared-corpus data adapter, the generic trainer, the ``train`` command.

Submodules import torch; this package itself does not.
"""
