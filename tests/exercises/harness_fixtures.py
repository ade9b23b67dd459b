"""The harness's options and fixtures (tests/conftest.py), for a test file
outside tests/, such as a student's mine/N.M/test_N_M.py. pytest reads a
conftest.py only in the folders above the file it runs, and offers its
fixtures only to the tests below it: testgrading.py loads this module
instead, with -p harness_fixtures, and its fixtures serve every test."""

from conftest import *  # noqa: F401,F403 (pytest looks the names up here)
