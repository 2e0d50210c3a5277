#include "process_hardening.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>

// prctl is variadic, which Swift cannot call: this is the one line of C it needs.
int drctl_forbid_core_dumps(void) {
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0) return errno;
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return errno;
    return 0;
}
