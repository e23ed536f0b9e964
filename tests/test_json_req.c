/* SPDX-License-Identifier: Apache-2.0 */
/* test_json_req.c - the JSON and JSON Lines request parsers (json_req.c): every instance shape
 * of spec §5.1, skipped keys, exact float values, errors with byte offsets, and JSON Lines fed
 * in chunks. */
#include "json_req.h"
#include "tt.h"

static ll_code parse(const char *s, ll_batch *b, ll_err *err)
{
    return json_req_parse(s, strlen(s), "req", b, err);
}

static void dense_forms(void)
{
    ll_err err;
    ll_batch b;
    ll_batch_init(&b);
    CHECK_OK(parse("{\"instances\": [{\"features\": [1.5, 16.0, 14.0, 23.0]}, "
                   "{\"features\": [-2.0, 100.2, 15.2, 9.2]}]}",
                   &b, &err));
    CHECK(b.n_rows == 2 && b.dense && b.width == 4 && b.n_sparse == 0);
    CHECK(b.val[0] == 1.5f && b.val[3] == 23.0f && b.val[4] == -2.0f && b.val[5] == 100.2f);
    CHECK(b.loff[2] == 0); /* no labels */
    CHECK_OK(parse("{\"instances\": [{\"data\": {\"features\": {\"values\": [1.5, 16.0, 14.0, "
                   "23.0]}}}]}",
                   &b, &err));
    CHECK(b.n_rows == 1 && b.dim[0] == 4 && b.val[2] == 14.0f);
    /* a bare list, a shape that agrees, extra keys of any kind skipped */
    CHECK_OK(parse("{\"configuration\": {\"k\": [1, {\"x\": \"]}\"}]}, \"instances\": "
                   "[[1, 2], {\"label\": 3, \"features\": {\"shape\": [2], \"values\": [3, 4]}, "
                   "\"configuration\": null}]}",
                   &b, &err));
    CHECK(b.n_rows == 2 && b.dense && b.val[0] == 1 && b.val[3] == 4);
    /* Python's spellings of non-finite numbers, exponents, exact float32 rounding */
    CHECK_OK(parse("{\"instances\":[{\"features\":[NaN,-Infinity,1e-3,0.1]}]}", &b, &err));
    CHECK(b.val[0] != b.val[0] && b.val[1] < -3e38f && b.val[2] == 1e-3f && b.val[3] == 0.1f);
    CHECK_OK(parse("{\"instances\": []}", &b, &err));
    CHECK(b.n_rows == 0);
    ll_batch_deinit(&b);
}

static void sparse_form(void)
{
    ll_err err;
    ll_batch b;
    ll_batch_init(&b);
    CHECK_OK(parse("{\"instances\": [{\"data\": {\"features\": {\"keys\": [26, 182, 232], "
                   "\"shape\": [2000], \"values\": [1, 1, 4]}}}, "
                   "{\"features\": {\"values\": [7], \"keys\": [5.0], \"shape\": [10, 20]}}]}",
                   &b, &err));
    CHECK(b.n_rows == 2 && !b.dense && b.n_sparse == 2);
    CHECK(b.sparse[0] && b.dim[0] == 2000 && b.off[1] == 3);
    CHECK(b.idx[0] == 26 && b.idx[1] == 182 && b.idx[2] == 232 && b.val[2] == 4.0f);
    CHECK(b.sparse[1] && b.dim[1] == 200 && b.idx[3] == 5 && b.val[3] == 7.0f);
    ll_batch_deinit(&b);
}

/* Parses s expecting an error whose message contains frag at byte offset off. */
static int bad(const char *s, const char *frag, long off)
{
    ll_err err;
    ll_batch b;
    ll_batch_init(&b);
    ll_code rc = parse(s, &b, &err);
    ll_batch_deinit(&b);
    if (rc != LL_E_PARSE || !strstr(err.msg, frag)) {
        fprintf(stderr, "  for %s: rc %d msg '%s'\n", s, (int)rc, err.msg);
        return 0;
    }
    if (off >= 0 && (!(err.has & LL_ERR_OFFSET) || err.offset != (uint64_t)off)) {
        fprintf(stderr, "  for %s: offset %llu, expected %ld\n", s, (unsigned long long)err.offset,
                off);
        return 0;
    }
    return 1;
}

static void errors_with_offsets(void)
{
    CHECK(bad("", "expected '{'", 0));
    CHECK(bad("[1,2]", "expected '{'", 0));
    CHECK(bad("{\"instances\": [{\"features\": [1, x]}]}", "instance 0: expected a number", 32));
    CHECK(bad("{\"instances\": [{\"features\": [1, 2]}, {\"features\": [1,, 2]}]}",
              "instance 1: expected a number", 53));
    CHECK(bad("{\"instances\": [{\"features\": [1, 2]", "expected ',' or '}'", 34));
    CHECK(bad("{\"instances\": [{\"feature\": [1]}]}", "\"features\"", -1));
    CHECK(bad("{\"other\": 1}", "\"instances\"", -1));
    CHECK(bad("{\"instances\": []} x", "the end of the body", 18));
    CHECK(bad("{\"instances\": [{\"features\": {\"keys\": [1], \"values\": [1]}}]}",
              "need a \"shape\"", -1));
    CHECK(bad("{\"instances\": [{\"features\": {\"keys\": [1, 2], \"shape\": [5], "
              "\"values\": [1]}}]}",
              "\"keys\" has 2 entries but \"values\" has 1", -1));
    CHECK(bad("{\"instances\": [{\"features\": {\"keys\": [9], \"shape\": [5], "
              "\"values\": [1]}}]}",
              "key 9 is outside the shape 5", -1));
    CHECK(bad("{\"instances\": [{\"features\": {\"keys\": [-1], \"shape\": [5], "
              "\"values\": [1]}}]}",
              "non-negative integer", -1));
    CHECK(bad("{\"instances\": [{\"features\": {\"shape\": [3], \"values\": [1]}}]}",
              "1 values but the shape says 3", -1));
    CHECK(bad("{\"instances\": [{\"features\": [\"1\"]}]}", "expected a number", 29));
    CHECK(bad("{\"instances\": [{\"features\": [1e]}]}", "expected a number", 29));
    CHECK(bad("{\"instances\": [{\"x\": \"unterminated}]}", "closing quote", -1));
    /* deep nesting in a skipped value costs no stack */
    char deep[20100];
    strcpy(deep, "{\"x\": ");
    size_t n = strlen(deep);
    for (int i = 0; i < 10000; i++)
        deep[n++] = '[';
    deep[n] = 0;
    CHECK(bad(deep, "expected a value", -1));
}

static void json_lines_chunks(void)
{
    ll_err err;
    ll_batch b;
    ll_batch_init(&b);
    const char *s = "{\"features\": [1, 2]}\n\n{\"data\": {\"features\": {\"values\": [3, 4]}}}\n"
                    "  [5, 6]  \n{\"features\": [7, 8]}";
    size_t len = strlen(s);
    json_lines_pos pos = {0, 1};
    size_t used = 0;
    /* not at eof: the last line (no newline) waits for more bytes */
    CHECK_OK(json_req_lines(s, len, 0, 100, "req", &pos, &b, &used, &err));
    CHECK(b.n_rows == 3 && used == (size_t)(strrchr(s, '\n') - s) + 1 && pos.line == 5);
    CHECK(b.val[2] == 3 && b.val[5] == 6);
    size_t at = used;
    ll_batch_clear(&b);
    CHECK_OK(json_req_lines(s + at, len - at, 1, 100, "req", &pos, &b, &used, &err));
    CHECK(b.n_rows == 1 && b.val[0] == 7 && at + used == len);
    /* max_rows stops early */
    pos.offset = 0;
    pos.line = 1;
    ll_batch_clear(&b);
    CHECK_OK(json_req_lines(s, len, 1, 2, "req", &pos, &b, &used, &err));
    CHECK(b.n_rows == 2 && used < len);
    /* errors carry the line */
    const char *e = "{\"features\": [1]}\n{\"features\": [1, }\n";
    pos.offset = 0;
    pos.line = 1;
    ll_batch_clear(&b);
    CHECK(json_req_lines(e, strlen(e), 1, 100, "req", &pos, &b, &used, &err) == LL_E_PARSE);
    CHECK(err.line == 2 && (err.has & LL_ERR_LINE) && err.offset == 35);
    const char *e2 = "{\"features\": [1]} {\"features\": [2]}\n";
    pos.offset = 0;
    pos.line = 1;
    ll_batch_clear(&b);
    CHECK(json_req_lines(e2, strlen(e2), 1, 100, "req", &pos, &b, &used, &err) == LL_E_PARSE);
    CHECK(strstr(err.msg, "the end of the line"));
    ll_batch_deinit(&b);
}

int main(void)
{
    TT_BEGIN("json_req");
    RUN(dense_forms);
    RUN(sparse_form);
    RUN(errors_with_offsets);
    RUN(json_lines_chunks);
    TT_END();
}
