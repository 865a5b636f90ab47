"""nets: the tutorial networks, built only from the public ``autodiff`` API."""
