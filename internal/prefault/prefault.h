#ifndef HULL_PREFAULT_H
#define HULL_PREFAULT_H

// At most this much of the writable data and bss is populated.
#define HULL_PREFAULT_DATA_MAX (1UL << 20)

int hull_prefault_skip(void);

#endif
