/* Runs the unit tests of one stage: the Makefile links this with the
 * stage's own sources and defines FEATURE_x for each feature its row in
 * tests/stages.txt lists. */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
    SRunner *runner = srunner_create(net_suite());
    int failed;

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
