"""A file without a test. `make prove-test-exercises` proves that the grade
of every exercise that asks for a test refuses it."""
