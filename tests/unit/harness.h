/* harness.h - a tiny TEST()/ASSERT_*() harness; one "ok"/"not ok" line per test */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_HARNESS_H
#define PCIBIND_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test {
	const char *name;
	void (*fn)(int *failed);
};

#define MAX_TESTS 512
extern struct test harness_tests[MAX_TESTS];
extern int harness_n;

/* Each TEST registers itself before main() runs. */
#define TEST(tname)                                                                                      \
	static void test_##tname(int *harness_failed);                                                   \
	__attribute__((constructor)) static void register_##tname(void)                                 \
	{                                                                                                \
		if (harness_n < MAX_TESTS)                                                               \
			harness_tests[harness_n++] = (struct test){ #tname, test_##tname };              \
	}                                                                                                \
	static void test_##tname(int *harness_failed)

#define FAIL_AT(...)                                                                                     \
	do {                                                                                             \
		fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                        \
		fprintf(stderr, __VA_ARGS__);                                                            \
		fputc('\n', stderr);                                                                     \
		*harness_failed = 1;                                                                     \
		return;                                                                                  \
	} while (0)

#define ASSERT_TRUE(c)                                                                                   \
	do {                                                                                             \
		if (!(c))                                                                                \
			FAIL_AT("expected true: %s", #c);                                                \
	} while (0)

#define ASSERT_FALSE(c) ASSERT_TRUE(!(c))

#define ASSERT_INT_EQ(a, b)                                                                              \
	do {                                                                                             \
		long long _a = (long long)(a), _b = (long long)(b);                                      \
		if (_a != _b)                                                                            \
			FAIL_AT("%s == %lld, expected %s == %lld", #a, _a, #b, _b);                      \
	} while (0)

#define ASSERT_STR_EQ(a, b)                                                                              \
	do {                                                                                             \
		const char *_a = (a), *_b = (b);                                                         \
		if (!_a || !_b || strcmp(_a, _b) != 0)                                                   \
			FAIL_AT("%s == \"%s\", expected \"%s\"", #a, _a ? _a : "(NULL)",                 \
				_b ? _b : "(NULL)");                                                     \
	} while (0)

#define ASSERT_STR_CONTAINS(hay, needle)                                                                 \
	do {                                                                                             \
		const char *_h = (hay), *_n = (needle);                                                  \
		if (!_h || !strstr(_h, _n))                                                              \
			FAIL_AT("%s == \"%s\" does not contain \"%s\"", #hay, _h ? _h : "(NULL)", _n);   \
	} while (0)

#define ASSERT_NULL(p) ASSERT_TRUE((p) == NULL)
#define ASSERT_NOT_NULL(p) ASSERT_TRUE((p) != NULL)

#define HARNESS_MAIN                                                                                     \
	struct test harness_tests[MAX_TESTS];                                                            \
	int harness_n;                                                                                   \
	int main(int argc, char **argv)                                                                  \
	{                                                                                                \
		int passed = 0, failed = 0;                                                              \
		setvbuf(stdout, NULL, _IOLBF, 0);                                                        \
		for (int i = 0; i < harness_n; i++) {                                                    \
			int f = 0;                                                                       \
			if (argc > 1 && strcmp(argv[1], harness_tests[i].name) != 0)                     \
				continue;                                                                \
			harness_tests[i].fn(&f);                                                         \
			printf("%s - %s\n", f ? "not ok" : "ok", harness_tests[i].name);                 \
			f ? failed++ : passed++;                                                         \
		}                                                                                        \
		printf("%d passed, %d failed\n", passed, failed);                                        \
		return failed ? 1 : 0;                                                                   \
	}

#endif
