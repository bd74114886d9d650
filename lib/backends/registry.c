/*
 * registry: the list of backends, and the questions asked of all of them:
 * which one opens this spec, which cameras can be found, which spec forms
 * exist.  The built-in list is fixed; the unit tests put their fake
 * backend ahead of it with backend_register before opening a camera.
 */
#include <stdio.h>
#include <string.h>

#include "backends/backend.h"

enum { MAX_BACKENDS = 8 };

static const backend_ops *all_backends[MAX_BACKENDS] = {&backend_gphoto2, &backend_sony, &backend_v4l2};
static int n_backends = 3; /* the entries above */

void backend_register(const backend_ops *ops)
{
    for (int i = 0; i < n_backends; i++)
        if (all_backends[i] == ops) return;
    if (n_backends == MAX_BACKENDS) return;
    memmove(all_backends + 1, all_backends, sizeof all_backends[0] * (size_t)n_backends);
    all_backends[0] = ops;
    n_backends++;
}

const backend_ops *backend_for_spec(const char *spec)
{
    for (int i = 0; i < n_backends; i++)
        if (all_backends[i]->accepts(spec)) return all_backends[i];
    return NULL;
}

int backend_list_one(const backend_ops *ops, tether_camera_info *out, int max, int *count)
{
    *count = 0;
    if (ops->list_cameras == NULL) return 0;
    int rc = ops->list_cameras(out, max, count);
    for (int i = 0; i < *count && i < max; i++) snprintf(out[i].backend, sizeof out[i].backend, "%s", ops->name);
    return rc;
}

int backend_list_cameras(tether_camera_info *out, int max, int *count)
{
    *count = 0;
    int first_error = 0;
    for (int i = 0; i < n_backends; i++) {
        int n = 0;
        int room = max > *count ? max - *count : 0;
        int rc = backend_list_one(all_backends[i], room ? out + *count : NULL, room, &n);
        /* one backend that cannot look (no USB access) hides no other's cameras */
        if (rc != 0 && first_error == 0) first_error = rc;
        *count += n;
    }
    return *count > 0 ? 0 : first_error;
}

void backend_spec_forms(char *buf, size_t size)
{
    size_t len = 0;
    if (size) buf[0] = '\0';
    for (int i = 0; i < n_backends && len < size; i++) {
        int w = snprintf(buf + len, size - len, "%s%s", len ? "\n" : "", all_backends[i]->spec_help);
        if (w < 0) break;
        len += (size_t)w;
    }
}
