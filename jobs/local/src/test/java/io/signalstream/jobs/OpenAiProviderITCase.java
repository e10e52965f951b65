package io.signalstream.jobs;

import io.signalstream.agents.ProviderStats;
import io.signalstream.agents.local.PiiDetector;
import io.signalstream.agents.local.PiiEntity;
import io.signalstream.config.AgentOptions;
import io.signalstream.config.JobOptions;
import io.signalstream.config.ProviderOptions;
import io.signalstream.local.ConversationReplayer;
import io.signalstream.local.llm.LoopbackLlmServer;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole job with all four agents on the {@code openai} provider against a real
 * OpenAI-compatible HTTP server on 127.0.0.1 that injects faults into 20% of the requests (429 with
 * Retry-After, 500, 503, malformed bodies, schema-breaking answers, connection resets) and random
 * delays, on the real conversation file. Every message must still get exactly one aggregated record
 * per version, read_committed, none missing; and no raw e-mail address, card or phone number from
 * the data may reach the server.
 */
class OpenAiProviderITCase extends KafkaJobTestBase {

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void allAgentsOnAFaultyLlmServerStillExactlyOnce() throws Exception {
        LoopbackLlmServer.Responder faulty =
                LoopbackLlmServer.faulty(LoopbackLlmServer.schemaAnswers(), 0.2, 7, 150);
        try (LoopbackLlmServer llm = LoopbackLlmServer.start(faulty)) {
            ProviderStats.of("openai").reset();
            Configuration conf = jobConf("openai-itcase");
            conf.set(JobOptions.TRANSACTIONAL_ID_PREFIX, "openai-itcase");
            for (String agent : AgentOptions.BUILT_IN_AGENTS) {
                conf.set(AgentOptions.provider(agent), "openai");
            }
            conf.set(ProviderOptions.baseUrl("openai"), llm.baseUrl());
            conf.set(ProviderOptions.model("openai"), "loopback");
            conf.set(ProviderOptions.retryInitialBackoff("openai"), Duration.ofMillis(50));
            conf.set(ProviderOptions.retryMaxBackoff("openai"), Duration.ofMillis(400));
            conf.set(ProviderOptions.requestTimeout("openai"), Duration.ofSeconds(5));
            // Statuses must be ok or fallback only: windows generous enough that a stalled
            // machine cannot turn a retried call into a timeout.
            conf.set(AgentOptions.TIMEOUT, Duration.ofSeconds(60));
            conf.set(JobOptions.JOIN_WINDOW, Duration.ofSeconds(90));

            List<String> lines = ConversationReplayer.readLines(null);
            var events = ConversationReplayer.toEvents(lines);
            Set<String> expected = new HashSet<>();
            Map<String, Integer> perConversation = new TreeMap<>();
            List<String> rawPii = new ArrayList<>();
            PiiDetector pii = new PiiDetector();
            for (String line : lines) {
                JsonNode n = Json.MAPPER.readTree(line);
                String key = n.get("tenant_id").asText() + ":" + n.get("conversation_id").asText();
                int v = perConversation.merge(key, 1, Integer::sum);
                expected.add(key + "#" + v);
                for (PiiEntity e : pii.detect(n.get("message").asText())) {
                    if (Set.of("EMAIL_ADDRESS", "CREDIT_CARD", "PHONE_NUMBER").contains(e.type())) {
                        rawPii.add(e.text());
                    }
                }
            }
            assertThat(rawPii).as("the real data holds e-mail addresses to protect").isNotEmpty();

            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.getExecutionEnvironment(conf);
            JobClient job =
                    ConversationIntelligenceJob.kafka(conf, new Properties())
                            .executeAsync(env, "openai-itcase");
            try {
                produce(conf.get(JobOptions.TOPIC_INPUT), events);
                Map<String, List<JsonNode>> out =
                        KafkaOutputs.readCommitted(
                                broker.bootstrapServers(),
                                List.of(
                                        "support.ai.aggregated",
                                        "support.lineage",
                                        "support.ai.pii",
                                        "support.ai.sentiment",
                                        "support.ai.insights",
                                        "support.ai.summary"),
                                got ->
                                        got.get("support.ai.aggregated").size() >= expected.size()
                                                && got.get("support.lineage").size()
                                                        >= expected.size(),
                                Duration.ofMinutes(4));

                List<String> ids = new ArrayList<>();
                for (JsonNode a : out.get("support.ai.aggregated")) {
                    ids.add(
                            a.get("tenant_id").asText()
                                    + ":"
                                    + a.get("conversation_id").asText()
                                    + "#"
                                    + a.get("version").asLong());
                }
                assertThat(ids).doesNotHaveDuplicates();
                assertThat(new HashSet<>(ids)).isEqualTo(expected);
                assertThat(out.get("support.lineage")).hasSize(expected.size());

                // Every agent result came from the LLM or, when it failed, from the fallback.
                Map<String, Integer> statuses = new TreeMap<>();
                List<JsonNode> results = new ArrayList<>();
                for (String agent : AgentOptions.BUILT_IN_AGENTS) {
                    results.addAll(out.get("support.ai." + agent));
                }
                for (JsonNode r : results) {
                    statuses.merge(r.get("status").asText(), 1, Integer::sum);
                    if (r.get("status").asText().equals("ok")) {
                        assertThat(r.get("provider").asText()).isEqualTo("openai");
                        assertThat(r.get("model").asText()).isEqualTo("loopback");
                    }
                    if (r.get("status").asText().equals("fallback")) {
                        assertThat(r.get("provider").asText()).isEqualTo("local");
                        assertThat(r.get("error").asText()).startsWith("openai failed:");
                    }
                }
                assertThat(statuses.keySet()).isSubsetOf("ok", "fallback");
                assertThat(statuses.get("ok")).isGreaterThan(results.size() / 2);

                // What the server received: no raw PII from the data, only placeholders.
                List<LoopbackLlmServer.RecordedRequest> requests = llm.requests();
                assertThat(requests).isNotEmpty();
                for (LoopbackLlmServer.RecordedRequest req : requests) {
                    for (String value : rawPii) {
                        assertThat(req.body()).as("request body").doesNotContain(value);
                    }
                }
                assertThat(requests.stream().anyMatch(r -> r.body().contains("<EMAIL_ADDRESS_")))
                        .isTrue();

                Map<String, Long> stats = ProviderStats.of("openai").snapshot();
                long hits = stats.get("cache_hits");
                long lookups = hits + stats.get("cache_misses");
                System.out.printf(
                        "openai ITCase: %d messages, %d agent results %s, %d LLM requests (%.2f per"
                            + " message), cache hit rate %.3f, injected faults %s, provider stats"
                            + " %s%n",
                        lines.size(),
                        results.size(),
                        statuses,
                        requests.size(),
                        requests.size() / (double) lines.size(),
                        lookups == 0 ? 0.0 : hits / (double) lookups,
                        LoopbackLlmServer.injectedFaults(faulty),
                        stats);
            } finally {
                cancel(job);
            }
        }
    }
}
