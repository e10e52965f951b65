package io.signalstream.functions;

import io.signalstream.agents.AgentContext;
import io.signalstream.agents.AgentSpec;
import io.signalstream.agents.CallContext;
import io.signalstream.events.AgentResult;
import io.signalstream.serde.Json;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The previous answer of each rolling-summary agent per conversation, for an agent operator: what a
 * summary builds on instead of re-reading the whole window. Updated from the providers' callback
 * threads, read on the task thread, snapshotted into union list state; entries idle for longer than
 * the state TTL are dropped at each snapshot.
 */
final class RollingPriors {

    /**
     * One entry of the operator state.
     *
     * @param key conversation key {@code tenant:conversation}
     * @param agent agent name
     * @param version version the answer is for
     * @param text the answer's summary (or the answer as JSON)
     * @param updatedMs processing time of the last update, epoch ms
     */
    public record Entry(String key, String agent, long version, String text, long updatedMs) {}

    private final long ttlMs;
    private final Map<String, Map<String, Entry>> byKey = new ConcurrentHashMap<>();

    /** The operator state, null when the operator has no rolling-summary agent. */
    ListState<Entry> state;

    RollingPriors(long ttlMs) {
        this.ttlMs = ttlMs;
    }

    /** The previous answers of the due rolling-summary agents of a conversation. */
    CallContext context(String key, List<AgentSpec> due) {
        Map<String, Entry> entries = byKey.get(key);
        if (entries == null) {
            return CallContext.NONE;
        }
        Map<String, CallContext.Prior> priors = new HashMap<>();
        for (AgentSpec a : due) {
            Entry e = entries.get(a.name());
            if (e != null && a.context() == AgentContext.ROLLING_SUMMARY) {
                priors.put(a.name(), new CallContext.Prior(e.version(), e.text()));
            }
        }
        return priors.isEmpty() ? CallContext.NONE : new CallContext(priors);
    }

    /** Keeps an answer of a rolling-summary agent if it is newer than the one kept. */
    void remember(String key, AgentSpec spec, AgentResult r) {
        if (spec.context() != AgentContext.ROLLING_SUMMARY || !r.hasAnswer()) {
            return;
        }
        Object summary = r.result().get("summary");
        String text = summary instanceof String t ? t : Json.toString(r.result());
        Entry fresh = new Entry(key, spec.name(), r.version(), text, System.currentTimeMillis());
        byKey.computeIfAbsent(key, k -> new ConcurrentHashMap<>())
                .merge(spec.name(), fresh, (old, n) -> n.version() > old.version() ? n : old);
    }

    /** Writes the entries to the state, dropping those idle for longer than the TTL. */
    void snapshot(long nowMs) throws Exception {
        if (state == null) {
            return;
        }
        List<Entry> all = new ArrayList<>();
        byKey.values()
                .forEach(
                        m -> {
                            m.values().removeIf(e -> nowMs - e.updatedMs() > ttlMs);
                            all.addAll(m.values());
                        });
        byKey.values().removeIf(Map::isEmpty);
        state.update(all);
    }

    /** Loads the entries of the key groups this subtask owns from the union state. */
    void restore(int maxParallelism, int parallelism, int subtask) throws Exception {
        for (Entry e : state.get()) {
            if (KeyGroupRangeAssignment.assignKeyToParallelOperator(
                            e.key(), maxParallelism, parallelism)
                    == subtask) {
                byKey.computeIfAbsent(e.key(), k -> new ConcurrentHashMap<>()).put(e.agent(), e);
            }
        }
    }

    /** Conversations with a kept answer (for tests). */
    int size() {
        return byKey.size();
    }
}
