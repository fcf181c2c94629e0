/*
 * The credential detector (src/lint/secrets.c) on its own, and what only a real build context
 * can show: BL2004 reading a *.pem, *.key or .npmrc to tell a private key or a token from a
 * certificate or a registry setting. The tokens below are random strings in the issuers'
 * formats, not credentials.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bale/lint.h"
#include "secrets/secrets.h"
#include "util/util.h"

/*
 * The scans bale_secret_find() chooses from by processor, besides the one it uses (AVX2 where
 * the processor has it); each test below compares them with it.
 */
static const bale_secret_scan scans[] = {BALE_SECRET_SCAN_16, BALE_SECRET_SCAN_BYTES};
static const char *const scan_names[] = {"16-byte", "byte"};

/* bale_secret_find(), after checking that every scan finds the same in text[from, len). */
static bool find_in(const char *text, size_t len, size_t from, bale_secret_match *m)
{
	bool found = bale_secret_find(text, len, from, m);

	for (size_t k = 0; k < sizeof(scans) / sizeof(scans[0]); k++) {
		bale_secret_match o;
		bool f = bale_secret_find_with(scans[k], text, len, from, &o);

		if (f != found ||
		    (found && (o.kind != m->kind || o.start != m->start || o.len != m->len ||
			       o.end != m->end || o.name != m->name || o.name_len != m->name_len)))
			fail_msg(
			    "the %s scan finds %s at %zu, the default scan %s at %zu, from %zu in "
			    "\"%.*s\"",
			    scan_names[k], f ? o.what : "nothing", f ? o.start : 0,
			    found ? m->what : "nothing", found ? m->start : 0, from, (int)len,
			    text);
	}
	return found;
}

/* The first secret in `text`, or NULL; *what gets its description. */
static const char *find(const char *text, const char **what, char *value, size_t size)
{
	bale_secret_match m;

	if (!find_in(text, strlen(text), 0, &m))
		return NULL;
	*what = m.what;
	snprintf(value, size, "%.*s", (int)m.len, text + m.start);
	return value;
}

static void expect_secret(const char *text, const char *what, const char *value)
{
	const char *got_what = NULL;
	char got[256];

	if (!find(text, &got_what, got, sizeof(got)))
		fail_msg("no secret found in: %s", text);
	if (strcmp(got_what, what) != 0 || strcmp(got, value) != 0)
		fail_msg("in %s: found %s '%s', expected %s '%s'", text, got_what, got, what,
			 value);
}

static void expect_none(const char *text)
{
	const char *what = NULL;
	char got[256];

	if (find(text, &what, got, sizeof(got)))
		fail_msg("found %s '%s' in: %s", what, got, text);
}

static void test_tokens_with_a_shape_are_found_by_it(void **state)
{
	(void)state;
	expect_secret("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "an AWS access key ID",
		      "AKIAIOSFODNN7EXAMPLE");
	expect_secret("x ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d y", "a GitHub token",
		      "ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d");
	expect_secret("token: glpat-KLzdocJ2isAjIhKtJ0Rl", "a GitLab token",
		      "glpat-KLzdocJ2isAjIhKtJ0Rl");
	expect_secret("hook xoxb-199351819093-FRIBXuDL7DxtpYlSXpfKtHF4", "a Slack token",
		      "xoxb-199351819093-FRIBXuDL7DxtpYlSXpfKtHF4");
	expect_secret("_authToken=npm_vUCsMehGAkWvj7FAc9QeWJKY40uvSwMFLZDe", "an npm token",
		      "npm_vUCsMehGAkWvj7FAc9QeWJKY40uvSwMFLZDe");
	expect_secret("-----BEGIN RSA PRIVATE KEY-----\nMIIE", "a private key",
		      "-----BEGIN RSA PRIVATE KEY-----");
	expect_secret("key=AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "a Google API key",
		      "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q");
}

static void test_prefixes_inside_other_words_are_not_tokens(void **state)
{
	(void)state;
	/* Too short, too long, or glued to a longer word. */
	expect_none("ghp_short");
	expect_none("AKIAIOSFODNN7EXAMPLEX");
	expect_none("XAKIAIOSFODNN7EXAMPLE");
	expect_none("myghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d");
	expect_none("-----BEGIN CERTIFICATE-----");
	expect_none("-----BEGIN PGP PUBLIC KEY BLOCK-----");
	expect_none("ENV GPG_KEY A035C8C19219BA821ECEA86B64E628F8D684696D");
}

static void test_literal_passwords_are_found_and_references_are_not(void **state)
{
	(void)state;
	expect_secret("mysql --password=s3cr3tPW -h db", "a literal credential", "s3cr3tPW");
	expect_secret("-Dspring.datasource.password=Pr0d -Dx=y", "a literal credential", "Pr0d");
	expect_secret("{\"api_key\": \"3b1f6f0d9c2a\"}", "a literal credential", "3b1f6f0d9c2a");
	expect_secret("postgres://app:hunter22@db:5432/app", "a password in a URL", "hunter22");
	expect_secret("-H 'Authorization: Bearer 9f86d081884c7d659a2f'",
		      "an Authorization header credential", "9f86d081884c7d659a2f");
	expect_none("--password=$DB_PASSWORD");
	expect_none("password=${DB_PASSWORD:-x}");
	expect_none("https://${USER}:${TOKEN}@github.com/org/repo.git");
	expect_none("http://proxy.internal:3128/");
	expect_none("PASSWORD_FILE=/run/secrets/db");
	expect_none("TOKEN_URL=https://auth.example.com/token");
	expect_none("ENABLE_PASSWORD=true AUTH_TYPE=basic");
	expect_none("password=<your password>");
	expect_none("--mount=type=secret,id=token,env=TOKEN");
	expect_none("Authorization: Bearer $TOKEN");
}

/* Every token shape is found at the start of a word, whatever its first two bytes. */
static void test_every_token_shape_is_found(void **state)
{
	static const struct {
		const char *token, *what;
	} shapes[] = {
	    {"AKIAIOSFODNN7EXAMPLE", "an AWS access key ID"},
	    {"ASIAIOSFODNN7EXAMPLE", "an AWS access key ID"},
	    {"ABIAIOSFODNN7EXAMPLE", "an AWS access key ID"},
	    {"ACCAIOSFODNN7EXAMPLE", "an AWS access key ID"},
	    {"AIzaZq3mK8vR2pX7tL0wN5yB4cH9jD6fG1sQZq3", "a Google API key"},
	    {"ghp_Zq3mK8vR2pX7tL0wN5yB4cH9jD6fG1sQZq3m", "a GitHub token"},
	    {"gho_Zq3mK8vR2pX7tL0wN5yB4cH9jD6fG1sQZq3m", "a GitHub token"},
	    {"ghu_Zq3mK8vR2pX7tL0wN5yB4cH9jD6fG1sQZq3m", "a GitHub token"},
	    {"ghs_Zq3mK8vR2pX7tL0wN5yB4cH9jD6fG1sQZq3m", "a GitHub token"},
	    {"ghr_Zq3mK8vR2pX7tL0wN5yB4cH9jD6fG1sQZq3m", "a GitHub token"},
	    {"github_pat_Zq3mK8vR2pX7tL0wN5yB4cH9jD6fG1sQZq3mK8vR2pX7tL0wN5", "a GitHub token"},
	    {"glpat-Zq3mK8vR2pX7tL0wN5yB", "a GitLab token"},
	    {"glrt-Zq3mK8vR2pX7tL0wN5yB", "a GitLab token"},
	    {"gldt-Zq3mK8vR2pX7tL0wN5yB", "a GitLab token"},
	    {"xoxb-Zq3mK8vR2pX7", "a Slack token"},
	    {"xoxa-Zq3mK8vR2pX7", "a Slack token"},
	    {"xoxp-Zq3mK8vR2pX7", "a Slack token"},
	    {"xoxr-Zq3mK8vR2pX7", "a Slack token"},
	    {"xoxs-Zq3mK8vR2pX7", "a Slack token"},
	    {"sk_live_Zq3mK8vR2pX7tL0wN5yB4cH9", "a Stripe secret key"},
	    {"rk_live_Zq3mK8vR2pX7tL0wN5yB4cH9", "a Stripe secret key"},
	    {"npm_Zq3mK8vR2pX7tL0wN5yB4cH9jD6fG1sQZq3m", "an npm token"},
	    {"pypi-AgEIcHlwaS5vcmcZq3mK8vR2pX7tL0wN5yB4cH9jD6fG1sQZq3mK8vR2pX7tL0wN5yB4cH9jD6f",
	     "a PyPI token"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		char text[200];

		snprintf(text, sizeof(text), "RUN deploy %s --now", shapes[i].token);
		expect_secret(text, shapes[i].what, shapes[i].token);
	}
}

/*
 * The scan reads the text 16 or 32 bytes at a time: a secret is found at any offset, after text
 * with and without the bytes the scan stops at, whether the text ends right after it or not.
 */
static void test_secrets_are_found_wherever_they_fall(void **state)
{
	static const struct {
		const char *secret, *what, *value;
	} cases[] = {
	    {"ghp_Zq3mK8vR2pX7tL0wN5yB4cH9jD6fG1sQZq3m", "a GitHub token",
	     "ghp_Zq3mK8vR2pX7tL0wN5yB4cH9jD6fG1sQZq3m"},
	    {"AKIAIOSFODNN7EXAMPLE", "an AWS access key ID", "AKIAIOSFODNN7EXAMPLE"},
	    {"DB_PASSWORD=hunter22", "a literal credential", "hunter22"},
	    {"-----BEGIN RSA PRIVATE KEY-----", "a private key", "-----BEGIN RSA PRIVATE KEY-----"},
	    {"Authorization: Bearer abcdefgh12345", "an Authorization header credential",
	     "abcdefgh12345"},
	    {"https://user:hunter22@example.com", "a password in a URL", "hunter22"},
	};
	static const char *const fillers[] = {"x", "-_. "};
	static const char *const tails[] = {"", "\n--now"};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		for (size_t f = 0; f < 2; f++)
			for (size_t t = 0; t < 2; t++)
				for (size_t pad = 0; pad <= 70; pad++) {
					char text[256];
					size_t n = 0;

					for (; n < pad; n++)
						text[n] = fillers[f][n % strlen(fillers[f])];
					if (pad)
						text[n - 1] = ' ';
					snprintf(text + n, sizeof(text) - n, "%s%s",
						 cases[c].secret, tails[t]);
					expect_secret(text, cases[c].what, cases[c].value);
				}
}

static void test_scanning_resumes_after_each_match(void **state)
{
	const char *text = "A=AKIAIOSFODNN7EXAMPLE B=AKIAI44QH8DHBEXAMPLE";
	bale_secret_match m;
	size_t n = 0, from = 0;

	(void)state;
	while (find_in(text, strlen(text), from, &m)) {
		n++;
		assert_true(m.end > from);
		from = m.end;
	}
	assert_int_equal(n, 2);
}

/*
 * The scans find the same, match for match, in texts put together at random from pieces of
 * secrets, the bytes the scans stop at, and other bytes, each text in a buffer of its own
 * length (so that a read past its end shows under AddressSanitizer).
 */
static void test_every_scan_finds_the_same(void **state)
{
	static const char *const pieces[] = {"AKIAIOSFODNN7EXAMPLE",
					     "AIza",
					     "ghp_",
					     "github_pat_",
					     "glpat-",
					     "xoxb-",
					     "sk_live_",
					     "npm_",
					     "pypi-",
					     "Zq3mK8vR2pX7tL0wN5yB4cH9jD6fG1sQZq3m",
					     "password",
					     "TOKEN",
					     "=",
					     ":",
					     "-",
					     "_",
					     "A",
					     "B",
					     " ",
					     "\n",
					     "\"",
					     "'",
					     "-----BEGIN RSA PRIVATE KEY-----",
					     "-----B",
					     "https://",
					     "user:",
					     "hunter22",
					     "@example.com",
					     "Authorization: Bearer ",
					     "Basic ",
					     "$TOKEN",
					     "${{ secrets.X }}",
					     "<password>",
					     "xxx",
					     "g",
					     "h",
					     "x",
					     "o",
					     "r",
					     "k",
					     "n",
					     "p",
					     "y"};
	uint64_t seed = 0x9e3779b97f4a7c15u;
	size_t matches = 0;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		char text[400];
		size_t len = 0, from = 0;
		char *exact;
		bale_secret_match m;

		for (int n = 0; n < 24; n++) {
			const char *piece;
			size_t plen;

			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			if (seed % 8 == 0) {
				/* any byte at all, now and then */
				if (len + 1 > sizeof(text))
					break;
				text[len++] = (char)(seed >> 32);
				continue;
			}
			piece = pieces[(seed >> 8) % (sizeof(pieces) / sizeof(pieces[0]))];
			plen = strlen(piece);
			if (len + plen > sizeof(text) || (seed >> 40) % 24 < (uint64_t)n / 2)
				break;
			memcpy(text + len, piece, plen);
			len += plen;
		}
		exact = malloc(len ? len : 1);
		assert_non_null(exact);
		memcpy(exact, text, len);
		while (from < len && find_in(exact, len, from, &m)) {
			assert_true(m.end > from && m.end <= len);
			matches++;
			from = m.end;
		}
		free(exact);
	}
	/* The pieces make secrets often: a run that found none would compare nothing. */
	assert_true(matches > 5000);
}

static void test_names_read_as_credentials(void **state)
{
	static const char *const secret[] = {
	    "GITHUB_TOKEN", "NPM_TOKEN",  "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY", "API_KEY",
	    "apiKey",	    "JWT_SECRET", "GH_PAT",	 "SECRET_KEY_BASE",	  "DEPLOY_KEY",
	    "NPM_AUTH",	    "db_pwd",	  NULL};
	static const char *const plain[] = {"GPG_KEY",
					    "NPM_TOKEN_FILE",
					    "AWS_ACCESS_KEY_ID",
					    "TOKEN_URL",
					    "NEXT_PUBLIC_API_KEY",
					    "AUTHOR",
					    "PWD",
					    "PASSWORD_MIN_LENGTH",
					    "GOPRIVATE",
					    "BYPASS_CACHE",
					    "AUTH_TYPE",
					    "PASSWORD_ALGO",
					    "PASSWORD_HASH_ROUNDS",
					    "TOKEN_TTL",
					    "SECRET_ROTATION",
					    "PASSWORD_STORE",
					    "CREDENTIAL_HELPER",
					    NULL};

	(void)state;
	for (const char *const *n = secret; *n; n++)
		if (!bale_secret_name(*n, strlen(*n)))
			fail_msg("'%s' should read as a credential", *n);
	for (const char *const *n = plain; *n; n++)
		if (bale_secret_name(*n, strlen(*n)))
			fail_msg("'%s' should not read as a credential", *n);
	assert_true(bale_secret_assignment("DB_PASSWORD", 11, "hunter22", 8));
	assert_false(bale_secret_assignment("DB_PASSWORD", 11, "${DB_PASSWORD}", 14));
	assert_false(bale_secret_assignment("NPM_AUTH", 8, "basic", 5)); /* AUTH is weak */
	assert_false(bale_secret_assignment("TOKEN", 5, "xxxxxxxx", 8));
	assert_false(bale_secret_assignment("PASSWORD_ALGO", 13, "bcrypt", 6));
	assert_false(bale_secret_assignment("PASSWORD_ROUNDS", 15, "12000", 5));
}

static const char *file_kind(const char *path, bale_secret_file_proof *proof)
{
	return bale_secret_file(path, strlen(path), proof);
}

static void test_files_named_for_credentials(void **state)
{
	bale_secret_file_proof proof;

	(void)state;
	assert_non_null(file_kind("id_rsa", &proof));
	assert_int_equal(proof, BALE_SECRET_FILE_BY_NAME);
	assert_non_null(file_kind("/root/.ssh/id_ed25519", &proof));
	assert_non_null(file_kind("deploy/.ssh/", &proof));
	assert_non_null(file_kind(".env", &proof));
	assert_non_null(file_kind("config/.env.production", &proof));
	assert_non_null(file_kind("/root/.docker/config.json", &proof));
	assert_non_null(file_kind("secrets/.aws/credentials", &proof));
	assert_non_null(file_kind("tls/privkey.pem", &proof));
	assert_int_equal(proof, BALE_SECRET_FILE_PRIVATE_KEY);
	assert_non_null(file_kind(".npmrc", &proof));
	assert_int_equal(proof, BALE_SECRET_FILE_NPM_AUTH);
	assert_null(file_kind("id_rsa.pub", &proof));
	assert_null(file_kind(".env.example", &proof));
	assert_null(file_kind("ca.pem", &proof));
	assert_null(file_kind("certs/fullchain.pem", &proof));
	assert_null(file_kind("/root/.ssh/known_hosts", &proof));
	assert_null(file_kind("config.json", &proof));
	assert_null(file_kind("environment.yml", &proof));
	assert_true(bale_secret_file_confirmed(BALE_SECRET_FILE_PRIVATE_KEY,
					       "-----BEGIN PRIVATE KEY-----\n", 28));
	assert_false(bale_secret_file_confirmed(BALE_SECRET_FILE_PRIVATE_KEY,
						"-----BEGIN CERTIFICATE-----\n", 28));
	assert_true(bale_secret_file_confirmed(BALE_SECRET_FILE_NPM_AUTH,
					       "//r.example.com/:_authToken=x\n", 30));
	assert_false(bale_secret_file_confirmed(BALE_SECRET_FILE_NPM_AUTH,
						"registry=https://r.example.com/\n", 32));
}

/* A build context in a temporary directory, with files written from name/content pairs. */
static void make_context(char *dir, const char *const *files)
{
	assert_non_null(mkdtemp(dir));
	for (; files && files[0]; files += 2) {
		char path[512];
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s", dir, files[0]);
		fp = fopen(path, "w");
		assert_non_null(fp);
		fputs(files[1], fp);
		fclose(fp);
	}
}

static void remove_context(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* The lines BL2004 fires on for `text` linted with build context `dir`, as "2,5". */
static void bl2004_lines(const char *text, const char *dir, char *out, size_t size)
{
	bale_lint_opts opts = {.context_dir = dir};
	bale_lint_config cfg;
	bale_findings *f;

	bale_lint_config_init(&cfg);
	cfg.shellcheck = 0;
	assert_int_equal(bale_findings_new(&f), 0);
	if (bale_lint(f, text, strlen(text), "Dockerfile", &cfg, &opts) != 0)
		fail_msg("lint failed: %s", bale_error_last()->message);
	bale_findings_sort(f);
	out[0] = '\0';
	for (size_t i = 0; i < bale_findings_count(f); i++) {
		const bale_finding *fd = bale_findings_get(f, i);

		if (strcmp(fd->rule->id, "BL2004") == 0)
			snprintf(out + strlen(out), size - strlen(out), "%s%u", out[0] ? "," : "",
				 fd->loc.line);
	}
	bale_findings_free(f);
	bale_lint_config_release(&cfg);
}

static void test_context_files_are_read_to_confirm_keys_and_tokens(void **state)
{
	static const char *const files[] = {
	    "cert.pem",	  "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
	    "server.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
	    "tls.pem",	  "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n",
	    "repo.key",	  "-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQIN\n",
	    "app.key",	  "-----BEGIN PRIVATE KEY-----\nMIIE\n",
	    ".npmrc",	  "registry=https://npm.example.com/\n",
	    "auth.npmrc", "//npm.example.com/:_authToken=${NPM_TOKEN}\n",
	    NULL};
	const char *text = "FROM alpine:3.20\n"
			   "COPY server.pem /etc/ssl/\n"    /* a certificate: passes */
			   "COPY tls.pem /etc/ssl/\n"	    /* a private key: fires */
			   "COPY repo.key /etc/apt/\n"	    /* a public key: passes */
			   "COPY app.key /etc/app/\n"	    /* a private key: fires */
			   "COPY .npmrc /root/\n"	    /* registry only: passes */
			   "COPY auth.npmrc /root/.npmrc\n" /* a token setting: fires */
			   "COPY missing.pem /etc/ssl/\n";  /* unreadable: judged by name */
	char dir[] = "/tmp/bale-secrets-ctx-XXXXXX", lines[128];

	(void)state;
	make_context(dir, files);
	bl2004_lines(text, dir, lines, sizeof(lines));
	assert_string_equal(lines, "3,5,7,8");
	remove_context(dir);
}

static void test_context_reads_never_block_or_leave_the_context(void **state)
{
	const char *text = "FROM alpine:3.20\n"
			   "COPY fifo.pem /a/\n"
			   "COPY link.pem /b/\n"
			   "COPY ../outside.pem /c/\n";
	char dir[] = "/tmp/bale-secrets-ctx-XXXXXX", path[600], target[600], lines[128];

	(void)state;
	make_context(dir, NULL);
	snprintf(path, sizeof(path), "%s/fifo.pem", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	/* A symlink to a certificate outside: not followed, so judged by its name. */
	snprintf(target, sizeof(target), "%s.cert", dir);
	snprintf(path, sizeof(path), "%s/link.pem", dir);
	assert_int_equal(symlink(target, path), 0);
	bl2004_lines(text, dir, lines, sizeof(lines));
	assert_string_equal(lines, "2,3,4");
	remove_context(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tokens_with_a_shape_are_found_by_it),
	    cmocka_unit_test(test_prefixes_inside_other_words_are_not_tokens),
	    cmocka_unit_test(test_literal_passwords_are_found_and_references_are_not),
	    cmocka_unit_test(test_every_token_shape_is_found),
	    cmocka_unit_test(test_secrets_are_found_wherever_they_fall),
	    cmocka_unit_test(test_scanning_resumes_after_each_match),
	    cmocka_unit_test(test_every_scan_finds_the_same),
	    cmocka_unit_test(test_names_read_as_credentials),
	    cmocka_unit_test(test_files_named_for_credentials),
	    cmocka_unit_test(test_context_files_are_read_to_confirm_keys_and_tokens),
	    cmocka_unit_test(test_context_reads_never_block_or_leave_the_context),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
