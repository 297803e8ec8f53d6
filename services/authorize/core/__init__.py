"""The authorize service's pure core: request rules over frozen dataclasses, no I/O."""
