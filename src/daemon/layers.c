// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Client layers (docs/api.md, "Client layers"; decision 81): each client
 * that connects with a name and an altitude owns a layer of rules. The
 * daemon keeps every layer's rule text; a commit compiles the
 * administrator's policy and all layers into one new rule map, swapped in
 * as any policy load is, so a transaction is one swap. Rules go away with
 * their client unless marked persistent; a transaction still open when the
 * client goes is discarded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "proto.h"

static void rule_free(struct client_rule *r)
{
	free(r->text);
	r->text = NULL;
}

static void txn_clear(struct layer *l)
{
	for (size_t i = 0; i < l->n_add; i++)
		rule_free(&l->add[i]);
	free(l->add);
	l->add = NULL;
	l->n_add = 0;
	free(l->remove);
	l->remove = NULL;
	l->n_remove = 0;
	l->txn = false;
}

static void layer_clear(struct layer *l)
{
	txn_clear(l);
	for (size_t i = 0; i < l->n; i++)
		rule_free(&l->rules[i]);
	free(l->rules);
	free(l->name);
	memset(l, 0, sizeof(*l));
}

void layers_free(struct daemon *d)
{
	for (size_t i = 0; i < BW_CLIENT_LAYERS; i++)
		layer_clear(&d->layers[i]);
}

struct layer *layer_of(struct daemon *d, const struct conn *c)
{
	for (size_t i = 0; i < BW_CLIENT_LAYERS; i++)
		if (d->layers[i].used && d->layers[i].owner == c)
			return &d->layers[i];
	return NULL;
}

static bool removed(const struct layer *l, uint32_t id, bool with_txn)
{
	for (size_t i = 0; with_txn && i < l->n_remove; i++)
		if (l->remove[i] == id)
			return true;
	return false;
}

/*
 * The layers in the order the kernel searches them: the highest altitude
 * first. Only layers that hold rules (with l's open transaction applied if
 * txn is l) get a number. Returns how many.
 */
static size_t layer_order(struct daemon *d, const struct layer *txn, struct layer *order[BW_CLIENT_LAYERS])
{
	size_t n = 0;

	for (size_t i = 0; i < BW_CLIENT_LAYERS; i++) {
		struct layer *l = &d->layers[i];
		size_t rules = 0;

		if (!l->used)
			continue;
		for (size_t k = 0; k < l->n; k++)
			rules += !removed(l, l->rules[k].id, l == txn);
		if (l == txn)
			rules += l->n_add;
		if (!rules)
			continue;
		order[n++] = l;
	}
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && order[k]->altitude > order[k - 1]->altitude; k--) {
			struct layer *t = order[k];

			order[k] = order[k - 1];
			order[k - 1] = t;
		}
	return n;
}

/* What prepare_policy appends: set while a commit or a policy load compiles. */
static struct daemon *src_daemon;
static const struct layer *src_txn;

void layers_attach(struct daemon *d)
{
	src_daemon = d;
}

int layers_append(struct bw_policy *p, struct bw_rule_table *t)
{
	struct layer *order[BW_CLIENT_LAYERS];
	size_t n;
	int r = 0;

	if (!src_daemon)
		return 0;
	n = layer_order(src_daemon, src_txn, order);
	for (size_t i = 0; i < n; i++) {
		const struct layer *l = order[i];

		for (size_t k = 0; k < l->n; k++) {
			if (removed(l, l->rules[k].id, l == src_txn))
				continue;
			r = bw_policy_load_layer(p, (unsigned)i + 1, l->name, l->rules[k].text,
						 strlen(l->rules[k].text));
			if (r == -ENOMEM)
				return r;
		}
		for (size_t k = 0; l == src_txn && k < l->n_add; k++) {
			r = bw_policy_load_layer(p, (unsigned)i + 1, l->name, l->add[k].text,
						 strlen(l->add[k].text));
			if (r == -ENOMEM)
				return r;
		}
	}
	return p->n_errors ? -EINVAL : 0;
}

int layers_name_table(struct bw_rule_table *t)
{
	struct layer *order[BW_CLIENT_LAYERS];
	size_t n;

	if (!src_daemon)
		return 0;
	n = layer_order(src_daemon, src_txn, order);
	for (size_t i = 0; i < n; i++) {
		t->layer_names[i + 1] = strdup(order[i]->name);
		t->layer_altitude[i + 1] = order[i]->altitude;
		if (!t->layer_names[i + 1])
			return -ENOMEM;
	}
	return 0;
}

/* Compile the administrator's policy with every layer (l's transaction applied) and swap it in. */
static int rebuild(struct daemon *d, const struct layer *txn, const char *reason, char **ret_diag)
{
	struct prepared pp;
	char *path;
	int r;

	*ret_diag = NULL;
	if (!d->policy_path) {
		if (asprintf(ret_diag, "no policy is loaded: client layers stand beside the administrator's policy\n") < 0)
			*ret_diag = NULL;
		return -ENOENT;
	}
	src_txn = txn;
	r = prepare_policy(d->policy_path, &d->drift, d->rules.sha256, &pp, ret_diag);
	src_txn = NULL;
	if (r == -ESTALE) {
		free(*ret_diag);
		if (asprintf(ret_diag,
			     "%s: error: the administrator's policy files were edited since they were loaded: "
			     "nothing changes until `bulwark policy load`\n", d->policy_path) < 0)
			*ret_diag = NULL;
		return r;
	}
	if (r < 0)
		return r;
	path = strdup(d->policy_path);
	if (!path) {
		prepared_free(&pp);
		return -ENOMEM;
	}
	free(*ret_diag);
	*ret_diag = NULL;
	src_txn = txn; /* the table's layer names, if commit_policy asks again */
	r = commit_policy(d, path, &pp, reason, ret_diag);
	src_txn = NULL;
	free(path);
	prepared_free(&pp);
	return r;
}

static struct json_object *rules_json(const struct layer *l)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < l->n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_int64(l->rules[i].id));
		json_object_object_add(o, "rules", json_object_new_string(l->rules[i].text));
		json_object_object_add(o, "persistent", json_object_new_boolean(l->rules[i].persistent));
		json_object_array_add(a, o);
	}
	return a;
}

static void send_obj(struct daemon *d, struct conn *c, struct json_object *o)
{
	conn_send(&d->server, c, "",
		  json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), "");
	json_object_put(o);
}

static void fail(struct daemon *d, struct conn *c, int err, const char *msg, const char *diag)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "errno", json_object_new_int(err));
	json_object_object_add(o, "error", json_object_new_string(msg));
	if (diag)
		json_object_object_add(o, "diagnostics", json_object_new_string(diag));
	send_obj(d, c, o);
}

static void ok_layer(struct daemon *d, struct conn *c, const struct layer *l)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "name", json_object_new_string(l->name));
	json_object_object_add(o, "altitude", json_object_new_int64(l->altitude));
	json_object_object_add(o, "rules", rules_json(l));
	json_object_object_add(o, "generation", json_object_new_uint64(d->rules_gen));
	send_obj(d, c, o);
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(name[i] >= 'a' && name[i] <= 'z') && !(name[i] >= 'A' && name[i] <= 'Z') &&
		    !(name[i] >= '0' && name[i] <= '9') && !strchr("-_.", name[i]))
			return false;
	return true;
}

void do_layer_open(struct daemon *d, struct conn *c, const struct bw_request *req)
{
	struct layer *free_l = NULL;

	if (layer_of(d, c)) {
		fail(d, c, EALREADY, "this connection already owns a layer", NULL);
		return;
	}
	if (!name_ok(req->name)) {
		fail(d, c, EINVAL, "a client name is 1 to 64 letters, digits, '-', '_' or '.'", NULL);
		return;
	}
	if (req->altitude < 1 || req->altitude > UINT32_MAX) {
		fail(d, c, ERANGE, "an altitude is an integer from 1 to 4294967295", NULL);
		return;
	}
	for (size_t i = 0; i < BW_CLIENT_LAYERS; i++) {
		struct layer *l = &d->layers[i];

		if (!l->used) {
			if (!free_l)
				free_l = l;
			continue;
		}
		if (l->altitude != (uint32_t)req->altitude && strcmp(l->name, req->name) != 0)
			continue;
		/*
		 * A layer its client left, holding persistent rules: the same name
		 * and altitude take it back, from the same uid and program (or
		 * root): a granted client never takes over another's rules.
		 */
		if (!l->owner && l->altitude == (uint32_t)req->altitude && strcmp(l->name, req->name) == 0 &&
		    (c->uid == 0 || (c->uid == l->owner_uid && c->exe_dev == l->owner_dev && c->exe_ino == l->owner_ino))) {
			l->owner = c;
			bw_log(LOG_INFO, "client %s (pid %d) took back its layer at altitude %u", l->name,
			       (int)c->pid, l->altitude);
			ok_layer(d, c, l);
			return;
		}
		fail(d, c, EEXIST, l->altitude == (uint32_t)req->altitude ?
				   "another client's layer has this altitude" :
				   "another layer has this client name", NULL);
		return;
	}
	/* A granted client (not root) holds one layer per uid: it cannot take every slot. */
	for (size_t i = 0; c->uid != 0 && i < BW_CLIENT_LAYERS; i++) {
		if (d->layers[i].used && d->layers[i].owner_uid == c->uid) {
			fail(d, c, EEXIST, "this uid already holds a client layer (one per uid other than root)", NULL);
			return;
		}
	}
	if (!free_l) {
		char msg[128];

		snprintf(msg, sizeof(msg), "every client layer is taken: the kernel decides across at most %d",
			 BW_CLIENT_LAYERS);
		fail(d, c, ENOSPC, msg, NULL);
		return;
	}
	free_l->name = strdup(req->name);
	if (!free_l->name) {
		fail(d, c, ENOMEM, "out of memory", NULL);
		return;
	}
	free_l->used = true;
	free_l->altitude = (uint32_t)req->altitude;
	free_l->owner = c;
	free_l->owner_uid = c->uid;
	free_l->owner_dev = c->exe_dev;
	free_l->owner_ino = c->exe_ino;
	free_l->next_id = 1;
	bw_log(LOG_INFO, "client %s (pid %d) opened a layer at altitude %u", free_l->name, (int)c->pid,
	       free_l->altitude);
	ok_layer(d, c, free_l);
}

static struct layer *need_layer(struct daemon *d, struct conn *c, bool txn)
{
	struct layer *l = layer_of(d, c);

	if (!l)
		fail(d, c, ENOTCONN, "open a layer first (layer-open with a name and an altitude)", NULL);
	else if (txn && !l->txn)
		fail(d, c, ENOTCONN, "no transaction is open (txn-begin)", NULL);
	else
		return l;
	return NULL;
}

void do_txn_begin(struct daemon *d, struct conn *c, const struct bw_request *req)
{
	struct layer *l = need_layer(d, c, false);

	if (!l)
		return;
	if (l->txn) {
		fail(d, c, EBUSY, "a transaction is already open", NULL);
		return;
	}
	l->txn = true;
	conn_send(&d->server, c, "", "{\"ok\":true}", "");
}

void do_txn_add(struct daemon *d, struct conn *c, const struct bw_request *req)
{
	struct layer *l = need_layer(d, c, true);
	struct client_rule *grown;
	struct json_object *o;

	if (!l)
		return;
	if (l->n + l->n_add >= LAYER_RULES_MAX) {
		fail(d, c, E2BIG, "too many rule texts in one layer", NULL);
		return;
	}
	grown = realloc(l->add, (l->n_add + 1) * sizeof(*grown));
	if (!grown) {
		fail(d, c, ENOMEM, "out of memory", NULL);
		return;
	}
	l->add = grown;
	l->add[l->n_add].text = strdup(req->rules);
	if (!l->add[l->n_add].text) {
		fail(d, c, ENOMEM, "out of memory", NULL);
		return;
	}
	l->add[l->n_add].persistent = req->persistent;
	l->add[l->n_add].id = l->next_id + (uint32_t)l->n_add;
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "id", json_object_new_int64(l->add[l->n_add].id));
	l->n_add++;
	send_obj(d, c, o);
}

void do_txn_remove(struct daemon *d, struct conn *c, const struct bw_request *req)
{
	struct layer *l = need_layer(d, c, true);
	uint32_t *grown;
	bool found = false;

	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		found |= l->rules[i].id == req->id;
	if (!found) {
		fail(d, c, ENOENT, "no committed rule of this layer has that id", NULL);
		return;
	}
	grown = realloc(l->remove, (l->n_remove + 1) * sizeof(*grown));
	if (!grown) {
		fail(d, c, ENOMEM, "out of memory", NULL);
		return;
	}
	l->remove = grown;
	l->remove[l->n_remove++] = (uint32_t)req->id;
	conn_send(&d->server, c, "", "{\"ok\":true}", "");
}

void do_txn_abort(struct daemon *d, struct conn *c, const struct bw_request *req)
{
	struct layer *l = need_layer(d, c, true);

	if (!l)
		return;
	txn_clear(l);
	conn_send(&d->server, c, "", "{\"ok\":true}", "");
}

/* The layer's rules once its transaction is applied: removals out, additions in. */
static int txn_apply(struct layer *l)
{
	size_t n = 0;
	struct client_rule *v = calloc(l->n + l->n_add + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		if (removed(l, l->rules[i].id, true))
			rule_free(&l->rules[i]);
		else
			v[n++] = l->rules[i];
	}
	for (size_t i = 0; i < l->n_add; i++) {
		v[n++] = l->add[i];
		l->add[i].text = NULL;
	}
	l->next_id += (uint32_t)l->n_add;
	free(l->rules);
	l->rules = v;
	l->n = n;
	txn_clear(l);
	return 0;
}

void do_txn_commit(struct daemon *d, struct conn *c, const struct bw_request *req)
{
	struct layer *l = need_layer(d, c, true);
	char *diag = NULL;
	int r;

	if (!l)
		return;
	r = rebuild(d, l, "layer", &diag);
	if (r < 0) {
		bw_log(LOG_WARNING, "client %s: transaction refused; nothing changed:\n%s", l->name,
		       diag ? diag : "");
		txn_clear(l);
		fail(d, c, -r, "transaction refused: nothing was applied", diag ? diag : "");
		free(diag);
		return;
	}
	free(diag);
	if (txn_apply(l) < 0) {
		/* The kernel has the new rules; only our copy of the text is short. */
		fail(d, c, ENOMEM, "out of memory", NULL);
		return;
	}
	ok_layer(d, c, l);
}

/* A client went away: its transaction is discarded, its rules go unless persistent. */
void layers_on_close(void *ctx, struct conn *c)
{
	struct daemon *d = ctx;
	struct layer *l = layer_of(d, c);
	bool changed = false;
	char *diag = NULL;
	size_t n = 0;

	if (!l)
		return;
	txn_clear(l);
	l->owner = NULL;
	for (size_t i = 0; i < l->n; i++) {
		if (l->rules[i].persistent) {
			l->rules[n++] = l->rules[i];
		} else {
			rule_free(&l->rules[i]);
			changed = true;
		}
	}
	l->n = n;
	bw_log(LOG_INFO, "client %s left: %zu persistent rule texts stay in its layer", l->name, n);
	if (!n)
		layer_clear(l);
	/* At shutdown the kernel keeps enforcing what it has: nothing to swap. */
	if (!changed || d->quit)
		return;
	if (rebuild(d, NULL, "layer", &diag) < 0)
		bw_log(LOG_ERR, "cannot remove a departed client's rules:\n%s", diag ? diag : "");
	free(diag);
}

/* status: the client layers. */
struct json_object *layers_json(struct daemon *d)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < BW_CLIENT_LAYERS; i++) {
		const struct layer *l = &d->layers[i];
		struct json_object *o;

		if (!l->used)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(l->name));
		json_object_object_add(o, "altitude", json_object_new_int64(l->altitude));
		json_object_object_add(o, "connected", json_object_new_boolean(l->owner != NULL));
		json_object_object_add(o, "rules", rules_json(l));
		json_object_array_add(a, o);
	}
	return a;
}
