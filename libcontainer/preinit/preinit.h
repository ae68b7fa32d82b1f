// What preinit.c shares with rootfs.c.
#ifndef HULL_PREINIT_H
#define HULL_PREINIT_H
#include <stddef.h>
// The sync socket to the parent, and its frames (internal/proto's: a
// 4-byte big-endian length, then JSON): 0, or -1 if the parent is gone.
int hull_sync_fd(void);
int hull_send_frame(const char *json);
int hull_recv_frame(char *buf, size_t cap);
// hull_rootfs sets a created init up from the plan in plan_fd (rootfs.c):
// 0 when done and ready sent (*fifo: exec.fifo, O_PATH), -1 when the Go
// init is to do it instead.
int hull_rootfs(int plan_fd, int state_dir, int start_plan, int npreserve, int *fifo);
// hull_block_fatal blocks (1) or unblocks (0) the signals a waiting init
// catches, on the calling thread (preinit.c).
void hull_block_fatal(int block);
#endif
