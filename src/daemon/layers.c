// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Client layers (docs/api.md, "Client layers"; decision 81): each client
 * that connects with a name and an altitude owns a layer of rules. The
 * daemon keeps every layer's rule text; a commit compiles the
 * administrator's policy and all layers into one new rule map, swapped in
 * as any policy load is, so a transaction is one swap. Rules go away with
 * their client unless marked persistent; a transaction still open when the
 * client goes is discarded.
 *
 * Persistent rules outlive bulwarkd too (decision 97): every commit that
 * changes them saves each layer's persistent rule texts, its name,
 * altitude and owner identity to layers.json beside the trust database
 * (written to a temporary file, synced, renamed), and a starting bulwarkd
 * restores them before it compiles its first policy, so the first swap
 * already holds them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

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
	free(l->owner_exe);
	memset(l, 0, sizeof(*l));
}

void layers_free(struct daemon *d)
{
	for (size_t i = 0; i < BW_CLIENT_LAYERS; i++)
		layer_clear(&d->layers[i]);
	free(d->layers_file);
	d->layers_file = NULL;
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


/* ---- Persistent layers on disk (decision 97) ---- */

int layers_set_file(struct daemon *d, const char *trust_db)
{
	char *copy = strdup(trust_db);
	int r = 0;

	if (!copy)
		return -ENOMEM;
	free(d->layers_file);
	if (asprintf(&d->layers_file, "%s/%s", dirname(copy), BW_LAYERS_FILE) < 0) {
		d->layers_file = NULL;
		r = -ENOMEM;
	}
	free(copy);
	return r;
}

static bool has_persistent(const struct layer *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->rules[i].persistent)
			return true;
	return false;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* mkdir -p of the file's directory (the default's parent, /var/lib, exists). */
static void make_dir_of(const char *file)
{
	char *copy = strdup(file), *dir;

	if (!copy)
		return;
	dir = dirname(copy);
	for (char *p = dir + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			(void)mkdir(dir, 0755);
			*p = '/';
		}
	(void)mkdir(dir, 0755);
	free(copy);
}

/*
 * Save every layer's persistent rules: a new file, synced, renamed over the
 * old one, the directory synced. A failure is logged: the kernel has the
 * rules; only a restart would lose them.
 */
void layers_save(struct daemon *d)
{
	struct json_object *o, *a;
	const char *text;
	char *tmp = NULL, *copy = NULL;
	int fd = -1, dfd, err = 0;

	if (!d->layers_file)
		return;
	o = json_object_new_object();
	a = json_object_new_array();
	json_object_object_add(o, "version", json_object_new_int(1));
	for (size_t i = 0; i < BW_CLIENT_LAYERS; i++) {
		const struct layer *l = &d->layers[i];
		struct json_object *lo, *rules;

		if (!l->used || !has_persistent(l))
			continue;
		lo = json_object_new_object();
		rules = json_object_new_array();
		json_object_object_add(lo, "name", json_object_new_string(l->name));
		json_object_object_add(lo, "altitude", json_object_new_int64(l->altitude));
		json_object_object_add(lo, "uid", json_object_new_int64(l->owner_uid));
		json_object_object_add(lo, "exe", l->owner_exe ? json_object_new_string(l->owner_exe) : NULL);
		json_object_object_add(lo, "dev", json_object_new_uint64(l->owner_dev));
		json_object_object_add(lo, "ino", json_object_new_uint64(l->owner_ino));
		json_object_object_add(lo, "next_id", json_object_new_int64(l->next_id));
		for (size_t k = 0; k < l->n; k++) {
			struct json_object *ro;

			if (!l->rules[k].persistent)
				continue;
			ro = json_object_new_object();
			json_object_object_add(ro, "id", json_object_new_int64(l->rules[k].id));
			json_object_object_add(ro, "rules", json_object_new_string(l->rules[k].text));
			json_object_array_add(rules, ro);
		}
		json_object_object_add(lo, "rules", rules);
		json_object_array_add(a, lo);
	}
	json_object_object_add(o, "layers", a);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	make_dir_of(d->layers_file);
	if (asprintf(&tmp, "%s.tmp", d->layers_file) < 0) {
		tmp = NULL;
		err = ENOMEM;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fchmod(fd, 0600) < 0 || write_all(fd, text, strlen(text)) < 0 ||
	    write_all(fd, "\n", 1) < 0 || fsync(fd) < 0) {
		err = errno ? errno : EIO;
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, d->layers_file) < 0) {
		err = errno;
		goto out;
	}
	copy = strdup(d->layers_file);
	dfd = copy ? open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
out:
	if (fd >= 0)
		close(fd);
	if (err) {
		bw_log(LOG_ERR, "cannot save the persistent client layers to %s: %s: the kernel enforces them, "
				"a restart of bulwarkd would not", d->layers_file, strerror(err));
		if (tmp)
			unlink(tmp);
	}
	free(copy);
	free(tmp);
	json_object_put(o);
}

/* The saved file cannot be used: renamed aside (never deleted), said in one line. */
static void keep_aside(struct daemon *d, const char *why)
{
	char *aside = NULL;

	if (asprintf(&aside, "%s.bad-%lld", d->layers_file, (long long)time(NULL)) < 0)
		aside = NULL;
	if (aside && rename(d->layers_file, aside) == 0)
		bw_log(LOG_ERR, "cannot read the saved client layers %s: %s: kept aside as %s; "
				"starting without them", d->layers_file, why, aside);
	else
		bw_log(LOG_ERR, "cannot read the saved client layers %s: %s (nor keep it aside: %s); "
				"starting without them", d->layers_file, why, strerror(errno));
	free(aside);
}

static bool get_int(struct json_object *o, const char *key, int64_t lo, int64_t hi, int64_t *ret)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*ret = json_object_get_int64(v);
	return *ret >= lo && *ret <= hi;
}

static bool get_u64(struct json_object *o, const char *key, uint64_t *ret)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*ret = json_object_get_uint64(v);
	return true;
}

/* One saved layer into a free slot; NULL, or why not. */
static const char *restore_one(struct daemon *d, struct json_object *lo)
{
	struct json_object *v, *rules;
	struct layer *l = NULL;
	const char *name;
	int64_t alt, uid, next_id;
	uint64_t dev, ino;
	size_t n;

	if (!json_object_object_get_ex(lo, "name", &v) || !(name = json_object_get_string(v)) ||
	    !json_object_is_type(v, json_type_string) || !name_ok(name))
		return "no valid name";
	if (!get_int(lo, "altitude", 1, UINT32_MAX, &alt) || !get_int(lo, "uid", 0, UINT32_MAX - 1, &uid) ||
	    !get_u64(lo, "dev", &dev) || !get_u64(lo, "ino", &ino) ||
	    !get_int(lo, "next_id", 1, UINT32_MAX, &next_id))
		return "no valid altitude, uid, dev, ino or next_id";
	if (!json_object_object_get_ex(lo, "rules", &rules) || !json_object_is_type(rules, json_type_array) ||
	    !(n = json_object_array_length(rules)) || n > LAYER_RULES_MAX)
		return "no rules";
	for (size_t i = 0; i < BW_CLIENT_LAYERS; i++) {
		struct layer *o = &d->layers[i];

		if (o->used && (o->altitude == (uint32_t)alt || strcmp(o->name, name) == 0))
			return "another saved layer has its name or altitude";
		if (!o->used && !l)
			l = o;
	}
	if (!l)
		return "every client layer is taken";
	for (size_t i = 0; i < n; i++) {
		struct json_object *ro = json_object_array_get_idx(rules, i);
		int64_t id;

		if (!json_object_is_type(ro, json_type_object) || !get_int(ro, "id", 1, next_id - 1, &id) ||
		    !json_object_object_get_ex(ro, "rules", &v) || !json_object_is_type(v, json_type_string))
			return "a rule without a valid id or text";
	}
	l->rules = calloc(n, sizeof(*l->rules));
	l->name = strdup(name);
	if (!l->rules || !l->name) {
		layer_clear(l);
		return "out of memory";
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *ro = json_object_array_get_idx(rules, i);
		int64_t id = 0;

		get_int(ro, "id", 1, next_id - 1, &id);
		json_object_object_get_ex(ro, "rules", &v);
		l->rules[i].id = (uint32_t)id;
		l->rules[i].persistent = true;
		l->rules[i].text = strdup(json_object_get_string(v));
		l->n++;
		if (!l->rules[i].text) {
			layer_clear(l);
			return "out of memory";
		}
	}
	l->used = true;
	l->altitude = (uint32_t)alt;
	l->owner = NULL;
	l->owner_uid = (uid_t)uid;
	l->owner_dev = dev;
	l->owner_ino = ino;
	l->next_id = (uint32_t)next_id;
	/*
	 * The owner's identity again: its uid, and its program as the file at
	 * the saved path is now (an upgraded agent, or device numbers that
	 * changed with a reboot); the saved dev and ino when that path is gone.
	 */
	if (json_object_object_get_ex(lo, "exe", &v) && json_object_is_type(v, json_type_string) &&
	    json_object_get_string(v)[0] == '/') {
		struct stat st;

		l->owner_exe = strdup(json_object_get_string(v));
		if (l->owner_exe && stat(l->owner_exe, &st) == 0) {
			uint64_t now_dev = ((uint64_t)major(st.st_dev) << 20) | minor(st.st_dev);

			if (now_dev != dev || st.st_ino != ino)
				bw_log(LOG_NOTICE, "client layer %s: its program %s is another file now: "
						   "that file's client takes the layer back", name, l->owner_exe);
			l->owner_dev = now_dev;
			l->owner_ino = st.st_ino;
		}
	}
	return NULL;
}

/*
 * At start, before the first policy is compiled: the saved persistent
 * layers, each with no client until its owner takes it back. A file that
 * cannot be read as a whole is kept aside and bulwarkd starts without it;
 * a layer that cannot be restored is logged and left out, the file kept
 * aside, and what was restored saved again.
 */
void layers_restore(struct daemon *d)
{
	struct json_object *o, *a;
	size_t bad = 0, layers = 0, rules = 0;

	if (!d->layers_file || (access(d->layers_file, F_OK) < 0 && errno == ENOENT))
		return;
	o = json_object_from_file(d->layers_file);
	if (!o || !json_object_object_get_ex(o, "layers", &a) || !json_object_is_type(a, json_type_array)) {
		keep_aside(d, o ? "no \"layers\" list" : json_util_get_last_err() ? json_util_get_last_err() : "unreadable");
		json_object_put(o);
		return;
	}
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *lo = json_object_array_get_idx(a, i);
		const char *why = json_object_is_type(lo, json_type_object) ? restore_one(d, lo) : "not an object";

		if (why) {
			bw_log(LOG_ERR, "saved client layer %zu in %s not restored: %s", i + 1, d->layers_file, why);
			bad++;
		}
	}
	json_object_put(o);
	for (size_t i = 0; i < BW_CLIENT_LAYERS; i++)
		if (d->layers[i].used) {
			layers++;
			rules += d->layers[i].n;
		}
	if (bad) {
		keep_aside(d, "some layers could not be restored");
		layers_save(d);
	}
	bw_log(LOG_INFO, "restored %zu client layers (%zu persistent rule texts) from %s", layers, rules,
	       d->layers_file);
}

size_t layers_restored_count(struct daemon *d)
{
	size_t n = 0;

	for (size_t i = 0; i < BW_CLIENT_LAYERS; i++)
		n += d->layers[i].used;
	return n;
}

/* The restored layers make the start policy fail to compile: without them, the file kept aside. */
void layers_forget_restored(struct daemon *d)
{
	for (size_t i = 0; i < BW_CLIENT_LAYERS; i++)
		if (d->layers[i].used && !d->layers[i].owner)
			layer_clear(&d->layers[i]);
	keep_aside(d, "its rules make the start policy fail to compile");
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
		 * root, the administrator's way to drop a departed vendor's rules,
		 * but not while bulwark is protected or locked: decision 98): a
		 * granted client never takes over another's rules.
		 */
		if (!l->owner && l->altitude == (uint32_t)req->altitude && strcmp(l->name, req->name) == 0 &&
		    ((c->uid == 0 && !layers_gated(d)) ||
		     (c->uid == l->owner_uid && c->exe_dev == l->owner_dev && c->exe_ino == l->owner_ino))) {
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
	free_l->owner_exe = strdup(c->exe); /* NULL: identified by dev and ino alone */
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
	bool persist_changed = false;
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
	for (size_t i = 0; i < l->n_add; i++)
		persist_changed |= l->add[i].persistent;
	for (size_t i = 0; i < l->n; i++)
		persist_changed |= l->rules[i].persistent && removed(l, l->rules[i].id, true);
	if (txn_apply(l) < 0) {
		/* The kernel has the new rules; only our copy of the text is short. */
		fail(d, c, ENOMEM, "out of memory", NULL);
		return;
	}
	if (persist_changed)
		layers_save(d);
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
