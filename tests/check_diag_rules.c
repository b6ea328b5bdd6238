/*
 * check_diag_rules.c - the doc and the code's rule table cannot drift:
 * docs/RULES.md's "Order of the rules" table lists the same rule ids in the
 * same order as analyzer/diagnose/diagnose.c's RULES[] (diag_rule_id()).
 * A doc row whose id ends in a lowercase letter (T3b, I1b) is a variant
 * checked inside its parent's function: it must follow its parent in the
 * doc and be named in the parent's table entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose.h"
#include "testutil.h"

#define MAX_ROWS 64
#define ID_MAX 8

struct doc_rules {
	char id[MAX_ROWS][ID_MAX];
	size_t n;
};

/* The first cell of each row of the table under "## Order of the rules". */
static void read_doc(struct doc_rules *dr)
{
	const char *src = getenv("SLEUTH_SOURCE_DIR");
	char path[1024];
	snprintf(path, sizeof(path), "%s/docs/RULES.md", src ? src : "..");
	FILE *fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "cannot read %s (set SLEUTH_SOURCE_DIR)", path);
	char line[8192];
	bool in_section = false, in_table = false;
	memset(dr, 0, sizeof(*dr));
	while (fgets(line, sizeof(line), fp)) {
		if (strncmp(line, "## ", 3) == 0) {
			in_section = strncmp(line, "## Order of the rules", 21) == 0;
			continue;
		}
		if (!in_section)
			continue;
		if (line[0] != '|') {
			if (in_table)
				break;  /* the table ended */
			continue;
		}
		in_table = true;
		const char *c = line + 1;
		while (*c == ' ')
			c++;
		size_t len = strcspn(c, " |");
		if (len == 0 || c[0] == '#' || c[0] == '-')
			continue;  /* header and separator rows */
		ck_assert_msg(len < ID_MAX, "rule id too long in: %s", line);
		ck_assert_msg(dr->n < MAX_ROWS, "too many rows");
		memcpy(dr->id[dr->n], c, len);
		dr->id[dr->n][len] = '\0';
		dr->n++;
	}
	fclose(fp);
	ck_assert_msg(dr->n > 0, "no rule table found in %s", path);
}

static bool is_variant(const char *id)
{
	size_t n = strlen(id);
	return n > 1 && id[n - 1] >= 'a' && id[n - 1] <= 'z';
}

START_TEST(test_doc_order_equals_table)
{
	struct doc_rules dr;
	read_doc(&dr);
	size_t k = 0;
	const char *parent = NULL;
	char seen[512] = "";
	for (size_t i = 0; i < dr.n; i++) {
		const char *id = dr.id[i];
		if (is_variant(id)) {
			/* A variant follows its parent and lives in its function. */
			ck_assert_msg(parent != NULL, "variant %s before any rule", id);
			ck_assert_msg(strncmp(id, parent, strlen(parent)) == 0 && strlen(id) == strlen(parent) + 1,
				      "variant %s does not follow its parent (after %s)", id, parent);
			ck_assert_msg(strstr(diag_rule_name(k - 1), id) != NULL,
				      "rule %s's table entry (\"%s\") does not name its variant %s", parent,
				      diag_rule_name(k - 1), id);
			continue;
		}
		ck_assert_msg(k < diag_rule_count(), "doc rule %s (row %zu) is not in the table (%zu rules)", id, i + 1,
			      diag_rule_count());
		ck_assert_msg(strcmp(diag_rule_id(k), id) == 0, "doc rule %zu is %s, the table's is %s (table so far: %s)",
			      k + 1, id, diag_rule_id(k), seen);
		snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s ", id);
		parent = diag_rule_id(k);
		k++;
	}
	ck_assert_msg(k == diag_rule_count(), "the table has %zu rules, the doc %zu", diag_rule_count(), k);
	ck_assert_str_eq(diag_rule_id(diag_rule_count() - 1), "U");
	ck_assert_ptr_null(diag_rule_id(diag_rule_count()));
	ck_assert_ptr_null(diag_rule_name(diag_rule_count()));
}
END_TEST

/* Every rule has an id and a name, and no id appears twice. */
START_TEST(test_table_well_formed)
{
	size_t n = diag_rule_count();
	ck_assert_uint_ge(n, 20);
	for (size_t i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(diag_rule_id(i));
		ck_assert_msg(diag_rule_name(i) && diag_rule_name(i)[0], "rule %zu has no name", i);
		for (size_t j = 0; j < i; j++)
			ck_assert_msg(strcmp(diag_rule_id(i), diag_rule_id(j)) != 0, "rule id %s twice", diag_rule_id(i));
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("diag_rules");
	TCase *tc = tcase_create("Doc");
	tcase_add_test(tc, test_doc_order_equals_table);
	tcase_add_test(tc, test_table_well_formed);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
