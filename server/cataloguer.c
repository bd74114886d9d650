/*
 * cataloguer: photos catalogued off the thread that wrote them, and
 * photos found on disk that the catalog does not know.
 *
 * A time-lapse must start its next shot on time, so it does not wait for
 * the thumbnail, the tags and the webhooks of the last one: it queues the
 * shot (studio_register_shot_later) and this module's thread catalogs the
 * files in order and announces them as one "capture" event.  When the
 * server stops, the queue is emptied before the catalog closes.
 *
 * A server killed between writing a photo and cataloguing it would leave
 * the photo on disk but out of the catalog (and without its webhooks): at
 * start, studio_adopt_files looks through PHOTOS/SESSION/DAY/ for photos
 * that are not catalogued and catalogs them, so nothing is lost.
 *
 * Threads: any thread queues; one cataloguer thread drains.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "internal.h"

typedef struct later {
    struct later *next;
    char session[128], day[16], source[32];
    shot_origin from;
    tether_shot shot;
} later;

struct cataloguer {
    studio *s;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    later *head, *tail;
    bool stopping;
    pthread_t thread;
};

static void register_shot(studio *s, const later *l)
{
    json_t *photos = json_array();
    for (int i = 0; i < l->shot.n_files; i++) {
        json_t *p = studio_register_photo(s, &l->from, l->session, l->day, l->shot.files[i], l->shot.camera_files[i]);
        if (p) json_array_append_new(photos, p);
    }
    hub_publish(s, "capture", json_pack("{s:o, s:s, s:s}", "photos", photos, "source", l->source, "camera", l->from.id));
}

static void *cataloguer_main(void *arg)
{
    cataloguer *c = arg;
    log_set_thread_name("cataloguer");
    pthread_mutex_lock(&c->lock);
    for (;;) {
        later *l = c->head;
        if (l == NULL) {
            if (c->stopping) break;
            pthread_cond_wait(&c->cond, &c->lock);
            continue;
        }
        c->head = l->next;
        if (c->head == NULL) c->tail = NULL;
        pthread_mutex_unlock(&c->lock);
        register_shot(c->s, l);
        free(l);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

cataloguer *cataloguer_start(studio *s)
{
    cataloguer *c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    c->s = s;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    if (pthread_create(&c->thread, NULL, cataloguer_main, c) != 0) {
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    return c;
}

void cataloguer_stop(cataloguer *c)
{
    if (c == NULL) return;
    pthread_mutex_lock(&c->lock);
    c->stopping = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void studio_register_shot_later(studio *s, const shot_origin *from, const char *session, const char *day,
                                const tether_shot *shot, const char *source)
{
    later *l = calloc(1, sizeof *l);
    if (l == NULL) {
        LOG_ERROR("cataloguer", "out of memory: %s is catalogued at the next start", shot->files[0]);
        return;
    }
    snprintf(l->session, sizeof l->session, "%s", session);
    snprintf(l->day, sizeof l->day, "%s", day);
    snprintf(l->source, sizeof l->source, "%s", source);
    l->shot = *shot;
    l->from = *from;
    cataloguer *c = s->cataloguer;
    pthread_mutex_lock(&c->lock);
    if (c->tail) c->tail->next = l;
    else c->head = l;
    c->tail = l;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

/* A photo by its name: a JPEG or a camera's RAW file. */
static bool is_photo(const char *path)
{
    static const char *const exts[] = {".jpg", ".jpeg", ".cr2", ".cr3", ".nef", ".nrw", ".arw", ".dng",
                                       ".raf", ".orf", ".rw2", ".pef", ".srw"};
    const char *dot = strrchr(path, '.');
    if (dot == NULL) return false;
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++)
        if (strcasecmp(dot, exts[i]) == 0) return true;
    return false;
}

int studio_adopt_files(studio *s)
{
    char pattern[4200];
    snprintf(pattern, sizeof pattern, "%s/*/*/*", s->root);
    glob_t g;
    if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0) return 0;
    int adopted = 0;
    size_t rl = strlen(s->root);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i], *rel = path + rl + 1;
        const char *slash1 = strchr(rel, '/'), *slash2 = slash1 ? strchr(slash1 + 1, '/') : NULL;
        struct stat st;
        catalog_photo known;
        if (slash2 == NULL || !is_photo(path) || !studio_safe_rel(rel) || lstat(path, &st) != 0 ||
            !S_ISREG(st.st_mode) || catalog_photo_by_rel(s->cat, rel, &known) == TETHER_OK)
            continue;
        char session[128], day[16];
        snprintf(session, sizeof session, "%.*s", (int)(slash1 - rel), rel);
        snprintf(day, sizeof day, "%.*s", (int)(slash2 - slash1 - 1), slash1 + 1);
        if (!catalog_session_name_ok(session) || catalog_session_create(s->cat, session) != TETHER_OK) continue;
        json_t *p = studio_register_photo(s, NULL, session, day, path, ""); /* which camera is not known */
        if (p) {
            adopted++;
            json_decref(p);
        }
    }
    globfree(&g);
    if (adopted) LOG_INFO("studio", "catalogued %d photos found in the photo folder but not in the catalog", adopted);
    return adopted;
}
