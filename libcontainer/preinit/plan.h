// See plan.c.
#ifndef HULL_PLAN_H
#define HULL_PLAN_H
// hull_run_plan carries out the plan read from plan_fd (the last steps of
// a created init, after start) and execs the user's process; it never
// returns. Failures go to fifo as text.
void hull_run_plan(int fifo, int plan_fd) __attribute__((noreturn));
// hull_exec_plan is the same for an exec'd process, once in the
// container's namespaces: it waits for the parent's config frame on the
// sync socket (dropped), says ready there, and execs.
void hull_exec_plan(int sync, int plan_fd) __attribute__((noreturn));
#endif
