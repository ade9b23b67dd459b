"""A test that catches nothing: it passes on every build, buggy or not.
`make prove-test-exercises` proves that it fails the grade of every
exercise that asks for a test."""


def test_the_server_answers(server):
    server.assert_serves()
