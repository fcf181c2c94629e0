/*
 * test_audit: the audit's checks on hand-made configs, histories and trees (every layer's
 * content, read from real image files, is tests/cli/test_audit.sh's), and its configuration:
 * ignores with paths, overrides, the ignore file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit/internal.h"

static struct audit a;
static bale_audit_config cfg;
static bale_fs *fs;

static int setup(void **state)
{
	(void)state;
	memset(&a, 0, sizeof(a));
	bale_audit_config_init(&cfg);
	a.cfg = &cfg;
	a.name = "img";
	bale_buf_init(&a.msg, 0);
	bale_buf_init(&a.path, 0);
	bale_buf_init(&a.content, 0);
	a.passwd.version = a.shadow.version = a.group.version = BALE_FS_NONE;
	bale_buf_init(&a.passwd.data, 0);
	bale_buf_init(&a.shadow.data, 0);
	bale_buf_init(&a.group.data, 0);
	assert_int_equal(bale_findings_new(&a.findings), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	bale_findings_free(a.findings);
	bale_buf_release(&a.msg);
	bale_buf_release(&a.path);
	bale_buf_release(&a.content);
	bale_buf_release(&a.passwd.data);
	bale_buf_release(&a.shadow.data);
	bale_buf_release(&a.group.data);
	bale_audit_config_release(&cfg);
	bale_fs_free(fs);
	fs = NULL;
	return 0;
}

/* The finding of rule `name` at `path` (NULL: any), or NULL. */
static const bale_finding *find(const char *name, const char *path)
{
	for (size_t i = 0; i < bale_findings_count(a.findings); i++) {
		const bale_finding *f = bale_findings_get(a.findings, i);

		if (strcmp(f->rule->name, name) == 0 &&
		    (!path || (f->loc.path && strcmp(f->loc.path, path) == 0)))
			return f;
	}
	return NULL;
}

static size_t count(const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < bale_findings_count(a.findings); i++)
		n += strcmp(bale_findings_get(a.findings, i)->rule->name, name) == 0;
	return n;
}

/* ---- config ---------------------------------------------------------------------------- */

static void check_user(const char *user)
{
	bale_image_config c = {0};

	bale_findings_free(a.findings);
	assert_int_equal(bale_findings_new(&a.findings), 0);
	c.user = user;
	assert_int_equal(audit_check_config(&a, &c), 0);
}

static void test_root_user_forms(void **state)
{
	static const char *const root[] = {NULL, "", "root", "0", "root:root", "0:0"};
	static const char *const other[] = {"10001:10001", "app", "rootless", "00x"};

	(void)state;
	for (size_t i = 0; i < sizeof(root) / sizeof(*root); i++) {
		check_user(root[i]);
		assert_non_null(find("user-root", "config:User"));
	}
	for (size_t i = 0; i < sizeof(other) / sizeof(*other); i++) {
		check_user(other[i]);
		assert_null(find("user-root", NULL));
	}
}

static void test_config_checks(void **state)
{
	static const char *const test_none[] = {"NONE"};
	static const char *const ports[] = {"8080/tcp", "22/tcp"};
	static const char *const volumes[] = {"/data", "/proc/sys", "/sysfs", "/dev"};
	static const char *const env[] = {"PATH=/usr/bin", "DB_PASSWORD=S3cr3t-value-here",
					  "GPG_KEY=A4A9406876FCBD3C456770C88C718D3B5072E1F5",
					  "GITHUB_TOKEN=$TOKEN"};
	static const bale_image_label labels[] = {
	    {"org.opencontainers.image.title", "app"},
	    {"deploy.key", "AKIAIOSFODNN7EXAMPLF"},
	};
	bale_image_healthcheck hc = {.test = test_none, .ntest = 1};
	bale_image_config c = {0};
	const bale_finding *f;

	(void)state;
	c.user = "1000";
	c.healthcheck = &hc;
	c.exposed_ports = ports;
	c.nexposed_ports = 2;
	c.volumes = volumes;
	c.nvolumes = 4;
	c.env = env;
	c.nenv = 4;
	c.labels = labels;
	c.nlabels = 2;
	assert_int_equal(audit_check_config(&a, &c), 0);
	assert_non_null(find("healthcheck-missing", "config:Healthcheck"));
	assert_non_null(find("exposed-ssh-port", "config:ExposedPorts.22/tcp"));
	assert_int_equal(count("exposed-ssh-port"), 1);
	assert_non_null(find("sensitive-volume", "config:Volumes./proc/sys"));
	assert_non_null(find("sensitive-volume", "config:Volumes./dev"));
	assert_int_equal(count("sensitive-volume"), 2);
	f = find("secret-env", "config:Env.DB_PASSWORD");
	assert_non_null(f);
	assert_null(strstr(f->message, "S3cr3t-value-here"));
	assert_int_equal(f->severity, BALE_SEV_ERROR);
	assert_int_equal(f->loc.layer, -1);
	assert_int_equal(count("secret-env"), 1);
	f = find("secret-label", "config:Labels.deploy.key");
	assert_non_null(f);
	assert_null(strstr(f->message, "AKIAIOSFODNN7EXAMPLF"));
	assert_int_equal(count("secret-label"), 1);
	assert_null(find("user-root", NULL));
}

/* ---- history --------------------------------------------------------------------------- */

static void test_history_checks(void **state)
{
	static const char token[] = "npm_abcdefghijklmnopqrstuvwxyz0123456789";
	char run1[200], run2[200];
	bale_image_history h[11] = {0};
	bale_image_config c = {0};
	const bale_finding *f;

	(void)state;
	snprintf(run1, sizeof(run1), "|2 NPM_TOKEN=%s MODE=prod /bin/sh -c npm ci", token);
	snprintf(run2, sizeof(run2), "|2 NPM_TOKEN=%s MODE=prod /bin/sh -c apt-get update", token);
	h[0] = (bale_image_history){.created_by = "/bin/sh -c #(nop) ARG NPM_TOKEN",
				    .empty_layer = true,
				    .layer = BALE_IMAGE_NONE};
	h[1] = (bale_image_history){.created_by = run1, .layer = 1};
	h[2] = (bale_image_history){.created_by = run2, .layer = 2};
	h[3] = (bale_image_history){
	    .created_by = "/bin/sh -c apt-get update && apt-get install -y curl", .layer = 3};
	h[4] = (bale_image_history){
	    .created_by = "/bin/sh -c #(nop) ADD https://example.com/x.tgz /opt/", .layer = 4};
	h[5] = (bale_image_history){.created_by = "/bin/sh -c sudo make install", .layer = 5};
	h[6] = (bale_image_history){
	    .created_by = "/bin/sh -c chmod 1777 /tmp && chmod -R 0777 /srv", .layer = 6};
	h[7] = (bale_image_history){
	    .created_by = "RUN /bin/sh -c git clone "
			  "https://ghp_0123456789abcdefghijklmnopqrstuvwxyzAB@github.com/o/r",
	    .layer = 7};
	h[8] = (bale_image_history){.created_by = "/bin/sh -c chmod 755 /srv # 777", .layer = 8};
	h[9] =
	    (bale_image_history){.created_by = "COPY sudo /usr/local/bin/ # buildkit", .layer = 9};
	h[10] = (bale_image_history){.created_by = "ENV DB_PASSWORD=S3cr3t-value-here",
				     .empty_layer = true,
				     .layer = BALE_IMAGE_NONE};
	c.history = h;
	c.nhistory = 11;
	assert_int_equal(audit_check_history(&a, &c), 0);
	/* reported once, at the first entry that recorded it, masked */
	assert_int_equal(count("secret-build-arg"), 1);
	f = find("secret-build-arg", "history:1");
	assert_non_null(f);
	assert_int_equal(f->loc.layer, 1);
	assert_null(strstr(f->message, token));
	assert_non_null(strstr(f->message, "NPM_TOKEN"));
	/* the value of the argument is not a second finding in the command */
	assert_null(find("secret-in-history", "history:1"));
	assert_non_null(find("apt-update-no-install", "history:2"));
	assert_int_equal(count("apt-update-no-install"), 1);
	assert_non_null(find("add-remote-url", "history:4"));
	assert_non_null(find("sudo", "history:5"));
	assert_int_equal(count("sudo"), 1); /* not BuildKit's "COPY sudo ..." */
	assert_non_null(find("chmod-777", "history:6"));
	assert_int_equal(count("chmod-777"), 1);
	f = find("secret-in-history", "history:7");
	assert_non_null(f);
	assert_null(strstr(f->message, "0123456789abcdef"));
	assert_int_equal(count("secret-in-history"), 1);
}

/* ---- the final file system -------------------------------------------------------------- */

static void add(const char *path, char type, uint32_t mode, const char *link)
{
	bale_image_entry e = {0};

	e.path = path;
	e.name_raw = path;
	e.type = type == 'd'   ? BALE_IMAGE_ENTRY_DIR
		 : type == 'l' ? BALE_IMAGE_ENTRY_SYMLINK
			       : BALE_IMAGE_ENTRY_FILE;
	e.size = type == 'f' ? 10 : 0;
	e.mode = mode;
	e.link = link;
	assert_int_equal(bale_fs_add(fs, &e, NULL), 0);
}

static void test_merged_checks(void **state)
{
	const bale_finding *f;

	(void)state;
	assert_int_equal(bale_fs_new(&fs, 2), 0);
	assert_int_equal(bale_fs_layer_begin(fs, 0), 0);
	add("tmp", 'd', 01777, NULL);
	add("srv", 'd', 0777, NULL);
	add("var/mail", 'd', 02775, NULL);
	add("usr/bin/su", 'f', 04755, NULL);
	add("usr/bin/chage", 'f', 02755, NULL);
	add("usr/bin/gcc-12", 'f', 0755, NULL);
	add("usr/bin/sh", 'l', 0777, "dash");
	add("usr/bin/dash", 'f', 0755, NULL);
	add("usr/bin/apt-get", 'f', 0755, NULL);
	add("usr/bin/apt", 'f', 0755, NULL);
	add("var/lib/apt/lists/lock", 'f', 0640, NULL);
	add("var/cache/apk/APKINDEX.tar.gz", 'f', 0644, NULL);
	add("app/.git/HEAD", 'f', 0644, NULL);
	add("app/escape", 'l', 0777, "../../../etc/shadow");
	add("app/inside", 'l', 0777, "/etc/shadow");
	add("app/loose", 'f', 0666, NULL);
	assert_int_equal(bale_fs_layer_commit(fs), 0);
	assert_int_equal(bale_fs_layer_begin(fs, 1), 0);
	add("usr/bin/su", 'f', 0755, NULL); /* fixed in a later layer */
	assert_int_equal(bale_fs_layer_commit(fs), 0);

	assert_int_equal(audit_check_merged(&a, fs), 0);
	assert_null(find("setuid-file", "/usr/bin/su"));
	f = find("setgid-file", "/usr/bin/chage");
	assert_non_null(f);
	assert_int_equal(f->loc.layer, 0);
	assert_null(find("setgid-file", "/var/mail"));
	assert_non_null(find("world-writable", "/srv"));
	assert_non_null(find("world-writable", "/app/loose"));
	assert_null(find("world-writable", "/tmp"));
	assert_int_equal(count("world-writable"), 2);
	assert_non_null(find("build-toolchain", "/usr/bin/gcc-12"));
	assert_non_null(find("shell-present", "/usr/bin/dash"));
	assert_int_equal(count("shell-present"), 1); /* the symlink sh is the same shell */
	assert_non_null(find("package-manager", "/usr/bin/apt"));
	assert_int_equal(count("package-manager"), 1);
	assert_null(find("package-cache", "/var/lib/apt/lists")); /* only the lock */
	assert_non_null(find("package-cache", "/var/cache/apk"));
	assert_non_null(find("git-directory", "/app/.git"));
	assert_non_null(find("symlink-outside-root", "/app/escape"));
	assert_int_equal(count("symlink-outside-root"), 1);
}

static void set_account(struct audit_account_file *f, const char *path, const char *text)
{
	bale_fs_id node;

	assert_int_equal(bale_fs_lookup(fs, &node, path), 0);
	f->version = bale_fs_node_present(fs, node);
	bale_buf_reset(&f->data);
	bale_buf_adds(&f->data, text);
}

static void test_account_files(void **state)
{
	const bale_finding *f;

	(void)state;
	assert_int_equal(bale_fs_new(&fs, 1), 0);
	assert_int_equal(bale_fs_layer_begin(fs, 0), 0);
	add("etc/shadow", 'f', 0640, NULL);
	add("etc/passwd", 'f', 0644, NULL);
	add("etc/group", 'f', 0644, NULL);
	assert_int_equal(bale_fs_layer_commit(fs), 0);
	set_account(&a.shadow, "etc/shadow",
		    "root:*:19000:0:99999:7:::\nguest::19000:0:99999:7:::\nlocked:!:1::::::\n");
	set_account(&a.passwd, "etc/passwd",
		    "root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\napp:x:1000:1000::/:\n");
	set_account(&a.group, "etc/group", "root:x:0:\napp:x:1000:\n");
	assert_int_equal(audit_check_merged(&a, fs), 0);
	f = find("empty-password", "/etc/shadow");
	assert_non_null(f);
	assert_non_null(strstr(f->message, "'guest'"));
	assert_int_equal(count("empty-password"), 1);
	f = find("duplicate-uid", "/etc/passwd");
	assert_non_null(f);
	assert_non_null(strstr(f->message, "'toor'"));
	assert_int_equal(count("duplicate-uid"), 1);
	assert_int_equal(count("duplicate-gid"), 0);
}

/* ---- configuration --------------------------------------------------------------------- */

static void test_ignore_and_overrides(void **state)
{
	const bale_rule *setuid = bale_audit_rule_find("setuid-file");
	static const char file[] = "# accepted\n"
				   "AU1002\n"
				   "\n"
				   "setuid-file /usr/bin   # by design\n";

	(void)state;
	assert_non_null(setuid);
	assert_ptr_equal(bale_audit_rule_find("AU3001"), setuid);
	assert_int_equal(bale_audit_config_parse_ignore(&cfg, file, strlen(file), "ign"), 0);
	assert_int_equal(bale_audit_config_severity(&cfg, bale_audit_rule_find("AU1002"), NULL),
			 BALE_SEV_NONE);
	assert_int_equal(bale_audit_config_severity(&cfg, setuid, "/usr/bin/su"), BALE_SEV_NONE);
	assert_int_equal(bale_audit_config_severity(&cfg, setuid, "/usr/binx/su"),
			 BALE_SEV_WARNING);
	assert_int_equal(bale_audit_config_severity(&cfg, setuid, "/usr/local/bin/x"),
			 BALE_SEV_WARNING);
	assert_int_equal(bale_audit_config_add_override(&cfg, "AU3001", BALE_SEV_ERROR), 0);
	assert_int_equal(bale_audit_config_severity(&cfg, setuid, "/opt/x"), BALE_SEV_ERROR);
	/* a path without its leading '/' means the same */
	assert_int_equal(bale_audit_config_add_ignored(&cfg, "world-writable", "srv/"), 0);
	assert_int_equal(
	    bale_audit_config_severity(&cfg, bale_audit_rule_find("world-writable"), "/srv"),
	    BALE_SEV_NONE);
}

/* dockle's checkpoint codes are aliases: a .dockleignore works as an ignore file */
static void test_dockle_codes_are_aliases(void **state)
{
	static const char file[] = "CIS-DI-0008\nDKL-LI-0001\n";

	(void)state;
	assert_int_equal(bale_audit_config_parse_ignore(&cfg, file, strlen(file), ".dockleignore"),
			 0);
	assert_int_equal(
	    bale_audit_config_severity(&cfg, bale_audit_rule_find("setuid-file"), "/usr/bin/su"),
	    BALE_SEV_NONE);
	assert_int_equal(
	    bale_audit_config_severity(&cfg, bale_audit_rule_find("setgid-file"), "/usr/bin/chage"),
	    BALE_SEV_NONE);
	assert_int_equal(bale_audit_config_severity(&cfg, bale_audit_rule_find("AU3009"), NULL),
			 BALE_SEV_NONE);
	assert_int_equal(bale_audit_config_severity(&cfg, bale_audit_rule_find("user-root"), NULL),
			 BALE_SEV_WARNING);
}

static void test_ignore_file_typo_is_an_error(void **state)
{
	static const char file[] = "AU1002\nAU9999 /x\n";

	(void)state;
	assert_int_equal(bale_audit_config_parse_ignore(&cfg, file, strlen(file), "ign.txt"),
			 BALE_EINVAL);
	assert_non_null(strstr(bale_error_last()->message, "ign.txt:2"));
	assert_non_null(strstr(bale_error_last()->message, "AU9999"));
}

static void test_rule_catalogue(void **state)
{
	(void)state;
	assert_true(bale_audit_rule_count() > 30);
	for (size_t i = 0; i < bale_audit_rule_count(); i++) {
		const bale_rule *r = bale_audit_rule(i);

		assert_int_equal(strncmp(r->id, "AU", 2), 0);
		assert_non_null(r->summary);
		assert_non_null(r->fix);
		if (i)
			assert_true(strcmp(bale_audit_rule(i - 1)->id, r->id) < 0);
		for (const char *p = r->name; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
				    *p == '-');
	}
	assert_null(bale_audit_rule(bale_audit_rule_count()));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_root_user_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_history_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_merged_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_account_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ignore_and_overrides, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dockle_codes_are_aliases, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ignore_file_typo_is_an_error, setup, teardown),
	    cmocka_unit_test(test_rule_catalogue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
