#ifndef DRCTL_PROCESS_HARDENING_H
#define DRCTL_PROCESS_HARDENING_H

/// Keeps secrets held in memory out of core dumps: no core file (RLIMIT_CORE 0) and not
/// dumpable (PR_SET_DUMPABLE 0, which also keeps other users' ptrace out). Returns 0, or the
/// errno of the first call that failed.
int drctl_forbid_core_dumps(void);

/// Makes every `signal` write one byte, its number, to `fd` (a pipe the caller reads), from a handler that
/// does nothing else: no signal is lost, even before a reader looks, and no Swift code runs in
/// the handler. Returns 0, or errno.
int drctl_signal_to_pipe(int signal, int fd);

/// Lets the calling thread receive `signal`. A blocked-signal mask is inherited across exec: a
/// parent that blocked SIGINT (a supervisor, a test runner's worker thread) would otherwise leave
/// drctl deaf to Ctrl-C. Returns 0, or the error.
int drctl_unblock_signal(int signal);

/// Restores the default action of `signal`.
int drctl_signal_default(int signal);

#endif
