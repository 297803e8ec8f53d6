"""One module per page or action of the demo app."""
