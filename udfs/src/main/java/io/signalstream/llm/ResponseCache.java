package io.signalstream.llm;

import io.signalstream.events.Usage;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Policy;

import java.time.Duration;

/**
 * The response cache of a provider in a TaskManager: answers by request hash (the hash of provider,
 * model, prompt version and the redacted prompt), each kept for the TTL after it was written, at
 * most {@code maximumSize} of them. With a {@link ResponseLog}, every {@link #put} is also appended
 * to the durable log, asynchronously; answers read back from the log on start ({@link #putWarm})
 * keep only what is left of their TTL and are not appended again.
 *
 * <p>Thread-safe; never blocks.
 */
public final class ResponseCache {

    private final Cache<String, JsonNode> cache;
    private final Policy.VarExpiration<String, JsonNode> expiration;
    private final ResponseLog log;

    /**
     * @param maximumSize answers kept, &gt; 0
     * @param ttl how long an answer is reused after it was written
     * @param log the durable log appended to, or null for none
     */
    public ResponseCache(long maximumSize, Duration ttl, ResponseLog log) {
        long ttlNanos = ttl.toNanos();
        this.cache =
                Caffeine.newBuilder()
                        .maximumSize(maximumSize)
                        .expireAfter(
                                new Expiry<String, JsonNode>() {
                                    @Override
                                    public long expireAfterCreate(
                                            String key, JsonNode value, long currentTime) {
                                        return ttlNanos;
                                    }

                                    @Override
                                    public long expireAfterUpdate(
                                            String key,
                                            JsonNode value,
                                            long currentTime,
                                            long currentDuration) {
                                        return ttlNanos;
                                    }

                                    @Override
                                    public long expireAfterRead(
                                            String key,
                                            JsonNode value,
                                            long currentTime,
                                            long currentDuration) {
                                        return currentDuration;
                                    }
                                })
                        .build();
        this.expiration = cache.policy().expireVariably().orElseThrow();
        this.log = log;
    }

    /** The cached answer of a request hash, or null. */
    public JsonNode getIfPresent(String key) {
        return cache.getIfPresent(key);
    }

    /**
     * Caches an answer for the TTL and appends it to the log (without prompt version and usage).
     *
     * @param key request hash
     * @param answer the validated answer
     */
    public void put(String key, JsonNode answer) {
        put(key, answer, null, null);
    }

    /**
     * Caches an answer for the TTL and appends it to the log.
     *
     * @param key request hash
     * @param answer the validated answer
     * @param promptVersion prompt template version, or null
     * @param usage tokens the answer cost, or null
     */
    public void put(String key, JsonNode answer, String promptVersion, Usage usage) {
        cache.put(key, answer);
        if (log != null) {
            log.append(key, answer, promptVersion, usage);
        }
    }

    /**
     * Caches an answer read back from the log for what is left of its TTL; not appended again.
     *
     * @param key request hash
     * @param answer the answer
     * @param remaining time left, &gt; 0
     */
    void putWarm(String key, JsonNode answer, Duration remaining) {
        expiration.put(key, answer, remaining);
    }

    /** Answers cached now (an estimate: expired entries may not be cleaned up yet). */
    public long size() {
        return cache.estimatedSize();
    }

    /** How long the entry of a key has left, if cached (tests). */
    java.util.Optional<Duration> expiresAfter(String key) {
        return expiration.getExpiresAfter(key);
    }

    /** The log appended to, or null. */
    ResponseLog log() {
        return log;
    }
}
