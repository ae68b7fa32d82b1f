#ifndef HULL_SIGCATCH_H
#define HULL_SIGCATCH_H

#define SC_NSIG 65

void sc_setup(int fd);
int sc_install(const int *sigs, int n, int *done);
int sc_restore(int sig);
int sc_rtmin(void);

#endif
