/*
 * ptpclient: see ptpclient.h.
 */
#include "ptpclient.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/endian.h"
#include "ptpip/ptp.h"

int ptpc_dial(const char *host, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int ptpc_send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        if (k <= 0) return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

long ptpc_recv_packet(int fd, bytebuf *b, ptpip_packet *p, double timeout)
{
    bytebuf_reset(b);
    double deadline = clock_mono_s() + timeout;
    size_t need = 8;
    for (;;) {
        while (b->len < need) {
            struct pollfd pf = {.fd = fd, .events = POLLIN};
            int left = (int)((deadline - clock_mono_s()) * 1000);
            if (left <= 0 || poll(&pf, 1, left) <= 0) return -1;
            uint8_t *dst = bytebuf_extend(b, need - b->len);
            if (dst == NULL) return -1;
            size_t want = need - (size_t)(dst - b->data);
            b->len = (size_t)(dst - b->data);
            ssize_t k = recv(fd, dst, want, 0);
            if (k == 0) return 0;
            if (k < 0) return -1;
            b->len += (size_t)k;
        }
        long r = ptpip_parse(b->data, b->len, p);
        if (r > 0) return (long)p->type;
        if (r < 0) return -1;
        need = le32_read(b->data);
    }
}

int ptpc_connect(ptpc *c, const char *host, int port, bool open)
{
    memset(c, 0, sizeof *c);
    c->evt = -1;
    c->cmd = ptpc_dial(host, port);
    if (c->cmd < 0) return -1;
    bytebuf b = BYTEBUF_INIT;
    uint8_t guid[16] = {0x7e, 0x57};
    ptpip_put_init_command_request(&b, guid, "tether-test");
    ptpc_send_all(c->cmd, b.data, b.len);
    ptpip_packet p;
    long t = ptpc_recv_packet(c->cmd, &c->in, &p, 5);
    int rc = -1;
    if (t == PTPIP_INIT_FAIL) {
        int reason = (int)le32_read(c->in.data + 8);
        rc = reason > 0 ? reason : 99;
        goto done;
    }
    if (t != PTPIP_INIT_COMMAND_ACK) goto done;
    uint32_t conn_no = le32_read(c->in.data + 8);
    c->evt = ptpc_dial(host, port);
    bytebuf_reset(&b);
    ptpip_put_init_event_request(&b, conn_no);
    ptpc_send_all(c->evt, b.data, b.len);
    bytebuf tmp = BYTEBUF_INIT;
    t = ptpc_recv_packet(c->evt, &tmp, &p, 5);
    bytebuf_free(&tmp);
    if (t != PTPIP_INIT_EVENT_ACK) goto done;
    c->tid = 0;
    rc = 0;
    if (open) {
        uint32_t one = 1;
        rc = ptpc_transact(c, PTP_OP_OpenSession, &one, 1, NULL, NULL) == PTP_RC_OK ? 0 : -1;
    }
done:
    bytebuf_free(&b);
    return rc;
}

int ptpc_transact(ptpc *c, uint16_t op, const uint32_t *params, int n, const bytebuf *data_out,
                  bytebuf *data_in)
{
    bytebuf b = BYTEBUF_INIT;
    uint32_t tid = c->tid++;
    ptpip_put_request(&b, data_out ? 2 : 1, op, tid, params, n);
    if (data_out) {
        ptpip_put_start_data(&b, tid, data_out->len);
        ptpip_put_data_header(&b, PTPIP_END_DATA, tid, data_out->len);
        bytebuf_put(&b, data_out->data, data_out->len);
    }
    int rc = ptpc_send_all(c->cmd, b.data, b.len);
    bytebuf_free(&b);
    if (rc != 0) return -1;
    if (data_in) bytebuf_reset(data_in);
    ptpip_packet p;
    for (;;) {
        long t = ptpc_recv_packet(c->cmd, &c->in, &p, 10);
        if (t <= 0) return -1;
        if ((t == PTPIP_DATA || t == PTPIP_END_DATA) && data_in) bytebuf_put(data_in, p.payload, p.payload_len);
        if (t == PTPIP_CMD_RESPONSE) return le16_read(c->in.data + 8);
    }
}

int ptpc_wait_event(ptpc *c, double timeout_s, uint32_t *p1)
{
    bytebuf b = BYTEBUF_INIT;
    ptpip_packet p;
    int code = -1;
    if (ptpc_recv_packet(c->evt, &b, &p, timeout_s) == PTPIP_EVENT && b.len >= 14) {
        code = le16_read(b.data + 8);
        if (p1) *p1 = b.len >= 18 ? le32_read(b.data + 14) : 0;
    }
    bytebuf_free(&b);
    return code;
}

void ptpc_close(ptpc *c)
{
    if (c->cmd >= 0) close(c->cmd);
    if (c->evt >= 0) close(c->evt);
    c->cmd = c->evt = -1;
    bytebuf_free(&c->in);
}
