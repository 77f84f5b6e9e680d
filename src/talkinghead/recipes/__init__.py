"""Training recipes: one per paper (features, targets, topologies, optimiser, loss).

``get_recipe(name, **options)`` builds a :class:`~talkinghead.recipes.base.Recipe`;
:data:`RECIPES` lists the names. Importing a recipe imports torch.
"""

from __future__ import annotations

import importlib

from ..errors import InvalidArgumentError

__all__ = ["RECIPES", "get_recipe"]

#: Recipe name -> "module:class".
RECIPES = {
    "eskimez2018": "eskimez2018:Eskimez2018",
    "sakurai2018": "sakurai2018:Sakurai2018",
    "pham2017": "pham2017:Pham2017",
    "fan2015": "fan2015:Fan2015",
    "sakurai2018_baseline": "fan2015:PhonemeEmotionBaseline",
}


def get_recipe(name: str, **options):
    """The recipe ``name`` (a key of :data:`RECIPES`) built with ``options``."""
    if name not in RECIPES:
        raise InvalidArgumentError(f"recipe={name!r} must be one of {sorted(RECIPES)}")
    mod, cls = RECIPES[name].split(":")
    return getattr(importlib.import_module(f"{__name__}.{mod}"), cls)(**options)
