"""One module per kind of component: how to run it and how to talk to it."""
