// SPDX-License-Identifier: MIT
/*
 * A vendor's program: built by tests/lib/check.sh against the *installed*
 * header and library only, with `pkg-config --cflags --libs bulwark`, in
 * strict C99 and again as C++. It takes the address of every public
 * function (so linking fails if one is not exported) and calls those that
 * need no daemon. Usage: consumer WORKDIR (an empty, writable directory).
 * `consumer WORKDIR live PROGRAM` then calls every function that needs
 * bulwarkd, against a running one (tests/vm/t_consumer.sh, in the VM):
 * layers and transactions deciding a real exec of PROGRAM, a subscription
 * seeing the refusal, and lock, signed load and signed unload, which
 * stop the daemon at the end.
 * Prints "ok - ..." per check; exits non-zero on the first failure.
 */
#include <bulwark/bulwark.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(cond, what)                                                   \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "FAIL - %s (%s:%d)\n", what, __FILE__, __LINE__); \
			exit(1);                                            \
		}                                                           \
		printf("ok - %s\n", what);                                  \
	} while (0)

typedef void (*any_fn)(void);

/* Run PROGRAM in a child: 0 if it ran and exited 0, else the exec's errno. */
static int run(const char *program, long *ret_pid)
{
	int p[2], err = 0, status;
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		execl(program, program, (char *)NULL);
		err = errno;
		if (write(p[1], &err, sizeof(err)) < 0)
			_exit(126);
		_exit(127);
	}
	close(p[1]);
	if (read(p[0], &err, sizeof(err)) != (ssize_t)sizeof(err))
		err = 0;
	close(p[0]);
	waitpid(pid, &status, 0);
	*ret_pid = (long)pid;
	return err ? err : (WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1);
}

/* What the subscription saw of the refusal. */
struct seen {
	long pid;
	int found, accessors;
};

static int on_note(void *userdata, const struct bw_notification *n)
{
	struct seen *s = (struct seen *)userdata;
	const char *op = bw_notification_op(n), *action = bw_notification_action(n);

	if (bw_notification_kind(n) != BW_NOTIFY_DECISION || bw_notification_pid(n) != s->pid)
		return 0;
	s->found = 1;
	s->accessors = op && strcmp(op, "exec") == 0 && action && strcmp(action, "blocked") == 0 &&
		       bw_notification_json(n) && bw_notification_exe(n) && bw_notification_target_path(n) &&
		       bw_notification_ppid(n) > 0 && bw_notification_layer(n) &&
		       strcmp(bw_notification_layer(n), "consumer") == 0 &&
		       bw_notification_target_sha256(n) == NULL && /* not trusted: no hash */
		       bw_notification_classes(n) == (BW_NOTIFY_DECISION | BW_NOTIFY_DENIAL);
	return 0;
}

static int count_event(void *userdata, const char *json)
{
	(*(int *)userdata)++;
	return json ? 0 : 1;
}

static int live(const char *dir, const char *program)
{
	struct bw_layer_opts lo;
	struct bw_rule_opts ro;
	struct bw_subscribe_opts so;
	struct bw_subscription *sub = NULL;
	struct bw_client *c = NULL;
	struct seen seen;
	char pol[4096], bad[4096], pub[4096], sec[4096], rule[4200];
	char *json = NULL, *diag = NULL, *hex = NULL, *payload = NULL;
	uint32_t id = 0;
	int events = 0, r, i;
	long pid;
	FILE *f;

	memset(&lo, 0, sizeof(lo));
	memset(&ro, 0, sizeof(ro));
	memset(&so, 0, sizeof(so));
	memset(&seen, 0, sizeof(seen));
	CHECK(bw_client_new(&c, NULL) == 0, "live: bw_client_new");
	CHECK(bw_client_status(c, &json) == 0 && strstr(json, "\"counters\""), "live: bw_client_status");
	free(json);

	snprintf(pol, sizeof(pol), "%s/live.rules", dir);
	snprintf(bad, sizeof(bad), "%s/bad.rules", dir);
	f = fopen(pol, "w");
	CHECK(f != NULL, "live: write a policy");
	fprintf(f, "audit exec %s from uid=65534\n", program);
	fclose(f);
	f = fopen(bad, "w");
	CHECK(f != NULL, "live: write a bad policy");
	fputs("deny exec /bin/sh from who=1\n", f);
	fclose(f);
	CHECK(bw_client_policy_load(c, pol, &diag) == 0, "live: bw_client_policy_load");
	free(diag);
	diag = NULL;
	CHECK(bw_client_policy_load(c, bad, &diag) == -EINVAL && diag && strstr(diag, "bad.rules:1:"),
	      "live: a bad policy is refused with file:line:col");
	free(diag);
	diag = NULL;
	snprintf(rule, sizeof(rule), "exec %s as uid=65534", program);
	CHECK(bw_client_explain(c, rule, &json, NULL) == 0 && strstr(json, "audit"),
	      "live: bw_client_explain");
	free(json);
	CHECK(bw_client_events(c, BW_EVENTS_BACKLOG, count_event, &events) == 0 && events > 0,
	      "live: bw_client_events (backlog)");
	CHECK(bw_client_trust_sync(c, &json) == 0 && strstr(json, "\"entries\""), "live: bw_client_trust_sync");
	free(json);

	/* A layer, a transaction, and the kernel's decision on a real exec. */
	lo.sz = sizeof(lo);
	lo.name = "consumer";
	lo.altitude = 77;
	CHECK(bw_client_layer_open(c, &lo, &json) == 0, "live: bw_client_layer_open");
	free(json);
	CHECK(run(program, &pid) == 0, "live: the program runs before any layer rule");
	so.sz = sizeof(so);
	so.kinds = BW_NOTIFY_DENIAL; /* refusals only, filtered by bulwarkd */
	CHECK(bw_subscribe(&sub, NULL, &so, on_note, &seen) == 0, "live: bw_subscribe");
	CHECK(bw_client_txn_begin(c) == 0, "live: bw_client_txn_begin");
	snprintf(rule, sizeof(rule), "deny exec %s", program);
	ro.sz = sizeof(ro);
	CHECK(bw_client_txn_add(c, rule, &ro, &id) == 0, "live: bw_client_txn_add");
	CHECK(bw_client_txn_commit(c, &diag) == 0, "live: bw_client_txn_commit");
	free(diag);
	diag = NULL;
	seen.pid = 0;
	CHECK(run(program, &pid) == EPERM, "live: the layer's deny refuses the exec with EPERM");
	seen.pid = pid;
	for (i = 0; i < 100 && !seen.found; i++) {
		struct pollfd p;

		p.fd = bw_subscription_fd(sub);
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, 1, 200) > 0) {
			r = bw_subscription_dispatch(sub);
			CHECK(r >= 0, "live: bw_subscription_dispatch");
		}
	}
	CHECK(seen.found, "live: the subscription saw the refusal");
	CHECK(seen.accessors, "live: its accessors (op, action, json, exe, target, ppid, layer, sha256, classes)");
	CHECK(bw_subscription_dropped(sub) == 0, "live: bw_subscription_dropped");
	bw_subscription_free(sub);

	CHECK(bw_client_txn_begin(c) == 0 && bw_client_txn_add(c, "deny exec /nonexistent/x\ndney x", NULL, NULL) == 0 &&
		      bw_client_txn_commit(c, &diag) == -EINVAL && diag && strstr(diag, "consumer:2:"),
	      "live: an invalid transaction fails with the client's file:line:col");
	free(diag);
	diag = NULL;
	CHECK(run(program, &pid) == EPERM, "live: ... and the earlier rule stays in force");
	CHECK(bw_client_txn_begin(c) == 0 && bw_client_txn_add(c, "deny exec /bin/true", NULL, NULL) == 0 &&
		      bw_client_txn_abort(c) == 0,
	      "live: bw_client_txn_abort");
	CHECK(bw_client_txn_begin(c) == 0 && bw_client_txn_remove(c, id) == 0 && bw_client_txn_commit(c, NULL) == 0,
	      "live: bw_client_txn_remove");
	CHECK(run(program, &pid) == 0, "live: the rule removed, the program runs");

	/* Locked mode: only signed changes, then a signed unload stops bulwarkd. */
	snprintf(pub, sizeof(pub), "%s/live.pub", dir);
	snprintf(sec, sizeof(sec), "%s/live.key", dir);
	CHECK(bw_key_generate(pub, sec) == 0 && bw_key_read_public(pub, &hex) == 0, "live: a key");
	CHECK(bw_client_lock(c, hex) == 0, "live: bw_client_lock");
	CHECK(bw_client_policy_load(c, pol, NULL) == -EPERM && bw_client_error(c) != NULL,
	      "live: locked, an unsigned load is refused (bw_client_error says why)");
	CHECK(bw_sign(sec, "policy", 1, pol, &payload) == 0 && bw_client_policy_load_signed(c, pol, payload, NULL) == 0,
	      "live: bw_client_policy_load_signed");
	free(payload);
	CHECK(bw_client_unload(c) == -EPERM, "live: locked, bw_client_unload is refused");
	CHECK(bw_sign(sec, "unload", 2, NULL, &payload) == 0 && bw_client_unload_signed(c, payload) == 0,
	      "live: bw_client_unload_signed");
	free(payload);
	free(hex);
	bw_client_free(c);
	CHECK(bw_unload_pins() == -ENOENT, "live: bw_unload_pins: nothing is left pinned");
	printf("consumer: live done\n");
	return 0;
}

int main(int argc, char **argv)
{
	/* Every function of bulwark.h, LIBBULWARK_0.1 to 0.5. */
	const any_fn every[] = {
		(any_fn)bw_client_new,        (any_fn)bw_client_free,
		(any_fn)bw_client_status,     (any_fn)bw_client_policy_load,
		(any_fn)bw_client_events,     (any_fn)bw_client_unload,
		(any_fn)bw_unload_pins,       (any_fn)bw_policy_check,
		(any_fn)bw_policy_explain,    (any_fn)bw_policy_check_root,
		(any_fn)bw_client_explain,    (any_fn)bw_client_error,
		(any_fn)bw_client_lock,       (any_fn)bw_client_policy_load_signed,
		(any_fn)bw_client_unload_signed, (any_fn)bw_key_generate,
		(any_fn)bw_key_read_public,   (any_fn)bw_sign,
		(any_fn)bw_version_major,     (any_fn)bw_version_minor,
		(any_fn)bw_version_string,    (any_fn)bw_policy_check_ext,
		(any_fn)bw_client_layer_open, (any_fn)bw_client_txn_begin,
		(any_fn)bw_client_txn_add,    (any_fn)bw_client_txn_remove,
		(any_fn)bw_client_txn_commit, (any_fn)bw_client_txn_abort,
		(any_fn)bw_client_trust_sync, (any_fn)bw_subscribe,
		(any_fn)bw_subscription_fd,   (any_fn)bw_subscription_dispatch,
		(any_fn)bw_subscription_dropped, (any_fn)bw_subscription_free,
		(any_fn)bw_notification_kind, (any_fn)bw_notification_json,
		(any_fn)bw_notification_op,   (any_fn)bw_notification_action,
		(any_fn)bw_notification_pid,  (any_fn)bw_notification_exe,
		(any_fn)bw_notification_target_path, (any_fn)bw_notification_ppid,
		(any_fn)bw_notification_target_sha256, (any_fn)bw_notification_layer,
		(any_fn)bw_notification_classes,
	};
	char pol[4096], pub[4096], sec[4096], ver[32], tool[4096], query[4200];
	struct bw_client_opts copts;
	struct bw_policy_check_opts popts;
	struct bw_client *c = NULL;
	char *diag = NULL, *json = NULL, *hex = NULL, *payload = NULL;
	unsigned warnings = 7;
	size_t i;
	int r;
	FILE *f;

	if (argc != 2 && !(argc == 4 && strcmp(argv[2], "live") == 0))
		return 2;
	for (i = 0; i < sizeof(every) / sizeof(every[0]); i++)
		CHECK(every[i] != NULL, "public function resolved");

	snprintf(ver, sizeof(ver), "%d.%d.%d", BULWARK_VERSION_MAJOR, BULWARK_VERSION_MINOR,
		 BULWARK_VERSION_PATCH);
	CHECK(strcmp(bw_version_string(), ver) == 0, "library version is the header's");
	CHECK(bw_version_major() == BULWARK_VERSION_MAJOR, "bw_version_major");

	memset(&copts, 0, sizeof(copts));
	copts.sz = sizeof(copts);
	copts.socket_path = "/nonexistent-bulwark-consumer/bulwarkd.sock";
	CHECK(bw_client_new(&c, &copts) == -ENOENT && c == NULL, "no daemon: -ENOENT");
	copts.sz = 1;
	CHECK(bw_client_new(&c, &copts) == -EINVAL, "opts with a bad sz: -EINVAL");
	bw_client_free(NULL);

	/* A file of the work directory: exact rules need the file's own file system (not an overlay). */
	snprintf(tool, sizeof(tool), "%s/tool", argv[1]);
	f = fopen(tool, "w");
	CHECK(f != NULL, "write a file to name");
	fclose(f);
	snprintf(pol, sizeof(pol), "%s/consumer.rules", argv[1]);
	f = fopen(pol, "w");
	CHECK(f != NULL, "write a policy");
	fprintf(f, "deny exec %s from uid=65534\n", tool);
	fclose(f);
	warnings = 7;
	r = bw_policy_check(pol, &diag, &warnings);
	if (r != 0 && diag)
		fputs(diag, stderr);
	CHECK(r == 0 && warnings != 7, "bw_policy_check");
	free(diag);
	memset(&popts, 0, sizeof(popts));
	popts.sz = sizeof(popts);
	popts.root = "/";
	diag = NULL;
	CHECK(bw_policy_check_ext(pol, &popts, &diag, NULL) == 0, "bw_policy_check_ext");
	free(diag);
	snprintf(query, sizeof(query), "exec %s as uid=65534", tool);
	CHECK(bw_policy_explain(pol, query, &json, NULL) == 0 &&
		      strstr(json, "deny") != NULL,
	      "bw_policy_explain");
	free(json);

	f = fopen(pol, "w");
	CHECK(f != NULL, "write a bad policy");
	fputs("deny exec /bin/sh from who=65534\n", f);
	fclose(f);
	diag = NULL;
	CHECK(bw_policy_check(pol, &diag, NULL) == -EINVAL && diag && strstr(diag, ":1:"),
	      "a bad policy: -EINVAL with file:line:col");
	free(diag);

	snprintf(pub, sizeof(pub), "%s/admin.pub", argv[1]);
	snprintf(sec, sizeof(sec), "%s/admin.key", argv[1]);
	CHECK(bw_key_generate(pub, sec) == 0, "bw_key_generate");
	CHECK(bw_key_read_public(pub, &hex) == 0 && strlen(hex) == 64, "bw_key_read_public");
	CHECK(bw_sign(sec, "unload", 1, NULL, &payload) == 0 && payload != NULL, "bw_sign");
	free(hex);
	free(payload);
	printf("consumer: done\n");
	return argc == 4 ? live(argv[1], argv[3]) : 0;
}
