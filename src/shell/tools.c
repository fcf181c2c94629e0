/*
 * Tools: which command a simple command really runs, and its options read the way that tool
 * reads them. Each known tool is a row of data: which short and long options take a value,
 * whether options stop at the first operand (POSIX) or may follow operands (GNU), whether it
 * has a subcommand and its aliases, which subcommands install packages and how packages are
 * written. Prefixes that run another command (sudo, env, nice, time, xargs, timeout, ...) are
 * unwrapped first, so a rule sees `sudo -E apt-get install` as apt-get.
 *
 * The tables say what each tool's manual says; a tool missing here is still parsed, with every
 * "-x" word an option taking no value, as hadolint does for all tools.
 */
#include "shell/command_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum tool_kind {
	K_PLAIN,
	K_WRAPPER, /* runs the command in its operands */
	K_ENV,	   /* env: NAME=value operands, then the command */
	K_COMMAND, /* command: a wrapper unless -v/-V only look the name up */
	K_PYTHON,  /* python -m pip ... is pip */
	K_SHELL,   /* sh -c 'script' */
	K_SU,	   /* su -c 'script' */
	K_EVAL,	   /* eval words... */
};

enum {
	F_SUBCMD = 1u << 0,  /* the first operand is a subcommand */
	F_POSIX = 1u << 1,   /* options end at the first operand */
	F_LONG1 = 1u << 2,   /* long options with one dash (-name value, -name=value) */
	F_PLUS = 1u << 3,    /* +o style options (sh, set) */
	F_STRICT = 1u << 4,  /* a cluster with an unknown letter is an operand (chmod -x) */
	F_DASH = 1u << 5,    /* a lone "-" is an option (su -) */
	F_OLDTAR = 1u << 6,  /* tar's first word may be a cluster without a dash */
	F_NODASH2 = 1u << 7, /* "--" is an operand, not the end of options (echo) */
	F_ENDS = 1u << 8,    /* has end_opts: set by index_tables(), tested with the others */
};

struct alias {
	const char *from, *to;
};

struct tool {
	const char *name;
	uint8_t kind;
	uint16_t flags;
	uint8_t skip;		     /* wrappers: operands before the command (gosu USER cmd) */
	const char *short_val;	     /* short options taking a value */
	const char *short_known;     /* F_STRICT: the flags it has */
	const char *const *long_val; /* long options taking a value (with their dashes) */
	const char *prefix_val;	     /* F_LONG1: letters whose option takes an attached value */
	const struct alias *aliases; /* subcommand aliases */
	const char *const *pkg_subcmds;
	int manager; /* bale_pkg_manager, -1 for none */
	const char *default_subcmd;
	const char *const *end_opts; /* options after which the rest are operands (python -m) */
	/*
	 * Filled once by index_tables() from short_val, short_known and prefix_val, so an option
	 * letter is one bit test: bytes that take a value, (F_STRICT) every byte the tool knows,
	 * and (F_LONG1) the letters of prefix_val.
	 */
	uint64_t val_set[4], known_set[4], prefix_set[4];
};

/* The kinds that run another command, unwrapped by cmd_analyze(). */
#define UNWRAP_KINDS (1u << K_WRAPPER | 1u << K_ENV | 1u << K_COMMAND | 1u << K_PYTHON)
/* The kinds that run a script of their own (sh -c, su -c, eval), read by cmd_analyze(). */
#define SCRIPT_KINDS (1u << K_SHELL | 1u << K_SU | 1u << K_EVAL)

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define A(...) ((const struct alias[]){__VA_ARGS__, {NULL, NULL}})

/* --- package managers --------------------------------------------------------------------- */

static struct tool t_apt_get = {
    .name = "apt-get",
    .flags = F_SUBCMD,
    .short_val = "octa",
    .long_val = L("--option", "--config-file", "--target-release", "--default-release",
		  "--host-architecture", "--build-profiles"),
    .pkg_subcmds = L("install", "reinstall"),
    .manager = BALE_PKG_APT,
};

static struct tool t_apt = {
    .name = "apt",
    .flags = F_SUBCMD,
    .short_val = "octa",
    .long_val = L("--option", "--config-file", "--target-release", "--default-release",
		  "--host-architecture"),
    .pkg_subcmds = L("install", "reinstall"),
    .manager = BALE_PKG_APT,
};

static struct tool t_aptitude = {
    .name = "aptitude",
    .flags = F_SUBCMD,
    .short_val = "otFwS",
    .long_val = L("--option", "--target-release", "--display-format", "--width", "--sort"),
    .pkg_subcmds = L("install", "reinstall"),
    .manager = BALE_PKG_APT,
};

static struct tool t_apk = {
    .name = "apk",
    .flags = F_SUBCMD,
    .short_val = "XptU",
    .long_val = L("--repository", "--root", "--virtual", "--repositories-file", "--keys-dir",
		  "--arch", "--cache-dir", "--cache-max-age", "--timeout", "--progress-fd",
		  "--wait", "--force-binary-stdout"),
    .pkg_subcmds = L("add"),
    .manager = BALE_PKG_APK,
};

static struct tool t_pip = {
    .name = "pip",
    .flags = F_SUBCMD,
    .short_val = "rceiftbC",
    .long_val =
	L("--requirement", "--constraint", "--editable", "--index-url", "--extra-index-url",
	  "--find-links", "--target", "--prefix", "--root", "--src", "--platform",
	  "--python-version", "--implementation", "--abi", "--no-binary", "--only-binary",
	  "--progress-bar", "--proxy", "--trusted-host", "--upgrade-strategy", "--cache-dir",
	  "--log", "--log-file", "--timeout", "--retries", "--exists-action", "--cert",
	  "--client-cert", "--global-option", "--install-option", "--config-settings", "--python",
	  "--report", "--root-user-action", "--build", "--use-feature", "--use-deprecated",
	  "--keyring-provider", "--group", "--dest", "--wheel-dir", "--path"),
    .aliases = A({"i", "install"}),
    .pkg_subcmds = L("install"),
    .manager = BALE_PKG_PIP,
};

static struct tool t_npm = {
    .name = "npm",
    .flags = F_SUBCMD,
    .short_val = "wC",
    .long_val = L("--prefix", "--registry", "--cache", "--tag", "--userconfig", "--globalconfig",
		  "--loglevel", "--workspace", "--omit", "--include", "--only", "--scope", "--otp",
		  "--access", "--before", "--install-strategy", "--script-shell", "--location",
		  "--auth-type", "--fetch-retries", "--fetch-timeout"),
    .aliases =
	A({"i", "install"}, {"in", "install"}, {"ins", "install"}, {"inst", "install"},
	  {"insta", "install"}, {"instal", "install"}, {"isnt", "install"}, {"isnta", "install"},
	  {"isntal", "install"}, {"isntall", "install"}, {"add", "install"},
	  {"clean-install", "ci"}, {"ic", "ci"}, {"install-clean", "ci"}, {"isntall-clean", "ci"},
	  {"un", "uninstall"}, {"unlink", "uninstall"}, {"remove", "uninstall"},
	  {"rm", "uninstall"}, {"r", "uninstall"}, {"up", "update"}, {"upgrade", "update"},
	  {"udpate", "update"}, {"run-script", "run"}, {"rum", "run"}, {"urn", "run"},
	  {"c", "config"}, {"x", "exec"}, {"t", "test"}, {"tst", "test"}, {"create", "init"}),
    .pkg_subcmds = L("install"),
    .manager = BALE_PKG_NPM,
};

static struct tool t_yarn = {
    .name = "yarn",
    .flags = F_SUBCMD,
    .long_val = L("--cwd", "--modules-folder", "--cache-folder", "--global-folder",
		  "--network-timeout", "--registry", "--mutex", "--link-folder", "--use-yarnrc",
		  "--network-concurrency", "--preferred-cache-folder"),
    .pkg_subcmds = L("add"),
    .manager = BALE_PKG_NPM,
    .default_subcmd = "install",
};

static struct tool t_pnpm = {
    .name = "pnpm",
    .flags = F_SUBCMD,
    .short_val = "CF",
    .long_val =
	L("--dir", "--filter", "--store-dir", "--registry", "--reporter", "--virtual-store-dir",
	  "--modules-dir", "--workspace-dir", "--loglevel", "--config"),
    .aliases = A({"i", "install"}, {"up", "update"}, {"upgrade", "update"}, {"rm", "remove"},
		 {"uninstall", "remove"}, {"un", "remove"}, {"run-script", "run"}, {"dlx", "dlx"}),
    .pkg_subcmds = L("add"),
    .manager = BALE_PKG_NPM,
};

static struct tool t_gem = {
    .name = "gem",
    .flags = F_SUBCMD,
    .short_val = "vinsPgC",
    .long_val =
	L("--version", "--install-dir", "--bindir", "--source", "--trust-policy", "--platform",
	  "--file", "--config-file", "--build-root", "--target-rbconfig", "--without", "--with"),
    .aliases = A({"i", "install"}),
    .pkg_subcmds = L("install"),
    .manager = BALE_PKG_GEM,
};

static const char *const rpm_long_val[] = {
    "--config",	      "--installroot",	     "--releasever",
    "--enablerepo",   "--disablerepo",	     "--repo",
    "--repoid",	      "--exclude",	     "--excludepkgs",
    "--setopt",	      "--debuglevel",	     "--errorlevel",
    "--downloaddir",  "--destdir",	     "--forcearch",
    "--rpmverbosity", "--disableplugin",     "--enableplugin",
    "--color",	      "--comment",	     "--repofrompath",
    "--advisory",     "--advisories",	     "--bz",
    "--cve",	      "--sec-severity",	     "--secseverity",
    "--includepkgs",  "--installonly-limit", NULL,
};

static const struct alias rpm_aliases[] = {
    {"in", "install"},	      {"rm", "remove"},
    {"erase", "remove"},      {"up", "upgrade"},
    {"update", "upgrade"},    {"mc", "makecache"},
    {"grp", "group"},	      {"localinstall", "install"},
    {"dsync", "distro-sync"}, {"distrosync", "distro-sync"},
    {"reinst", "reinstall"},  {NULL, NULL},
};

static struct tool t_dnf = {
    .name = "dnf",
    .flags = F_SUBCMD,
    .short_val = "cRdex",
    .long_val = rpm_long_val,
    .aliases = rpm_aliases,
    .pkg_subcmds = L("install", "reinstall"),
    .manager = BALE_PKG_RPM,
};

static struct tool t_yum = {
    .name = "yum",
    .flags = F_SUBCMD,
    .short_val = "cRdex",
    .long_val = rpm_long_val,
    .aliases = rpm_aliases,
    .pkg_subcmds = L("install", "reinstall"),
    .manager = BALE_PKG_RPM,
};

static struct tool t_microdnf = {
    .name = "microdnf",
    .flags = F_SUBCMD,
    .long_val = rpm_long_val,
    .aliases = rpm_aliases,
    .pkg_subcmds = L("install", "reinstall"),
    .manager = BALE_PKG_RPM,
};

static struct tool t_tdnf = {
    .name = "tdnf",
    .flags = F_SUBCMD,
    .short_val = "cRdex",
    .long_val = rpm_long_val,
    .aliases = rpm_aliases,
    .pkg_subcmds = L("install", "reinstall"),
    .manager = BALE_PKG_RPM,
};

static struct tool t_zypper = {
    .name = "zypper",
    .flags = F_SUBCMD,
    .short_val = "cRDCtrpf",
    .long_val = L("--config", "--root", "--reposd-dir", "--cache-dir", "--raw-cache-dir",
		  "--solv-cache-dir", "--pkg-cache-dir", "--type", "--repo", "--from", "--download",
		  "--installroot", "--releasever", "--plus-repo", "--plus-content",
		  "--disable-repo", "--userdata", "--gpg-auto-import-keys-for"),
    .aliases = A({"in", "install"}, {"rm", "remove"}, {"up", "update"}, {"dup", "dist-upgrade"},
		 {"ref", "refresh"}, {"cc", "clean"}, {"ar", "addrepo"}, {"rr", "removerepo"},
		 {"se", "search"}, {"if", "info"}, {"ve", "verify"}, {"lu", "list-updates"},
		 {"pch", "patches"}),
    .pkg_subcmds = L("install"),
    .manager = BALE_PKG_ZYPPER,
};

static struct tool t_conda = {
    .name = "conda",
    .flags = F_SUBCMD,
    .short_val = "cnpC",
    .long_val = L("--channel", "--name", "--prefix", "--file", "--override-channels",
		  "--repodata-fn", "--platform", "--subdir"),
    .pkg_subcmds = L("install", "create"),
    .manager = BALE_PKG_CONDA,
};

static struct tool t_go = {
    .name = "go",
    .flags = F_SUBCMD | F_LONG1,
    .long_val =
	L("-o", "-ldflags", "-gcflags", "-asmflags", "-tags", "-mod", "-modfile", "-p", "-C",
	  "-buildmode", "-compiler", "-pkgdir", "-toolexec", "-overlay", "-pgo", "-covermode",
	  "-coverpkg", "-exec", "-run", "-bench", "-count", "-timeout", "-cpu", "-parallel",
	  "-installsuffix", "-gccgoflags", "-json", "-f", "-skip", "-shuffle", "-fuzz", "-fuzztime",
	  "-benchtime", "-outputdir", "-coverprofile", "-vet", "-replace", "-dropreplace",
	  "-require", "-droprequire", "-go", "-toolchain"),
    .pkg_subcmds = L("install", "get"),
    .manager = BALE_PKG_GO,
};

static struct tool t_cargo = {
    .name = "cargo",
    .flags = F_SUBCMD,
    .short_val = "FjpZ",
    .long_val =
	L("--target", "--target-dir", "--features", "--manifest-path", "--profile", "--root",
	  "--version", "--jobs", "--bin", "--example", "--package", "--git", "--branch", "--tag",
	  "--rev", "--path", "--registry", "--index", "--config", "--color", "--message-format",
	  "--lockfile-path", "--exclude", "--test", "--bench"),
    .aliases = A({"b", "build"}, {"c", "check"}, {"r", "run"}, {"t", "test"}, {"d", "doc"},
		 {"rm", "remove"}),
    .pkg_subcmds = L("install"),
    .manager = BALE_PKG_CARGO,
};

static struct tool t_mvn = {
    .name = "mvn",
    .flags = F_LONG1,
    .long_val = L("-f", "--file", "-s", "--settings", "-gs", "--global-settings", "-P",
		  "--activate-profiles", "-pl", "--projects", "-rf", "--resume-from", "-T",
		  "--threads", "-l", "--log-file", "-t", "--toolchains", "-gt",
		  "--global-toolchains", "-b", "--builder", "-D", "--define", "-c"),
    .prefix_val = "DPT",
};

static struct tool t_gradle = {
    .name = "gradle",
    .short_val = "bcgpxDPIm",
    .long_val =
	L("--build-file", "--settings-file", "--gradle-user-home", "--project-dir",
	  "--exclude-task", "--system-prop", "--project-prop", "--init-script", "--max-workers",
	  "--console", "--warning-mode", "--include-build", "--project-cache-dir", "--priority",
	  "--dependency-verification", "--write-verification-metadata", "--update-locks",
	  "--configuration-cache-problems"),
};

static struct tool t_bundle = {
    .name = "bundle",
    .flags = F_SUBCMD,
    .short_val = "jg",
    .long_val = L("--path", "--gemfile", "--jobs", "--retry", "--without", "--with", "--binstubs",
		  "--shebang", "--standalone", "--trust-policy", "--target-rbconfig", "--group",
		  "--version", "--source", "--git", "--branch", "--ref"),
    .aliases = A({"i", "install"}, {"e", "exec"}),
    .default_subcmd = "install",
};

static struct tool t_composer = {
    .name = "composer",
    .flags = F_SUBCMD,
    .short_val = "d",
    .long_val = L("--working-dir", "--prefer-install", "--apcu-autoloader-prefix", "--repository",
		  "--repository-url", "--stability", "--ignore-platform-req"),
    .aliases = A({"i", "install"}, {"u", "update"}, {"upgrade", "update"}, {"r", "require"},
		 {"rm", "remove"}, {"dumpautoload", "dump-autoload"}),
    .pkg_subcmds = L("require"),
    .manager = BALE_PKG_COMPOSER,
};

/* --- downloads ---------------------------------------------------------------------------- */

static struct tool t_curl = {
    .name = "curl",
    .short_val = "odHXuAexTwFbcCrmKyYzQEUtPD",
    .long_val =
	L("--output", "--data", "--data-raw", "--data-binary", "--data-urlencode", "--data-ascii",
	  "--header", "--request", "--user", "--user-agent", "--referer", "--proxy",
	  "--upload-file", "--write-out", "--form", "--form-string", "--cookie", "--cookie-jar",
	  "--continue-at", "--range", "--max-time", "--connect-timeout", "--retry", "--retry-delay",
	  "--retry-max-time", "--cacert", "--capath", "--cert", "--key", "--cert-type",
	  "--key-type", "--pass", "--ciphers", "--resolve", "--connect-to", "--interface",
	  "--config", "--limit-rate", "--speed-time", "--speed-limit", "--max-filesize",
	  "--max-redirs", "--proto", "--proto-redir", "--url", "--time-cond", "--netrc-file",
	  "--output-dir", "--oauth2-bearer", "--quote", "--create-file-mode", "--dns-servers",
	  "--local-port", "--noproxy", "--proxy-user", "--stderr", "--trace", "--trace-ascii",
	  "--unix-socket", "--abstract-unix-socket", "--telnet-option", "--ftp-port",
	  "--hostpubmd5", "--hostpubsha256", "--pinnedpubkey", "--expect100-timeout", "--aws-sigv4",
	  "--variable", "--json", "--url-query", "--etag-save", "--etag-compare",
	  "--keepalive-time", "--mail-from", "--mail-rcpt", "--mail-auth", "--login-options",
	  "--service-name", "--socks4", "--socks4a", "--socks5", "--socks5-hostname", "--preproxy",
	  "--proxy-header", "--proxy-cacert", "--dump-header", "--tls-max", "--tlsuser",
	  "--tlspassword", "--crlfile", "--engine", "--random-file", "--egd-file", "--ftp-account",
	  "--ftp-method", "--ftp-alternative-to-user", "--krb", "--delegation", "--doh-url",
	  "--dns-interface", "--dns-ipv4-addr", "--dns-ipv6-addr", "--happy-eyeballs-timeout-ms",
	  "--parallel-max", "--retry-all-errors-max", "--proxy-cert", "--proxy-key", "--proxy-pass",
	  "--sasl-authzid", "--ipfs-gateway", "--ech", "--curves", "--ip-tos", "--vlan-priority",
	  "--rate", "--trace-config"),
};

static struct tool t_wget = {
    .name = "wget",
    .short_val = "OoaPtTwUeiBlARDIXQn",
    .long_val =
	L("--output-document", "--output-file", "--append-output", "--directory-prefix", "--tries",
	  "--timeout", "--wait", "--user-agent", "--header", "--user", "--password", "--http-user",
	  "--http-password", "--ftp-user", "--ftp-password", "--post-data", "--post-file",
	  "--body-data", "--body-file", "--method", "--execute", "--input-file", "--base",
	  "--ca-certificate", "--ca-directory", "--certificate", "--certificate-type",
	  "--private-key", "--private-key-type", "--progress", "--level", "--accept", "--reject",
	  "--domains", "--exclude-domains", "--include-directories", "--exclude-directories",
	  "--limit-rate", "--quota", "--bind-address", "--dns-timeout", "--connect-timeout",
	  "--read-timeout", "--waitretry", "--restrict-file-names", "--secure-protocol",
	  "--load-cookies", "--save-cookies", "--referer", "--cut-dirs", "--default-page",
	  "--config", "--local-encoding", "--remote-encoding", "--crl-file", "--pinnedpubkey",
	  "--random-file", "--egd-file", "--hsts-file", "--warc-file", "--accept-regex",
	  "--reject-regex", "--regex-type", "--report-speed", "--prefer-family", "--max-redirect",
	  "--ciphers", "--retry-on-http-error"),
};

/* --- files and users ---------------------------------------------------------------------- */

static struct tool t_chmod = {
    .name = "chmod",
    .flags = F_STRICT,
    .short_known = "Rcfv",
    .long_val = L("--reference"),
};

static struct tool t_chown = {
    .name = "chown",
    .short_known = "RcfvhHLP",
    .long_val = L("--from", "--reference"),
};

static struct tool t_chgrp = {
    .name = "chgrp",
    .long_val = L("--reference"),
};

static struct tool t_useradd = {
    .name = "useradd",
    .short_val = "bcdefgGkKpsuRPZF",
    .long_val = L("--base-dir", "--comment", "--home-dir", "--home", "--expiredate", "--inactive",
		  "--gid", "--groups", "--skel", "--key", "--password", "--shell", "--uid",
		  "--root", "--prefix", "--selinux-user", "--selinux-range"),
};

static struct tool t_usermod = {
    .name = "usermod",
    .short_val = "cdefgGlpsuRPZ",
    .long_val =
	L("--comment", "--home", "--expiredate", "--inactive", "--gid", "--groups", "--login",
	  "--password", "--shell", "--uid", "--root", "--prefix", "--selinux-user", "--add-subuids",
	  "--del-subuids", "--add-subgids", "--del-subgids"),
};

/* Debian's adduser (long options) and BusyBox's (short ones) in one table. */
static struct tool t_adduser = {
    .name = "adduser",
    .short_val = "hgsGuk",
    .long_val = L("--uid", "--gid", "--home", "--shell", "--gecos", "--comment", "--ingroup",
		  "--firstuid", "--lastuid", "--firstgid", "--lastgid", "--conf",
		  "--add-extra-groups-to", "--extrausers-group"),
};

static struct tool t_groupadd = {
    .name = "groupadd",
    .short_val = "gKpRP",
    .long_val = L("--gid", "--key", "--password", "--root", "--prefix", "--users"),
};

static struct tool t_addgroup = {
    .name = "addgroup",
    .short_val = "g",
    .long_val = L("--gid", "--firstgid", "--lastgid", "--conf"),
};

static struct tool t_rm = {
    .name = "rm",
};

static struct tool t_cd = {
    .name = "cd",
    .flags = F_POSIX,
};

static struct tool t_mkdir = {
    .name = "mkdir",
    .short_val = "mZ",
    .long_val = L("--mode", "--context"),
};

static struct tool t_cp = {
    .name = "cp",
    .short_val = "St",
    .long_val = L("--suffix", "--target-directory", "--backup", "--preserve", "--no-preserve",
		  "--reflink", "--sparse", "--update", "--context"),
};

static struct tool t_mv = {
    .name = "mv",
    .short_val = "St",
    .long_val = L("--suffix", "--target-directory", "--backup", "--update", "--context"),
};

static struct tool t_ln = {
    .name = "ln",
    .short_val = "St",
    .long_val = L("--suffix", "--target-directory", "--backup"),
};

static struct tool t_install = {
    .name = "install",
    .short_val = "gmoStZ",
    .long_val = L("--group", "--mode", "--owner", "--suffix", "--target-directory",
		  "--strip-program", "--backup", "--context"),
};

static struct tool t_tar = {
    .name = "tar",
    .flags = F_OLDTAR,
    .short_val = "fCTXIbKLNV",
    .long_val =
	L("--file", "--directory", "--files-from", "--exclude-from", "--exclude",
	  "--strip-components", "--use-compress-program", "--owner", "--group", "--mode",
	  "--transform", "--xform", "--blocking-factor", "--starting-file", "--tape-length",
	  "--newer", "--after-date", "--newer-mtime", "--label", "--format", "--record-size",
	  "--to-command", "--checkpoint-action", "--mtime", "--owner-map", "--group-map", "--sort",
	  "--occurrence", "--rsh-command", "--volno-file", "--info-script", "--new-volume-script",
	  "--index-file", "--quoting-style", "--quote-chars", "--no-quote-chars", "--pax-option"),
};

static struct tool t_git = {
    .name = "git",
    .flags = F_SUBCMD,
    .short_val = "Ccbojum",
    .long_val = L("--git-dir", "--work-tree", "--namespace", "--super-prefix", "--config-env",
		  "--depth", "--branch", "--origin", "--reference", "--reference-if-able",
		  "--separate-git-dir", "--upload-pack", "--template", "--jobs", "--filter",
		  "--shallow-since", "--shallow-exclude", "--config", "--server-option",
		  "--bundle-uri", "--message", "--file", "--author", "--date", "--deepen",
		  "--shallow-since", "--recurse-submodules-default", "--ref-format"),
};

static struct tool t_find = {
    .name = "find",
    .flags = F_LONG1,
    .long_val = L("-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-type",
		  "-xtype", "-perm", "-user", "-group", "-uid", "-gid", "-maxdepth", "-mindepth",
		  "-newer", "-size", "-mtime", "-mmin", "-atime", "-amin", "-ctime", "-cmin",
		  "-regex", "-iregex", "-regextype", "-links", "-inum", "-samefile", "-fstype",
		  "-printf", "-fprintf", "-fprint", "-fprint0", "-fls", "-used", "-context"),
};

static struct tool t_set = {
    .name = "set",
    .flags = F_PLUS,
    .short_val = "o",
};

static struct tool t_echo = {
    .name = "echo",
    .flags = F_POSIX | F_NODASH2 | F_STRICT,
    .short_known = "neE",
};

/* --- shells and interpreters -------------------------------------------------------------- */

static struct tool t_sh = {
    .name = "sh",
    .kind = K_SHELL,
    .flags = F_POSIX | F_PLUS,
    .short_val = "oO",
    .long_val = L("--rcfile", "--init-file"),
};

static struct tool t_python = {
    .name = "python",
    .kind = K_PYTHON,
    .flags = F_POSIX,
    .short_val = "WXmc",
    .long_val = L("--check-hash-based-pycs"),
    .end_opts = L("-m", "-c"),
};

static struct tool t_su = {
    .name = "su",
    .kind = K_SU,
    .flags = F_DASH,
    .short_val = "csgGwC",
    .long_val = L("--command", "--shell", "--group", "--supp-group", "--whitelist-environment",
		  "--session-command"),
};

static struct tool t_eval = {
    .name = "eval",
    .kind = K_EVAL,
    .flags = F_POSIX,
};

/* --- wrappers ----------------------------------------------------------------------------- */

static struct tool t_sudo = {
    .name = "sudo",
    .kind = K_WRAPPER,
    .flags = F_POSIX,
    .short_val = "ugCDhprtTUR",
    .long_val = L("--user", "--group", "--close-from", "--chdir", "--host", "--prompt", "--role",
		  "--type", "--command-timeout", "--other-user", "--chroot"),
};

static struct tool t_doas = {
    .name = "doas",
    .kind = K_WRAPPER,
    .flags = F_POSIX,
    .short_val = "uC",
};

static struct tool t_env = {
    .name = "env",
    .kind = K_ENV,
    .flags = F_POSIX,
    .short_val = "uCSP",
    .long_val = L("--unset", "--chdir", "--split-string", "--block-signal", "--default-signal",
		  "--ignore-signal"),
};

static struct tool t_nice = {
    .name = "nice",
    .kind = K_WRAPPER,
    .flags = F_POSIX,
    .short_val = "n",
    .long_val = L("--adjustment"),
};

static struct tool t_nohup = {
    .name = "nohup",
    .kind = K_WRAPPER,
    .flags = F_POSIX,
};

static struct tool t_time = {
    .name = "time",
    .kind = K_WRAPPER,
    .flags = F_POSIX,
    .short_val = "fo",
    .long_val = L("--format", "--output"),
};

static struct tool t_timeout = {
    .name = "timeout",
    .kind = K_WRAPPER,
    .flags = F_POSIX,
    .skip = 1,
    .short_val = "ks",
    .long_val = L("--kill-after", "--signal"),
};

static struct tool t_xargs = {
    .name = "xargs",
    .kind = K_WRAPPER,
    .flags = F_POSIX,
    .short_val = "adEILnPs",
    .long_val = L("--arg-file", "--delimiter", "--max-lines", "--max-args", "--max-procs",
		  "--max-chars", "--process-slot-var", "--replace", "--eof"),
};

static struct tool t_exec = {
    .name = "exec",
    .kind = K_WRAPPER,
    .flags = F_POSIX,
    .short_val = "a",
};

static struct tool t_command = {
    .name = "command",
    .kind = K_COMMAND,
    .flags = F_POSIX,
};

static struct tool t_builtin = {
    .name = "builtin",
    .kind = K_WRAPPER,
    .flags = F_POSIX,
};

static struct tool t_stdbuf = {
    .name = "stdbuf",
    .kind = K_WRAPPER,
    .flags = F_POSIX,
    .short_val = "ioe",
    .long_val = L("--input", "--output", "--error"),
};

static struct tool t_ionice = {
    .name = "ionice",
    .kind = K_WRAPPER,
    .flags = F_POSIX,
    .short_val = "cnp",
    .long_val = L("--class", "--classdata", "--pid"),
};

static struct tool t_gosu = {
    .name = "gosu",
    .kind = K_WRAPPER,
    .flags = F_POSIX,
    .skip = 1,
};

static struct tool t_chroot = {
    .name = "chroot",
    .kind = K_WRAPPER,
    .flags = F_POSIX,
    .skip = 1,
    .long_val = L("--userspec", "--groups"),
};

static struct tool t_busybox = {
    .name = "busybox",
    .kind = K_WRAPPER,
    .flags = F_POSIX,
};

static struct tool t_fakeroot = {
    .name = "fakeroot",
    .kind = K_WRAPPER,
    .flags = F_POSIX,
    .short_val = "lsib",
    .long_val = L("--lib", "--faked"),
};

static struct tool t_unshare = {
    .name = "unshare",
    .kind = K_WRAPPER,
    .flags = F_POSIX,
    .short_val = "SGRw",
    .long_val = L("--setuid", "--setgid", "--root", "--wd", "--map-user", "--map-group"),
};

static struct tool t_runuser = {
    .name = "runuser",
    .kind = K_SU,
    .flags = F_DASH,
    .short_val = "csgGuw",
    .long_val = L("--command", "--shell", "--group", "--supp-group", "--user",
		  "--whitelist-environment", "--session-command"),
};

/* Sorted by name (strcmp), so a reader finds a tool; looked up through row_slots. */
static const struct row {
	const char *name;
	struct tool *tool; /* its byte sets are filled by index_tables() */
} rows[] = {
    {"addgroup", &t_addgroup},
    {"adduser", &t_adduser},
    {"apk", &t_apk},
    {"apt", &t_apt},
    {"apt-get", &t_apt_get},
    {"aptitude", &t_aptitude},
    {"ash", &t_sh},
    {"bash", &t_sh},
    {"builtin", &t_builtin},
    {"bundle", &t_bundle},
    {"busybox", &t_busybox},
    {"cargo", &t_cargo},
    {"cd", &t_cd},
    {"chgrp", &t_chgrp},
    {"chmod", &t_chmod},
    {"chown", &t_chown},
    {"chroot", &t_chroot},
    {"command", &t_command},
    {"composer", &t_composer},
    {"conda", &t_conda},
    {"cp", &t_cp},
    {"curl", &t_curl},
    {"dash", &t_sh},
    {"dnf", &t_dnf},
    {"doas", &t_doas},
    {"echo", &t_echo},
    {"env", &t_env},
    {"eval", &t_eval},
    {"exec", &t_exec},
    {"fakeroot", &t_fakeroot},
    {"find", &t_find},
    {"gem", &t_gem},
    {"git", &t_git},
    {"go", &t_go},
    {"gosu", &t_gosu},
    {"gradle", &t_gradle},
    {"groupadd", &t_groupadd},
    {"install", &t_install},
    {"ionice", &t_ionice},
    {"ksh", &t_sh},
    {"ln", &t_ln},
    {"mamba", &t_conda},
    {"microdnf", &t_microdnf},
    {"micromamba", &t_conda},
    {"mkdir", &t_mkdir},
    {"mksh", &t_sh},
    {"mv", &t_mv},
    {"mvn", &t_mvn},
    {"nice", &t_nice},
    {"nohup", &t_nohup},
    {"npm", &t_npm},
    {"pip", &t_pip},
    {"pnpm", &t_pnpm},
    {"python", &t_python},
    {"rm", &t_rm},
    {"runuser", &t_runuser},
    {"set", &t_set},
    {"sh", &t_sh},
    {"stdbuf", &t_stdbuf},
    {"su", &t_su},
    {"su-exec", &t_gosu},
    {"sudo", &t_sudo},
    {"tar", &t_tar},
    {"tdnf", &t_tdnf},
    {"time", &t_time},
    {"timeout", &t_timeout},
    {"unshare", &t_unshare},
    {"useradd", &t_useradd},
    {"usermod", &t_usermod},
    {"wget", &t_wget},
    {"xargs", &t_xargs},
    {"yarn", &t_yarn},
    {"yum", &t_yum},
    {"zsh", &t_sh},
    {"zypper", &t_zypper},
};

/*
 * Every command looks its tool up: a hash table of the rows (built once) finds one with a
 * single comparison. Tool names are short: a name of up to ROW_NAME_MAX bytes is packed into
 * two words (name_key), which with its length stand for it exactly, so the hash and the
 * comparison read a few words, not the name byte by byte. Slots hold a row's index + 1, 0 is
 * empty.
 */
#define ROW_SLOTS_LOG2 9
#define ROW_SLOTS      (1u << ROW_SLOTS_LOG2)
#define ROW_NAME_MAX   16
static uint8_t row_slots[ROW_SLOTS];
static uint8_t row_lens[BALE_ARRAY_SIZE(rows)];
_Static_assert(BALE_ARRAY_SIZE(rows) < 256 && 4 * BALE_ARRAY_SIZE(rows) <= ROW_SLOTS,
	       "row_slots holds uint8_t indexes and stays at most a quarter full");
static pthread_once_t row_slots_once = PTHREAD_ONCE_INIT;
static bool rows_indexed; /* set (release) once row_slots is built: then no pthread_once call */

struct name_key {
	uint64_t lo, hi;
};
static struct name_key row_keys[BALE_ARRAY_SIZE(rows)];

/*
 * The n > 0 bytes at s, read without going past them: 8 or more as their first and last eight
 * (overlapping up to 16), 4 to 7 as their first and last four, 1 to 3 as their first, middle
 * and last byte. Two names of the same length up to 16 bytes are equal when their keys are;
 * longer ones need their middle compared too.
 */
static inline struct name_key name_key(const char *s, size_t n)
{
	struct name_key k = {0, 0};

	if (n >= 8) {
		memcpy(&k.lo, s, 8);
		memcpy(&k.hi, s + n - 8, 8);
	} else if (n >= 4) {
		uint32_t a, b;

		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		k.lo = a | (uint64_t)b << 32;
	} else {
		k.lo = (unsigned char)s[0] | (unsigned)(unsigned char)s[n / 2] << 8 |
		       (unsigned)(unsigned char)s[n - 1] << 16;
	}
	return k;
}

static size_t row_hash(struct name_key k, size_t n)
{
	uint64_t h = (k.lo + k.hi * 31u + n) * 0x9e3779b97f4a7c15u;

	return (size_t)(h >> (64 - ROW_SLOTS_LOG2));
}

static void index_lists(void);

/* Adds the bytes of `set` (NULL for none) to `bits`, a set of the 256 byte values. */
static void add_to_set(uint64_t bits[4], const char *set)
{
	for (; set && *set; set++)
		bits[(unsigned char)*set >> 6] |= (uint64_t)1 << ((unsigned char)*set & 63);
}

static void index_rows(void)
{
	for (size_t i = 0; i < BALE_ARRAY_SIZE(rows); i++) {
		size_t n = strlen(rows[i].name), h;

		if (n == 0 || n > ROW_NAME_MAX)
			continue; /* cmd_tools_sorted() fails for such a row */
		row_keys[i] = name_key(rows[i].name, n);
		row_lens[i] = (uint8_t)n;
		for (h = row_hash(row_keys[i], n); row_slots[h]; h = (h + 1) & (ROW_SLOTS - 1))
			;
		row_slots[h] = (uint8_t)(i + 1);
	}
	for (size_t i = 0; i < BALE_ARRAY_SIZE(rows); i++) {
		struct tool *t = rows[i].tool;

		memset(t->val_set, 0, sizeof(t->val_set));
		memset(t->known_set, 0, sizeof(t->known_set));
		memset(t->prefix_set, 0, sizeof(t->prefix_set));
		add_to_set(t->val_set, t->short_val);
		add_to_set(t->prefix_set, t->prefix_val);
		add_to_set(t->known_set, t->short_val);
		add_to_set(t->known_set, t->short_known);
		if (t->end_opts)
			t->flags |= F_ENDS;
	}
	index_lists();
	__atomic_store_n(&rows_indexed, true, __ATOMIC_RELEASE);
}

/* Builds the tables once; after that, one load. */
static inline void index_tables(void)
{
	if (!__atomic_load_n(&rows_indexed, __ATOMIC_ACQUIRE))
		pthread_once(&row_slots_once, index_rows);
}

/* The row named by the n bytes at name (not NUL-terminated there). */
static inline const struct row *find_row(const char *name, size_t n)
{
	struct name_key k;

	if (n == 0 || n > ROW_NAME_MAX)
		return NULL;
	index_tables();
	k = name_key(name, n);
	for (size_t h = row_hash(k, n); row_slots[h]; h = (h + 1) & (ROW_SLOTS - 1)) {
		size_t r = row_slots[h] - 1u;

		if (row_lens[r] == n && row_keys[r].lo == k.lo && row_keys[r].hi == k.hi)
			return &rows[r];
	}
	return NULL;
}

/* n bytes of digits and dots: the version in pip3.11, python3. */
static bool is_version_suffix(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
			return false;
	return true;
}

/*
 * The row of a name that is none as it is written: wrapper scripts named as their tool
 * (gradlew -> gradle) and interpreters with their version (pip3.11 -> pip, python3 -> python).
 */
static inline const struct row *variant_row(const char *base, size_t n)
{
	switch (base[0]) { /* most names are none of these: one test (base[n] is a NUL) */
	case 'g':
		return n == 7 && memcmp(base, "gradlew", 7) == 0 ? find_row("gradle", 6) : NULL;
	case 'b':
		return n == 7 && memcmp(base, "bundler", 7) == 0 ? find_row("bundle", 6) : NULL;
	case 'm':
		return n == 4 && memcmp(base, "mvnw", 4) == 0 ? find_row("mvn", 3) : NULL;
	case 'p':
		if (n > 3 && n < 24 && memcmp(base, "pip", 3) == 0 &&
		    is_version_suffix(base + 3, n - 3))
			return find_row("pip", 3);
		if (n > 6 && n < 24 && memcmp(base, "python", 6) == 0 &&
		    is_version_suffix(base + 6, n - 6))
			return find_row("python", 6);
		return NULL;
	default:
		return NULL;
	}
}

/*
 * The tool the `len` bytes at `word` name: its file name, normalized by variant_row(). Returns
 * the table row's name (static) or `word`'s base name, and the tool when known. Every command
 * asks, most of them naming a tool as it is: the whole word is looked up first (no row name
 * holds a '/', so a word found is its own base name), and only a word not found is searched
 * for its last '/'.
 */
static inline const char *tool_name(const char *word, size_t len, const struct tool **tool)
{
	const struct row *r = find_row(word, len);
	const char *base = word;
	size_t n = len;

	if (!r) {
		const char *slash = memrchr(word, '/', len);

		if (slash) {
			base = slash + 1;
			n = (size_t)(word + len - base);
			r = find_row(base, n);
		}
		if (!r && !(r = variant_row(base, n))) {
			*tool = NULL;
			return base;
		}
	}
	*tool = r->tool;
	return r->name;
}

bool cmd_is_shell_name(const char *name)
{
	const struct tool *t;

	tool_name(name, strlen(name), &t);
	return t == &t_sh;
}

/* --- option parsing ----------------------------------------------------------------------- */

/*
 * Whether the n bytes at s are a name in list. Out of line, like strict_cluster_ok() and
 * oldtar_cluster(): parse_options() asks them for a few tools only, and inlined there they
 * cost every command's reading registers.
 */
static __attribute__((noinline)) bool in_list(const char *const *list, const char *s, size_t n)
{
	/* Options share their leading dashes: compare the first letter before anything else. */
	size_t k = n > 2 ? 2 : n - (n > 0);

	if (!list || n == 0)
		return false;
	for (; *list; list++)
		if ((*list)[k] == s[k] && strncmp(*list, s, n) == 0 && (*list)[n] == '\0')
			return true;
	return false;
}

/*
 * Whether a long option takes a value is asked of every long option, and the lists run to
 * 80 names (curl); a subcommand is looked up in its tool's aliases (31 for npm). One hash
 * table holds every (list, name) pair of the tool rows' long_val and aliases lists, built once
 * with the rows' index. Every tool parse_options() reads is a row's (or has no list).
 */
#define LIST_SLOTS_LOG2 12
#define LIST_SLOTS	(1u << LIST_SLOTS_LOG2)
#define LIST_ENTRIES	1024
struct list_entry {
	const void *list; /* a long_val or an aliases array */
	const char *name;
	const char *to; /* aliases: the canonical subcommand */
	struct name_key key;
	size_t len;
};
static struct list_entry list_entries[LIST_ENTRIES];
static uint16_t list_slots[LIST_SLOTS]; /* entry index + 1, 0 is empty */
static bool list_overflow;		/* more names than LIST_ENTRIES: lists are scanned */

static size_t list_hash(const void *list, struct name_key k, size_t n)
{
	uint64_t h = (uintptr_t)list + k.lo + k.hi * 31u + n;

	return (size_t)((h * 0x9e3779b97f4a7c15u) >> (64 - LIST_SLOTS_LOG2));
}

/* The entry of the n > 0 bytes at s in list, or NULL. */
static inline const struct list_entry *list_find(const void *list, const char *s, size_t n)
{
	struct name_key k = name_key(s, n);

	for (size_t h = list_hash(list, k, n); list_slots[h]; h = (h + 1) & (LIST_SLOTS - 1)) {
		const struct list_entry *e = &list_entries[list_slots[h] - 1u];

		if (e->list == list && e->len == n && e->key.lo == k.lo && e->key.hi == k.hi &&
		    (n <= 16 || memcmp(e->name + 8, s + 8, n - 16) == 0))
			return e;
	}
	return NULL;
}

/* Adds name to list's entries unless there already; false when the table is full. */
static bool list_add(size_t *used, const void *list, const char *name, const char *to)
{
	size_t n = strlen(name), h;

	if (n == 0 || list_find(list, name, n))
		return true;
	if (*used == LIST_ENTRIES)
		return false;
	list_entries[*used] = (struct list_entry){list, name, to, name_key(name, n), n};
	for (h = list_hash(list, list_entries[*used].key, n); list_slots[h];
	     h = (h + 1) & (LIST_SLOTS - 1))
		;
	list_slots[h] = (uint16_t)++ * used;
	return true;
}

static void index_lists(void)
{
	size_t used = 0;
	bool ok = true;

	for (size_t i = 0; i < BALE_ARRAY_SIZE(rows) && ok; i++) {
		const struct tool *t = rows[i].tool;

		for (const char *const *o = t->long_val; ok && o && *o; o++)
			ok = list_add(&used, t->long_val, *o, NULL);
		for (const struct alias *a = t->aliases; ok && a && a->from; a++)
			ok = list_add(&used, t->aliases, a->from, a->to);
	}
	list_overflow = !ok;
}

/*
 * For the unit tests: the rows are sorted (for a reader), their names fit name_key() and hold
 * no '/' (tool_name() looks whole words up), and the list table holds every list's names.
 */
bool cmd_tools_sorted(void)
{
	index_tables();
	if (list_overflow) /* correct, but slower: raise LIST_ENTRIES */
		return false;
	for (size_t i = 0; i < BALE_ARRAY_SIZE(rows); i++) {
		size_t n = strlen(rows[i].name);

		if (n == 0 || n > ROW_NAME_MAX || strchr(rows[i].name, '/') ||
		    (i > 0 && strcmp(rows[i - 1].name, rows[i].name) >= 0))
			return false;
	}
	return true;
}

/*
 * True when the n > 0 bytes at s name one of t's long options that take a value (parse_options()
 * asks of option words, "--x" or "-x" at the least).
 */
static bool long_takes_value(const struct tool *t, const char *s, size_t n)
{
	if (!t->long_val)
		return false;
	/* A tool with a list is a row's, found by find_row(): the tables are built. */
	if (list_overflow)
		return in_list(t->long_val, s, n);
	return list_find(t->long_val, s, n) != NULL;
}

/*
 * Where parse_options() puts what it reads: room for cap_opts options and cap_ops operands.
 * Every option and operand is counted, stored or not: with no room (cap 0) it only counts,
 * and a count over the room tells the caller to make more and read again.
 */
struct sink {
	bale_arena *arena;
	bale_cmd_opt *opts;
	size_t nopts, cap_opts;
	const bale_cmd_word **ops;
	size_t nops, cap_ops;
	size_t sub; /* subcommand word, BALE_CMD_NONE */
	int err;
};

static inline void emit_opt(struct sink *k, const char *name, size_t nlen, const char *value,
			    size_t word)
{
	if (k->nopts < k->cap_opts) {
		bale_cmd_opt *o = &k->opts[k->nopts];

		if (name[nlen] == '\0') {
			o->name = name;
		} else {
			o->name = bale_arena_strndup(k->arena, name, nlen);
			if (!o->name)
				k->err = BALE_ENOMEM;
		}
		o->value = value;
		o->word = word;
	}
	k->nopts++;
}

/*
 * The names of short options, "-x" and "+x" for every byte x: a cluster's letters are named
 * from this table rather than copied to the arena one by one.
 */
#define SHORT_1(d, c)                                                                              \
	{                                                                                          \
		d, (char)(c), '\0'                                                                 \
	}
#define SHORT_4(d, c)  SHORT_1(d, c), SHORT_1(d, (c) + 1), SHORT_1(d, (c) + 2), SHORT_1(d, (c) + 3)
#define SHORT_16(d, c) SHORT_4(d, c), SHORT_4(d, (c) + 4), SHORT_4(d, (c) + 8), SHORT_4(d, (c) + 12)
#define SHORT_64(d, c)                                                                             \
	SHORT_16(d, c), SHORT_16(d, (c) + 16), SHORT_16(d, (c) + 32), SHORT_16(d, (c) + 48)
#define SHORT_256(d) SHORT_64(d, 0), SHORT_64(d, 64), SHORT_64(d, 128), SHORT_64(d, 192)
static const char short_names[2][256][3] = {{SHORT_256('-')}, {SHORT_256('+')}};
#undef SHORT_1
#undef SHORT_4
#undef SHORT_16
#undef SHORT_64
#undef SHORT_256

/* names: the row of short_names for the cluster's first byte. */
static inline void emit_short(struct sink *k, const char (*names)[3], char c, const char *value,
			      size_t word)
{
	if (k->nopts < k->cap_opts) {
		bale_cmd_opt *o = &k->opts[k->nopts];

		o->name = names[(unsigned char)c];
		o->value = value;
		o->word = word;
	}
	k->nopts++;
}

static inline void emit_operand(struct sink *k, const bale_cmd_word *w)
{
	if (k->nops < k->cap_ops)
		k->ops[k->nops] = w;
	k->nops++;
}

/* Whether byte c is in a tool's set (val_set, known_set, prefix_set). */
static inline bool in_set(const uint64_t set[4], char c)
{
	unsigned char b = (unsigned char)c;

	return set[b >> 6] >> (b & 63) & 1;
}

/* F_STRICT: whether every letter of the cluster v is one the tool knows. */
static __attribute__((noinline)) bool strict_cluster_ok(const struct tool *t, const char *v)
{
	for (const char *c = v + 1; *c; c++)
		if (!in_set(t->known_set, *c))
			return false;
	return true;
}

/* tar's first word may be a cluster of letters without a dash: tar xzf FILE. */
static __attribute__((noinline)) bool oldtar_cluster(const char *v)
{
	if (!v[0])
		return false;
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z')))
			return false;
	return true;
}

/* A tool no table describes: every "-x" word an option taking no value. */
static const struct tool generic_tool = {.name = ""};

/*
 * Reads words[from..to) with tool `t`'s table (NULL: generic_tool) into the sink. With
 * `wrapper`, stops at the first operand and returns its index (to when none); otherwise
 * returns `to`. Most words are operands, told by their first byte.
 */
static inline __attribute__((always_inline)) size_t parse_options(const struct tool *t,
								  const bale_cmd_word *w,
								  size_t from, size_t to,
								  struct sink *k, bool wrapper)
{
	unsigned flags;
	size_t i = from;
	const char(*names)[3]; /* the short option names of a cluster's first byte */

	if (!t)
		t = &generic_tool;
	/* A wrapper's options end at its first operand, which is no subcommand: the command. */
	flags = wrapper ? (t->flags | F_POSIX) & ~(unsigned)F_SUBCMD : t->flags;
	k->sub = BALE_CMD_NONE;
	if ((flags & F_OLDTAR) && i < to && oldtar_cluster(w[i].value)) {
		/* tar xzf FILE: the letters' values come in the next words */
		for (const char *c = w[from].value; *c; c++) {
			const char *value = NULL;

			if (in_set(t->val_set, *c) && i + 1 < to)
				value = w[++i].value;
			emit_short(k, short_names[0], *c, value, from);
		}
		i++;
	}
	for (; i < to; i++) {
		const char *v = w[i].value;

		if ((v[0] == '-' || (v[0] == '+' && (flags & F_PLUS))) && v[1] != '\0') {
			if (v[0] == '-' && v[1] == '-' && v[2] == '\0' && !(flags & F_NODASH2)) {
				if (wrapper)
					return i + 1 < to ? i + 1 : to;
				i++;
				break;
			}
			if (v[0] == '-' && (flags & F_STRICT) && !strict_cluster_ok(t, v))
				goto operand;
			if (v[0] == '-' && (v[1] == '-' || (flags & F_LONG1))) {
				const char *value = NULL, *eq;
				size_t nlen = w[i].len, at = i;

				if ((flags & F_LONG1) && v[1] != '-' &&
				    in_set(t->prefix_set, v[1]) && v[2] &&
				    !long_takes_value(t, v, strlen(v))) {
					/* mvn -Dkey=value, -Pprofile, -T4 */
					value = v + 2;
					nlen = 2;
				} else if (long_takes_value(t, v, nlen)) {
					/* the whole word names one (no name holds a '='): no '=' to
					 * find */
					if (i + 1 < to)
						value = w[++i].value;
				} else if (*(eq = strchrnul(v, '=')) != '\0') {
					value = eq + 1; /* --name=value */
					nlen = (size_t)(eq - v);
				} else if ((size_t)(eq - v) != nlen) {
					/* a NUL inside the word ends its name */
					nlen = (size_t)(eq - v);
					if (long_takes_value(t, v, nlen) && i + 1 < to)
						value = w[++i].value;
				}
				emit_opt(k, v, nlen, value, at);
				if ((flags & F_ENDS) && in_list(t->end_opts, v, nlen)) {
					i++;
					break;
				}
				continue;
			}
			/* A cluster: -abc, -ovalue, -o value; +o for F_PLUS. */
			names = short_names[v[0] == '+'];
			for (size_t j = 1; v[j]; j++) {
				char c = v[j];

				if (in_set(t->val_set, c)) {
					const char *value = NULL;
					char name[3] = {v[0], c, '\0'};
					size_t at = i;

					if (v[j + 1])
						value = v + j + 1;
					else if (i + 1 < to)
						value = w[++i].value;
					emit_short(k, names, c, value, at);
					if ((flags & F_ENDS) && in_list(t->end_opts, name, 2)) {
						i++;
						goto rest;
					}
					break;
				}
				emit_short(k, names, c, NULL, i);
			}
			continue;
		}
		if (v[0] == '-' && v[1] == '\0' && (flags & F_DASH)) {
			emit_opt(k, v, 1, NULL, i); /* su - */
			continue;
		}
	operand:
		if (flags & F_SUBCMD) {
			k->sub = i;
			flags &=
			    ~(unsigned)F_SUBCMD; /* one subcommand: the next word is an operand */
			continue;
		}
		if (flags & F_POSIX) {
			if (wrapper)
				return i;
			break;
		}
		/* A run of operands (apt-get install a b c), up to a word that may be an option. */
		emit_operand(k, &w[i]);
		while (i + 1 < to && w[i + 1].value[0] != '-' &&
		       !(w[i + 1].value[0] == '+' && (flags & F_PLUS)))
			emit_operand(k, &w[++i]);
	}
rest:
	/* After "--", an end option or (POSIX) the first operand: operands only. */
	for (; i < to; i++)
		emit_operand(k, &w[i]);
	return to;
}

/*
 * parse_options() compiled for each of its two uses, `wrapper` a constant in each: reading a
 * command's words (every command with an option), and skipping a wrapper's own options.
 */
static __attribute__((noinline)) void read_options(const struct tool *t, const bale_cmd_word *w,
						   size_t from, size_t to, struct sink *k)
{
	parse_options(t, w, from, to, k, false);
}

static __attribute__((noinline)) size_t skip_wrapper_options(const struct tool *t,
							     const bale_cmd_word *w, size_t from,
							     size_t to, struct sink *k)
{
	return parse_options(t, w, from, to, k, true);
}

/* --- packages ----------------------------------------------------------------------------- */

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "/...", "./...", "../...", "~/...", "." or "..": asked of every package, byte by byte. */
static bool is_local_path(const char *s)
{
	if (s[0] == '/')
		return true;
	if (s[0] == '~')
		return s[1] == '/';
	if (s[0] != '.')
		return false;
	if (s[1] == '/' || s[1] == '\0')
		return true;
	return s[1] == '.' && (s[2] == '/' || s[2] == '\0');
}

static void set_version(bale_pkg *p, const char *op, const char *version)
{
	p->op = op;
	p->version = version;
	p->version_len = strlen(version);
}

/* Splits at the first byte of `set`: name before, the operator run, the version after. */
static void split_at_ops(bale_pkg *p, const char *spec, const char *set)
{
	size_t n = strcspn(spec, set), m;
	static const char *const ops[] = {"===", "==", ">=", "<=", "!=", "~=", "=~",
					  "><",	 "=",  "<",  ">",  "~",	 "!",  NULL};

	p->name_len = n;
	if (!spec[n])
		return;
	m = strspn(spec + n, set);
	for (const char *const *o = ops; *o; o++)
		if (strlen(*o) == m && strncmp(spec + n, *o, m) == 0) {
			set_version(p, *o, spec + n + m);
			return;
		}
	set_version(p, "=", spec + n + m);
}

static const char *const vcs_schemes[] = {"git+", "hg+", "svn+", "bzr+", "git://", NULL};

static __attribute__((noinline)) void parse_pip(bale_pkg *p, const char *spec, size_t n)
{
	bool vcs = false;

	for (const char *const *s = vcs_schemes; *s; s++)
		if (starts_with(spec, *s))
			vcs = true;
	if (vcs || strstr(spec, "://")) {
		const char *at = strrchr(spec, '@');
		const char *scheme_end = strstr(spec, "://");

		p->source = BALE_PKG_URL;
		p->name_len = n;
		/* git+https://host/repo@v1.0#egg=name: the @ after the host pins a ref */
		if (at && scheme_end && at > scheme_end + 3) {
			const char *slash = strchr(scheme_end + 3, '/');

			if (slash && at > slash) {
				p->name_len = (size_t)(at - spec);
				set_version(p, "@", at + 1);
			}
		}
		/* hadolint: a VCS reference is pinned by "@"; another URL by holding a "/" */
		p->pinned = vcs ? strchr(spec, '@') != NULL : true;
		return;
	}
	if (is_local_path(spec) || ends_with(spec, n, ".whl") || ends_with(spec, n, ".tar.gz") ||
	    ends_with(spec, n, ".zip") || ends_with(spec, n, ".tgz")) {
		p->source = BALE_PKG_FILE;
		p->name_len = n;
		p->pinned = true;
		return;
	}
	{
		size_t k = strcspn(spec, "[<>=!~;@ ");

		p->name_len = k;
		if (spec[k] == '[') {
			const char *close = strchr(spec + k, ']');
			size_t e = close ? (size_t)(close - spec) + 1 : n;

			p->extras = spec + k;
			p->extras_len = e - k;
			k = e;
		}
		while (spec[k] == ' ')
			k++;
		if (spec[k] && strchr("<>=!~", spec[k])) {
			bale_pkg tmp = {0};

			split_at_ops(&tmp, spec + k, "<>=!~");
			p->op = tmp.op;
			p->version = tmp.version;
			p->version_len = tmp.version_len;
		} else if (spec[k] == '@') {
			set_version(p, "@", spec + k + 1);
			while (p->version[0] == ' ') {
				p->version++;
				p->version_len--;
			}
			p->source = BALE_PKG_URL;
		}
		/* hadolint: a version operator anywhere, or a path */
		p->pinned = p->op != NULL || strchr(spec, '/') != NULL;
	}
}

static __attribute__((noinline)) void parse_npm(bale_pkg *p, const char *spec, size_t n)
{
	/* git URLs and npm's hosted-git shorthands (github:user/repo#v1.0): '#ref' pins them */
	static const char *const git[] = {"git://",  "git+ssh://", "git+http://", "git+https://",
					  "github:", "gitlab:",	   "bitbucket:",  "gist:",
					  "git@",    NULL};
	const char *slash = strchr(spec, '/');
	bool tarball = ends_with(spec, n, ".tar") || ends_with(spec, n, ".tar.gz") ||
		       ends_with(spec, n, ".tgz");
	/* user/repo is npm's shorthand for a GitHub repository; dir/pkg.tgz is a file */
	bool git_source = spec[0] != '@' && slash && slash != spec && !strchr(spec, ':') &&
			  !is_local_path(spec) && !tarball;

	for (const char *const *g = git; *g && !git_source; g++)
		git_source = starts_with(spec, *g);
	if (git_source) {
		const char *hash = strchr(spec, '#');

		p->source = BALE_PKG_URL;
		p->name_len = hash ? (size_t)(hash - spec) : n;
		if (hash)
			set_version(p, "#", hash + 1);
		p->pinned = hash != NULL;
		return;
	}
	if (starts_with(spec, "file:")) {
		p->source = BALE_PKG_FILE;
		p->name_len = n;
		p->pinned = true;
		return;
	}
	if (tarball) {
		p->source = strstr(spec, "://") ? BALE_PKG_URL : BALE_PKG_FILE;
		p->name_len = n;
		p->pinned = true;
		return;
	}
	if (is_local_path(spec)) {
		p->source = BALE_PKG_FILE;
		p->name_len = n;
		p->pinned = true;
		return;
	}
	{
		const char *from = spec[0] == '@' ? strchr(spec, '/') : spec;
		const char *at = from ? strchr(from, '@') : NULL;

		if (strstr(spec, "://"))
			p->source = BALE_PKG_URL;
		if (at) {
			p->name_len = (size_t)(at - spec);
			set_version(p, "@", at + 1);
		} else {
			p->name_len = n;
		}
		p->pinned = at != NULL;
	}
}

/* dnf/yum: name-version[-release][.arch]; the version part starts with a digit. */
static __attribute__((noinline)) void parse_rpm(bale_pkg *p, const char *spec, size_t n)
{
	bool any_digit = false, all_ok = true;
	const char *dash = strchr(spec, '-');

	p->name_len = n;
	if (ends_with(spec, n, ".rpm")) {
		p->source =
		    is_local_path(spec) || !strstr(spec, "://") ? BALE_PKG_FILE : BALE_PKG_URL;
		p->pinned = true;
		return;
	}
	if (!dash)
		return;
	/* hadolint DL3041: every part after the first dash is version-like, one starts with a
	 * digit. */
	for (const char *part = dash + 1; part;
	     part = strchr(part, '-') ? strchr(part, '-') + 1 : NULL) {
		size_t len = strcspn(part, "-");

		if (len > 0 && part[0] >= '0' && part[0] <= '9')
			any_digit = true;
		for (size_t i = 0; i < len; i++) {
			char c = part[i];

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			      (c >= 'A' && c <= 'Z') || strchr(".~^_:+", c)))
				all_ok = false;
		}
		if (!part[len])
			break;
	}
	p->pinned = any_digit && all_ok;
	if (p->pinned) {
		/* the name ends before the first "-<digit>" */
		for (const char *d = dash; d; d = strchr(d + 1, '-'))
			if (d[1] >= '0' && d[1] <= '9') {
				p->name_len = (size_t)(d - spec);
				set_version(p, "-", d + 1);
				break;
			}
	}
}

/*
 * bale_pkg_parse() of the n bytes of spec (NUL-terminated there). Inlined in fill_packages()'s
 * loop, a call fewer per package; the long parsers (pip, npm, rpm) stay out of line, so the
 * short cases (apt, apk) do not save and restore the registers those need.
 */
static inline __attribute__((always_inline)) void pkg_parse(bale_pkg *out, bale_pkg_manager manager,
							    const char *spec, size_t n)
{
	const char *sep;

	memset(out, 0, sizeof(*out));
	out->spec = spec;
	out->name = spec;
	out->name_len = n;
	switch (manager) {
	case BALE_PKG_APT:
		if (is_local_path(spec) || ends_with(spec, n, ".deb")) {
			out->source = BALE_PKG_FILE;
			out->pinned = true;
		} else if ((sep = strchr(spec, '=')) != NULL || (sep = strchr(spec, '/')) != NULL) {
			out->name_len = (size_t)(sep - spec);
			set_version(out, *sep == '=' ? "=" : "/", sep + 1);
			out->pinned = true;
		}
		break;
	case BALE_PKG_APK:
		if (ends_with(spec, n, ".apk")) {
			out->source = BALE_PKG_FILE;
			out->pinned = true;
			break;
		}
		split_at_ops(out, spec, "=~<>");
		/* no operator byte at all (most packages): nothing to look for */
		out->pinned =
		    spec[out->name_len] != '\0' && (strchr(spec, '=') || strchr(spec, '~'));
		break;
	case BALE_PKG_PIP:
		parse_pip(out, spec, n);
		break;
	case BALE_PKG_NPM:
		parse_npm(out, spec, n);
		break;
	case BALE_PKG_GEM: {
		const char *colon = strchr(spec, ':');

		if (ends_with(spec, n, ".gem")) {
			out->source = BALE_PKG_FILE;
			out->pinned = true;
		} else if (colon) {
			out->name_len = (size_t)(colon - spec);
			set_version(out, ":", colon + 1);
			out->pinned = true;
		}
		break;
	}
	case BALE_PKG_RPM:
		parse_rpm(out, spec, n);
		break;
	case BALE_PKG_ZYPPER:
		if (ends_with(spec, n, ".rpm")) {
			out->source = BALE_PKG_FILE;
			out->pinned = true;
			break;
		}
		split_at_ops(out, spec, "=<>");
		out->pinned = out->op != NULL;
		break;
	case BALE_PKG_GO: {
		const char *at = strrchr(spec, '@');

		if (is_local_path(spec) || starts_with(spec, ".")) {
			out->source = BALE_PKG_FILE;
			out->pinned = true;
		} else if (at) {
			out->name_len = (size_t)(at - spec);
			set_version(out, "@", at + 1);
			out->pinned = strcmp(at + 1, "latest") != 0 &&
				      strcmp(at + 1, "upgrade") != 0 &&
				      strcmp(at + 1, "patch") != 0 && at[1] != '\0';
		}
		break;
	}
	case BALE_PKG_CARGO: {
		const char *at = strchr(spec, '@');

		if (at) {
			out->name_len = (size_t)(at - spec);
			set_version(out, "@", at + 1);
			out->pinned = at[1] != '\0';
		}
		break;
	}
	case BALE_PKG_CONDA:
		if (ends_with(spec, n, ".tar.bz2") || ends_with(spec, n, ".conda")) {
			out->source = BALE_PKG_FILE;
			out->pinned = true;
			break;
		}
		split_at_ops(out, spec, "=<>!~ ");
		if (out->op && out->version)
			while (out->version[0] == ' ' || out->version[0] == '=') {
				out->version++;
				out->version_len--;
			}
		out->pinned = out->op != NULL && out->version_len > 0;
		break;
	case BALE_PKG_COMPOSER: {
		size_t k = strcspn(spec, ":= ");

		if (spec[k]) {
			out->name_len = k;
			set_version(out,
				    spec[k] == ':'   ? ":"
				    : spec[k] == '=' ? "="
						     : " ",
				    spec + k + 1);
			out->pinned = out->version_len > 0;
		}
		break;
	}
	}
}

void bale_pkg_parse(bale_pkg *out, bale_pkg_manager manager, const char *spec)
{
	if (!spec)
		spec = "";
	pkg_parse(out, manager, spec, strlen(spec));
}

/* --- analysis ----------------------------------------------------------------------------- */

/* The canonical name of the subcommand `sub` (n bytes) of tool t. */
static const char *canonical_subcmd(const struct tool *t, const char *sub, size_t n)
{
	const struct list_entry *e;

	if (!t || !t->aliases || n == 0)
		return sub;
	if (!list_overflow)
		return (e = list_find(t->aliases, sub, n)) != NULL ? e->to : sub;
	for (const struct alias *a = t->aliases; a->from; a++)
		if (strcmp(a->from, sub) == 0)
			return a->to;
	return sub;
}

/*
 * True when option name `o` is `name`. Rules ask for options by name on every command: names
 * share their dashes ("-x", "--name"), so the bytes up to the first letter after them settle
 * most before a call.
 */
static inline bool opt_is(const char *o, const char *name)
{
	return o[0] == name[0] &&
	       (o[0] == '\0' ||
		(o[1] == name[1] &&
		 (o[1] == '\0' || (o[2] == name[2] && (o[2] == '\0' || strcmp(o, name) == 0)))));
}

static const bale_cmd_opt *find_opt(const bale_cmd *cmd, const char *name)
{
	const bale_cmd_opt *found = NULL;

	for (size_t i = 0; i < cmd->nopts; i++)
		if (opt_is(cmd->opts[i].name, name))
			found = &cmd->opts[i];
	return found;
}

/* NAME=value, as env takes it. */
static bool assignment_like(const char *v)
{
	const char *eq = strchr(v, '=');

	return eq && eq != v && v[0] != '-';
}

/* Where the command a wrapper runs starts, or BALE_CMD_NONE when it runs none. */
static size_t unwrap(const struct tool *t, const bale_cmd_word *w, size_t i, size_t n,
		     const char **name_override)
{
	struct sink counted = {0}; /* a wrapper's own options are only skipped */
	size_t j;

	*name_override = NULL;
	switch (t->kind) {
	case K_WRAPPER:
	case K_COMMAND:
		if (t->kind == K_COMMAND)
			for (size_t k = i + 1; k < n && w[k].value[0] == '-'; k++)
				if (strchr(w[k].value, 'v') || strchr(w[k].value, 'V'))
					return BALE_CMD_NONE;
		j = skip_wrapper_options(t, w, i + 1, n, &counted);
		for (unsigned s = 0; s < t->skip && j < n; s++)
			j++;
		return j < n ? j : BALE_CMD_NONE;
	case K_ENV:
		j = skip_wrapper_options(t, w, i + 1, n, &counted);
		while (j < n && assignment_like(w[j].value))
			j++;
		return j < n ? j : BALE_CMD_NONE;
	case K_PYTHON:
		/* python [opts] -m pip ...: pip's words start after the module name */
		for (j = i + 1; j < n; j++) {
			const char *v = w[j].value;

			if (strcmp(v, "-m") == 0 && j + 1 < n) {
				const char *mod = w[j + 1].value;

				if (strcmp(mod, "pip") == 0 || strcmp(mod, "pip3") == 0) {
					*name_override = "pip";
					return j + 1;
				}
				return BALE_CMD_NONE;
			}
			if (v[0] != '-' || strcmp(v, "-c") == 0)
				return BALE_CMD_NONE;
			if ((v[1] == 'W' || v[1] == 'X') && v[2] == '\0')
				j++;
		}
		return BALE_CMD_NONE;
	default:
		return BALE_CMD_NONE;
	}
}

static size_t count_lines(const char *s, size_t len)
{
	size_t n = 0;

	for (const char *q = s; (q = memchr(q, '\n', len - (size_t)(q - s))) != NULL; q++)
		n++;
	return n;
}

/*
 * Places a script string: after the opening quote of the word it came from, or, when its lines
 * are not the source's (escapes, expansions, eval's joined words), flat at the word.
 */
static void place_script(struct cmd_nested *nested, const bale_cmd_word *w, size_t n)
{
	const bale_cmd_word *src = NULL;

	for (size_t o = 0; o < n && !src; o++)
		if (nested->text >= w[o].value && nested->text <= w[o].value + w[o].len)
			src = &w[o];
	if (!src) {
		nested->flat = count_lines(nested->text, nested->len) > 0;
		return;
	}
	nested->line = src->line;
	nested->col = src->col + (uint32_t)(nested->text - src->value);
	if (src->raw_len > 0 && (src->raw[0] == '\'' || src->raw[0] == '"'))
		nested->col++;
	else if (src->raw_len > 1 && src->raw[0] == '$' &&
		 (src->raw[1] == '\'' || src->raw[1] == '"'))
		nested->col += 2;
	nested->flat =
	    count_lines(nested->text, nested->len) != count_lines(src->raw, src->raw_len);
}

static int fill_packages(bale_arena *arena, bale_cmd *cmd, const struct tool *t)
{
	const bale_cmd_word *const *ops = cmd->operands;
	size_t nops = cmd->noperands, from = 0;
	const char *sub = cmd->subcommand;
	const bale_cmd_opt *version_opt = NULL;
	bool module = false;
	bale_pkg *pkgs;

	if (!t || t->manager < 0 || !t->pkg_subcmds || !sub)
		return 0;
	if (t == &t_yarn && strcmp(sub, "global") == 0 && nops > 0 &&
	    strcmp(ops[0]->value, "add") == 0) {
		from = 1;
	} else if ((t->manager == BALE_PKG_RPM) && strcmp(sub, "module") == 0 && nops > 0 &&
		   strcmp(ops[0]->value, "install") == 0) {
		from = 1;
		module = true;
	} else {
		/* sub is a C string: a first byte, then a strcmp, settle each of the few names */
		const char *const *o = t->pkg_subcmds;

		while (*o && !((*o)[0] == sub[0] && strcmp(*o, sub) == 0))
			o++;
		if (!*o)
			return 0;
	}
	if (nops <= from)
		return 0;
	if (t->manager == BALE_PKG_GEM) {
		version_opt = find_opt(cmd, "-v");
		if (!version_opt)
			version_opt = find_opt(cmd, "--version");
	} else if (t->manager == BALE_PKG_CARGO) {
		version_opt = find_opt(cmd, "--version");
	}
	pkgs = bale_arena_alloc(arena, (nops - from) * sizeof(*pkgs)); /* pkg_parse() clears each */
	if (!pkgs)
		return BALE_ENOMEM;
	for (size_t i = from; i < nops; i++) {
		bale_pkg *p = &pkgs[i - from];

		pkg_parse(p, (bale_pkg_manager)t->manager, ops[i]->value, ops[i]->len);
		p->word = ops[i];
		if (module) {
			/* dnf module install name:stream[/profile] */
			const char *colon = strchr(p->spec, ':');

			p->name_len = colon ? (size_t)(colon - p->spec) : strlen(p->spec);
			p->op = colon ? ":" : NULL;
			p->version = colon ? colon + 1 : NULL;
			p->version_len = colon ? strlen(colon + 1) : 0;
			p->pinned = colon != NULL;
			p->source = BALE_PKG_REGISTRY;
		}
		if (version_opt && version_opt->value && !p->version) {
			p->op = version_opt->name;
			p->version = version_opt->value;
			p->version_len = strlen(version_opt->value);
			p->pinned = true;
		}
	}
	cmd->pkgs = pkgs;
	cmd->npkgs = nops - from;
	return 0;
}

/* Options a command may have before its arrays are counted first. */
#define OPTS_IN_PLACE 64

/*
 * Whether words[from..to) hold no word parse_options() could read as an option: none starts
 * with '-' or '+', and the tool reads no dashless tar cluster. Most commands are like that
 * (cd /app, echo text, apt-get install pkg): their words need no option table.
 */
static bool no_option_words(const struct tool *t, const bale_cmd_word *w, size_t from, size_t to)
{
	if (from < to && t && (t->flags & F_OLDTAR))
		return false;
	for (size_t i = from; i < to; i++)
		if (w[i].value[0] == '-' || w[i].value[0] == '+')
			return false;
	return true;
}

/*
 * What parse_options() reads from words with no option among them: the first is the
 * subcommand of a tool that has one, every other an operand.
 */
static void read_operands(bale_arena *arena, const struct tool *t, const bale_cmd_word *w,
			  size_t from, size_t to, struct sink *k)
{
	k->sub = BALE_CMD_NONE;
	if (from < to && t && (t->flags & F_SUBCMD))
		k->sub = from++;
	k->nops = to - from;
	if (!k->nops)
		return;
	k->ops = bale_arena_alloc(arena, k->nops * sizeof(*k->ops));
	if (!k->ops) {
		k->err = BALE_ENOMEM;
		return;
	}
	for (size_t i = 0; i < k->nops; i++)
		k->ops[i] = &w[from + i];
}

/*
 * The script a command of a SCRIPT_KINDS tool runs, into nested: sh -c's operand (or its
 * standard input), su -c's value, eval's operands joined. Fails only with BALE_ENOMEM.
 */
static int own_script(bale_arena *arena, const bale_cmd *cmd, const struct tool *t,
		      struct cmd_nested *nested)
{
	const bale_cmd_word *w = cmd->words;

	if (t->kind == K_SHELL) {
		bool dash_c = false, dash_s = false;

		for (size_t o = 0; o < cmd->nopts; o++) {
			if (strcmp(cmd->opts[o].name, "-c") == 0)
				dash_c = true;
			else if (strcmp(cmd->opts[o].name, "-s") == 0)
				dash_s = true;
		}
		if (dash_c && cmd->noperands > 0) {
			const bale_cmd_word *sw = cmd->operands[0];

			if (!(sw->flags & BALE_WORD_SUBST)) {
				nested->text = sw->value;
				nested->len = sw->len;
				nested->line = sw->line;
				nested->col = sw->col;
			}
		} else if (!dash_c && (cmd->noperands == 0 || dash_s)) {
			nested->stdin_script = true;
		}
	} else if (t->kind == K_SU) {
		const bale_cmd_opt *c = find_opt(cmd, "-c");

		if (!c)
			c = find_opt(cmd, "--command");
		if (c && c->value && !(w[c->word].flags & BALE_WORD_SUBST)) {
			nested->text = c->value;
			nested->len = strlen(c->value);
			nested->line = w[c->word].line;
			nested->col = w[c->word].col;
		}
	} else if (t->kind == K_EVAL && cmd->noperands > 0) {
		size_t len = 0, at = 0;
		char *text;
		bool subst = false;

		for (size_t o = 0; o < cmd->noperands; o++) {
			len += cmd->operands[o]->len + 1;
			subst |= (cmd->operands[o]->flags & BALE_WORD_SUBST) != 0;
		}
		if (!subst) {
			text = bale_arena_alloc(arena, len);
			if (!text)
				return BALE_ENOMEM;
			for (size_t o = 0; o < cmd->noperands; o++) {
				memcpy(text + at, cmd->operands[o]->value, cmd->operands[o]->len);
				at += cmd->operands[o]->len;
				text[at++] = o + 1 < cmd->noperands ? ' ' : '\0';
			}
			nested->text = text;
			nested->len = len - 1;
			nested->line = cmd->operands[0]->line;
			nested->col = cmd->operands[0]->col;
		}
	}
	return 0;
}

int cmd_analyze(bale_arena *arena, bale_cmd *cmd, struct cmd_nested *nested)
{
	const bale_cmd_word *w = cmd->words;
	size_t n = cmd->nwords, i = 0, wrappers[8], nwrappers = 0;
	const struct tool *t = NULL;
	const char *name;
	struct sink k = {0};

	memset(nested, 0, sizeof(*nested));
	/*
	 * Every field of the reading is set (the parser does not zero the command): these here,
	 * the others below once known. After a failure the parse gives no command back.
	 */
	cmd->wrappers = NULL;
	cmd->nwrappers = 0;
	cmd->subcommand = NULL;
	cmd->subcommand_word = BALE_CMD_NONE;
	cmd->pkgs = NULL;
	cmd->npkgs = 0;
	if (n == 0) {
		cmd->name = "";
		cmd->arg0 = 0;
		cmd->opts = NULL;
		cmd->nopts = 0;
		cmd->operands = NULL;
		cmd->noperands = 0;
		cmd->known_tool = false;
		return 0;
	}
	name = tool_name(w[0].value, w[0].len, &t);
	while (t && ((1u << t->kind) & UNWRAP_KINDS) && nwrappers < BALE_ARRAY_SIZE(wrappers)) {
		const char *override;
		size_t next = unwrap(t, w, i, n, &override);

		if (next == BALE_CMD_NONE)
			break;
		wrappers[nwrappers++] = i;
		i = next;
		name = tool_name(w[i].value, w[i].len, &t);
		if (override) {
			name = override;
			t = &t_pip;
		}
	}
	cmd->arg0 = i;
	cmd->name = name;
	cmd->known_tool = t != NULL;
	if (nwrappers) {
		size_t *copy = bale_arena_alloc(arena, nwrappers * sizeof(*copy));

		if (!copy)
			return BALE_ENOMEM;
		memcpy(copy, wrappers, nwrappers * sizeof(*copy));
		cmd->wrappers = copy;
		cmd->nwrappers = nwrappers;
	}

	k.arena = arena;
	k.cap_ops = n - i - 1;
	if (no_option_words(t, w, i + 1, n)) {
		read_operands(arena, t, w, i + 1, n, &k);
		if (k.err)
			return k.err;
	} else { /* some words, so cap_ops > 0 */
		/*
		 * Fill the arrays in the arena at once, in one block: operands, at most one per
		 * word, then options (the block's end, trimmed after), up to OPTS_IN_PLACE of
		 * them. A command with more has them counted all the same: it is read again into
		 * an array of that size.
		 */
		size_t ops_size = k.cap_ops * sizeof(*k.ops);

		_Static_assert(sizeof(*k.ops) % _Alignof(bale_cmd_opt) == 0,
			       "options placed after the operands are aligned");
		k.cap_opts = OPTS_IN_PLACE;
		if (!(k.ops = bale_arena_alloc(arena, ops_size + k.cap_opts * sizeof(*k.opts))))
			return BALE_ENOMEM;
		k.opts = (bale_cmd_opt *)((char *)k.ops + ops_size);
		read_options(t, w, i + 1, n, &k);
		if (k.err)
			return k.err;
		if (k.nopts <= k.cap_opts) {
			cmd_shrink(arena, k.ops, ops_size + k.cap_opts * sizeof(*k.opts),
				   ops_size + k.nopts * sizeof(*k.opts));
		} else {
			if (!(k.opts = bale_arena_alloc(arena, k.nopts * sizeof(*k.opts))))
				return BALE_ENOMEM;
			k.cap_opts = k.nopts;
			k.nopts = k.nops = 0;
			read_options(t, w, i + 1, n, &k);
			if (k.err)
				return k.err;
		}
		if (!k.nopts)
			k.opts = NULL;
		if (!k.nops)
			k.ops = NULL;
	}
	cmd->opts = k.opts;
	cmd->nopts = k.nopts;
	cmd->operands = (const bale_cmd_word *const *)k.ops;
	cmd->noperands = k.nops;
	if (k.sub != BALE_CMD_NONE) {
		cmd->subcommand_word = k.sub;
		cmd->subcommand = canonical_subcmd(t, w[k.sub].value, w[k.sub].len);
	} else if (t && t->default_subcmd) {
		cmd->subcommand = t->default_subcmd;
	}
	if (fill_packages(arena, cmd, t) != 0)
		return BALE_ENOMEM;

	/* A script of its own (most tools run none: one test). */
	if (t && ((1u << t->kind) & SCRIPT_KINDS) && own_script(arena, cmd, t, nested) != 0)
		return BALE_ENOMEM;
	if (nested->text)
		place_script(nested, w, n);
	return 0;
}

/* --- queries ------------------------------------------------------------------------------ */

/* Rules ask this of every command for every tool: the first byte settles most. */
static inline bool cmd_is(const bale_cmd *cmd, const char *name)
{
	return cmd && name && cmd->name[0] == name[0] && strcmp(cmd->name, name) == 0;
}

bool bale_cmd_is(const bale_cmd *cmd, const char *name)
{
	return cmd_is(cmd, name);
}

bool bale_cmd_is_any(const bale_cmd *cmd, ...)
{
	va_list ap;
	const char *name;
	bool found = false;

	va_start(ap, cmd);
	while (!found && (name = va_arg(ap, const char *)) != NULL)
		found = cmd_is(cmd, name);
	va_end(ap);
	return found;
}

const char *bale_cmd_subcommand(const bale_cmd *cmd)
{
	return cmd ? cmd->subcommand : NULL;
}

bool bale_cmd_has_flag(const bale_cmd *cmd, ...)
{
	va_list ap;
	const char *name;
	bool found = false;

	if (!cmd)
		return false;
	va_start(ap, cmd);
	while (!found && (name = va_arg(ap, const char *)) != NULL)
		found = find_opt(cmd, name) != NULL;
	va_end(ap);
	return found;
}

const char *bale_cmd_flag_value(const bale_cmd *cmd, ...)
{
	va_list ap;
	const char *name;
	const bale_cmd_opt *last = NULL;

	if (!cmd || cmd->nopts == 0) /* most commands: no names to walk */
		return NULL;
	va_start(ap, cmd);
	while ((name = va_arg(ap, const char *)) != NULL) {
		for (size_t i = 0; i < cmd->nopts; i++)
			if (opt_is(cmd->opts[i].name, name) && cmd->opts[i].value &&
			    (!last || &cmd->opts[i] > last))
				last = &cmd->opts[i];
	}
	va_end(ap);
	return last ? last->value : NULL;
}

const bale_cmd_word *const *bale_cmd_operands(const bale_cmd *cmd, size_t *count)
{
	if (count)
		*count = cmd ? cmd->noperands : 0;
	return cmd ? cmd->operands : NULL;
}

bool bale_cmd_has_operand(const bale_cmd *cmd, const char *value)
{
	if (!cmd || !value)
		return false;
	for (size_t i = 0; i < cmd->noperands; i++)
		if (strcmp(cmd->operands[i]->value, value) == 0)
			return true;
	return false;
}

const bale_pkg *bale_cmd_packages(const bale_cmd *cmd, size_t *count)
{
	if (count)
		*count = cmd ? cmd->npkgs : 0;
	return cmd ? cmd->pkgs : NULL;
}

bool bale_cmd_has_wrapper(const bale_cmd *cmd, const char *name)
{
	if (!cmd || !name)
		return false;
	for (size_t i = 0; i < cmd->nwrappers; i++) {
		const struct tool *t;

		const bale_cmd_word *wr = &cmd->words[cmd->wrappers[i]];

		if (strcmp(tool_name(wr->value, wr->len, &t), name) == 0)
			return true;
	}
	return false;
}

const char *bale_cmd_assignment(const bale_cmd *cmd, const char *name)
{
	size_t n;
	const char *found = NULL;

	if (!cmd || !name)
		return NULL;
	n = strlen(name);
	for (size_t i = 0; i < cmd->nassigns; i++) {
		const char *v = cmd->assigns[i].value;

		if (strncmp(v, name, n) == 0 && v[n] == '=')
			found = v + n + 1;
	}
	for (size_t i = 0; i < cmd->nwrappers; i++) {
		size_t at = cmd->wrappers[i],
		       end = i + 1 < cmd->nwrappers ? cmd->wrappers[i + 1] : cmd->arg0;
		const struct tool *t;

		tool_name(cmd->words[at].value, cmd->words[at].len, &t);
		if (t != &t_env)
			continue;
		for (size_t k = at + 1; k < end; k++) {
			const char *v = cmd->words[k].value;

			if (strncmp(v, name, n) == 0 && v[n] == '=')
				found = v + n + 1;
		}
	}
	return found;
}
