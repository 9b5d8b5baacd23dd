"""Measures: the facts rules talk about, computed in Python from an interaction.

Importing this package registers every measure in the fact catalogue
(:data:`servicerules.measures.catalogue.CATALOGUE`). ``docs/reference/facts.md`` lists them.
"""

from servicerules.measures import conversation as _conversation  # noqa: F401  (registers facts)
from servicerules.measures import phone as _phone  # noqa: F401
from servicerules.measures import privacy as _privacy  # noqa: F401
from servicerules.measures import text_facts as _text_facts  # noqa: F401
from servicerules.measures import procedure as _procedure  # noqa: F401
from servicerules.measures import refund as _refund  # noqa: F401
from servicerules.measures.catalogue import CATALOGUE, FactSpec, InteractionContext, lookup

__all__ = ["CATALOGUE", "FactSpec", "InteractionContext", "lookup"]
