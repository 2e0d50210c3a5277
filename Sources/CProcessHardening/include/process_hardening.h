#ifndef DRCTL_PROCESS_HARDENING_H
#define DRCTL_PROCESS_HARDENING_H

/// Keeps secrets held in memory out of core dumps: no core file (RLIMIT_CORE 0) and not
/// dumpable (PR_SET_DUMPABLE 0, which also keeps other users' ptrace out). Returns 0, or the
/// errno of the first call that failed.
int drctl_forbid_core_dumps(void);

#endif
