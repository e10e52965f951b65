package io.signalstream.events;

import org.apache.flink.api.common.typeinfo.TypeInfo;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The merged intelligence of a conversation at one version, published on the compacted topic {@code
 * support.ai.aggregated} with key {@code tenant_id:conversation_id}.
 *
 * <p>Each agent field holds the newest answer of that agent at or before this version (an agent
 * that was not scheduled for this version carries its previous answer forward), or {@code null} if
 * the agent never answered in this conversation.
 *
 * @param tenantId tenant id
 * @param conversationId conversation id
 * @param version the conversation version (1-based message position)
 * @param sentiment newest sentiment answer or null
 * @param pii newest PII answer or null
 * @param insights newest insights answer or null
 * @param summary newest summary answer or null
 * @param agents every agent's newest answer by agent name, built-in and custom ones alike (the four
 *     fields above repeat the built-in ones, for the consumers that read them)
 * @param complete whether every agent scheduled for this version reported a result (of any status:
 *     a {@code timeout} or {@code failed} result counts as reported) in the join window
 * @param missingAgents scheduled agents without a result when the join window closed
 * @param agentStatus per agent: the status of its newest result, or {@code missing}
 * @param sourceMessageIds ids of the messages whose versions the agent answers come from, ending
 *     with this version's message
 * @param lastUpdated when this record was produced (processing time, UTC)
 */
public record AggregatedIntelligence(
        String tenantId,
        String conversationId,
        long version,
        @TypeInfo(ObjectMapTypeInfo.Factory.class) Map<String, Object> sentiment,
        @TypeInfo(ObjectMapTypeInfo.Factory.class) Map<String, Object> pii,
        @TypeInfo(ObjectMapTypeInfo.Factory.class) Map<String, Object> insights,
        @TypeInfo(ObjectMapTypeInfo.Factory.class) Map<String, Object> summary,
        @TypeInfo(ObjectMapTypeInfo.Factory.class) Map<String, Object> agents,
        boolean complete,
        List<String> missingAgents,
        Map<String, String> agentStatus,
        List<String> sourceMessageIds,
        Instant lastUpdated) {

    /** Status written in {@link #agentStatus()} for a scheduled agent that did not answer. */
    public static final String MISSING = "missing";

    public AggregatedIntelligence {
        missingAgents = missingAgents == null ? new ArrayList<>() : new ArrayList<>(missingAgents);
        agentStatus = agentStatus == null ? new TreeMap<>() : new TreeMap<>(agentStatus);
        agents = agents == null ? new TreeMap<>() : new TreeMap<>(agents);
        sourceMessageIds =
                sourceMessageIds == null ? new ArrayList<>() : new ArrayList<>(sourceMessageIds);
    }

    /** {@code tenant_id:conversation_id}. */
    public String conversationKey() {
        return ConversationKeys.of(tenantId, conversationId);
    }
}
