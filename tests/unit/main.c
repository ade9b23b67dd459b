/* Runs the unit tests of one stage: the Makefile links this with the
 * stage's own sources and defines FEATURE_x for each feature its row in
 * tests/stages.txt lists. */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>

#include "suites.h"

int main(void)
{
    SRunner *runner;
    int failed;

    /* Check kills a test that outlives its timeout, 4 s by default: on a
     * busy machine, forking a sanitizer build's test, running it and
     * exiting took longer than that. A timeout only ends a test that has
     * hung, so it can be generous. CK_DEFAULT_TIMEOUT, if set, wins. */
    setenv("CK_DEFAULT_TIMEOUT", "120", 0);
    runner = srunner_create(net_suite());

#ifdef FEATURE_todo
    srunner_add_suite(runner, line_suite());
    srunner_add_suite(runner, todo_suite());
    srunner_add_suite(runner, request_suite());
#endif
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
