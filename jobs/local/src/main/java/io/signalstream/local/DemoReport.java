package io.signalstream.local;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Map;

/**
 * What the demo saw, written as JSON by {@code demo --report FILE}.
 *
 * @param messagesIn records produced to the input topic
 * @param snapshots distinct conversation snapshots
 * @param aggregatedOut distinct aggregated (conversation, version) records
 * @param complete aggregated records with every scheduled agent
 * @param partial aggregated records emitted when the join window closed
 * @param lineageOut lineage records
 * @param deadLettered input records in the dead-letter topic
 * @param deadLetterReasons dead letters per reason
 * @param agentResults results per agent
 * @param agentStatuses results per status
 * @param missing input records with neither an output nor a dead letter
 * @param duplicates extra copies of any snapshot, aggregated or lineage record
 * @param elapsedS wall-clock seconds from job submission to the last output
 * @param throughputMsgsPerS input records per second over {@code elapsedS}
 * @param llm per LLM provider: requests, cache hits and misses, retries, repairs, failures,
 *     fallbacks, circuit rejections, prompt and completion tokens (empty with the local provider)
 * @param llmServerRequests requests the loopback LLM server received (0 without it)
 * @param alerts alerts on {@code support.alerts} per type
 */
public record DemoReport(
        int messagesIn,
        int snapshots,
        int aggregatedOut,
        int complete,
        int partial,
        int lineageOut,
        int deadLettered,
        Map<String, Integer> deadLetterReasons,
        Map<String, Integer> agentResults,
        Map<String, Integer> agentStatuses,
        int missing,
        int duplicates,
        double elapsedS,
        double throughputMsgsPerS,
        Map<String, Map<String, Long>> llm,
        int llmServerRequests,
        Map<String, Integer> alerts) {

    /**
     * LLM requests per input message, over every remote provider (0 with the local provider): what
     * the LLM bill scales with.
     */
    @JsonProperty("llm_requests_per_msg")
    public double llmRequestsPerMsg() {
        return perMessage("requests");
    }

    /**
     * Prompt tokens per input message, over every remote provider: from the providers' reported
     * usage, or estimated as the characters sent / 4 when a server reports none.
     */
    @JsonProperty("prompt_tokens_per_msg")
    public double promptTokensPerMsg() {
        return perMessage("prompt_tokens");
    }

    private double perMessage(String counter) {
        if (messagesIn == 0 || llm == null) {
            return 0;
        }
        long total = 0;
        for (Map<String, Long> stats : llm.values()) {
            total += stats.getOrDefault(counter, 0L);
        }
        return Math.round(total * 1000.0 / messagesIn) / 1000.0;
    }
}
