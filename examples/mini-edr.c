// SPDX-License-Identifier: MIT
/*
 * mini-edr: what a vendor builds on libbulwark, with nothing but its
 * public API (include/bulwark/bulwark.h) and libsodium for SHA-256.
 *
 *   mini-edr [--socket PATH] [--name NAME] [--altitude N] BLOCKLIST
 *
 * It opens a layer of its own at an altitude, subscribes to process and
 * decision notifications, and keeps a process tree from them (exec and
 * exit, each naming the parent; processes that were running before it
 * started are read from /proc when first needed; the administrator's
 * policy must say `notify exec exit`).
 * At every exec it hashes the new program; when the SHA-256 is on the
 * blocklist (one hex digest per line, `#` comments), it prints the
 * process's ancestry and adds, in one transaction in its own layer,
 *
 *   deny exec <the program's path>
 *   deny exec sha256:<digest>
 *
 * so the next exec of that program, under any name the kernel can tell,
 * is refused in the kernel. The process it caught has already run: this
 * is detection and response, not prevention (bulwark's own rules prevent).
 * Deny wins across layers, so another client's allow at any altitude does
 * not undo it. The layer and its rules go when mini-edr exits.
 *
 * Lines on stdout, one per thing it did, for people and for tests:
 *   ready layer=NAME altitude=N blocklist=K
 *   exec pid=P ppid=Q exe=PATH sha256=HEX
 *   detected pid=P exe=PATH sha256=HEX tree=exe(pid)<-exe(pid)<-...
 *   blocked exe=PATH sha256=HEX rules=R
 *   denied pid=P exe=PATH target=PATH layer=NAME
 *   dropped N (notifications lost because it read too slowly)
 */
#include <bulwark/bulwark.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define HEX_LEN (2 * crypto_hash_sha256_BYTES)
#define TREE_BUCKETS 4096
#define TREE_DEPTH 16

/* One process the tree knows: its parent and its program. */
struct proc {
	struct proc *next; /* in its bucket */
	int64_t pid, ppid;
	char *exe;
};

struct edr {
	struct bw_client *ctl;
	struct proc *tree[TREE_BUCKETS];
	char (*block)[HEX_LEN + 1]; /* the blocklist, sorted */
	size_t nblock;
	char (*done)[HEX_LEN + 1];  /* digests already denied in our layer */
	size_t ndone;
	const char *layer;
	uint64_t dropped;
};

static struct proc **slot(struct edr *e, int64_t pid)
{
	struct proc **p = &e->tree[(uint64_t)pid % TREE_BUCKETS];

	while (*p && (*p)->pid != pid)
		p = &(*p)->next;
	return p;
}

static struct proc *find(struct edr *e, int64_t pid)
{
	return *slot(e, pid);
}

/* Record (or update) pid; exe may be NULL (kept as it was, or the parent's at a fork). */
static void remember(struct edr *e, int64_t pid, int64_t ppid, const char *exe)
{
	struct proc **s = slot(e, pid), *p = *s;
	char *copy = exe ? strdup(exe) : NULL;

	if (exe && !copy)
		return; /* out of memory: the tree misses one process, nothing else */
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p) {
			free(copy);
			return;
		}
		p->pid = pid;
		*s = p;
	}
	if (ppid > 0)
		p->ppid = ppid;
	if (copy) {
		free(p->exe);
		p->exe = copy;
	}
}

static void forget(struct edr *e, int64_t pid)
{
	struct proc **s = slot(e, pid), *p = *s;

	if (!p)
		return;
	*s = p->next;
	free(p->exe);
	free(p);
}

/* A process that ran before we subscribed: its parent and program from /proc. */
static struct proc *learn(struct edr *e, int64_t pid)
{
	char path[64], exe[PATH_MAX], stat[512], *close_paren;
	long long ppid = 0;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	n = (ssize_t)fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n > 0 ? n : 0] = '\0';
	/* "pid (comm) state ppid": comm may hold anything, so from the last ')' */
	close_paren = strrchr(stat, ')');
	if (!close_paren || sscanf(close_paren + 1, " %*c %lld", &ppid) != 1)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%lld/exe", (long long)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	remember(e, pid, ppid, n > 0 ? exe : NULL);
	return find(e, pid);
}

/* "exe(pid)<-exe(pid)<-..." from pid up, as far as the tree knows. */
static void ancestry(struct edr *e, int64_t pid, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int depth = 0; depth < TREE_DEPTH && pid > 0 && used < len; depth++) {
		struct proc *p = find(e, pid) ?: learn(e, pid);
		const char *name = p && p->exe ? strrchr(p->exe, '/') : NULL;
		int n = snprintf(buf + used, len - used, "%s%s(%lld)", depth ? "<-" : "",
				 name ? name + 1 : "?", (long long)pid);

		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
		pid = p ? p->ppid : 0;
	}
}

static int hash_fd(int fd, char hex[HEX_LEN + 1])
{
	unsigned char buf[65536], out[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	ssize_t n;

	crypto_hash_sha256_init(&st);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
	if (n < 0)
		return -errno;
	crypto_hash_sha256_final(&st, out);
	sodium_bin2hex(hex, HEX_LEN + 1, out, sizeof(out));
	return 0;
}

/*
 * The program a process runs now: /proc/PID/exe is the very file the
 * kernel mapped, whatever was renamed since; the path is the fallback
 * once the process has gone.
 */
static int hash_program(int64_t pid, const char *exe, char hex[HEX_LEN + 1])
{
	char proc[64];
	int fd, r;

	snprintf(proc, sizeof(proc), "/proc/%lld/exe", (long long)pid);
	fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && exe)
		fd = open(exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = hash_fd(fd, hex);
	close(fd);
	return r;
}

static int cmp_hex(const void *a, const void *b)
{
	return strcmp(a, b);
}

static bool listed(char (*set)[HEX_LEN + 1], size_t n, const char *hex)
{
	return n && bsearch(hex, set, n, sizeof(*set), cmp_hex);
}

static int load_blocklist(struct edr *e, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[512];
	unsigned lineno = 0;

	if (!f) {
		fprintf(stderr, "mini-edr: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = line + strspn(line, " \t"), (*grown)[HEX_LEN + 1];
		size_t len = strcspn(s, " \t\r\n#");

		lineno++;
		if (len == 0)
			continue;
		if (len != HEX_LEN || strspn(s, "0123456789abcdefABCDEF") < HEX_LEN) {
			fprintf(stderr, "mini-edr: %s:%u: not a SHA-256 in hex (64 digits)\n", path, lineno);
			fclose(f);
			return -1;
		}
		grown = realloc(e->block, (e->nblock + 1) * sizeof(*e->block));
		if (!grown) {
			fclose(f);
			return -1;
		}
		e->block = grown;
		for (size_t i = 0; i < HEX_LEN; i++)
			e->block[e->nblock][i] = (char)(s[i] | 0x20); /* lower case, as sodium writes */
		e->block[e->nblock++][HEX_LEN] = '\0';
	}
	fclose(f);
	qsort(e->block, e->nblock, sizeof(*e->block), cmp_hex);
	return 0;
}

/* The response: both rules in one transaction, or neither. */
static int deny_in_layer(struct edr *e, const char *exe, const char *hex)
{
	char rules[PATH_MAX + 200], *diag = NULL, (*grown)[HEX_LEN + 1];
	int r;

	if (listed(e->done, e->ndone, hex))
		return 0;
	snprintf(rules, sizeof(rules), "deny exec %s\ndeny exec sha256:%s\n", exe, hex);
	r = bw_client_txn_begin(e->ctl);
	if (r == 0)
		r = bw_client_txn_add(e->ctl, rules, NULL, NULL);
	if (r == 0)
		r = bw_client_txn_commit(e->ctl, &diag);
	else
		bw_client_txn_abort(e->ctl);
	if (r < 0) {
		fprintf(stderr, "mini-edr: could not deny %s: %s%s%s\n", exe, strerror(-r),
			diag ? "\n" : "", diag ? diag : "");
		free(diag);
		return r;
	}
	free(diag);
	printf("blocked exe=%s sha256=%s rules=2\n", exe, hex);
	grown = realloc(e->done, (e->ndone + 1) * sizeof(*e->done));
	if (grown) {
		e->done = grown;
		memcpy(e->done[e->ndone++], hex, HEX_LEN + 1);
		qsort(e->done, e->ndone, sizeof(*e->done), cmp_hex);
	}
	return 0;
}

static void on_exec(struct edr *e, int64_t pid, int64_t ppid, const char *exe)
{
	char hex[HEX_LEN + 1], tree[1024];

	remember(e, pid, ppid, exe);
	if (!exe || hash_program(pid, exe, hex) < 0)
		return; /* gone before we looked, and its path with it */
	printf("exec pid=%lld ppid=%lld exe=%s sha256=%s\n", (long long)pid, (long long)ppid, exe, hex);
	if (!listed(e->block, e->nblock, hex))
		return;
	ancestry(e, pid, tree, sizeof(tree));
	printf("detected pid=%lld exe=%s sha256=%s tree=%s\n", (long long)pid, exe, hex, tree);
	deny_in_layer(e, exe, hex);
}

static int on_notification(void *userdata, const struct bw_notification *n)
{
	struct edr *e = userdata;
	const char *op = bw_notification_op(n), *action = bw_notification_action(n);
	int64_t pid = bw_notification_pid(n), ppid = bw_notification_ppid(n);

	if (bw_notification_kind(n) == BW_NOTIFY_PROCESS && op && pid > 0) {
		if (strcmp(op, "exec") == 0)
			on_exec(e, pid, ppid, bw_notification_exe(n));
		else if (strcmp(op, "exit") == 0)
			forget(e, pid);
	} else if (bw_notification_kind(n) == BW_NOTIFY_DECISION && action && strcmp(action, "blocked") == 0) {
		const char *layer = bw_notification_layer(n);

		if (layer && strcmp(layer, e->layer) == 0)
			printf("denied pid=%lld exe=%s target=%s layer=%s\n", (long long)pid,
			       bw_notification_exe(n) ?: "?", bw_notification_target_path(n) ?: "?", layer);
	}
	fflush(stdout);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: mini-edr [--socket PATH] [--name NAME] [--altitude N] BLOCKLIST\n"
		     "  BLOCKLIST: SHA-256 digests in hex, one per line, # comments\n"
		     "  --name NAME     its layer's name (mini-edr)\n"
		     "  --altitude N    its layer's altitude (1000; one client per altitude)\n"
		     "Runs until SIGINT or SIGTERM; its layer and rules go when it exits.\n"
		     "The administrator's policy must have `notify exec exit` for the process tree.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' }, { "name", required_argument, NULL, 'n' },
		{ "altitude", required_argument, NULL, 'a' }, { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bw_client_opts copts = { .sz = sizeof(copts) };
	struct bw_layer_opts lopts = { .sz = sizeof(lopts), .name = "mini-edr", .altitude = 1000 };
	struct bw_subscribe_opts sopts = { .sz = sizeof(sopts),
					   .kinds = BW_NOTIFY_PROCESS | BW_NOTIFY_DECISION };
	struct bw_subscription *sub = NULL;
	struct edr e = { 0 };
	struct pollfd pfd[2];
	sigset_t mask;
	int opt, r, status = 1;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': copts.socket_path = optarg; break;
		case 'n': lopts.name = optarg; break;
		case 'a': lopts.altitude = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0 || load_blocklist(&e, argv[optind]) < 0)
		return 1;
	e.layer = lopts.name;

	/* Signals end the loop, so the client is freed and its layer goes with it. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	pfd[1] = (struct pollfd){ .fd = signalfd(-1, &mask, SFD_CLOEXEC), .events = POLLIN };

	r = bw_client_new(&e.ctl, &copts);
	if (r == 0)
		r = bw_client_layer_open(e.ctl, &lopts, NULL);
	if (r < 0) {
		fprintf(stderr, "mini-edr: cannot open layer %s at altitude %u: %s%s%s\n", lopts.name,
			lopts.altitude, strerror(-r), e.ctl && bw_client_error(e.ctl) ? ": " : "",
			e.ctl && bw_client_error(e.ctl) ? bw_client_error(e.ctl) : "");
		goto out;
	}
	r = bw_subscribe(&sub, &copts, &sopts, on_notification, &e);
	if (r < 0) {
		fprintf(stderr, "mini-edr: cannot subscribe: %s\n", strerror(-r));
		goto out;
	}
	printf("ready layer=%s altitude=%u blocklist=%zu\n", lopts.name, lopts.altitude, e.nblock);
	fflush(stdout);
	pfd[0] = (struct pollfd){ .fd = bw_subscription_fd(sub), .events = POLLIN };
	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents) {
			status = 0;
			break;
		}
		r = bw_subscription_dispatch(sub);
		if (bw_subscription_dropped(sub) != e.dropped) {
			e.dropped = bw_subscription_dropped(sub);
			printf("dropped %llu\n", (unsigned long long)e.dropped);
			fflush(stdout);
		}
		if (r < 0) {
			fprintf(stderr, "mini-edr: the stream ended: %s\n", strerror(-r));
			break;
		}
	}
out:
	bw_subscription_free(sub);
	bw_client_free(e.ctl);
	for (size_t i = 0; i < TREE_BUCKETS; i++)
		while (e.tree[i])
			forget(&e, e.tree[i]->pid);
	free(e.block);
	free(e.done);
	return status;
}
