/*
 * registry: the list of backends, and the two questions asked of all of
 * them: which one opens this spec, and which cameras can be found.
 */
#include "backends/backend.h"

static const backend_ops *const all_backends[] = {&backend_gphoto2};
enum { N_BACKENDS = sizeof all_backends / sizeof all_backends[0] };

const backend_ops *backend_for_spec(const char *spec)
{
    for (int i = 0; i < N_BACKENDS; i++)
        if (all_backends[i]->accepts(spec)) return all_backends[i];
    return NULL;
}

int backend_list_cameras(tether_camera_info *out, int max, int *count)
{
    *count = 0;
    for (int i = 0; i < N_BACKENDS; i++) {
        if (all_backends[i]->list_cameras == NULL) continue;
        int n = 0;
        int rc = all_backends[i]->list_cameras(out + (*count < max ? *count : max),
                                               max > *count ? max - *count : 0, &n);
        if (rc != 0) return rc;
        *count += n;
    }
    return 0;
}
