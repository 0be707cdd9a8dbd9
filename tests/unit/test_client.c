// SPDX-License-Identifier: MIT
/*
 * The client side of the control protocol against a stand-in bulwarkd: a
 * thread that accepts connections on a socket in a scratch directory and
 * answers each request line with a canned reply. Every client call that
 * needs no kernel is exercised on the host: what it sends, what it returns
 * on success and on refusal, that ret_ out-parameters stay untouched on
 * failure, bw_client_error, and an event stream stopped by its callback;
 * then each call again with every allocation of the library failing in
 * turn (oom.h): -ENOMEM each time, and no leak under ASan.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include <bulwark/bulwark.h>

#include "oom.h"
#include "../../src/lib/internal.h"

static char dir[64], sock[128], policy[128];
static int listen_fd = -1;
static pthread_t server;
/* The last request line the server read, for tests to inspect (guarded by lock). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char last_request[4096];

static const char *reply_for(struct json_object *req)
{
	struct json_object *cmd, *path;
	const char *c;

	if (!json_object_object_get_ex(req, "cmd", &cmd))
		return "{\"ok\":false,\"errno\":22,\"error\":\"no cmd\"}";
	c = json_object_get_string(cmd);
	if (strcmp(c, "status") == 0)
		return "{\"ok\":true,\"daemon_pid\":4242,\"policy\":null}";
	if (strcmp(c, "policy-load") == 0) {
		json_object_object_get_ex(req, "path", &path);
		if (strstr(json_object_get_string(path), "bad"))
			return "{\"ok\":false,\"errno\":22,\"error\":\"policy rejected\","
			       "\"diagnostics\":\"bad.rules:1:6: error: unknown operation\"}";
		return "{\"ok\":true,\"diagnostics\":\"\"}";
	}
	if (strcmp(c, "explain") == 0)
		return "{\"ok\":true,\"explain\":{\"decision\":\"deny\",\"rule\":\"x:1\"}}";
	if (strcmp(c, "unload") == 0)
		return "{\"ok\":false,\"errno\":1,\"error\":\"protection is on: unload needs a signed payload\"}";
	if (strcmp(c, "lock") == 0)
		return "{\"ok\":true}";
	if (strcmp(c, "layer-open") == 0)
		return "{\"ok\":true,\"name\":\"acme\",\"altitude\":300,\"rules\":[],\"generation\":2}";
	if (strcmp(c, "txn-begin") == 0 || strcmp(c, "txn-abort") == 0 || strcmp(c, "txn-remove") == 0)
		return "{\"ok\":true}";
	if (strcmp(c, "txn-add") == 0)
		return "{\"ok\":true,\"id\":7}";
	if (strcmp(c, "txn-commit") == 0)
		return "{\"ok\":false,\"errno\":22,\"error\":\"transaction refused: nothing was applied\","
		       "\"diagnostics\":\"acme:1:6: error: unknown operation 'exce'\"}";
	if (strcmp(c, "events") == 0)
		return "{\"event\":{\"n\":1}}\n{\"event\":{\"n\":2}}\n{\"event\":{\"n\":3}}\n"
		       "{\"end\":true,\"ok\":true}";
	return "{\"ok\":false,\"errno\":95,\"error\":\"unknown cmd\"}";
}

/* One connection: a reply per request line until the client goes. */
static void serve(int fd)
{
	char buf[8192];
	size_t len = 0;

	for (;;) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		char *nl;

		if (n <= 0)
			return;
		len += n;
		buf[len] = 0;
		while ((nl = memchr(buf, '\n', len))) {
			struct json_object *req;
			const char *reply;

			*nl = 0;
			pthread_mutex_lock(&lock);
			snprintf(last_request, sizeof(last_request), "%.4000s", buf);
			pthread_mutex_unlock(&lock);
			req = json_tokener_parse(buf);
			reply = req ? reply_for(req) : "{\"ok\":false,\"errno\":74,\"error\":\"bad json\"}";
			if (send(fd, reply, strlen(reply), MSG_NOSIGNAL) < 0 ||
			    send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
				json_object_put(req);
				return;
			}
			json_object_put(req);
			len -= nl + 1 - buf;
			memmove(buf, nl + 1, len);
		}
	}
}

static void *conn_main(void *arg)
{
	int fd = (int)(intptr_t)arg;

	serve(fd);
	close(fd);
	return NULL;
}

/* A thread per connection, as bulwarkd serves clients independently. */
static pthread_t conns[64];
static size_t n_conns;

static void *server_main(void *arg)
{
	(void)arg;
	while (n_conns < sizeof(conns) / sizeof(conns[0])) {
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0)
			break; /* shutdown() in teardown */
		if (pthread_create(&conns[n_conns], NULL, conn_main, (void *)(intptr_t)fd) != 0) {
			close(fd);
			break;
		}
		n_conns++;
	}
	return NULL;
}

static int setup(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/bw-test-client.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock, sizeof(sock), "%s/bulwarkd.sock", dir);
	snprintf(policy, sizeof(policy), "%s/good.rules", dir);
	f = fopen(policy, "w");
	if (!f)
		return -1;
	fclose(f);
	if (strlen(sock) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(listen_fd, 8) < 0)
		return -1;
	return pthread_create(&server, NULL, server_main, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char path[160];

	(void)state;
	shutdown(listen_fd, SHUT_RDWR);
	pthread_join(server, NULL);
	for (size_t i = 0; i < n_conns; i++)
		pthread_join(conns[i], NULL); /* every client is freed by now */
	close(listen_fd);
	unlink(sock);
	unlink(policy);
	snprintf(path, sizeof(path), "%s/bad.rules", dir);
	unlink(path);
	return rmdir(dir);
}

static struct bw_client *connect_client(void)
{
	struct bw_client_opts o = { .sz = sizeof(o), .socket_path = sock, .timeout_ms = 5000 };
	struct bw_client *c = NULL;

	assert_int_equal(bw_client_new(&c, &o), 0);
	assert_non_null(c);
	return c;
}

static struct json_object *request_sent(void)
{
	struct json_object *o;

	pthread_mutex_lock(&lock);
	o = json_tokener_parse(last_request);
	pthread_mutex_unlock(&lock);
	assert_non_null(o);
	return o;
}

static const char *field(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static void test_status(void **state)
{
	struct bw_client *c = connect_client();
	struct json_object *req;
	char *json = NULL;

	(void)state;
	assert_int_equal(bw_client_status(c, &json), 0);
	assert_non_null(strstr(json, "\"daemon_pid\":4242"));
	req = request_sent();
	assert_string_equal(field(req, "cmd"), "status");
	assert_string_equal(field(req, "v"), "1");
	json_object_put(req);
	free(json);
	assert_null(bw_client_error(c));
	assert_int_equal(bw_client_status(c, NULL), -EINVAL);
	assert_int_equal(bw_client_status(NULL, &json), -EINVAL);
	bw_client_free(c);
}

static void test_policy_load(void **state)
{
	struct bw_client *c = connect_client();
	struct json_object *req;
	char *diag = NULL, bad[160], cwd[4096];
	FILE *f;

	(void)state;
	/* A relative path is sent absolute: bulwarkd has another working directory. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(bw_client_policy_load(c, "good.rules", &diag), 0);
	assert_int_equal(chdir(cwd), 0);
	req = request_sent();
	assert_string_equal(field(req, "cmd"), "policy-load");
	assert_string_equal(field(req, "path"), policy);
	assert_null(field(req, "signature"));
	json_object_put(req);
	assert_string_equal(diag, "");
	free(diag);

	snprintf(bad, sizeof(bad), "%s/bad.rules", dir);
	f = fopen(bad, "w");
	assert_non_null(f);
	fclose(f);
	diag = NULL;
	assert_int_equal(bw_client_policy_load_signed(c, bad, "SIGNED", &diag), -EINVAL);
	assert_string_equal(diag, "bad.rules:1:6: error: unknown operation");
	assert_string_equal(bw_client_error(c), "policy rejected");
	req = request_sent();
	assert_string_equal(field(req, "signature"), "SIGNED");
	json_object_put(req);
	free(diag);

	/* A path that does not exist never reaches the daemon; diag stays as it was. */
	diag = (char *)bad;
	assert_int_equal(bw_client_policy_load(c, "/nonexistent/x.rules", &diag), -ENOENT);
	assert_ptr_equal(diag, (char *)bad);
	bw_client_free(c);
}

static void test_explain(void **state)
{
	struct bw_client *c = connect_client();
	char *json = NULL, *diag = NULL;
	struct json_object *req;

	(void)state;
	assert_int_equal(bw_client_explain(c, "exec /bin/sh", &json, &diag), 0);
	assert_string_equal(json, "{\"decision\":\"deny\",\"rule\":\"x:1\"}");
	assert_null(diag);
	req = request_sent();
	assert_string_equal(field(req, "query"), "exec /bin/sh");
	json_object_put(req);
	free(json);
	assert_int_equal(bw_client_explain(c, NULL, &json, &diag), -EINVAL);
	bw_client_free(c);
}

/* Client layers: what each call sends, opts read only within sz, results and diagnostics. */
static void test_layers(void **state)
{
	struct bw_client *c = connect_client();
	struct bw_layer_opts lo = { .sz = sizeof(lo), .name = "acme", .altitude = 300 };
	struct bw_rule_opts ro = { .sz = sizeof(ro), .persistent = true };
	struct json_object *req;
	char *json = NULL, *diag = NULL;
	uint32_t id = 0;

	(void)state;
	assert_int_equal(bw_client_layer_open(c, &lo, &json), 0);
	assert_string_equal(json, "{\"name\":\"acme\",\"altitude\":300,\"rules\":[],\"generation\":2}");
	free(json);
	req = request_sent();
	assert_string_equal(field(req, "cmd"), "layer-open");
	assert_string_equal(field(req, "name"), "acme");
	assert_string_equal(field(req, "altitude"), "300");
	json_object_put(req);
	/* Bad opts never reach the daemon. */
	assert_int_equal(bw_client_layer_open(c, NULL, NULL), -EINVAL);
	lo.altitude = 0;
	assert_int_equal(bw_client_layer_open(c, &lo, NULL), -EINVAL);
	lo.sz = offsetof(struct bw_layer_opts, altitude); /* an older caller without altitude: none */
	lo.altitude = 300;
	assert_int_equal(bw_client_layer_open(c, &lo, NULL), -EINVAL);
	assert_int_equal(bw_client_txn_begin(c), 0);
	assert_int_equal(bw_client_txn_add(c, "deny exec /x", &ro, &id), 0);
	assert_int_equal(id, 7);
	req = request_sent();
	assert_string_equal(field(req, "rules"), "deny exec /x");
	assert_string_equal(field(req, "persistent"), "true");
	json_object_put(req);
	ro.sz = offsetof(struct bw_rule_opts, persistent); /* persistent not covered: not read */
	assert_int_equal(bw_client_txn_add(c, "deny exec /y", &ro, NULL), 0);
	req = request_sent();
	assert_string_equal(field(req, "persistent"), "false");
	json_object_put(req);
	assert_int_equal(bw_client_txn_add(c, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(bw_client_txn_remove(c, 7), 0);
	req = request_sent();
	assert_string_equal(field(req, "id"), "7");
	json_object_put(req);
	assert_int_equal(bw_client_txn_remove(c, 0), -EINVAL);
	assert_int_equal(bw_client_txn_commit(c, &diag), -EINVAL);
	assert_string_equal(diag, "acme:1:6: error: unknown operation 'exce'");
	assert_string_equal(bw_client_error(c), "transaction refused: nothing was applied");
	free(diag);
	assert_int_equal(bw_client_txn_abort(c), 0);
	assert_int_equal(bw_client_txn_begin(NULL), -EINVAL);
	assert_int_equal(bw_client_txn_commit(NULL, NULL), -EINVAL);
	bw_client_free(c);
}

static void test_refused(void **state)
{
	struct bw_client *c = connect_client();
	struct json_object *req;

	(void)state;
	assert_int_equal(bw_client_unload(c), -EPERM);
	assert_string_equal(bw_client_error(c), "protection is on: unload needs a signed payload");
	assert_int_equal(bw_client_unload_signed(c, "PAYLOAD"), -EPERM);
	req = request_sent();
	assert_string_equal(field(req, "signature"), "PAYLOAD");
	json_object_put(req);
	/* A request that succeeds clears nothing it need not: the error is the last refusal's. */
	assert_int_equal(bw_client_lock(c, "ab12"), 0);
	req = request_sent();
	assert_string_equal(field(req, "cmd"), "lock");
	assert_string_equal(field(req, "pubkey"), "ab12");
	json_object_put(req);
	assert_int_equal(bw_client_lock(c, NULL), -EINVAL);
	assert_int_equal(bw_client_unload(NULL), -EINVAL);
	bw_client_free(c);
}

struct seen {
	unsigned n;
	char text[256];
	unsigned stop_at;
};

static int on_event(void *ud, const char *json)
{
	struct seen *s = ud;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%s;", json);
	return ++s->n == s->stop_at ? 42 : 0;
}

static void test_events(void **state)
{
	struct bw_client *c = connect_client();
	struct seen s = { 0 };
	struct json_object *req;

	(void)state;
	assert_int_equal(bw_client_events(c, BW_EVENTS_BACKLOG, on_event, &s), 0);
	assert_string_equal(s.text, "{\"n\":1};{\"n\":2};{\"n\":3};");
	req = request_sent();
	assert_string_equal(field(req, "backlog"), "true");
	assert_string_equal(field(req, "follow"), "false");
	json_object_put(req);
	bw_client_free(c);

	/* The callback's non-zero result ends the stream and is returned. */
	c = connect_client();
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	assert_int_equal(bw_client_events(c, BW_EVENTS_BACKLOG | BW_EVENTS_FOLLOW, on_event, &s), 42);
	assert_int_equal(s.n, 2);
	assert_int_equal(bw_client_events(c, 1u << 7, on_event, &s), -EINVAL);
	assert_int_equal(bw_client_events(c, 0, NULL, &s), -EINVAL);
	bw_client_free(c);
}

/* Several clients on several threads at once: distinct handles are independent. */
static void *status_loop(void *arg)
{
	struct bw_client_opts o = { .sz = sizeof(o), .socket_path = sock, .timeout_ms = 5000 };
	struct bw_client *c = NULL;
	long bad = 0;

	(void)arg;
	if (bw_client_new(&c, &o) < 0)
		return (void *)1;
	for (int i = 0; i < 50; i++) {
		char *json = NULL;

		if (bw_client_status(c, &json) < 0 || !strstr(json, "4242"))
			bad++;
		free(json);
	}
	bw_client_free(c);
	return (void *)bad;
}

static void test_threads(void **state)
{
	pthread_t t[4];
	void *r[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, status_loop, NULL), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &r[i]), 0);
		assert_null(r[i]);
	}
}

static int run_requests(void *arg)
{
	struct bw_client_opts o = { .sz = sizeof(o), .socket_path = sock, .timeout_ms = 5000 };
	struct bw_client *c = NULL;
	struct seen s = { 0 };
	char *json = NULL, *diag = NULL;
	int r;

	(void)arg;
	r = bw_client_new(&c, &o);
	if (r == 0)
		r = bw_client_status(c, &json);
	if (r == 0 && !strstr(json, "4242"))
		r = -EPROTO;
	free(json);
	json = NULL;
	if (r == 0)
		r = bw_client_policy_load(c, policy, &diag);
	free(diag);
	diag = NULL;
	if (r == 0)
		r = bw_client_explain(c, "exec /bin/sh", &json, &diag);
	free(json);
	free(diag);
	if (r == 0)
		r = bw_client_events(c, BW_EVENTS_BACKLOG, on_event, &s);
	if (r == 0 && s.n != 3)
		r = -EPROTO;
	if (r == 0)
		r = bw_client_lock(c, "ab12");
	if (r == 0) {
		struct bw_layer_opts lo = { .sz = sizeof(lo), .name = "acme", .altitude = 300 };
		uint32_t id;

		json = NULL;
		r = bw_client_layer_open(c, &lo, &json);
		free(json);
		if (r == 0)
			r = bw_client_txn_add(c, "deny exec /x", NULL, &id);
		diag = NULL;
		if (r == 0) {
			r = bw_client_txn_commit(c, &diag);
			/* refused, as canned; a message lost to a failed allocation counts as -ENOMEM */
			if (r == -EINVAL)
				r = diag && bw_client_error(c) ? 0 : -ENOMEM;
			else if (r == 0)
				r = -EPROTO;
		}
		free(diag);
	}
	bw_client_free(c);
	return r;
}

static void test_requests_out_of_memory(void **state)
{
	unsigned long runs = 0;

	(void)state;
	every_allocation(run_requests, NULL, &runs);
	assert_true(runs >= 5); /* client, read buffer, status, diagnostics, explain */
}

/* The classes bulwarkd filters subscriptions by, and bw_notification_classes reports. */
static void test_event_classes(void **state)
{
	static const struct {
		const char *json;
		uint32_t want;
	} cases[] = {
		{ "{\"type\":\"decision\",\"op\":\"exec\",\"action\":\"blocked\",\"decision\":\"deny\"}",
		  BW_NOTIFY_DECISION | BW_NOTIFY_DENIAL },
		{ "{\"type\":\"decision\",\"op\":\"signal\",\"action\":\"would-deny\",\"decision\":\"deny\"}",
		  BW_NOTIFY_DECISION | BW_NOTIFY_DENIAL },
		{ "{\"type\":\"decision\",\"op\":\"exec\",\"action\":\"allowed\",\"decision\":\"audit\"}",
		  BW_NOTIFY_DECISION | BW_NOTIFY_AUDIT },
		{ "{\"type\":\"decision\",\"op\":\"load\",\"action\":\"allowed\",\"decision\":\"allow\"}",
		  BW_NOTIFY_DECISION | BW_NOTIFY_IMAGE },
		{ "{\"type\":\"decision\",\"op\":\"signal\",\"action\":\"allowed\",\"decision\":\"allow\"}",
		  BW_NOTIFY_DECISION },
		{ "{\"type\":\"process\",\"event\":\"exec\"}", BW_NOTIFY_PROCESS },
		{ "{\"type\":\"process\",\"event\":\"thread-start\"}", BW_NOTIFY_PROCESS | BW_NOTIFY_THREAD },
		{ "{\"type\":\"policy\",\"event\":\"loaded\"}", BW_NOTIFY_POLICY },
		{ "{\"type\":\"integrity\"}", BW_NOTIFY_INTEGRITY },
		{ "{\"type\":\"trust\"}", BW_NOTIFY_TRUST },
		{ "{\"type\":\"from-the-future\"}", BW_NOTIFY_OTHER },
		{ "{\"type\":7}", BW_NOTIFY_OTHER },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *o = json_tokener_parse(cases[i].json);

		assert_non_null(o);
		assert_int_equal(bw_event_classes(o), cases[i].want);
		json_object_put(o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),  cmocka_unit_test(test_policy_load),
		cmocka_unit_test(test_explain), cmocka_unit_test(test_refused),
		cmocka_unit_test(test_events),  cmocka_unit_test(test_threads),
		cmocka_unit_test(test_requests_out_of_memory),
		cmocka_unit_test(test_layers), cmocka_unit_test(test_event_classes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
