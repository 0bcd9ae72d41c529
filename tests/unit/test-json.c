/* test-json.c - the JSON writer: layout, escaping, UTF-8 repair, misuse */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "json.h"

/* A writer into memory; out() finishes it and returns the text */
struct buf {
	struct json j;
	FILE *f;
	char *text;
	size_t len;
	int err;
};

static struct json *open_buf(struct buf *b, unsigned indent)
{
	*b = (struct buf){0};
	b->f = open_memstream(&b->text, &b->len);
	json_init(&b->j, b->f, indent);
	return &b->j;
}

static const char *out(struct buf *b)
{
	b->err = json_finish(&b->j);
	fclose(b->f);
	return b->text;
}

/* one string value written compactly, as JSON text */
static char *string_json(const char *s, size_t len)
{
	struct buf b;

	json_string_len(open_buf(&b, 0), s, len);
	out(&b);
	return b.text;
}

#define ASSERT_STRING_JSON(in, expected)                                                                     \
	do {                                                                                                 \
		char *_t = string_json(in, sizeof(in) - 1);                                                  \
		int _ok = _t && strcmp(_t, expected "\n") == 0;                                              \
		if (!_ok) {                                                                                  \
			fprintf(stderr, "  got: %s", _t ? _t : "(NULL)\n");                                  \
			free(_t);                                                                            \
			FAIL_AT("%s does not encode as %s", #in, expected);                                  \
		}                                                                                            \
		free(_t);                                                                                    \
	} while (0)

TEST(scalars_top_level)
{
	struct buf b;

	json_int(open_buf(&b, 0), -42);
	ASSERT_STR_EQ(out(&b), "-42\n");
	ASSERT_INT_EQ(b.err, 0);
	free(b.text);

	json_null(open_buf(&b, 2));
	ASSERT_STR_EQ(out(&b), "null\n");
	free(b.text);

	json_bool(open_buf(&b, 0), false);
	ASSERT_STR_EQ(out(&b), "false\n");
	free(b.text);
}

TEST(compact_object_and_array)
{
	struct buf b;
	struct json *j = open_buf(&b, 0);

	json_object_begin(j);
	json_key_int(j, "schema", 1);
	json_key_string(j, "root", "/");
	json_key_bool(j, "iommu", true);
	json_key_null(j, "driver");
	json_key(j, "list");
	json_array_begin(j);
	json_int(j, 1);
	json_string(j, "two");
	json_string(j, NULL);
	json_bool(j, false);
	json_array_end(j);
	json_object_end(j);
	ASSERT_STR_EQ(
	    out(&b),
	    "{\"schema\":1,\"root\":\"/\",\"iommu\":true,\"driver\":null,\"list\":[1,\"two\",null,false]}\n");
	ASSERT_INT_EQ(b.err, 0);
	free(b.text);
}

TEST(pretty_nested)
{
	struct buf b;
	struct json *j = open_buf(&b, 2);

	json_object_begin(j);
	json_key_int(j, "a", 1);
	json_key(j, "groups");
	json_array_begin(j);
	json_object_begin(j);
	json_key_int(j, "group", 7);
	json_key(j, "uses");
	json_array_begin(j);
	json_string(j, "console");
	json_array_end(j);
	json_object_end(j);
	json_array_end(j);
	json_object_end(j);
	ASSERT_STR_EQ(out(&b), "{\n"
			       "  \"a\": 1,\n"
			       "  \"groups\": [\n"
			       "    {\n"
			       "      \"group\": 7,\n"
			       "      \"uses\": [\n"
			       "        \"console\"\n"
			       "      ]\n"
			       "    }\n"
			       "  ]\n"
			       "}\n");
	ASSERT_INT_EQ(b.err, 0);
	free(b.text);
}

TEST(empty_containers)
{
	struct buf b;
	struct json *j = open_buf(&b, 2);

	json_object_begin(j);
	json_key(j, "a");
	json_array_begin(j);
	json_array_end(j);
	json_key(j, "o");
	json_object_begin(j);
	json_object_end(j);
	json_object_end(j);
	ASSERT_STR_EQ(out(&b), "{\n  \"a\": [],\n  \"o\": {}\n}\n");
	free(b.text);

	j = open_buf(&b, 0);
	json_array_begin(j);
	json_array_end(j);
	ASSERT_STR_EQ(out(&b), "[]\n");
	free(b.text);
}

TEST(integers_extremes)
{
	struct buf b;
	struct json *j = open_buf(&b, 0);

	json_array_begin(j);
	json_int(j, 0);
	json_int(j, 9223372036854775807LL);
	json_int(j, -9223372036854775807LL - 1);
	json_array_end(j);
	ASSERT_STR_EQ(out(&b), "[0,9223372036854775807,-9223372036854775808]\n");
	free(b.text);
}

TEST(escape_quotes_backslash)
{
	ASSERT_STRING_JSON("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
	ASSERT_STRING_JSON("", "\"\"");
}

TEST(escape_control_characters)
{
	ASSERT_STRING_JSON("\n\t\r\b\f", "\"\\u000a\\u0009\\u000d\\u0008\\u000c\"");
	ASSERT_STRING_JSON("\x01x\x1f\x7f", "\"\\u0001x\\u001f\\u007f\"");
	/* an embedded NUL through the length form */
	ASSERT_STRING_JSON("a\0b", "\"a\\u0000b\"");
}

TEST(valid_utf8_passes_through)
{
	ASSERT_STRING_JSON("Caf\xc3\xa9", "\"Caf\xc3\xa9\"");
	ASSERT_STRING_JSON("\xe2\x82\xac 5", "\"\xe2\x82\xac 5\"");	/* U+20AC */
	ASSERT_STRING_JSON("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""); /* U+1F600 */
	ASSERT_STRING_JSON("\xef\xbf\xbf\xf4\x8f\xbf\xbf",
			   "\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\""); /* U+FFFF, U+10FFFF */
	ASSERT_STRING_JSON("\xed\x9f\xbf", "\"\xed\x9f\xbf\""); /* U+D7FF */
}

TEST(invalid_utf8_replaced)
{
	/* a lone continuation byte, a byte that is never UTF-8 */
	ASSERT_STRING_JSON("a\x80z", "\"a\\ufffdz\"");
	ASSERT_STRING_JSON("\xff\xfe", "\"\\ufffd\\ufffd\"");
	/* Latin-1 text */
	ASSERT_STRING_JSON("Caf\xe9!", "\"Caf\\ufffd!\"");
	/* truncated sequences: one replacement for the maximal subpart */
	ASSERT_STRING_JSON("\xe2\x82", "\"\\ufffd\"");
	ASSERT_STRING_JSON("\xe2\x82z", "\"\\ufffdz\"");
	ASSERT_STRING_JSON("\xf0\x9f\x98", "\"\\ufffd\"");
	ASSERT_STRING_JSON("\xc3", "\"\\ufffd\"");
}

TEST(invalid_utf8_overlong_surrogate_range)
{
	/* overlong '/' and NUL */
	ASSERT_STRING_JSON("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	ASSERT_STRING_JSON("\xc1\x80", "\"\\ufffd\\ufffd\"");
	ASSERT_STRING_JSON("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
	ASSERT_STRING_JSON("\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* UTF-16 surrogate U+D800 */
	ASSERT_STRING_JSON("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	/* above U+10FFFF */
	ASSERT_STRING_JSON("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	ASSERT_STRING_JSON("\xf5\x80", "\"\\ufffd\\ufffd\"");
	/* a good sequence right after a bad lead is kept */
	ASSERT_STRING_JSON("\xe2\xc3\xa9", "\"\\ufffd\xc3\xa9\"");
}

TEST(keys_are_escaped)
{
	struct buf b;
	struct json *j = open_buf(&b, 0);

	json_object_begin(j);
	json_key_int(j, "a\"\n\xff", 1);
	json_object_end(j);
	ASSERT_STR_EQ(out(&b), "{\"a\\\"\\u000a\\ufffd\":1}\n");
	free(b.text);
}

TEST(misuse_value_without_key)
{
	struct buf b;
	struct json *j = open_buf(&b, 0);

	json_object_begin(j);
	json_int(j, 1);
	json_object_end(j);
	out(&b);
	ASSERT_INT_EQ(b.err, -EINVAL);
	free(b.text);
}

TEST(misuse_key_in_array_and_dangling_key)
{
	struct buf b;
	struct json *j = open_buf(&b, 0);

	json_array_begin(j);
	json_key(j, "k");
	json_array_end(j);
	out(&b);
	ASSERT_INT_EQ(b.err, -EINVAL);
	free(b.text);

	j = open_buf(&b, 0);
	json_object_begin(j);
	json_key(j, "k");
	json_object_end(j);
	out(&b);
	ASSERT_INT_EQ(b.err, -EINVAL);
	free(b.text);
}

TEST(misuse_unbalanced)
{
	struct buf b;
	struct json *j = open_buf(&b, 0);

	json_object_begin(j);
	json_array_end(j);
	out(&b);
	ASSERT_INT_EQ(b.err, -EINVAL);
	free(b.text);

	j = open_buf(&b, 0);
	json_array_begin(j);
	out(&b);
	ASSERT_INT_EQ(b.err, -EINVAL); /* incomplete document */
	free(b.text);

	j = open_buf(&b, 0);
	json_object_end(j);
	out(&b);
	ASSERT_INT_EQ(b.err, -EINVAL);
	free(b.text);
}

TEST(misuse_two_top_level_values)
{
	struct buf b;
	struct json *j = open_buf(&b, 0);

	json_int(j, 1);
	json_int(j, 2);
	ASSERT_STR_EQ(out(&b), "1");
	ASSERT_INT_EQ(b.err, -EINVAL);
	free(b.text);
}

TEST(depth_limit)
{
	struct buf b;
	struct json *j = open_buf(&b, 0);

	for (int i = 0; i < JSON_DEPTH_MAX; i++)
		json_array_begin(j);
	ASSERT_INT_EQ(j->err, 0);
	json_array_begin(j);
	ASSERT_INT_EQ(j->err, -E2BIG);
	for (int i = 0; i < JSON_DEPTH_MAX; i++)
		json_array_end(j);
	out(&b);
	ASSERT_INT_EQ(b.err, -E2BIG);
	free(b.text);
}

TEST(deep_pretty_indent)
{
	struct buf b;
	struct json *j = open_buf(&b, 8);
	const char *t;

	/* 6 levels x 8 spaces: longer than the writer's block of spaces */
	for (int i = 0; i < 6; i++)
		json_array_begin(j);
	json_int(j, 1);
	for (int i = 0; i < 6; i++)
		json_array_end(j);
	t = out(&b);
	ASSERT_INT_EQ(b.err, 0);
	ASSERT_STR_CONTAINS(t, "\n                                                1\n");
	free(b.text);
}

TEST(write_error_reported)
{
	struct json j;
	FILE *f = fopen("/dev/full", "w");

	ASSERT_NOT_NULL(f);
	json_init(&j, f, 0);
	json_string(&j, "more than nothing");
	ASSERT_INT_EQ(json_finish(&j) < 0, 1);
	fclose(f);
}

HARNESS_MAIN
