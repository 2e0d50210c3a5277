#include "process_hardening.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>

// prctl is variadic, which Swift cannot call: this is the one line of C it needs.
int drctl_forbid_core_dumps(void) {
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0) return errno;
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return errno;
    return 0;
}

static volatile int drctl_signal_pipe = -1;

static void drctl_signal_handler(int signal) {
    int saved = errno;
    unsigned char byte = (unsigned char)signal;
    if (drctl_signal_pipe >= 0) { ssize_t ignored = write(drctl_signal_pipe, &byte, 1); (void)ignored; }
    errno = saved;
}

int drctl_signal_to_pipe(int signal, int fd) {
    drctl_signal_pipe = fd;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = drctl_signal_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    return sigaction(signal, &action, NULL) == 0 ? 0 : errno;
}

int drctl_signal_default(int signal) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    return sigaction(signal, &action, NULL) == 0 ? 0 : errno;
}

int drctl_unblock_signal(int signal) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    return pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}
