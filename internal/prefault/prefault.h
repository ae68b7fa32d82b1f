#ifndef HULL_PREFAULT_H
#define HULL_PREFAULT_H

int hull_prefault_skip(void);

#endif
