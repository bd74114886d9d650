/*
 * stdfds: see stdfds.h.
 */
#include "stdfds.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int stdfds_protect(void)
{
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        /* the lowest free number: fd itself, as every lower one is open */
        int nul = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (nul < 0) return -1;
        if (nul != fd) { /* another thread took fd meanwhile */
            close(nul);
        }
    }
    return 0;
}
