/*
 * Unit tests for the PTP/IP packet parser and builders (sim/ptpip/wire.c)
 * and the PTP dataset helpers (sim/ptpip/dataset.c).
 */
#include "harness.h"

#include "base/bytebuf.h"
#include "ptpip/dataset.h"
#include "ptpip/ptp.h"
#include "ptpip/wire.h"

TEST(init_command_request_roundtrip)
{
    bytebuf b = BYTEBUF_INIT;
    uint8_t guid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    ptpip_put_init_command_request(&b, guid, "studio-pi");
    ptpip_packet p;
    CHECK_EQ_INT(ptpip_parse(b.data, b.len, &p), b.len);
    CHECK_EQ_INT(p.type, PTPIP_INIT_COMMAND_REQUEST);
    CHECK(memcmp(p.guid, guid, 16) == 0);
    CHECK(strcmp(p.name, "studio-pi") == 0);
    CHECK_EQ_INT(p.version, 0x00010000);
    bytebuf_free(&b);
}

TEST(command_request_params)
{
    for (int n = 0; n <= 5; n++) {
        bytebuf b = BYTEBUF_INIT;
        uint32_t params[5] = {11, 22, 33, 44, 55};
        ptpip_put_request(&b, 2, 0x1016, 77, params, n);
        ptpip_packet p;
        CHECK_EQ_INT(ptpip_parse(b.data, b.len, &p), 18 + 4 * n);
        CHECK_EQ_INT(p.dataphase, 2);
        CHECK_EQ_INT(p.opcode, 0x1016);
        CHECK_EQ_INT(p.tid, 77);
        CHECK_EQ_INT(p.nparams, n);
        for (int i = 0; i < n; i++) CHECK_EQ_INT(p.params[i], params[i]);
        bytebuf_free(&b);
    }
}

TEST(too_many_params_is_malformed)
{
    bytebuf b = BYTEBUF_INIT;
    uint32_t params[5] = {0};
    ptpip_put_request(&b, 1, 0x1001, 1, params, 5);
    bytebuf_put_u32le(&b, 6); /* a sixth parameter */
    bytebuf_set_u32le(&b, 0, (uint32_t)b.len);
    ptpip_packet p;
    CHECK_EQ_INT(ptpip_parse(b.data, b.len, &p), PTPIP_BAD_PACKET);
    bytebuf_free(&b);
}

TEST(incomplete_and_bad_lengths)
{
    uint8_t buf[64] = {0};
    ptpip_packet p;
    CHECK_EQ_INT(ptpip_parse(buf, 7, &p), PTPIP_NEED_MORE);
    buf[0] = 4; /* length below the header */
    CHECK_EQ_INT(ptpip_parse(buf, 8, &p), PTPIP_BAD_LENGTH);
    buf[0] = 0xFF, buf[1] = 0xFF, buf[2] = 0xFF, buf[3] = 0x7F;
    CHECK_EQ_INT(ptpip_parse(buf, 64, &p), PTPIP_BAD_LENGTH);
    buf[0] = 40, buf[1] = buf[2] = buf[3] = 0; /* claims 40, has 20 */
    CHECK_EQ_INT(ptpip_parse(buf, 20, &p), PTPIP_NEED_MORE);
}

TEST(truncated_fixed_fields)
{
    /* each known type with a length too short for its fields */
    static const uint32_t types[] = {1, 3, 6, 9, 10, 11, 12};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        uint8_t buf[8] = {8, 0, 0, 0, (uint8_t)types[i], 0, 0, 0};
        ptpip_packet p;
        CHECK_EQ_INT(ptpip_parse(buf, 8, &p), PTPIP_BAD_PACKET);
    }
}

TEST(data_packets_point_into_buffer)
{
    bytebuf b = BYTEBUF_INIT;
    ptpip_put_start_data(&b, 9, 5);
    size_t second = b.len;
    ptpip_put_data_header(&b, PTPIP_END_DATA, 9, 5);
    bytebuf_put(&b, "hello", 5);
    ptpip_packet p;
    CHECK_EQ_INT(ptpip_parse(b.data, b.len, &p), 20);
    CHECK_EQ_INT(p.type, PTPIP_START_DATA);
    CHECK_EQ_INT(p.total_length, 5);
    CHECK_EQ_INT(ptpip_parse(b.data + second, b.len - second, &p), 17);
    CHECK_EQ_INT(p.type, PTPIP_END_DATA);
    CHECK_EQ_INT(p.payload_len, 5);
    CHECK(memcmp(p.payload, "hello", 5) == 0);
    bytebuf_free(&b);
}

TEST(events_carry_at_most_three_params)
{
    bytebuf b = BYTEBUF_INIT;
    uint32_t params[5] = {1, 2, 3, 4, 5};
    ptpip_put_event(&b, PTP_EV_ObjectAdded, 0, params, 5);
    CHECK_EQ_INT(b.len, 14 + 12);
    bytebuf_free(&b);
}

TEST(unknown_type_is_whole)
{
    uint8_t buf[12] = {12, 0, 0, 0, 99, 0, 0, 0, 1, 2, 3, 4};
    ptpip_packet p;
    CHECK_EQ_INT(ptpip_parse(buf, 12, &p), 12);
    CHECK_EQ_INT(p.type, 99);
}

TEST(ptp_strings)
{
    bytebuf b = BYTEBUF_INIT;
    ptpds_put_string(&b, "IMG_0001.JPG");
    ptpds_put_string(&b, "");
    CHECK_EQ_INT(b.len, 1 + 13 * 2 + 1);
    char s[64];
    size_t off = 0;
    CHECK(ptpds_get_string(b.data, b.len, &off, s, sizeof s));
    CHECK(strcmp(s, "IMG_0001.JPG") == 0);
    CHECK(ptpds_get_string(b.data, b.len, &off, s, sizeof s));
    CHECK(s[0] == '\0');
    CHECK_EQ_INT(off, b.len);
    /* truncated and unterminated strings are refused */
    off = 0;
    CHECK(!ptpds_get_string(b.data, 10, &off, s, sizeof s));
    uint8_t unterminated[5] = {2, 'a', 0, 'b', 0};
    off = 0;
    CHECK(!ptpds_get_string(unterminated, sizeof unterminated, &off, s, sizeof s));
    bytebuf_free(&b);
}

TEST(ptp_values)
{
    uint8_t d[4] = {0xFE, 0xFF, 0xFF, 0xFF};
    int64_t v;
    size_t off = 0;
    CHECK(ptpds_get_value(d, 4, &off, PTP_DT_INT16, &v));
    CHECK_EQ_INT(v, -2);
    off = 0;
    CHECK(ptpds_get_value(d, 4, &off, PTP_DT_UINT32, &v));
    CHECK_EQ_INT(v, 0xFFFFFFFEll);
    off = 2;
    CHECK(!ptpds_get_value(d, 4, &off, PTP_DT_UINT32, &v));
    off = 0;
    CHECK(!ptpds_get_value(d, 4, &off, PTP_DT_STR, &v));
}

TESTS(HARNESS_ENTRY(init_command_request_roundtrip), HARNESS_ENTRY(command_request_params),
      HARNESS_ENTRY(too_many_params_is_malformed), HARNESS_ENTRY(incomplete_and_bad_lengths),
      HARNESS_ENTRY(truncated_fixed_fields), HARNESS_ENTRY(data_packets_point_into_buffer),
      HARNESS_ENTRY(events_carry_at_most_three_params), HARNESS_ENTRY(unknown_type_is_whole),
      HARNESS_ENTRY(ptp_strings), HARNESS_ENTRY(ptp_values))
