"""One thin module per API group: a path, parameters and a result type each."""
