package io.signalstream.events;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The provenance of one aggregated output, published on {@code support.lineage} in the common
 * envelope {@code {event_id, event_type, tenant_id, timestamp, source, data}}.
 *
 * @param eventId deterministic UUID of (tenant, conversation, version): a replay produces the same
 *     id
 * @param eventType always {@link #EVENT_TYPE}
 * @param tenantId tenant id
 * @param timestamp when the output was produced (UTC)
 * @param source the producing job, e.g. {@code signalstream/conversation-intelligence}
 * @param data what was produced from what
 */
public record LineageRecord(
        String eventId,
        String eventType,
        String tenantId,
        Instant timestamp,
        String source,
        Data data) {

    /** Event type of lineage records for aggregated intelligence. */
    public static final String EVENT_TYPE = "aggregated_intelligence.lineage";

    /**
     * The lineage payload.
     *
     * @param output the output record: topic, key and version
     * @param inputs the input messages (topic, partition, offset, message id), oldest first
     * @param agents per agent: how its answer was made
     */
    public record Data(Output output, List<Input> inputs, Map<String, AgentLineage> agents) {
        public Data {
            inputs = inputs == null ? new ArrayList<>() : new ArrayList<>(inputs);
            agents = agents == null ? new TreeMap<>() : new TreeMap<>(agents);
        }
    }

    /**
     * The output a lineage record describes.
     *
     * @param topic output topic
     * @param key output record key
     * @param version conversation version
     */
    public record Output(String topic, String key, long version) {}

    /**
     * One input message.
     *
     * @param topic input topic
     * @param partition input partition
     * @param offset input offset
     * @param messageId message id
     * @param version the conversation version this message produced
     */
    public record Input(String topic, int partition, long offset, String messageId, long version) {}

    /**
     * How one agent's answer was made.
     *
     * @param version the conversation version the answer is for
     * @param provider provider name
     * @param model model name
     * @param promptVersion prompt template version
     * @param promptHash hash of the prompt
     * @param attempts attempts made
     * @param latencyMs latency in milliseconds
     * @param promptTokens prompt tokens
     * @param completionTokens completion tokens
     * @param status agent status
     */
    public record AgentLineage(
            long version,
            String provider,
            String model,
            String promptVersion,
            String promptHash,
            int attempts,
            long latencyMs,
            long promptTokens,
            long completionTokens,
            String status) {

        /** The lineage entry of an agent result. */
        public static AgentLineage of(AgentResult r) {
            return new AgentLineage(
                    r.version(),
                    r.provider(),
                    r.model(),
                    r.promptVersion(),
                    r.promptHash(),
                    r.attempts(),
                    r.latencyMs(),
                    r.usage().promptTokens(),
                    r.usage().completionTokens(),
                    r.status());
        }
    }
}
