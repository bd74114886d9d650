/*
 * host: see host.h.
 */
#include "host.h"

#include <pthread.h>
#include <stdlib.h>

#include "base/log.h"

struct simhost {
    simcam *cam;
    simsrv *srv;
    pthread_t thread;
};

static void *serve(void *arg)
{
    simhost *h = arg;
    log_set_thread_name("sim-accept");
    simsrv_run(h->srv);
    return NULL;
}

simhost *simhost_start(const simcam_options *o, const simsrv_faults *f, int *port)
{
    simhost *h = calloc(1, sizeof *h);
    if (h == NULL) return NULL;
    h->cam = simcam_new(o);
    if (h->cam) h->srv = simsrv_new(h->cam, "127.0.0.1", 0, f, o->seed);
    if (h->srv == NULL || pthread_create(&h->thread, NULL, serve, h) != 0) {
        simsrv_free(h->srv);
        simcam_free(h->cam);
        free(h);
        return NULL;
    }
    *port = simsrv_port(h->srv);
    return h;
}

void simhost_stop(simhost *h)
{
    if (h == NULL) return;
    simsrv_stop(h->srv);
    pthread_join(h->thread, NULL);
    simsrv_free(h->srv);
    simcam_free(h->cam);
    free(h);
}
