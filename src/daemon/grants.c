// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Who besides root may use the control socket: the policy's `grant`
 * statements (docs/policy.md, "Grants"; docs/decisions.md). The socket is
 * root's alone (0600) until the policy in force grants something; then it
 * is open to all (0666) and every connection is judged at accept by the
 * kernel's word on its uid (SO_PEERCRED) and by its program's file. What
 * a client may ask is checked before every request. Loading a policy,
 * unloading and locking stay root's: no grant names them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon.h"
#include "log.h"
#include "proto.h"

/* One grant, as the policy compiler resolved it. */
struct grant {
	uint32_t ops; /* enum bw_grant */
	uint32_t uid;
	bool any_exe; /* no exe=: every program of the uid */
	uint64_t dev, ino;
};

/* The right each request needs; CONN_ROOT: root's alone. */
static const uint32_t method_right[BW_M_COUNT] = {
	[BW_M_STATUS] = BW_GRANT_STATUS,	  [BW_M_EXPLAIN] = BW_GRANT_EXPLAIN,
	[BW_M_EVENTS] = BW_GRANT_EVENTS,	  [BW_M_TRUST_SYNC] = BW_GRANT_TRUST_SYNC,
	[BW_M_LAYER_OPEN] = BW_GRANT_LAYER,	  [BW_M_TXN_BEGIN] = BW_GRANT_LAYER,
	[BW_M_TXN_ADD] = BW_GRANT_LAYER,	  [BW_M_TXN_REMOVE] = BW_GRANT_LAYER,
	[BW_M_TXN_COMMIT] = BW_GRANT_LAYER,	  [BW_M_TXN_ABORT] = BW_GRANT_LAYER,
	[BW_M_POLICY_LOAD] = CONN_ROOT,		  [BW_M_UNLOAD] = CONN_ROOT,
	[BW_M_LOCK] = CONN_ROOT,
};

/* What the policy's grants give this client, root's implicit rights aside. */
static uint32_t granted(const struct daemon *d, const struct conn *c)
{
	uint32_t rights = 0;

	for (size_t i = 0; i < d->n_grants; i++) {
		const struct grant *g = &d->grants[i];

		if (g->uid == c->uid && (g->any_exe || (c->exe_ino && g->dev == c->exe_dev && g->ino == c->exe_ino)))
			rights |= g->ops;
	}
	return rights;
}

uint32_t grants_admit(void *ctx, const struct conn *c)
{
	struct daemon *d = ctx;

	if (c->uid == 0)
		return CONN_ROOT;
	return granted(d, c);
}

/* Protected (`protect self`) or locked: then layer rules need a grant, root's too (decision 98). */
bool layers_gated(struct daemon *d)
{
	struct bw_lock lk;

	return protection_on(d) || (bw_kernel_lock_get(&d->kernel, &lk) == 0 && lk.locked);
}

/*
 * May c ask m? Every layer request (opening a layer, a transaction's
 * steps) needs `grant layer` for c's uid and program in the policy in
 * force while bulwark is protected or locked: root gets no implicit layer
 * right then, so the signed or protected policy decides which agents add
 * rules. false fills why.
 */
bool grants_gate_layer(struct daemon *d, const struct conn *c, enum bw_method m, char *why, size_t len)
{
	if (method_right[m] != BW_GRANT_LAYER || !layers_gated(d) || (granted(d, c) & BW_GRANT_LAYER))
		return true;
	snprintf(why, len,
		 "'%s' needs `grant layer from uid=%d exe=%s` in the policy in force: while bulwark is %s, "
		 "no client, root included, adds layer rules without a grant",
		 bw_method_name(m), (int)c->uid, c->exe[0] ? c->exe : "?",
		 protection_on(d) ? "protected (`protect self`)" : "locked");
	return false;
}

bool grants_allow(const struct conn *c, enum bw_method m)
{
	return (c->rights & CONN_ROOT) || (c->rights & method_right[m]);
}

/* "status, events" for a refusal's message. */
void grants_describe(uint32_t rights, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned bit = 1; bit & BW_GRANT_ALL; bit <<= 1) {
		if (!(rights & bit))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", bw_grant_name(bit));

		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
}

/*
 * The socket's mode follows the grants: 0600 (its directory 0700) while
 * none is in force, 0666 (0711) while one is. Also called once the socket
 * exists, since the first policy is installed before bulwarkd listens.
 */
void grants_apply_socket(struct daemon *d)
{
	char *dir, *slash;

	if (d->server.listen_fd < 0)
		return;
	if (chmod(d->socket_path, d->n_grants ? 0666 : 0600) < 0)
		bw_log(LOG_WARNING, "chmod %s: %s", d->socket_path, strerror(errno));
	dir = strdup(d->socket_path);
	slash = dir ? strrchr(dir, '/') : NULL;
	if (slash && slash != dir) {
		*slash = '\0';
		if (chmod(dir, d->n_grants ? 0711 : 0700) < 0)
			bw_log(LOG_WARNING, "chmod %s: %s", dir, strerror(errno));
	}
	free(dir);
}

/*
 * The policy now in force decides: its grants replace the old ones, the
 * socket opens or closes to others, and every connected client is judged
 * again. A client that lost every right is closed (its layer goes).
 */
void grants_set(struct daemon *d, const struct bw_policy *p)
{
	struct grant *g = NULL;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < p->n_rules; i++)
		n += p->rules[i].obj == BW_OBJ_TYPE_CLIENT;
	if (n) {
		g = calloc(n, sizeof(*g));
		if (!g) {
			/* Fail closed: root only, as without grants. */
			bw_log(LOG_ERR, "out of memory: the policy's grants are not in force (root only)");
			n = 0;
		}
	}
	for (size_t i = 0; g && i < p->n_rules; i++) {
		const struct bw_rule *r = &p->rules[i];

		if (r->obj != BW_OBJ_TYPE_CLIENT)
			continue;
		g[k].ops = (uint32_t)r->reasons;
		g[k].any_exe = true;
		for (size_t j = 0; j < r->n_subjects; j++) {
			if (r->subjects[j].type == BW_SEL_UID)
				g[k].uid = r->subjects[j].id;
			else if (r->subjects[j].type == BW_SEL_EXE)
				g[k].any_exe = false;
		}
		g[k].dev = r->dev;
		g[k].ino = r->ino;
		k++;
	}
	free(d->grants);
	d->grants = g;
	d->n_grants = n;
	grants_apply_socket(d);

	for (int i = 0; i < CLIENTS_MAX; i++) {
		struct conn *c = d->server.conns[i];

		if (!c || c->dead || c->uid == 0)
			continue;
		c->rights = grants_admit(d, c);
		if (!c->rights) {
			bw_log(LOG_WARNING, "closing the control connection of uid %d pid %d (%s): the policy grants it nothing now",
			       (int)c->uid, (int)c->pid, c->exe[0] ? c->exe : "?");
			c->dead = true;
		}
	}
}

void grants_free(struct daemon *d)
{
	free(d->grants);
	d->grants = NULL;
	d->n_grants = 0;
}
