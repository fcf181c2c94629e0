/*
 * Per-thread objects made on first use and freed when their thread ends: the caches that let
 * one thread parse file after file without allocating its working memory again.
 */
#include "util/util.h"

#include <stdatomic.h>
#include <stdlib.h>

/* Guards the making of a cache's key; taken only until the key exists. */
static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;

static bool key_ready(bale_thread_cache *cache)
{
	bool ok;

	if (atomic_load_explicit(&cache->ready, memory_order_acquire))
		return cache->key_ok;
	pthread_mutex_lock(&key_lock);
	if (!atomic_load_explicit(&cache->ready, memory_order_relaxed)) {
		cache->key_ok = pthread_key_create(&cache->key, cache->destroy) == 0;
		atomic_store_explicit(&cache->ready, true, memory_order_release);
	}
	ok = cache->key_ok;
	pthread_mutex_unlock(&key_lock);
	return ok;
}

void *bale_thread_cache_get(bale_thread_cache *cache)
{
	void *obj;

	if (!key_ready(cache))
		return NULL;
	obj = pthread_getspecific(cache->key);
	if (!obj && (obj = calloc(1, cache->size)) != NULL &&
	    pthread_setspecific(cache->key, obj) != 0) {
		free(obj);
		obj = NULL;
	}
	return obj;
}
