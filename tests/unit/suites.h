/* The Check suites; main.c runs those the stage under test has. */
#ifndef SUITES_H
#define SUITES_H

#include <check.h>

Suite *net_suite(void);
Suite *line_suite(void);
Suite *todo_suite(void);
Suite *request_suite(void);

#endif
