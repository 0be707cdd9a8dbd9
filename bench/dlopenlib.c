// SPDX-License-Identifier: MIT
/* The library bench/dlopenloop opens and closes: one symbol, nothing that
 * would pin it in memory (no TLS, no unique symbols, no NODELETE). */
int bench_lib_fn(int x);
int bench_lib_fn(int x)
{
	return x + 1;
}
