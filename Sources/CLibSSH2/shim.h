#ifndef DRCTL_CLIBSSH2_SHIM_H
#define DRCTL_CLIBSSH2_SHIM_H
#include <libssh2.h>
#endif
